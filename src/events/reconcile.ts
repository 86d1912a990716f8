import { LazyRedis } from '../redis.js';
import type { Config } from '../config.js';
import type { ByndleClient } from '../providers/byndle/index.js';
import type { BisnodeClient } from '../providers/bisnode/index.js';
import {
  BYNDLE_EVENT_NAMES,
  byndleWebhookEventSchema,
  normaliseByndleDelivery,
  type ByndleWebhookEvent,
} from '../providers/byndle/webhooks.js';
import {
  BISNODE_EVENT_TYPES,
  bisnodeWebhookEventSchema,
  normaliseBisnodeEvents,
  type BisnodeWebhookEvent,
} from '../providers/bisnode/webhooks.js';
import { DEFAULT_KEY_PREFIX } from './log.js';
import type { DomainEventInput, EventLog, StoredEvent } from './types.js';

/**
 * Reconciliation: a webhook lost while nordgraph was down (or answered 503 until the provider
 * gave up) still becomes an event, once. On start and then every `intervalMs`, each provider's
 * "what changed since" list is read from the last point seen and run through the SAME
 * normaliser as its webhook, so every event gets the sourceId its webhook would have given it:
 * the event log's (provider, sourceId) dedupe makes a change that arrived both ways one event.
 *
 * - Byndle: ajourhold `GET /changes?since=` carries the webhook's events (same eventIds); they
 *   are passed through `normaliseByndleDelivery`, which groups one person's field events of one
 *   moment into one PERSON_CHANGED whose sourceId is the group's sorted eventIds. The events are
 *   first narrowed to those the configured webhook subscribes to, so a group is formed of the
 *   same events on both paths. The stored point is an ISO time: the start of the last complete
 *   run minus `overlapMs` (clock skew between us and Byndle; the overlap is re-read and deduped).
 * - Bisnode: `GET /audit-events` from the stored nextPageToken (never null: at the end it is the
 *   token for later events). Audit events are the webhook events themselves (same `id`), so
 *   `normaliseBisnodeEvents` gives the same sourceIds and dedupe is exact.
 *
 *   Why not `GET /subscriptions/persons`: an item there is (gedi, consumerIds, changedTimestamp,
 *   latest person data) and shares no key with a webhook event. changedTimestamp is "when the
 *   subscription last changed" for ANY reason (subscribed, consumer set, person data, enrichment,
 *   re-identification), so it cannot say which event it stands for; one person change emits
 *   PERSON_CHANGED and ENRICHMENT_CHANGED (two webhook events, one item); a person changed twice
 *   between runs shows only the last timestamp; and even (gedi, timestamp) is not a reliable join
 *   key, because the sandbox sets changedTimestamp and the event timestamp from two clock reads
 *   (a millisecond apart at times) and the real document does not define the item at all. A
 *   PERSON_CHANGED made from it would be a second event for every change the webhook delivered.
 *
 * Where the point is stored: memory, or Redis `<prefix>cursor:<name>` (same place as the
 * Symetrisk poller's cursor), so a restart resumes where the last complete run ended. Without a
 * stored point (first start) the run starts at start time minus `initialLookbackMs`.
 */

/** Unset interval outside tests (config.ts). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 300_000;

export function reconcileIntervalMs(config: Pick<Config, 'RECONCILE_INTERVAL_MS' | 'NODE_ENV'>): number {
  return config.RECONCILE_INTERVAL_MS ?? (config.NODE_ENV === 'test' ? 0 : DEFAULT_RECONCILE_INTERVAL_MS);
}

export const BYNDLE_RECONCILE_CURSOR = 'byndle-changes';
export const BISNODE_RECONCILE_CURSOR = 'bisnode-audit';

/** Opaque string positions per reconciler (an ISO time, a page token). */
export interface ReconcileCursorStore {
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryReconcileCursorStore implements ReconcileCursorStore {
  private readonly values = new Map<string, string>();
  async get(name: string): Promise<string | null> {
    return this.values.get(name) ?? null;
  }
  async set(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }
  async close(): Promise<void> {}
}

/**
 * Plain SET: two instances reconciling at once may move a point back a little, which only
 * means re-reading changes the log then deduplicates.
 */
export class RedisReconcileCursorStore implements ReconcileCursorStore {
  private readonly redis: LazyRedis;

