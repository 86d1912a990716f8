import type { PersonModel } from '../domain.js';
import type { Loaders } from '../providers/index.js';
import { bisnodePersonKey } from '../providers/bisnode/index.js';
import { validateNationalId, type Market } from '../security/identifiers.js';
import { PULL, type Pullable, type PullSink } from './pull.js';
import type {
  ChangedPersonField,
  DomainEventKind,
  EventLog,
  EventProvider,
  EventSubscriber,
  StoredEvent,
} from './types.js';

/**
 * Subscriptions over the event log: replay what a subscriber missed, then live events, with no
 * gap and no duplicate at the seam; and the per-event person memo that lets any number of
 * subscribers read `person` of one event for one upstream resolution. Nothing here knows GraphQL.
 */

const DIGITS = /^\d+$/;

/** Compares two runs of digits as numbers of any size (no BigInt: leading zeros are allowed). */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Log order of two cursors: negative when `a` comes first. Memory cursors are zero-padded
 * numbers; Redis stream ids are `ms-seq`, which compare numerically part by part (as strings,
 * `9-0` would wrongly come after `10-0`). Both are handled by comparing `-`-separated digit
 * runs numerically; anything else falls back to plain string order.
 */
export function compareCursor(a: string, b: string): number {
  // Fast path (every event meets every subscriber's last cursor): equal length and at most one
  // `-`, at the same place, means equal-length digit runs, whose string order is their numeric
  // order; for anything else plain string order is the answer anyway.
  const dash = a.indexOf('-');
  if (
    a.length === b.length &&
    dash === b.indexOf('-') &&
    dash === a.lastIndexOf('-') &&
    dash === b.lastIndexOf('-')
  )
    return a < b ? -1 : a > b ? 1 : 0;
  const pa = a.split('-');
  const pb = b.split('-');
  if (!pa.every((p) => DIGITS.test(p)) || !pb.every((p) => DIGITS.test(p))) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const c = compareDigits(pa[i] ?? '0', pb[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

/** The `replay` of a live-only stream: one settled promise for all of them. */
const REPLAYED: Promise<void> = Promise.resolve();

/** Thrown into a subscriber whose live queue outgrew `maxQueue`: it should resume with `after`. */
export class SubscriberTooSlowError extends Error {
  constructor(readonly lastCursor: string | null) {
    super(
      `subscriber too slow: more than the allowed number of events waited for delivery; resubscribe with after: ${JSON.stringify(lastCursor)}`,
    );
    this.name = 'SubscriberTooSlowError';
  }
}

export interface EventStreamOptions {
  log: EventLog;
  /** The last cursor the subscriber saw; null: live events from now on. */
  after: string | null;
  /** Which events this subscriber wants; applied to replayed and live events alike. */
  match?: (event: StoredEvent) => boolean;
  /** Events per readAfter call while replaying. */
  pageSize?: number;
  /**
   * Live events held while replaying. Beyond this the buffer is dropped and replay simply reads
   * further: those events are in the log, so dropping them costs reads, not events.
   */
  maxBuffer?: number;
  /** Events delivered but not yet consumed; beyond this the subscription ends with SubscriberTooSlowError. */
  maxQueue?: number;
}

/**
 * One subscriber's stream. The order of the steps is what closes the seam:
 * 1. tail() first, buffering live events;
 * 2. page readAfter(after) until a short page (caught up); everything appended before step 1
 *    is in these pages, everything after it is in the buffer (some events in both);
 * 3. drain the buffer, dropping events whose cursor is not after the last replayed one;
 * 4. from then on deliver live events directly (still dropping any cursor already delivered).
 * `return()` (client completes or disconnects) removes the tail listener at once, even while a
 * `next()` is waiting.
 */
export class EventStream
  implements AsyncIterableIterator<StoredEvent>, EventSubscriber, Pullable<StoredEvent>
{
  private readonly log: EventLog;
  private readonly match: (event: StoredEvent) => boolean;
  private readonly pageSize: number;
  private readonly maxBuffer: number;
  private readonly maxQueue: number;
  /** Cursor of the last event handed on (replayed or live, matching or not). */
  private last: string | null;
  private replaying = true;
  /** Live events tailed during replay; null once replay is over (issue 7 S5: idle streams hold no arrays). */
  private buffer: StoredEvent[] | null = null;
  /** Delivered, not yet consumed; made on the first event that finds no waiting `next()`. */
  private queue: StoredEvent[] | null = null;
  /** The consumer waiting for the next event (a `[PULL]` sink, or a `next()` promise's). */
  private waiting: PullSink<StoredEvent> | null = null;
  private failure: unknown = null;
  private finished = false;
  private replay: Promise<void> | null = null;
  /** Cursor of the last event the consumer took from this stream. */
  private consumed: string | null = null;

  constructor({
    log,
    after,
    match = () => true,
    pageSize = 500,
    maxBuffer = 10_000,
    maxQueue = 10_000,
  }: EventStreamOptions) {
    this.log = log;
    this.last = after;
    this.match = match;
    this.pageSize = pageSize;
    this.maxBuffer = maxBuffer;
    this.maxQueue = maxQueue;
  }

  /**
   * Subscribes to the tail and reads the first page, so a bad cursor (InvalidCursorError) or an
   * unreadable log rejects here, before the subscription is acknowledged as running. The rest of
   * the replay goes on in the background while the subscriber consumes.
   */
  async start(): Promise<this> {
    // The stream itself is the log's subscriber (onEvent): no closures per idle subscription.
    this.log.follow(this);
    try {
      // A Redis log's tail loop learns its start position asynchronously; once it has, events
      // appended on any instance reach this listener.
      await (this.log as { whenTailing?: () => Promise<void> }).whenTailing?.();
      if (this.last === null) {
        // Live only: everything tailed from now on is wanted, nothing before it.
        this.finishReplay();
        this.replay = REPLAYED;
        return this;
      }
      const caughtUp = await this.readPage();
      this.replay = caughtUp ? Promise.resolve(this.finishReplay()) : this.replayRest();
    } catch (err) {
      this.close();
      throw err;
    }
    return this;
  }

  private async replayRest(): Promise<void> {
    try {
      while (!this.finished && !(await this.readPage()));
      this.finishReplay();
    } catch (err) {
      this.fail(err);
    }
  }

  /** One page after `last`; true once caught up (a short page). */
  private async readPage(): Promise<boolean> {
    const page = await this.log.readAfter(this.last, this.pageSize);
    for (const e of page) this.deliver(e);
    return page.length < this.pageSize;
  }

  private finishReplay(): void {
    const buffered = this.buffer;
    this.buffer = null;
    this.replaying = false;
    if (buffered) for (const e of buffered) this.deliver(e);
  }

  /** A live event from the log's tail (EventSubscriber). */
  onEvent(event: StoredEvent): void {
    if (this.finished) return;
    if (this.replaying) {
      (this.buffer ??= []).push(event);
      // Everything buffered is in the log too, and replay reads on until a short page.
      if (this.buffer.length > this.maxBuffer) this.buffer = null;
      return;
    }
    this.deliver(event);
  }

  /** Hands on an event unless it is not after the last one (the seam's overlap). */
  private deliver(event: StoredEvent): void {
    if (this.finished) return;
    if (this.last !== null && compareCursor(event.cursor, this.last) <= 0) return;
    this.last = event.cursor;
    if (!this.match(event)) return;
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      this.consumed = event.cursor;
      w.pushed({ value: event, done: false });
      return;
    }
    const queue = (this.queue ??= []);
    queue.push(event);
    if (queue.length > this.maxQueue) {
      // The queued events are not sent: the subscriber resumes after the last one it took.
      this.queue = null;
      this.fail(new SubscriberTooSlowError(this.consumed));
    }
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.failure = err;
    this.close();
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w.failed(err);
    }
  }

  private close(): void {
    this.finished = true;
    this.log.unfollow(this);
    this.buffer = null;
  }

  /** What the consumer can take now: a queued event, the failure, the end; null to wait. */
  private ready(): { result: IteratorResult<StoredEvent> } | { error: unknown } | null {
    const e = this.queue?.shift();
    if (e) {
      this.consumed = e.cursor;
      return { result: { value: e, done: false } };
    }
    if (this.failure !== null) {
      const error = this.failure;
      this.failure = null;
      return { error };
    }
    if (this.finished) return { result: { value: undefined, done: true } };
    return null;
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    const ready = this.ready();
    if (ready) return 'error' in ready ? Promise.reject(ready.error) : Promise.resolve(ready.result);
    return new Promise((resolve, reject) => (this.waiting = { pushed: resolve, failed: reject }));
  }

  /** next() without a promise: the sink itself waits (events/pull.ts). */
  [PULL](sink: PullSink<StoredEvent>): void {
    const ready = this.ready();
    if (!ready) {
      this.waiting = sink;
      return;
    }
    // Never from inside the pull itself (a consumer pulling again from `pushed` would recurse).
    queueMicrotask(() => ('error' in ready ? sink.failed(ready.error) : sink.pushed(ready.result)));
  }

  return(): Promise<IteratorResult<StoredEvent>> {
    this.close();
    this.queue = null;
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w.pushed({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<StoredEvent>> {
    void this.return();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** TEST ONLY: resolves when the background replay is over. */
  replayed(): Promise<void> {
    return this.replay ?? Promise.resolve();
  }
}

/** Starts a stream (tail first, then the first page): rejects with InvalidCursorError on a bad `after`. */
export function subscribeEvents(options: EventStreamOptions): Promise<EventStream> {
  return new EventStream(options).start();
}

// ------------------------------------------------------------------------------ filtering

/** One person, by any of their identifiers, as keyed hashes (see EventPersonMatch). */
export interface PersonRefs {
  byndleId?: string;
  gedi?: string;
  nationalId?: string;
}

export interface EventCriteria {
  kinds?: readonly DomainEventKind[];
  /** At least one of these fields changed (person changes). */
  changedFields?: readonly ChangedPersonField[];
  providers?: readonly EventProvider[];
  /** Hashed with the same `ref` as given to `eventMatcher`. */
  person?: PersonRefs;
  consumerIds?: readonly string[];
  externalId?: string;
  organizationNumber?: string;
  market?: Market;
}

/** The event's national id in its normalised form, so that spellings of one id compare equal. */
function normalisedNationalId(event: StoredEvent): string | null {
  const id = event.person?.nationalId;
  if (!id) return null;
  const market = event.person?.market ?? event.market ?? 'NO';
  const v = validateNationalId(market, id);
  return v.ok ? v.value : id;
}

/**
 * A predicate over stored events. Person identifiers are compared as keyed hashes (`ref`, the
 * cache's HMAC): the filter keeps no clear national id, and nothing here logs. Every given
 * criterion must hold; within `person`, any one identifier matching is enough.
 */
export function eventMatcher(
  criteria: EventCriteria,
  ref: (value: string) => string,
): (event: StoredEvent) => boolean {
  const key = sharedKey(criteria);
  if (key === null) return makeMatcher(criteria, ref);
  let shared = sharedMatchers.get(key);
  if (!shared) {
    if (sharedMatchers.size >= MAX_SHARED_MATCHERS) {
      const oldest = sharedMatchers.keys().next().value;
      if (oldest !== undefined) sharedMatchers.delete(oldest);
    }
    shared = makeMatcher(criteria, ref);
    sharedMatchers.set(key, shared);
  }
  return shared;
}

/**
 * Matchers of criteria that name no subject (only kinds, providers, changed fields, market) are
 * pure functions of the criteria, and most subscribers of an application send the same ones: they
 * share one matcher (~250 bytes less per idle subscription, issue 7 S5). Criteria naming a person,
 * consumers, an external id or an organisation get a matcher of their own, so nothing about a
 * subject outlives its subscriptions here.
 */
const MAX_SHARED_MATCHERS = 256;
const sharedMatchers = new Map<string, (event: StoredEvent) => boolean>();
function sharedKey(c: EventCriteria): string | null {
  if (c.person || c.consumerIds?.length || c.externalId !== undefined || c.organizationNumber !== undefined)
    return null;
  // Every field, so a criterion added later cannot make two different filters share a matcher.
  return JSON.stringify(c);
}

function makeMatcher(criteria: EventCriteria, ref: (value: string) => string) {
  // Kinds, providers and fields are a few enum values each: arrays, not Sets, since a matcher
  // lives as long as its subscription and a Set costs ~200 bytes (issue 7, S5).
  const kinds = criteria.kinds?.length ? criteria.kinds : null;
  const providers = criteria.providers?.length ? criteria.providers : null;
  const fields = criteria.changedFields?.length ? criteria.changedFields : null;
  const consumers = criteria.consumerIds?.length ? new Set(criteria.consumerIds) : null;
  const person = criteria.person;
  // Read out, so the matcher does not keep `criteria` (built by spreading, it has a hidden class
  // of its own: ~260 bytes per subscription).
  const { market, externalId, organizationNumber } = criteria;
  const hasPerson = Boolean(person && (person.byndleId || person.gedi || person.nationalId));
  // Kept (with whatever it holds) only when a person criterion needs it.
  const refOf = hasPerson ? ref : null;
  return (event: StoredEvent): boolean => {
    if (kinds && !kinds.includes(event.kind)) return false;
    if (providers && !providers.includes(event.provider)) return false;
    if (fields && !(event.changedFields ?? []).some((f) => fields.includes(f))) return false;
    if (market && (event.market ?? event.person?.market ?? null) !== market) return false;
    if (externalId !== undefined && event.externalId !== externalId) return false;
    if (organizationNumber !== undefined && event.organizationNumber !== organizationNumber) return false;
    if (consumers && !(event.consumerIds ?? []).some((c) => consumers.has(c))) return false;
    if (refOf && person) {
      const ref = refOf;
      const p = event.person;
      if (!p) return false;
      const nationalId = normalisedNationalId(event);
      const hit =
        (person.byndleId !== undefined && !!p.byndleId && ref(p.byndleId) === person.byndleId) ||
        (person.gedi !== undefined && !!p.gedi && ref(p.gedi) === person.gedi) ||
        (person.nationalId !== undefined && !!nationalId && ref(nationalId) === person.nationalId);
      if (!hit) return false;
    }
    return true;
  };
}

// ------------------------------------------------------------------------------ person memo

export interface EventPersonMemoOptions {
  /** A fresh loader set for one event's resolution (the subscriber's own loaders are not shared). */
  createLoaders: () => Loaders;
  /** Events whose person is remembered; the least recently asked is dropped first. */
  maxEntries?: number;
  /** How long a resolved person serves later askers (e.g. a resume replaying the event). */
  ttlMs?: number;
}

/**
 * One upstream resolution per event, not per subscriber: every subscriber asking `person` of the
 * event with a given cursor shares one promise, made with a loader set of its own. A small LRU by
 * cursor; a failed resolution is forgotten so a later asker tries again.
 */
export class EventPersonMemo {
  private readonly createLoaders: () => Loaders;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly entries = new Map<string, { at: number; person: Promise<PersonModel | null> }>();
  /** Upstream resolutions started (tests and metrics). */
  resolutions = 0;

  constructor({ createLoaders, maxEntries = 5_000, ttlMs = 60_000 }: EventPersonMemoOptions) {
    this.createLoaders = createLoaders;
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  person(event: StoredEvent): Promise<PersonModel | null> {
    const now = performance.now();
    const hit = this.entries.get(event.cursor);
    if (hit && now - hit.at < this.ttlMs) {
      // Most recently used goes last, so eviction takes the oldest first.
      this.entries.delete(event.cursor);
      this.entries.set(event.cursor, hit);
      return hit.person;
    }
    const person = this.resolve(event);
    this.entries.delete(event.cursor);
    this.entries.set(event.cursor, { at: now, person });
    person.catch(() => {
      if (this.entries.get(event.cursor)?.person === person) this.entries.delete(event.cursor);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return person;
  }

  private async resolve(event: StoredEvent): Promise<PersonModel | null> {
    const ref = event.person;
    if (!ref || !(ref.byndleId || ref.gedi || ref.nationalId)) return null;
    this.resolutions++;
    const loaders = this.createLoaders();
    if (ref.byndleId) return (await loaders.byndle.personByByndleId.load(ref.byndleId))?.person ?? null;
    if (ref.gedi) return loaders.bisnode.personByGedi.load(ref.gedi);
    const market: Market = ref.market ?? event.market ?? 'NO';
    const id = validateNationalId(market, ref.nationalId ?? '');
    if (!id.ok) return null;
    if (market === 'NO') return loaders.byndle.personByNationalId.load(id.value);
    return loaders.bisnode.personByNationalId.load(bisnodePersonKey(market, id.value));
  }

  clear(): void {
    this.entries.clear();
  }
}
