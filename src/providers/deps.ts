import type { UpstreamCache } from '../cache.js';
import type { Logger } from '../log.js';
import type { ProviderHttp, ProviderHttpOptions } from './http.js';
import type { ResilienceOptions } from './resilience.js';

/** What every provider client gets at start (one client per provider per process). */
export interface ProviderDeps {
  cache: UpstreamCache;
  log: Logger;
  onCall?: ProviderHttpOptions['onCall'];
  /** Retry, breaker and bulkhead settings for every provider (defaults in resilience.ts). */
  resilience?: Omit<ResilienceOptions, 'rateLimit'>;
  /** Connect's calls per second per client, enforced on our side (default 100). */
  connectCallsPerSecond?: number;
  /** Told of each provider's HTTP path once created (metrics read its breaker state). */
  onHttp?: (http: ProviderHttp) => void;
}

/** What every provider's loaders get per request. */
export interface LoaderDeps {
  cache: UpstreamCache;
  /** The end user's own Connect token (user mode), from the `x-connect-user-token` header. */
  connectUserToken: string | null;
}
