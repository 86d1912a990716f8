import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';
import { createSymetriskHttpClient, type SymetriskHttpClient } from './client.js';
import { createSymetriskLoaderSet, type SymetriskLoaders } from './loaders.js';

export type SymetriskClient = SymetriskHttpClient;
export type { SymetriskLoaders } from './loaders.js';
export { accountingKey, creditScoreKey, debtorsKey, evictSymetriskBorrower, pageKey } from './loaders.js';
export { SYMETRISK_MAX_LIMIT, SYMETRISK_MAX_WRITE_ITEMS } from './client.js';
export {
  collapseDuplicates,
  createCreditScorerCompany,
  evictAfterWrite,
  requestBorrowerAccess,
  requestDebtorAccess,
  type CollapsedInput,
} from './writes.js';

/** One per process: owns the connection pool, the Cognito token and the cached /self. */
export function createSymetriskClient(endpoint: ProviderEndpoint, deps: ProviderDeps): SymetriskClient {
  return createSymetriskHttpClient(endpoint, deps);
}

/** Fresh per request. */
export function createSymetriskLoaders(client: SymetriskClient, deps: LoaderDeps): SymetriskLoaders {
  return createSymetriskLoaderSet(client, deps);
}
