import { enableContractShadowCheck } from '../src/providers/contract.js';

// Every upstream body the compiled contract validator accepts is given to zod too, in every test
// file: the suite's real sandbox answers keep the fast path honest (src/providers/contract.ts).
enableContractShadowCheck();
