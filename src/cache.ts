import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { LRUCache } from 'lru-cache';
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
  /**
   * Memory mode only: entries kept at most (least recently used dropped first). Default
   * DEFAULT_MEMORY_ENTRIES. Redis mode is bounded by the keys' TTLs and Redis's own policy.
   */
  maxEntries?: number;
  /** Observes every read-through lookup (metrics); never given the key or value. */
  onLookup?: (kind: CacheKind, hit: boolean) => void;
}

/** Entries the memory cache keeps at most unless told otherwise (config: CACHE_MAX_ENTRIES). */
export const DEFAULT_MEMORY_ENTRIES = 50_000;

/**
 * Freezes a value and everything it reaches (upstream models are plain objects and arrays). The
 * memory cache hands the same object to every request that hits it, so no request may change what
 * another one reads: in strict mode a write throws at once. Byte arrays cannot be frozen and are
 * left as they are (no model holds one).
 */
function deepFreeze<T>(value: T, seen = new Set<object>()): T {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || seen.has(value))
    return value;
  seen.add(value);
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v, seen);
  return value;
}

/** Subject indexes live as long as the longest-lived entry they may list. */
const INDEX_TTL_MS = Math.max(...Object.values(CACHE_TTL_SECONDS)) * 1000;

/** What keyv keeps in a store without serialisation: the value and its expiry. */
interface StoredEntry {
  value: unknown;
  expires?: number | null;
}

/**
 * The memory store: an LRU of keyv's entries. A subject index (`subject:<ref>`) may fall out of the
 * LRU while entries it lists are still read (and so kept); those entries are then dropped with it,
 * so a person-change event or an erasure request never misses a cached answer about its subject.
 * Keys in `writing` are being stored right now (their indexes are written next, and list them
 * again): an index they push out does not take them along.
 */
function memoryStore(max: number, writing: ReadonlySet<string>): LRUCache<string, StoredEntry> {
  const store: LRUCache<string, StoredEntry> = new LRUCache<string, StoredEntry>({
    max,
    disposeAfter: (entry, key, reason) => {
      if (reason !== 'evict' || !key.startsWith('subject:') || !Array.isArray(entry.value)) return;
      for (const k of entry.value as unknown[]) if (typeof k === 'string' && !writing.has(k)) store.delete(k);
    },
  });
  return store;
}

/**
 * The part of the Redis client the subject indexes use. node-redis's own transaction types,
 * over @keyv/redis's client-or-cluster union, are too large for the type checker to expand.
 */
