import type { LoaderDeps, ProviderDeps } from '../deps.js';
import { createByndleHttpClient, type ByndleClient, type ByndleEndpoint } from './client.js';
import { createByndleLoaderSet, type ByndleLoaders } from './loaders.js';

export type { ByndleClient, ByndleEndpoint } from './client.js';
export type { ByndleLoaders, PersonMatchResult } from './loaders.js';

/** One Byndle client per process: it owns the connection pool and the token cache. */
export function createByndleClient(endpoint: ByndleEndpoint, deps: ProviderDeps): ByndleClient {
  return createByndleHttpClient(endpoint, deps);
}

/** Fresh loaders per request. */
export function createByndleLoaders(client: ByndleClient, deps: LoaderDeps): ByndleLoaders {
  return createByndleLoaderSet(client, deps);
}
