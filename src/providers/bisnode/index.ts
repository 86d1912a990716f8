import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';
import { createBisnodeHttpClient, type BisnodeClient } from './client.js';
import { bisnodePersonKey, createBisnodeLoaders as createLoaders, type BisnodeLoaders } from './loaders.js';

export type { BisnodeClient } from './client.js';
export type { BisnodeLoaders, TokenPage } from './loaders.js';
export type { BisnodePersonRecord } from './mapping.js';
/**
 * `bisnodePersonKey(market, normalisedId)` = `${market}:${normalisedId}`: the key of
 * `loaders.bisnode.personByNationalId` and `enrichmentByNationalId`. `normalisedId` is the
 * `value` of validateNationalId (SE in the 12-digit form Bisnode takes as legalId).
 */
export { bisnodePersonKey };

/** Bisnode / Dun & Bradstreet Consumer Intelligence V3: one client per process (pool and token cache). */
export function createBisnodeClient(endpoint: ProviderEndpoint, deps: ProviderDeps): BisnodeClient {
  return createBisnodeHttpClient(endpoint, deps);
}

/** Fresh per request: DataLoaders over the client, read through the shared cache. */
export function createBisnodeLoaders(client: BisnodeClient, deps: LoaderDeps): BisnodeLoaders {
  return createLoaders(client, deps);
}

/** Writes: consumer uploads and deletions in upstream-sized calls, webhook registration (writes.ts). */
export {
  checkWebhookUrl,
  createWebhook,
  deleteConsumers,
  deleteWebhook,
  prepareConsumerDelete,
  prepareConsumerUpload,
  uploadConsumers,
  upstreamEvents,
  type InputIssue,
} from './writes.js';