interface IndexTransaction {
  sAdd(key: string, member: string): IndexTransaction;
  pExpire(key: string, ms: number): IndexTransaction;
  sMembers(key: string): IndexTransaction;
  del(key: string): IndexTransaction;
  exec(): Promise<unknown[]>;
}
async function indexClient(redis: KeyvRedis<unknown>): Promise<{ multi(): IndexTransaction }> {
  return (await redis.getClient()) as unknown as { multi(): IndexTransaction };
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
  /** Redis mode: the store, whose client keeps the subject indexes as Redis sets. */
  private readonly redis: KeyvRedis<unknown> | null;
  private readonly salt: string;
  private readonly onLookup: UpstreamCacheOptions['onLookup'];

  constructor(options: UpstreamCacheOptions) {
    this.salt = options.keySalt;
    this.onLookup = options.onLookup;
    const namespace = options.namespace ?? 'nordgraph:cache';
    this.memory = !options.redisUrl;
    this.redis = options.redisUrl ? new KeyvRedis(options.redisUrl) : null;
    this.keyv = this.redis
      ? new Keyv({ store: this.redis, namespace, useKeyPrefix: false })
      : // Memory: an LRU bounded by entry count (keyv's default Map only forgets an expired entry
        // when it is read again, so it grew with every subject ever looked up), holding values as
        // they are, frozen, instead of a JSON string each hit had to parse again (~14% of a cached
        // person card's CPU). keyv still keeps each entry's expiry and checks it on every read.
        new Keyv({
          store: memoryStore(options.maxEntries ?? DEFAULT_MEMORY_ENTRIES, this.writing),
          namespace,
          // One process's own store: its keys need no namespace prefix.
          useKeyPrefix: false,
          serialize: undefined,
          deserialize: undefined,
        });
  }

  /** True without Redis: values are kept by reference (frozen) rather than serialised. */
  private readonly memory: boolean;
  /** Memory mode: keys being stored right now (see memoryStore). */
  private readonly writing = new Set<string>();
  /**
   * Each subject index's read-modify-write and eviction, one after another (per index key, in
   * this process): two answers about one person stored at once must both be listed, and an
   * eviction must not run between another update's read and write.
   */
  private readonly indexQueue = new Map<string, Promise<unknown>>();

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
    if (this.memory) this.writing.add(key);
    try {
      // Wrapped so that a cached null ("nobody found") is told apart from a miss.
      await this.keyv.set(key, this.kept({ v: value }), ttlMs);
      if (this.redis) {
        await this.indexInRedis(this.redis, key, subjectRefs);
        return;
      }
      for (const s of subjectRefs) {
        const indexKey = `subject:${s}`;
        await this.inIndexOrder(indexKey, async () => {
          const existing = ((await this.keyv.get<string[]>(indexKey)) ?? []).filter((k) => k !== key);
          await this.keyv.set(indexKey, this.kept([...existing, key]), INDEX_TTL_MS);
        });
      }
    } finally {
      this.writing.delete(key);
    }
  }

  /**
   * Redis mode: each subject index is a Redis set (SADD), so instances storing answers about one
   * person at the same moment all stay listed; a read-modify-write of a list kept only one of
   * them when two instances wrote at once, and an erasure could then miss the other.
   */
  private async indexInRedis(redis: KeyvRedis<unknown>, key: string, subjectRefs: string[]): Promise<void> {
    if (subjectRefs.length === 0) return;
    const client = await indexClient(redis);
    await Promise.all(
      subjectRefs.map((s) => {
        const indexKey = this.redisIndexKey(redis, s);
        return client.multi().sAdd(indexKey, key).pExpire(indexKey, INDEX_TTL_MS).exec();
      }),
    );
  }

  /** The Redis key of a subject index: in the cache's namespace, beside the entries it lists. */
  private redisIndexKey(redis: KeyvRedis<unknown>, ref: string): string {
    return redis.createKeyPrefix(`subject:${ref}`, redis.namespace);
  }

  private inIndexOrder<T>(indexKey: string, run: () => Promise<T>): Promise<T> {
    const next = (this.indexQueue.get(indexKey) ?? Promise.resolve()).then(run, run);
    this.indexQueue.set(indexKey, next);
    const done = () => {
      if (this.indexQueue.get(indexKey) === next) this.indexQueue.delete(indexKey);
    };
    next.then(done, done);
    return next;
  }

  /** What the store keeps: in memory the value itself, frozen (Redis keeps a serialised copy). */
  private kept<T>(value: T): T {
    return this.memory ? deepFreeze(value) : value;
  }

  /** Evicts every cached answer about one subject (person change, erasure request). Returns how many. */
  async evictSubject(subjectRef: string): Promise<number> {
    if (this.redis) {
      // The index is read and deleted in one transaction: an answer indexed after it is a new
      // index's, one indexed before it is evicted here.
      const client = await indexClient(this.redis);
      const indexKey = this.redisIndexKey(this.redis, subjectRef);
      const [members] = await client.multi().sMembers(indexKey).del(indexKey).exec();
      const keys = (members ?? []) as string[];
      await Promise.all(keys.map((k) => this.keyv.delete(k)));
      return keys.length;
    }
    const indexKey = `subject:${subjectRef}`;
    return this.inIndexOrder(indexKey, async () => {
      const keys = (await this.keyv.get<string[]>(indexKey)) ?? [];
      await Promise.all([...keys, indexKey].map((k) => this.keyv.delete(k)));
      return keys.length;
    });
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