  constructor(
    url: string,
    private readonly prefix = `${DEFAULT_KEY_PREFIX}cursor:`,
  ) {
    this.redis = new LazyRedis(url);
  }

  async get(name: string): Promise<string | null> {
    return (await (await this.redis.get()).get(this.prefix + name)) ?? null;
  }

  async set(name: string, value: string): Promise<void> {
    await (await this.redis.get()).set(this.prefix + name, value);
  }

  close(): Promise<void> {
    return this.redis.close();
  }
}

export function createReconcileCursorStore(
  redisUrl?: string | null,
  keyPrefix = DEFAULT_KEY_PREFIX,
): ReconcileCursorStore {
  return redisUrl
    ? new RedisReconcileCursorStore(redisUrl, `${keyPrefix}cursor:`)
    : new MemoryReconcileCursorStore();
}

export interface ReconcileResult {
  byndle: { stored: number; duplicates: number; skipped: number } | null;
  bisnode: { stored: number; duplicates: number; skipped: number } | null;
}

export interface ReconcilerOptions {
  byndle?: Pick<ByndleClient, 'ajourholdId' | 'ajourholdChanges' | 'webhook'> | null;
  bisnode?: Pick<BisnodeClient, 'auditEvents'> | null;
  log: EventLog;
  cursors: ReconcileCursorStore;
  intervalMs?: number;
  /** Re-read this much before the last run's start (clock skew with the provider). */
  overlapMs?: number;
  /** Without a stored point: how far before start to look. */
  initialLookbackMs?: number;
  /** Items per page (both providers allow 1-1000). */
  pageSize?: number;
  /** Pages per provider per run at most; a run cut short resumes from where it got. */
  maxPages?: number;
  /** For each newly stored PERSON_CHANGED (cache eviction); failures go to onError. */
  onPersonChanged?: (event: StoredEvent) => Promise<unknown>;
  onError?: (err: unknown, provider: 'byndle' | 'bisnode') => void;
  onRun?: (result: ReconcileResult) => void;
  now?: () => number;
}

/**
 * Runs both reconcilers on start and `intervalMs` after each run ends (runs never overlap). A
 * provider that fails does not stop the other; its point is not moved, so the next run
 * covers the same ground.
 */
export class Reconciler {
  private readonly opts: Required<Omit<ReconcilerOptions, 'byndle' | 'bisnode' | 'onPersonChanged'>> &
    Pick<ReconcilerOptions, 'byndle' | 'bisnode' | 'onPersonChanged'>;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor({
    intervalMs = DEFAULT_RECONCILE_INTERVAL_MS,
    overlapMs = 60_000,
    initialLookbackMs = 0,
    pageSize = 500,
    maxPages = 100,
    onError = () => undefined,
    onRun = () => undefined,
    now = Date.now,
    ...rest
  }: ReconcilerOptions) {
    this.opts = {
      intervalMs,
      overlapMs,
      initialLookbackMs,
      pageSize,
      maxPages,
      onError,
      onRun,
      now,
      ...rest,
    };
    this.startedAt = now();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    this.running = this.runOnce()
      .then(this.opts.onRun, () => undefined)
      .finally(() => {
        this.running = null;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.tick(), this.opts.intervalMs);
          this.timer.unref();
        }
      });
  }

  /** One run of both reconcilers; a provider that failed is null in the result. */
  async runOnce(): Promise<ReconcileResult> {
    const guard = async <T>(provider: 'byndle' | 'bisnode', work: () => Promise<T>): Promise<T | null> => {
      try {
        return await work();
      } catch (err) {
        this.opts.onError(err, provider);
        return null;
      }
    };
    const [byndle, bisnode] = await Promise.all([
      this.opts.byndle ? guard('byndle', () => this.reconcileByndle()) : Promise.resolve(null),
      this.opts.bisnode ? guard('bisnode', () => this.reconcileBisnode()) : Promise.resolve(null),
    ]);
    return { byndle, bisnode };
  }

  private initialPoint(): string {
    return new Date(this.startedAt - this.opts.initialLookbackMs).toISOString();
  }

  private async store(
    provider: 'byndle' | 'bisnode',
    events: DomainEventInput[],
  ): Promise<{ stored: number; duplicates: number }> {
    if (events.length === 0) return { stored: 0, duplicates: 0 };
    const result = await this.opts.log.append(events);
    if (this.opts.onPersonChanged) {
      for (const e of result.stored) {
        if (e.kind !== 'PERSON_CHANGED') continue;
        // The event is stored; a failed eviction is reported, not retried by re-reading.
        await this.opts.onPersonChanged(e).catch((err: unknown) => this.opts.onError(err, provider));
      }
    }
    return { stored: result.stored.length, duplicates: result.duplicates };
  }

  async reconcileByndle(): Promise<{ stored: number; duplicates: number; skipped: number }> {
    const client = this.opts.byndle!;
    const runStart = this.opts.now();
    const since = (await this.opts.cursors.get(BYNDLE_RECONCILE_CURSOR)) ?? this.initialPoint();
    // Group exactly as the webhook does: only the events it subscribes to (all when none is set).
    const hook = await client.webhook();
    const wanted = new Set<string>(hook ? hook.events : BYNDLE_EVENT_NAMES);
    const events: ByndleWebhookEvent[] = [];
    let skipped = 0;
    let complete = false;
    for (let page = 1; page <= this.opts.maxPages; page++) {
      const body = await client.ajourholdChanges(since, { page, pageSize: this.opts.pageSize });
      for (const item of body.items) {
        for (const change of item.changes) {
          if (!wanted.has(change.eventName)) continue;
          const parsed = byndleWebhookEventSchema.safeParse(change);
          if (parsed.success) events.push(parsed.data);
          else skipped++; // an event kind this version does not know, as the webhook would refuse
        }
      }
      if (page >= body.totalPages || body.items.length === 0) {
        complete = true;
        break;
      }
    }
    const normalised = normaliseByndleDelivery({
      ajourholdId: client.ajourholdId,
      deliveryId: 'reconcile',
      sentAt: new Date(runStart).toISOString(),
      events,
    });
    const { stored, duplicates } = await this.store('byndle', normalised);
    // A run cut short by maxPages keeps its point: the pages are ordered by each entry's first
    // change, so no later point is safe. Everything read is stored already (and deduped next time).
    if (complete) {
      const next = new Date(runStart - this.opts.overlapMs).toISOString();
      if (Date.parse(next) > Date.parse(since)) await this.opts.cursors.set(BYNDLE_RECONCILE_CURSOR, next);
    }
    return { stored, duplicates, skipped };
  }

  async reconcileBisnode(): Promise<{ stored: number; duplicates: number; skipped: number }> {
    const client = this.opts.bisnode!;
    const stored0 = await this.opts.cursors.get(BISNODE_RECONCILE_CURSOR);
    // First start: read the audit trail from its beginning but keep only recent events.
    const notBefore = stored0 === null ? Date.parse(this.initialPoint()) : -Infinity;
    let token: string | undefined = stored0 ?? undefined;
    let stored = 0;
    let duplicates = 0;
    let skipped = 0;
    for (let page = 0; page < this.opts.maxPages; page++) {
      const body = await client.auditEvents({ pageToken: token, pageSize: this.opts.pageSize });
      const events: BisnodeWebhookEvent[] = [];
      for (const raw of body.data) {
        if (!(BISNODE_EVENT_TYPES as readonly string[]).includes(raw.type)) {
          skipped++;
          continue;
        }
        const parsed = bisnodeWebhookEventSchema.safeParse(raw);
        if (!parsed.success) {
          skipped++;
          continue;
        }
        if (Date.parse(parsed.data.timestamp) < notBefore) continue;
        events.push(parsed.data);
      }
      const r = await this.store('bisnode', normaliseBisnodeEvents(events));
      stored += r.stored;
      duplicates += r.duplicates;
      // Stored before the token moves: a crash in between re-reads a page, never skips one.
      await this.opts.cursors.set(BISNODE_RECONCILE_CURSOR, body.nextPageToken);
      token = body.nextPageToken;
      if (body.data.length < this.opts.pageSize) break;
    }
    return { stored, duplicates, skipped };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
