import { createHash } from 'node:crypto';
import { LazyRedis } from './redis.js';
import { GraphQLError } from 'graphql';
import { InputError } from './errors.js';

/**
 * Idempotent mutations: a caller may send `idempotencyKey`; a retry with the same key returns
 * the first result and makes no second upstream write, also when the retry lands on another
 * instance (Redis mode). The first attempt claims the key atomically (SET NX) before writing
 * upstream; a concurrent retry waits for the outcome; a failed attempt releases the key so the
 * caller can try again; reusing a key with different input is refused.
 */
type Record_ = { s: 'pending'; f: string } | { s: 'done'; f: string; r: unknown };

export interface IdempotencyStore {
  /** Claims `key` when free (true), or false when someone holds it. */
  claim(key: string, fingerprint: string, ttlMs: number): Promise<boolean>;
  read(key: string): Promise<Record_ | null>;
  complete(key: string, fingerprint: string, result: unknown, ttlMs: number): Promise<void>;
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly map = new Map<string, { rec: Record_; expires: number }>();

  private live(key: string): Record_ | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.expires <= Date.now()) {
      this.map.delete(key);
      return null;
    }
    return e.rec;
  }
  async claim(key: string, f: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.map.set(key, { rec: { s: 'pending', f }, expires: Date.now() + ttlMs });
    return true;
  }
  async read(key: string): Promise<Record_ | null> {
    return this.live(key);
  }
  async complete(key: string, f: string, r: unknown, ttlMs: number): Promise<void> {
    this.map.set(key, { rec: { s: 'done', f, r }, expires: Date.now() + ttlMs });
  }
  async release(key: string): Promise<void> {
    this.map.delete(key);
  }
  async close(): Promise<void> {
    this.map.clear();
  }
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: LazyRedis;

  constructor(
    url: string,
    private readonly prefix = 'nordgraph:idem:',
  ) {
    this.redis = new LazyRedis(url);
  }
  private c() {
    return this.redis.get();
  }
  async claim(key: string, f: string, ttlMs: number): Promise<boolean> {
    const rec: Record_ = { s: 'pending', f };
    const ok = await (await this.c()).set(this.prefix + key, JSON.stringify(rec), { NX: true, PX: ttlMs });
    return ok === 'OK';
  }
  async read(key: string): Promise<Record_ | null> {
    const raw = await (await this.c()).get(this.prefix + key);
    return raw ? (JSON.parse(String(raw)) as Record_) : null;
  }
  async complete(key: string, f: string, r: unknown, ttlMs: number): Promise<void> {
    const rec: Record_ = { s: 'done', f, r };
    await (await this.c()).set(this.prefix + key, JSON.stringify(rec), { PX: ttlMs });
  }
  async release(key: string): Promise<void> {
    await (await this.c()).del(this.prefix + key);
  }
  close(): Promise<void> {
    return this.redis.close();
  }
}

export interface IdempotencyOptions {
  /** How long a completed result is replayed. */
  resultTtlMs?: number;
  /** How long a claim may stay pending before another attempt may take over (a crashed writer). */
  pendingTtlMs?: number;
  /** How long a concurrent retry waits for the first attempt's outcome. */
  waitMs?: number;
}

const KEY_FORM = /^[A-Za-z0-9._:-]{1,200}$/;

export class Idempotency {
  private readonly resultTtlMs: number;
  private readonly pendingTtlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly store: IdempotencyStore,
    { resultTtlMs = 24 * 3_600_000, pendingTtlMs = 60_000, waitMs = 10_000 }: IdempotencyOptions = {},
  ) {
    this.resultTtlMs = resultTtlMs;
    this.pendingTtlMs = pendingTtlMs;
    this.waitMs = waitMs;
  }

  /**
   * Runs `write` at most once per (operation, caller, key). Without a key it just runs.
   * `input` is what the caller asked for; a retry must send the same.
   */
  async run<T>(
    operation: string,
    caller: string,
    key: string | null | undefined,
    input: unknown,
    write: () => Promise<T>,
  ): Promise<T> {
    if (key == null) return write();
    if (!KEY_FORM.test(key)) {
      throw new InputError('idempotencyKey', '1 to 200 characters of letters, digits, ".", "_", ":" or "-"');
    }
    const fingerprint = createHash('sha256').update(JSON.stringify(input)).digest('base64url');
    const storeKey = `${operation}:${createHash('sha256').update(`${caller}\u0000${key}`).digest('base64url')}`;

    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if (await this.store.claim(storeKey, fingerprint, this.pendingTtlMs)) break;
      const rec = await this.store.read(storeKey);
      if (rec && rec.f !== fingerprint) {
        throw new InputError('idempotencyKey', 'a new key: this one was already used with different input');
      }
      if (rec?.s === 'done') return rec.r as T;
      if (Date.now() > deadline) {
        throw new GraphQLError('A request with this idempotency key is still in progress; retry later.', {
          extensions: { code: 'IDEMPOTENCY_IN_PROGRESS' },
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      const result = await write();
      await this.store.complete(storeKey, fingerprint, result, this.resultTtlMs);
      return result;
    } catch (err) {
      await this.store.release(storeKey);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
