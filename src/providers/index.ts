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

/**
 * A provider's loader set is made when the operation first reads it: an S1 person card touches
 * two providers of four, so eager sets made ~28 DataLoaders per request where ~13 were used.
 */
class LazyLoaders implements Loaders {
  #byndle: ByndleLoaders | undefined;
  #bisnode: BisnodeLoaders | undefined;
  #connect: ConnectLoaders | undefined;
  #symetrisk: SymetriskLoaders | undefined;

  constructor(
    private readonly clients: ProviderClients,
    private readonly deps: LoaderDeps,
  ) {}

  get byndle(): ByndleLoaders {
    return (this.#byndle ??= createByndleLoaders(this.clients.byndle, this.deps));
  }
  get bisnode(): BisnodeLoaders {
    return (this.#bisnode ??= createBisnodeLoaders(this.clients.bisnode, this.deps));
  }
  get connect(): ConnectLoaders {
    return (this.#connect ??= createConnectLoaders(this.clients.connect, this.deps));
  }
  get symetrisk(): SymetriskLoaders {
    return (this.#symetrisk ??= createSymetriskLoaders(this.clients.symetrisk, this.deps));
  }
}

/** Fresh DataLoaders per request: batching and dedupe within one operation only. */
export function createLoaders(clients: ProviderClients, deps: LoaderDeps): Loaders {
  return new LazyLoaders(clients, deps);
}

export async function closeProviderClients(clients: ProviderClients): Promise<void> {
  await Promise.all(Object.values(clients).map((c) => c.close()));
}
