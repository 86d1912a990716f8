import type { Resolvers } from '../src/generated/resolvers-types.js';
import { commonResolvers } from './common.js';

/** One resolver map per schema file, merged here. */
export const resolvers: Resolvers[] = [commonResolvers];
