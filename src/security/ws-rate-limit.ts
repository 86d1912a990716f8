import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { VerifyClientCallbackAsync } from 'ws';
import type { RateLimiter } from './rate-limit.js';

/**
 * Rate limiting on graphql-ws, with the HTTP limiter and its keys (one budget per caller):
 *
 * - A connection attempt counts at the HTTP upgrade. Over the limit the upgrade is refused with
 *   HTTP 429 and Retry-After, before any graphql-ws message: the protocol has no close code for
 *   "rate limited" (its 4429 means a repeated connection_init), and a refused upgrade is what a
 *   client's reconnect logic already treats as "try later". Keyed by the upgrade request's
 *   headers or, as browsers cannot set headers there, its client address.
 * - Every `subscribe` message counts against the authenticated caller of the connection, with
 *   the key its HTTP requests use. Over the limit that operation gets a graphql-ws `error` message
 *   with `extensions.code` RATE_LIMITED and `extensions.retryAfter` (seconds); the connection and
 *   its other subscriptions go on.
 */
export function wsVerifyClient(limiter: RateLimiter): VerifyClientCallbackAsync<IncomingMessage> {
  return (info, done) => {
    limiter.consume(limiter.keyFor(info.req)).then(
      (retryAfter) => {
        if (retryAfter === null) done(true);
        else done(false, 429, 'Too Many Requests', { 'retry-after': String(retryAfter) });
      },
      // A limiter failure must not lock everybody out (the Redis limiter has an in-memory insurance).
      () => done(true),
    );
  };
}

export function rateLimitedError(retryAfter: number): GraphQLError {
  return new GraphQLError(`Too many requests; retry in ${retryAfter} s`, {
    extensions: { code: 'RATE_LIMITED', retryAfter },
  });
}

/**
 * For graphql-ws onSubscribe: null when the subscribe may go on, else the errors to send. `key` is
 * the connection's caller key, the same the HTTP path uses for that caller (`caller:<id>`).
 */
export async function limitSubscribe(limiter: RateLimiter, key: string): Promise<GraphQLError[] | null> {
  const retryAfter = await limiter.consume(key);
  return retryAfter === null ? null : [rateLimitedError(retryAfter)];
}
