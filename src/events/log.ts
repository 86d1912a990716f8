import { createHash } from 'node:crypto';
import { createClient } from '@keyv/redis';
import type { AppendResult, DomainEventInput, EventLog, EventSubscriber, StoredEvent } from './types.js';

/**
 * Two event logs behind one interface: memory (one instance, lost on restart) and a Redis stream
 * (shared by every instance). Both persist before they resolve `append`, dedupe by
 * (provider, sourceId) over the providers' retry window, and deliver `tail` in log order.
 */

/** The providers redeliver for up to 72 h; a dedupe window shorter than that republishes. */
export const DEFAULT_DEDUPE_TTL_MS = 72 * 3_600_000;
/** The memory log keeps this many events for `readAfter`; older ones are dropped. */
export const DEFAULT_MEMORY_MAX_EVENTS = 100_000;
/** The Redis stream is trimmed to about this many entries (`XADD MAXLEN ~`). */
export const DEFAULT_STREAM_MAX_LEN = 1_000_000;
export const DEFAULT_KEY_PREFIX = 'nordgraph:events:';
/** What main.ts may print at start when no REDIS_URL is set. */
export const MEMORY_LOG_WARNING =
  'events: no REDIS_URL, using the in-process event log: events, dedupe memory and cursors do not survive a restart and are not shared between instances';

/** A cursor that this log never handed out (wrong form); callers map it to a bad-input error. */
export class InvalidCursorError extends Error {
  constructor(readonly cursor: string) {
    super(`invalid event cursor: expected a cursor this log returned, got ${JSON.stringify(cursor)}`);
    this.name = 'InvalidCursorError';
  }
}

/** Raised by `append` when the log cannot be written (the intake answers 503). */
export class EventLogUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventLogUnavailableError';
  }
}

type Listener = (event: StoredEvent) => void;

/**
 * Delivers to a set of listeners in order. A listener that appends from inside its callback
 * queues its event behind the current one, so every listener sees the same order. A listener
 * that throws does not keep the event from the others.
 */
class FanOut {
  private readonly listeners = new Set<EventSubscriber>();
  /** Events waiting for delivery, each with the listeners registered when it was published. */
  private readonly queue: { event: StoredEvent; to: EventSubscriber[] }[] = [];
  private draining = false;
  private scheduled = false;

  /**
   * `deferred`: publish only queues and delivery runs in a later macrotask (setImmediate), so the
   * appender (the webhook intake, which answers the provider once `append` resolves) never waits
   * for the fan-out to thousands of subscribers. Each event still goes to exactly the listeners
   * registered when it was published (and still registered at delivery), in publish order.
   */
  constructor(
    private readonly onListenerError: (err: unknown) => void,
    private readonly deferred = false,
  ) {}

