import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';

// STUB: the Bisnode client (client.ts, schemas.ts, mapping.ts, loaders.ts) replaces this.
export interface BisnodeClient {
  /** A cheap authenticated call, for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the real loaders
export interface BisnodeLoaders {}

export function createBisnodeClient(_endpoint: ProviderEndpoint, _deps: ProviderDeps): BisnodeClient {
  return { ping: async () => undefined, close: async () => undefined };
}

export function createBisnodeLoaders(_client: BisnodeClient, _deps: LoaderDeps): BisnodeLoaders {
  return {};
}
