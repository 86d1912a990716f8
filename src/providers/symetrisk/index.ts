import type { ProviderDeps, LoaderDeps } from '../deps.js';
import type { ProviderEndpoint } from '../../config.js';

// STUB: the Symetrisk client (client.ts, schemas.ts, mapping.ts, loaders.ts) replaces this.
export interface SymetriskClient {
  /** A cheap authenticated call, for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the real loaders
export interface SymetriskLoaders {}

export function createSymetriskClient(_endpoint: ProviderEndpoint, _deps: ProviderDeps): SymetriskClient {
  return { ping: async () => undefined, close: async () => undefined };
}

export function createSymetriskLoaders(_client: SymetriskClient, _deps: LoaderDeps): SymetriskLoaders {
  return {};
}