  get size(): number {
    return this.listeners.size;
  }
  add(listener: Listener): () => void {
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: EventSubscriber = { onEvent: listener };
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }
  follow(subscriber: EventSubscriber): void {
    this.listeners.add(subscriber);
  }
  unfollow(subscriber: EventSubscriber): void {
    this.listeners.delete(subscriber);
  }
  clear(): void {
    this.listeners.clear();
    this.queue.length = 0;
  }
  publish(events: StoredEvent[]): void {
    if (events.length === 0) return;
    const to = [...this.listeners];
    for (const event of events) this.queue.push({ event, to });
    if (!this.deferred) return this.drain();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let q = this.queue.shift(); q; q = this.queue.shift()) {
        for (const l of q.to) {
          if (!this.listeners.has(l)) continue; // unsubscribed meanwhile
          try {
            l.onEvent(q.event);
          } catch (err) {
            this.onListenerError(err);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface MemoryEventLogOptions {
  /** How long a (provider, sourceId) is remembered as seen. */
  dedupeTtlMs?: number;
  /** How many events `readAfter` can reach back; older ones are dropped. */
  maxEvents?: number;
  /** Where listener exceptions go (they never reach the appender). */
  onListenerError?: (err: unknown) => void;
}

const MEMORY_CURSOR = /^\d{16}$/;
const memoryCursor = (seq: number): string => String(seq).padStart(16, '0');

/**
 * In-process log. Cursors are 16-digit zero-padded sequence numbers, so they order as strings
 * too. Holds the last `maxEvents` events; a cursor older than that resumes from the oldest
 * retained event (the ones in between are gone). Dedupe entries live `dedupeTtlMs`.
 */
export class MemoryEventLog implements EventLog {
  private readonly dedupeTtlMs: number;
  private readonly maxEvents: number;
  /** Events with sequence numbers firstSeq .. firstSeq + events.length - 1 - offset. */
  private events: StoredEvent[] = [];
  private offset = 0;
  private firstSeq = 1;
  private nextSeq = 1;
  /** Insertion order is expiry order (one TTL, monotonic clock), so pruning stops at the first live entry. */
  private readonly seen = new Map<string, number>();
  private readonly fanOut: FanOut;
  private failing = false;
  private closed = false;

  constructor({
    dedupeTtlMs = DEFAULT_DEDUPE_TTL_MS,
    maxEvents = DEFAULT_MEMORY_MAX_EVENTS,
    onListenerError = () => undefined,
  }: MemoryEventLogOptions = {}) {
    this.dedupeTtlMs = dedupeTtlMs;
    this.maxEvents = maxEvents;
    // Deferred: `append` (and so the webhook's 2xx) resolves without waiting for the fan-out.
    // NORDGRAPH_SYNC_TAIL=1 restores synchronous delivery (benchmark baseline only).
    this.fanOut = new FanOut(onListenerError, process.env.NORDGRAPH_SYNC_TAIL !== '1');
  }

  /** TEST ONLY: while on, `append` rejects (and `healthy` is false), as if the store were down. */
  failWrites(on: boolean): void {
    this.failing = on;
  }

  async append(inputs: DomainEventInput[]): Promise<AppendResult> {
    if (this.closed) throw new EventLogUnavailableError('event log is closed');
    if (this.failing)
      throw new EventLogUnavailableError('event log writes are failing (test hook failWrites)');
    const now = performance.now();
    this.pruneSeen(now);
    const stored: StoredEvent[] = [];
    let duplicates = 0;
    const receivedAt = new Date().toISOString();
    for (const input of inputs) {
      const key = `${input.provider}:${input.sourceId}`;
      const expires = this.seen.get(key);
      if (expires !== undefined && expires > now) {
        duplicates++;
        continue;
      }
      // Re-insert so the map stays in expiry order.
      this.seen.delete(key);
      this.seen.set(key, now + this.dedupeTtlMs);
      const event: StoredEvent = { ...input, cursor: memoryCursor(this.nextSeq++), receivedAt };
      this.events.push(event);
      stored.push(event);
    }
    this.trim();
    this.fanOut.publish(stored);
    return { stored, duplicates };
  }

  async readAfter(cursor: string | null, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    let from = this.firstSeq;
    if (cursor !== null) {
      if (!MEMORY_CURSOR.test(cursor)) throw new InvalidCursorError(cursor);
      from = Math.max(from, Number(cursor) + 1);
    }
    const start = this.offset + (from - this.firstSeq);
    return this.events.slice(start, start + limit);
  }

  async head(): Promise<string | null> {
    return this.nextSeq > this.firstSeq ? memoryCursor(this.nextSeq - 1) : null;
  }

  tail(listener: Listener): () => void {
    return this.fanOut.add(listener);
  }

  follow(subscriber: EventSubscriber): void {
    this.fanOut.follow(subscriber);
  }

  unfollow(subscriber: EventSubscriber): void {
    this.fanOut.unfollow(subscriber);
  }

  async healthy(): Promise<boolean> {
    return !this.closed && !this.failing;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fanOut.clear();
  }

  private pruneSeen(now: number): void {
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
  }

  /** Drops the oldest events beyond maxEvents; compacts the array only now and then (shift is O(n)). */
  private trim(): void {
    const retained = this.events.length - this.offset;
    if (retained <= this.maxEvents) return;
    const drop = retained - this.maxEvents;
    this.offset += drop;
    this.firstSeq += drop;
    if (this.offset >= this.maxEvents) {
      this.events = this.events.slice(this.offset);
      this.offset = 0;
    }
  }
}

export interface RedisEventLogOptions {
  url: string;
  /** Prefix of every key: `<prefix>stream`, `<prefix>dedupe:<provider>:<sha256(sourceId)>`. */
  prefix?: string;
  dedupeTtlMs?: number;
  /** Approximate stream length kept (`MAXLEN ~`); older entries are trimmed. */
  streamMaxLen?: number;
  /**
   * An append, read or head that has not completed by then rejects (the intake answers 503, the
   * provider redelivers; a timed-out append that did land is then answered as a duplicate).
   * Also covers the first connect, which otherwise waits for Redis indefinitely.
   */
  commandTimeoutMs?: number;
  /** How long the tail connection blocks per XREAD. */
  blockMs?: number;
  /** Events per EVAL, so one huge delivery does not hold Redis for long. */
  batchSize?: number;
  onListenerError?: (err: unknown) => void;
  /** Errors of the background tail loop (it retries on its own). */
  onTailError?: (err: unknown) => void;
}

/**
 * One EVAL per batch: for each event, unless its dedupe key exists, XADD it and then set the
 * key. Redis runs the script atomically, so a crash of this process cannot split "remembered as
 * seen" from "stored". XADD comes before SET on purpose: should a write fail inside the script,
 * the worst case is an event stored without its dedupe key (a redelivery could publish it
 * twice), never a dedupe key without its event (a redelivery would be swallowed and lost).
 * KEYS[1] the stream, KEYS[2..] dedupe keys; ARGV[1] ttl ms, ARGV[2] max len, ARGV[3..] JSON.
 * Returns one stream id per event, '' for a duplicate.
 */
const APPEND_SCRIPT = `
local ids = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    ids[i - 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 1])
    redis.call('SET', KEYS[i], '1', 'PX', ARGV[1])
  else
    ids[i - 1] = ''
  end
end
return ids
`;
const APPEND_SCRIPT_SHA = createHash('sha1').update(APPEND_SCRIPT).digest('hex');

const STREAM_ID = /^\d+-\d+$/;
type RawEntry = [string, string[]];
type RawXRead = [string, RawEntry[]][] | null;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function entryToEvent([id, fields]: RawEntry): StoredEvent {
  const i = fields.indexOf('e');
  const body = JSON.parse(i >= 0 ? (fields[i + 1] ?? '{}') : '{}') as Omit<StoredEvent, 'cursor'>;
  return { ...body, cursor: id };
}

/**
 * Log on a Redis stream shared by every instance. The stream id is the cursor. Each instance
 * tails with one dedicated blocking connection, so an event appended anywhere reaches every
 * instance's listeners once each, in stream order. Keys: `<prefix>stream` and
 * `<prefix>dedupe:<provider>:<sha256(sourceId)>` (sourceIds are hashed: they come from outside
 * and may be long). The script touches several keys, so this needs a single Redis (or a
 * prefix with a cluster hash tag), not a cluster with keys spread over slots.
 */
export class RedisEventLog implements EventLog {
  private readonly client: ReturnType<typeof createClient>;
  private blocking: ReturnType<typeof createClient> | null = null;
  private ready: Promise<unknown> | null = null;
  private readonly streamKey: string;
  private readonly prefix: string;
  private readonly dedupeTtlMs: number;
  private readonly streamMaxLen: number;
  private readonly commandTimeoutMs: number;
  private readonly blockMs: number;
  private readonly batchSize: number;
  private readonly onTailError: (err: unknown) => void;
  private readonly fanOut: FanOut;
  private loop: Promise<void> | null = null;
  private tailStarted: Promise<void> = Promise.resolve();
  private closed = false;

  constructor({
    url,
    prefix = DEFAULT_KEY_PREFIX,
    dedupeTtlMs = DEFAULT_DEDUPE_TTL_MS,
    streamMaxLen = DEFAULT_STREAM_MAX_LEN,
    commandTimeoutMs = 5_000,
    blockMs = 5_000,
    batchSize = 100,
    onListenerError = () => undefined,
    onTailError = () => undefined,
  }: RedisEventLogOptions) {
    this.prefix = prefix;
    this.streamKey = `${prefix}stream`;
    this.dedupeTtlMs = dedupeTtlMs;
    this.streamMaxLen = streamMaxLen;
    this.commandTimeoutMs = commandTimeoutMs;
    this.blockMs = blockMs;
    this.batchSize = batchSize;
    this.onTailError = onTailError;
    this.fanOut = new FanOut(onListenerError);
    // disableOfflineQueue: while Redis is away, commands fail at once instead of waiting, so
    // the intake answers 503 and the provider redelivers later.
    this.client = createClient({ url, disableOfflineQueue: true });
    // Errors surface on the awaiting command; the listener keeps them from crashing the process.
    this.client.on('error', () => undefined);
  }

  private async c() {
    if (this.closed) throw new EventLogUnavailableError('event log is closed');
    this.ready ??= this.client.connect().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    await this.ready;
    return this.client;
  }

  private async withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new EventLogUnavailableError(`event log ${what} timed out after ${this.commandTimeoutMs} ms`),
          ),
        this.commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async append(inputs: DomainEventInput[]): Promise<AppendResult> {
    if (inputs.length === 0) return { stored: [], duplicates: 0 };
    return this.withTimeout('append', this.appendNow(inputs));
  }

  private async appendNow(inputs: DomainEventInput[]): Promise<AppendResult> {
    const client = await this.c();
    const receivedAt = new Date().toISOString();
    const stored: StoredEvent[] = [];
    let duplicates = 0;
    for (let i = 0; i < inputs.length; i += this.batchSize) {
      const batch = inputs.slice(i, i + this.batchSize);
      const bodies = batch.map((input) => ({ ...input, receivedAt }));
      const keys = [
        this.streamKey,
        ...batch.map((e) => `${this.prefix}dedupe:${e.provider}:${sha256(e.sourceId)}`),
      ];
      const args = [
        String(this.dedupeTtlMs),
        String(this.streamMaxLen),
        ...bodies.map((b) => JSON.stringify(b)),
      ];
      const ids = await this.evalAppend(client, keys, args);
      bodies.forEach((body, j) => {
        const id = ids[j];
        if (id) stored.push({ ...body, cursor: id });
        else duplicates++;
      });
    }
    return { stored, duplicates };
  }

  private async evalAppend(client: ReturnType<typeof createClient>, keys: string[], args: string[]) {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.sendCommand<string[]>(['EVALSHA', APPEND_SCRIPT_SHA, ...tail]);
    } catch (err) {
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return await client.sendCommand<string[]>(['EVAL', APPEND_SCRIPT, ...tail]);
    }
  }

  async readAfter(cursor: string | null, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    if (cursor !== null && !STREAM_ID.test(cursor)) throw new InvalidCursorError(cursor);
    const start = cursor === null ? '-' : `(${cursor}`;
    const raw = await this.withTimeout(
      'read',
      this.c().then((c) =>
        c.sendCommand<RawEntry[]>(['XRANGE', this.streamKey, start, '+', 'COUNT', String(limit)]),
      ),
    );
    return raw.map(entryToEvent);
  }

  async head(): Promise<string | null> {
    const raw = await this.withTimeout(
      'head',
      this.c().then((c) => c.sendCommand<RawEntry[]>(['XREVRANGE', this.streamKey, '+', '-', 'COUNT', '1'])),
    );
    return raw[0]?.[0] ?? null;
  }

  /**
   * Starts the tail loop on the first listener. Its start position is the stream head read on
   * the main connection at that moment, so whatever this instance appends or reads after the
   * call lies after it (one connection keeps command order): a subscriber that tails first and
   * then pages with readAfter sees no gap (only an overlap, to drop by cursor).
   */
  tail(listener: Listener): () => void {
    const unsubscribe = this.fanOut.add(listener);
    this.ensureLoop();
    return unsubscribe;
  }

  follow(subscriber: EventSubscriber): void {
    this.fanOut.follow(subscriber);
    this.ensureLoop();
  }

  unfollow(subscriber: EventSubscriber): void {
    this.fanOut.unfollow(subscriber);
  }

  private ensureLoop(): void {
    if (!this.loop && !this.closed) this.startLoop(this.head());
  }

  /**
   * Resolves once the current tail loop knows its start position: events appended (on any
   * instance) after this resolves reach the listeners. Not part of EventLog; tests and the
   * subscription layer may use it to avoid a race across instances.
   */
  whenTailing(): Promise<void> {
    return this.tailStarted;
  }

  private startLoop(start: Promise<string | null>): void {
    this.tailStarted = start.then(
      () => undefined,
      () => undefined,
    );
    this.loop = this.runTail(start).then((stoppedAt) => {
      this.loop = null;
      // A listener that came while the loop was winding down: go on from where it stopped,
      // so that listener misses nothing appended after its tail() call.
      if (this.fanOut.size > 0 && !this.closed) this.startLoop(Promise.resolve(stoppedAt));
    });
  }

  /** Runs while there are listeners; returns the last id it had read up to. */
  private async runTail(start: Promise<string | null>): Promise<string | null> {
    let lastId: string;
    for (;;) {
      try {
        lastId = (await start) ?? '0-0';
        break;
      } catch (err) {
        this.onTailError(err);
        if (this.closed || this.fanOut.size === 0) return null;
        await sleep(500);
        start = this.head();
      }
    }
    let backoffMs = 100;
    while (!this.closed && this.fanOut.size > 0) {
      try {
        if (!this.blocking) {
          const b = this.client.duplicate();
          b.on('error', () => undefined);
          this.blocking = b;
          await b.connect();
        }
        const raw = await this.blocking.sendCommand<RawXRead>([
          'XREAD',
          'BLOCK',
          String(this.blockMs),
          'COUNT',
          '1000',
          'STREAMS',
          this.streamKey,
          lastId,
        ]);
        backoffMs = 100;
        const entries = raw?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        lastId = entries[entries.length - 1]![0];
        const events: StoredEvent[] = [];
        for (const entry of entries) {
          try {
            events.push(entryToEvent(entry));
          } catch (err) {
            this.onTailError(err); // a corrupt entry is skipped, not retried forever
          }
        }
        if (!this.closed) this.fanOut.publish(events);
      } catch (err) {
        if (this.closed) break;
        this.onTailError(err);
        // Resume from lastId after the pause: nothing still in the stream is missed.
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
    return lastId;
  }

  async healthy(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const ping = (async () => (await this.c()).ping())();
      const timeout = sleep(1_000).then(() => 'timeout');
      return (await Promise.race([ping, timeout])) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fanOut.clear();
    // The blocking connection may sit in XREAD for blockMs; destroy it rather than wait.
    this.blocking?.destroy();
    this.blocking = null;
    await this.loop?.catch(() => undefined);
    // Still connecting (Redis unreachable): give up on it rather than wait for it.
    if (this.client.isReady) await this.client.close().catch(() => this.client.destroy());
    else if (this.client.isOpen) this.client.destroy();
  }
}

export interface EventLogOptions {
  /** Redis when given (a stream shared by every instance), memory otherwise. */
  redisUrl?: string | null;
  /** Redis key prefix; defaults to `nordgraph:events:`. */
  prefix?: string;
  dedupeTtlMs?: number;
  onListenerError?: (err: unknown) => void;
  onTailError?: (err: unknown) => void;
}

export function createEventLog({
  redisUrl,
  prefix,
  dedupeTtlMs,
  onListenerError,
  onTailError,
}: EventLogOptions = {}): EventLog {
  if (redisUrl)
    return new RedisEventLog({ url: redisUrl, prefix, dedupeTtlMs, onListenerError, onTailError });
  return new MemoryEventLog({ dedupeTtlMs, onListenerError });
}
