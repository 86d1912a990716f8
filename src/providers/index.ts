import type { ProvidersConfig } from '../config.js';
import type { LoaderDeps, ProviderDeps } from './deps.js';
import {
  createByndleClient,
  createByndleLoaders,
  type ByndleClient,
  type ByndleLoaders,
} from './byndle/index.js';
import {
  createBisnodeClient,
  createBisnodeLoaders,
  type BisnodeClient,
  type BisnodeLoaders,
} from './bisnode/index.js';
import {
  createConnectClient,
  createConnectLoaders,
  type ConnectClient,
  type ConnectLoaders,
} from './connect/index.js';
import {
  createSymetriskClient,
  createSymetriskLoaders,
  type SymetriskClient,
  type SymetriskLoaders,
} from './symetrisk/index.js';

export interface ProviderClients {
  byndle: ByndleClient;
  bisnode: BisnodeClient;
  connect: ConnectClient;
  symetrisk: SymetriskClient;
}

export interface Loaders {
  byndle: ByndleLoaders;
  bisnode: BisnodeLoaders;
  connect: ConnectLoaders;
  symetrisk: SymetriskLoaders;
}

/** One client per provider per process: they own the connection pools and token caches. */
export function createProviderClients(config: ProvidersConfig, deps: ProviderDeps): ProviderClients {
  return {
    byndle: createByndleClient(config.byndle, deps),
    bisnode: createBisnodeClient(config.bisnode, deps),
    connect: createConnectClient(config.connect, deps),
    symetrisk: createSymetriskClient(config.symetrisk, deps),
  };
}

/** Fresh DataLoaders per request: batching and dedupe within one operation only. */
export function createLoaders(clients: ProviderClients, deps: LoaderDeps): Loaders {
  return {
    byndle: createByndleLoaders(clients.byndle, deps),
    bisnode: createBisnodeLoaders(clients.bisnode, deps),
    connect: createConnectLoaders(clients.connect, deps),
    symetrisk: createSymetriskLoaders(clients.symetrisk, deps),
  };
}

export async function closeProviderClients(clients: ProviderClients): Promise<void> {
  await Promise.all(Object.values(clients).map((c) => c.close()));
}
