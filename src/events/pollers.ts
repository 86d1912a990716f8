import { LazyRedis } from '../redis.js';
import type { Config } from '../config.js';
import type { UpstreamNotification } from '../providers/symetrisk/schemas.js';
import type { SymetriskClient } from '../providers/symetrisk/index.js';
import { DEFAULT_KEY_PREFIX } from './log.js';
import type { DomainEventInput, EventLog } from './types.js';

/**
 * Polling for what sends no webhooks. Symetrisk only lists notifications (newest first), so a
 * poller reads them on an interval and appends what is new to the event log. The highest
 * notification id seen is kept next to the log (memory, or Redis `<prefix>cursor:symetrisk`),
 * so a restart does not start over; a re-poll of the same notification is harmless anyway,
 * because its sourceId (`symetrisk:notification:<id>`) is deduplicated by the log.
 */

/** Unset interval in production; tests turn polling on explicitly (see config.ts). */
export const DEFAULT_SYMETRISK_POLL_INTERVAL_MS = 30_000;

export function symetriskPollIntervalMs(
  config: Pick<Config, 'SYMETRISK_POLL_INTERVAL_MS' | 'NODE_ENV'>,
): number {
  return (
    config.SYMETRISK_POLL_INTERVAL_MS ?? (config.NODE_ENV === 'test' ? 0 : DEFAULT_SYMETRISK_POLL_INTERVAL_MS)
  );
}

/** Numeric high-water marks per poller; `advance` never moves one back (two instances may poll). */
export interface PollCursorStore {
  get(name: string): Promise<number | null>;
  advance(name: string, value: number): Promise<void>;
  close(): Promise<void>;
}

export class MemoryPollCursorStore implements PollCursorStore {
  private readonly values = new Map<string, number>();
  async get(name: string): Promise<number | null> {
    return this.values.get(name) ?? null;
  }
  async advance(name: string, value: number): Promise<void> {
    if (value > (this.values.get(name) ?? -Infinity)) this.values.set(name, value);
  }
  async close(): Promise<void> {}
}

/** Raises the key only when the new value is higher, atomically (instances polling concurrently). */
const ADVANCE_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`;

export class RedisPollCursorStore implements PollCursorStore {
  private readonly redis: LazyRedis;

  constructor(
    url: string,
    private readonly prefix = `${DEFAULT_KEY_PREFIX}cursor:`,
  ) {
    this.redis = new LazyRedis(url);
  }

  async get(name: string): Promise<number | null> {
    const v = await (await this.redis.get()).get(this.prefix + name);
    return v === null ? null : Number(v);
  }

  async advance(name: string, value: number): Promise<void> {
    await (
      await this.redis.get()
    ).sendCommand(['EVAL', ADVANCE_SCRIPT, '1', this.prefix + name, String(value)]);
  }

  close(): Promise<void> {
    return this.redis.close();
  }
}

export function createPollCursorStore(redisUrl?: string | null): PollCursorStore {
  return redisUrl ? new RedisPollCursorStore(redisUrl) : new MemoryPollCursorStore();
}

/** A Symetrisk notification as a domain event; the sourceId makes a re-poll a duplicate. */
export function notificationToEvent(n: UpstreamNotification): DomainEventInput {
  const at = new Date(n.created_at);
  return {
    provider: 'symetrisk',
    sourceId: `symetrisk:notification:${n.id}`,
    kind: 'BORROWER_ACCESS_CHANGED',
    occurredAt: Number.isNaN(at.getTime()) ? new Date().toISOString() : at.toISOString(),
    organizationNumber: n.organization_number,
    market: 'NO',
    sourceTypes: [n.type],
    details: {
      state: n.type,
      relationshipType: n.relationship_type,
      creditorOrganizationNumber: n.creditor_organization_number,
      notificationId: n.id,
      message: n.message,
    },
  };
}

export interface SymetriskPollerOptions {
  client: Pick<SymetriskClient, 'notifications'>;
  log: EventLog;
  cursors: PollCursorStore;
  intervalMs?: number;
  /** Notifications per page (Symetrisk allows 1-100). */
  pageSize?: number;
  /** Pages read per poll at most, so a first poll over a long history stays bounded. */
  maxPages?: number;
  onError?: (err: unknown) => void;
  /** Called after each poll with how many new events were stored (logging, tests). */
  onPoll?: (stored: number) => void;
}

export const SYMETRISK_CURSOR = 'symetrisk';

/**
 * Polls Symetrisk notifications: first at start, then `intervalMs` after each poll ends (polls
 * never overlap). Reads newest first until it reaches an id it has seen, then appends the new
 * ones oldest first and raises the stored cursor only after the append succeeded: a failed
 * append is retried on the next poll, never skipped.
 */
export class SymetriskNotificationPoller {
  private readonly client: Pick<SymetriskClient, 'notifications'>;
  private readonly log: EventLog;
  private readonly cursors: PollCursorStore;
  private readonly intervalMs: number;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly onError: (err: unknown) => void;
  private readonly onPoll: (stored: number) => void;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor({
    client,
    log,
    cursors,
    intervalMs = DEFAULT_SYMETRISK_POLL_INTERVAL_MS,
    pageSize = 100,
    maxPages = 50,
    onError = () => undefined,
    onPoll = () => undefined,
  }: SymetriskPollerOptions) {
    this.client = client;
    this.log = log;
    this.cursors = cursors;
    this.intervalMs = intervalMs;
    this.pageSize = pageSize;
    this.maxPages = maxPages;
    this.onError = onError;
    this.onPoll = onPoll;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    this.running = this.pollOnce()
      .then(this.onPoll, this.onError)
      .finally(() => {
        this.running = null;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.tick(), this.intervalMs);
          this.timer.unref();
        }
      });
  }

  /** One poll; resolves with the number of events newly stored. */
  async pollOnce(): Promise<number> {
    const seen = (await this.cursors.get(SYMETRISK_CURSOR)) ?? 0;
    const fresh: UpstreamNotification[] = [];
    for (let page = 0; page < this.maxPages; page++) {
      const skip = page * this.pageSize;
      const body = await this.client.notifications({ limit: this.pageSize, skip });
      let reachedSeen = false;
      for (const n of body.items) {
        if (n.id > seen) fresh.push(n);
        else reachedSeen = true;
      }
      if (
        reachedSeen ||
        body.items.length < this.pageSize ||
        skip + body.items.length >= body.metadata.totalItems
      )
        break;
    }
    if (fresh.length === 0) return 0;
    // Newest first upstream; the log gets them in the order they happened. A notification
    // inserted while paging shifts later pages, so one may appear twice: keep it once.
    const byId = new Map(fresh.map((n) => [n.id, n]));
    const ordered = [...byId.values()].sort((a, b) => a.id - b.id);
    const { stored } = await this.log.append(ordered.map(notificationToEvent));
    await this.cursors.advance(SYMETRISK_CURSOR, ordered[ordered.length - 1]!.id);
    return stored.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
