import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';
import { createConnectHttpClient, type ConnectClient } from './client.js';
import { createConnectLoaderSet, type ConnectLoaders } from './loaders.js';

export type { ConnectClient, ConnectRateLimit } from './client.js';
export { CONNECT_ENDPOINTS, isSearchTooBroad } from './client.js';
export type { ConnectLoaders } from './loaders.js';
export { CREDENTIAL_EXPECTED, checkSearchInput, normalizeCredential, type SearchInput } from './mapping.js';
export { CREDENTIAL_CHECK_MAX, SEARCH_MAX_RESULTS } from './schemas.js';
export {
  changedFields,
  checkCustomerChange,
  checkMergedRecord,
  mergeCustomerChange,
  mergedCustomerModel,
  type CustomerChangeInput,
  type ChangeProblem,
} from './update.js';
export { toCustomerModel } from './mapping.js';

/** One Connect client per process: it owns the connection pool and the client-credentials token. */
export function createConnectClient(endpoint: ProviderEndpoint, deps: ProviderDeps): ConnectClient {
  return createConnectHttpClient(endpoint, deps);
}

/** Fresh per request: batching, dedupe and the user-mode answer live only as long as the request. */
export function createConnectLoaders(client: ConnectClient, deps: LoaderDeps): ConnectLoaders {
  return createConnectLoaderSet(client, deps);
}
