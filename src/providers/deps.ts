import type { UpstreamCache } from '../cache.js';
import type { Logger } from '../log.js';
import type { ProviderHttpOptions } from './http.js';

/** What every provider client gets at start (one client per provider per process). */
export interface ProviderDeps {
  cache: UpstreamCache;
  log: Logger;
  onCall?: ProviderHttpOptions['onCall'];
}

/** What every provider's loaders get per request. */
export interface LoaderDeps {
  cache: UpstreamCache;
  /** The end user's own Connect token (user mode), from the `x-connect-user-token` header. */
  connectUserToken: string | null;
}
