import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';

// STUB: the Byndle client (client.ts, schemas.ts, mapping.ts, loaders.ts) replaces this.
export interface ByndleClient {
  /** A cheap authenticated call, for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the real loaders
export interface ByndleLoaders {}

export function createByndleClient(_endpoint: ProviderEndpoint, _deps: ProviderDeps): ByndleClient {
  return { ping: async () => undefined, close: async () => undefined };
}

export function createByndleLoaders(_client: ByndleClient, _deps: LoaderDeps): ByndleLoaders {
  return {};
}
