import type { ProviderName } from '../config.js';

/** Stable codes for upstream failures; they reach GraphQL callers as `extensions.code`. */
export type UpstreamErrorCode =
  | 'UPSTREAM_UNAVAILABLE' // 5xx, connection refused or reset
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_RATE_LIMITED' // 429
  | 'UPSTREAM_UNAUTHORIZED' // 401 after one token refresh
  | 'UPSTREAM_FORBIDDEN' // 403
  | 'UPSTREAM_NOT_FOUND' // 404 where the caller did not expect "absent"
  | 'UPSTREAM_REJECTED' // other 4xx: the provider refused the request
  | 'UPSTREAM_BAD_RESPONSE' // malformed JSON or a body that does not match the contract
  | 'UPSTREAM_CIRCUIT_OPEN'; // failing fast while the provider is down

/**
 * Any failure of an upstream call. Carries the provider, the HTTP status (null when no response
 * arrived) and, for problem+json bodies, the provider's title/detail. Messages never include
 * request values: they may contain personal numbers.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly provider: ProviderName,
    readonly code: UpstreamErrorCode,
    readonly status: number | null,
    message: string,
    readonly endpoint: string,
    readonly retryAfterMs: number | null = null,
    readonly detail: unknown = undefined,
  ) {
    super(message);
  }
}

export function codeForStatus(status: number): UpstreamErrorCode {
  if (status === 401) return 'UPSTREAM_UNAUTHORIZED';
  if (status === 403) return 'UPSTREAM_FORBIDDEN';
  if (status === 404) return 'UPSTREAM_NOT_FOUND';
  if (status === 429) return 'UPSTREAM_RATE_LIMITED';
  if (status === 408 || status === 504) return 'UPSTREAM_TIMEOUT';
  if (status >= 500) return 'UPSTREAM_UNAVAILABLE';
  return 'UPSTREAM_REJECTED';
}

/** Retry-After as seconds or an HTTP date, in milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
