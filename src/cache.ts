import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { subjectRef } from './security/identifiers.js';

/** Seconds each kind of upstream answer may be served from cache. */
export const CACHE_TTL_SECONDS = {
  person: 300,
  personExtended: 300,
  phones: 300,
  business: 900,
  vehicle: 900,
  customer: 60,
  borrower: 300,
  creditScore: 300,
  accounting: 900,
  bisnodePerson: 300,
} as const;
export type CacheKind = keyof typeof CACHE_TTL_SECONDS;

export interface UpstreamCacheOptions {
  /** Redis in shared mode; memory otherwise. */
  redisUrl?: string;
  /** Key material for hashing lookup arguments, so no national id appears in a key. */
  keySalt: string;
  namespace?: string;
  /** Observes every read-through lookup (metrics); never given the key or value. */
  onLookup?: (kind: CacheKind, hit: boolean) => void;
}

/**
 * The upstream answer cache (keyv: memory by default, Redis with REDIS_URL). Keys are
 * `kind:hmac(args)`, so a key never contains a national id, phone number or other raw argument,
 * and the same lookup from two gateway instances hits the same entry. Each key also lives in a
 * per-subject index (`subject:<ref>`) so erasure and person-change events can evict everything
 * cached about one person.
 */
export class UpstreamCache {
  private readonly keyv: Keyv;
  private readonly salt: string;
  private readonly onLookup: UpstreamCacheOptions['onLookup'];

  constructor(options: UpstreamCacheOptions) {
    this.salt = options.keySalt;
    this.onLookup = options.onLookup;
    const namespace = options.namespace ?? 'nordgraph:cache';
    this.keyv = options.redisUrl
      ? new Keyv({ store: new KeyvRedis(options.redisUrl), namespace, useKeyPrefix: false })
      : new Keyv({ namespace });
  }

  /**
   * A stable, non-reversible reference for any identifying value: the one subject-reference
   * definition (security/identifiers.ts), so cache indexes and audit records name a person alike.
   */
  ref(value: string): string {
    return subjectRef(value, this.salt);
  }

  key(kind: CacheKind, ...parts: (string | number | null | undefined)[]): string {
    return `${kind}:${this.ref(parts.map((p) => String(p ?? '')).join('\u0000'))}`;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.keyv.get<{ v: T }>(key))?.v;
  }

  async set(key: string, value: unknown, kind: CacheKind, subjectRefs: string[] = []): Promise<void> {
    const ttlMs = CACHE_TTL_SECONDS[kind] * 1000;
    // Wrapped so that a cached null ("nobody found") is told apart from a miss.
    await this.keyv.set(key, { v: value }, ttlMs);
    for (const s of subjectRefs) {
      const indexKey = `subject:${s}`;
      const existing = ((await this.keyv.get<string[]>(indexKey)) ?? []).filter((k) => k !== key);
      await this.keyv.set(indexKey, [...existing, key], ttlMs);
    }
  }

  /** Evicts every cached answer about one subject (person change, erasure request). Returns how many. */
  async evictSubject(subjectRef: string): Promise<number> {
    const indexKey = `subject:${subjectRef}`;
    const keys = (await this.keyv.get<string[]>(indexKey)) ?? [];
    await Promise.all([...keys, indexKey].map((k) => this.keyv.delete(k)));
    return keys.length;
  }

  /** Read-through: the cached value, or `load()` stored under `key`. Null answers are cached too. */
  async through<T>(
    key: string,
    kind: CacheKind,
    load: () => Promise<T>,
    subjects?: (v: T) => string[],
  ): Promise<T> {
    const hit = await this.keyv.get<{ v: T }>(key);
    this.onLookup?.(kind, hit !== undefined);
    if (hit) return hit.v;
    const v = await load();
    await this.set(key, v, kind, subjects ? subjects(v) : []);
    return v;
  }

  async close(): Promise<void> {
    await this.keyv.disconnect();
  }
}
