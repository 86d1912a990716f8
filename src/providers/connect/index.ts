import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';

// STUB: the Connect client (client.ts, schemas.ts, mapping.ts, loaders.ts) replaces this.
export interface ConnectClient {
  /** A cheap authenticated call, for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the real loaders
export interface ConnectLoaders {}

export function createConnectClient(_endpoint: ProviderEndpoint, _deps: ProviderDeps): ConnectClient {
  return { ping: async () => undefined, close: async () => undefined };
}

export function createConnectLoaders(_client: ConnectClient, _deps: LoaderDeps): ConnectLoaders {
  return {};
}
