import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createClient } from '@keyv/redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { clientAddress } from './client-address.js';

/**
 * Per-caller rate limit on /graphql (rate-limiter-flexible: fixed one-minute windows, in memory,
 * or shared by every instance in Redis when REDIS_URL is set, with the in-memory limiter as
 * insurance while Redis is unreachable). Callers do not authenticate yet: the key is the
 * `x-api-key` header when present (hashed, never stored in clear), else the client's address.
 */
export interface RateLimiter {
  /** null when the request may go on; else the seconds the caller should wait (Retry-After). */
  check(req: IncomingMessage): Promise<number | null>;
  /**
   * Counts one request against `key` (`caller:<id>`, or callerKey for the unauthenticated): null when it may go on, else the seconds
   * to wait. Used by graphql-ws (connection attempts and subscribe messages) with the same keys,
   * so HTTP and WebSocket share one budget per caller.
   */
  consume(key: string): Promise<number | null>;
  /** The key of an HTTP request (or WebSocket upgrade request) by its headers and client address. */
  keyFor(req: IncomingMessage): string;
  close(): Promise<void>;
}

/** RATE_LIMIT_PER_MINUTE, or its default: 600, and off (0) with NODE_ENV=test. */
export function rateLimitPerMinute(config: Config): number {
  return config.RATE_LIMIT_PER_MINUTE ?? (config.NODE_ENV === 'test' ? 0 : 600);
}

/**
 * The one place a rate limit key is made, for HTTP headers and graphql-ws connection params alike
 * (lower-cased names): the API key (hashed) when present, else the client address (TRUST_PROXY
 * decides whether X-Forwarded-For is believed; see client-address.ts).
 */
export function callerKeyFrom(
  headers: Record<string, string | string[] | undefined>,
  address: string,
): string {
  const raw = headers['x-api-key'];
  const apiKey = Array.isArray(raw) ? raw[0] : raw;
  if (apiKey) return `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
  return `ip:${address}`;
}

export function callerKey(req: IncomingMessage, trustProxy = 0): string {
  return callerKeyFrom(req.headers, clientAddress(req, trustProxy));
}

export function createRateLimiter(config: Config, log: Logger): RateLimiter | null {
  const points = rateLimitPerMinute(config);
  if (points <= 0) return null;
  const duration = 60;
  const memory = new RateLimiterMemory({ points, duration });
  let redis: ReturnType<typeof createClient> | null = null;
  let limiter: RateLimiterMemory | RateLimiterRedis = memory;
  let connected: Promise<void> = Promise.resolve();
  if (config.REDIS_URL) {
    redis = createClient({ url: config.REDIS_URL, disableOfflineQueue: true });
    redis.on('error', (err: unknown) => log.warn({ err }, 'rate limit store error'));
    const connecting = redis.connect().then(
      () => undefined,
      (err: unknown) => log.warn({ err }, 'rate limit store unreachable'),
    );
    // Requests arriving while the first connection is made wait for it (a second at most), so
    // instances count together from the first request; after that, insurance covers outages.
    let timer: NodeJS.Timeout | undefined;
    connected = Promise.race([
      connecting,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000).unref())),
    ]).finally(() => clearTimeout(timer));
    limiter = new RateLimiterRedis({
      storeClient: redis,
      // node-redis (@redis/client, re-exported by @keyv/redis), not ioredis.
      useRedisPackage: true,
      keyPrefix: 'nordgraph:ratelimit',
      points,
      duration,
      insuranceLimiter: memory,
    });
  }
  async function consume(key: string): Promise<number | null> {
    await connected;
    try {
      await limiter.consume(key);
      return null;
    } catch (res) {
      if (res instanceof RateLimiterRes) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      throw res;
    }
  }
  return {
    check(req) {
      return consume(callerKey(req, config.TRUST_PROXY));
    },
    consume,
    keyFor: (req) => callerKey(req, config.TRUST_PROXY),
    async close() {
      if (redis?.isOpen) await redis.close();
    },
  };
}
