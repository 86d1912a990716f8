import { createReadStream, writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { ApolloServerPlugin } from '@apollo/server';
import { z } from 'zod';
import type { GatewayContext } from '../context.js';
import type { Logger } from '../log.js';
import { LazyRedis } from '../redis.js';
import { subjectRef, validateNationalId, type Market } from './identifiers.js';

/**
 * The audit trail of personal-data reads (issue 6, "Personal data"): who read what about whom,
 * for which purpose, from which provider, and when. A data subject's access request is answered
 * from it (`auditTrail` admin query, `npm run audit -- <nationalId>`).
 *
 * - The field wrapper (security/directives.ts) calls `ctx.audit.read()` for every field that
 *   returns personal data; the request's trail buffers and merges those reads.
 * - `flush()` (Apollo plugin at the end of each HTTP operation, and after each subscription
 *   event) hands the batch to the process-wide sink in one write.
 * - Sinks: an append-only JSON Lines file (default), or a Redis stream with REDIS_URL (plus one
 *   stream per subject, written in the same MULTI, so one subject's list is a range read).
 *
 * A record names the subject only by its pseudonymous reference (HMAC of the normalised national
 * id, the same `subjectRef` the cache uses); a national id never reaches the trail.
 */

/** One read of personal data, as the field wrapper reports it. */
export interface AuditRead {
  /** Pseudonymous subject reference (never a national id in clear): see `auditSubject`. */
  subject: string;
  /** Schema coordinate of the field read, e.g. 'Query.person' or 'Business.roles'. */
  field: string;
  /** The sub-fields selected on it, e.g. ['firstName','address','phones']. */
  fields: string[];
  /** 'BYNDLE' | 'BISNODE' | 'CONNECT' | 'SYMETRISK' (Provider enum values). */
  provider: string;
}

/** What is stored per (request, subject, field, provider). */
export interface AuditRecord {
  /** ISO time of the first such read in the request. */
  at: string;
  requestId: string;
  callerId: string;
  /** The purpose the caller declared; null when none was (a read should not happen then). */
  purpose: string | null;
  subject: string;
  field: string;
  fields: string[];
  provider: AuditProvider;
}

/** Records of one subject, oldest first; `id` is the sink's position, opaque to callers. */
export interface AuditPage {
  items: { id: string; record: AuditRecord }[];
  hasNextPage: boolean;
}

export interface ListOptions {
  /** The `id` of the last item already seen: the page starts after it. */
  after?: string | null;
  /** Page size, default 100. */
  first?: number;
}

/** Per request (or per subscription): buffers reads, writes them at `flush()`. */
export interface AuditTrail {
  read(entry: AuditRead): void;
  /** Writes what was read since the last flush in one write. Never rejects: a failure is logged and counted. */
  flush(): Promise<void>;
}

/** The process-wide store of the trail. */
export interface AuditSink {
  readonly kind: 'file' | 'redis';
  /** Appends one request's records in one write; false (logged, counted) when the write failed. */
  write(records: AuditRecord[]): Promise<boolean>;
  /** Everything recorded about one subject reference, oldest first. */
  listBySubject(subject: string, options?: ListOptions): Promise<AuditPage>;
  /** The subject reference of a value (normalised national id, or provider id). */
  ref(value: string): string;
  close(): Promise<void>;
}

/** Provider enum values (schema/common.graphql); a record names one of them. */
export const AUDIT_PROVIDERS = ['BYNDLE', 'BISNODE', 'CONNECT', 'SYMETRISK'] as const;
export type AuditProvider = (typeof AUDIT_PROVIDERS)[number];

/** What every stored line or stream entry must look like; anything else is skipped when read. */
const recordSchema = z.object({
  at: z.string(),
  requestId: z.string(),
  callerId: z.string(),
  purpose: z.string().nullable(),
  subject: z.string(),
  field: z.string(),
  fields: z.array(z.string()),
  provider: z.enum(AUDIT_PROVIDERS),
});

/** Shape of a subject reference (`subjectRef`: 22 base64url characters). */
const SUBJECT_REF = /^[A-Za-z0-9_-]{22}$/;

const DEFAULT_PAGE = 100;

export interface AuditSinkOptions {
  /** JSON Lines file of the file sink (AUDIT_LOG_FILE). */
  file?: string;
  /** Redis sink when set (REDIS_URL). */
  redisUrl?: string | null;
  /** Redis key prefix (AUDIT_KEY_PREFIX): keys `<prefix>audit`, `<prefix>audit:subject:<ref>`. */
  prefix?: string;
  /** CACHE_KEY_SALT: key of subject references. */
  salt: string;
  /** Failed writes are logged here (never with record contents). */
  log?: Logger;
  /** Metrics hook: one call per batch written or failed. */
  onWrite?: (outcome: 'ok' | 'error') => void;
}

abstract class BaseSink implements AuditSink {
  abstract readonly kind: 'file' | 'redis';
  constructor(protected readonly options: AuditSinkOptions) {}

  protected abstract append(records: AuditRecord[]): Promise<void>;
  abstract listBySubject(subject: string, options?: ListOptions): Promise<AuditPage>;
  abstract close(): Promise<void>;

  ref(value: string): string {
    return subjectRef(value, this.options.salt);
  }

  async write(records: AuditRecord[]): Promise<boolean> {
    if (records.length === 0) return true;
    try {
      await this.append(records);
      this.options.onWrite?.('ok');
      return true;
    } catch (err) {
      this.options.onWrite?.('error');
      // Only what identifies the failure, never the records (they name subjects and fields).
      const e = err as { name?: unknown; code?: unknown };
      this.options.log?.error(
        {
          sink: this.kind,
          error: typeof e.name === 'string' ? e.name : 'Error',
          code: typeof e.code === 'string' ? e.code : undefined,
          records: records.length,
          requestId: records[0]?.requestId,
        },
        'audit trail write failed: personal-data reads of this request are not recorded',
      );
      return false;
    }
  }
}

/**
 * JSON Lines file, opened once with flag 'a' (O_APPEND): every batch is one write at the end of
 * the file, also with several processes on one file; nothing is ever rewritten. A line's number
 * is its position.
 */
class FileSink extends BaseSink {
  readonly kind = 'file' as const;
  private handle: Promise<FileHandle> | null = null;
  /** The write loop in progress (close() waits for it); batches never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    options: AuditSinkOptions,
    private readonly path: string,
  ) {
    super(options);
  }

  private file(): Promise<FileHandle> {
    this.handle ??= (async () => {
      await mkdir(dirname(this.path), { recursive: true });
      return open(this.path, 'a', 0o600);
    })().catch((err: unknown) => {
      // Retried by the next write (the directory may appear, permissions may be fixed).
      this.handle = null;
      throw err;
    });
    return this.handle;
  }

  /**
   * Group commit: records appended while a drain is under way (the file being opened, or in the
   * same turn of the event loop) go out together in the next single write. Each request still
   * resolves only once its own lines are written.
   */
  protected append(records: AuditRecord[]): Promise<void> {
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ text, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.draining) this.queue = this.drain();
    });
  }

  private pending: { text: string; done: (err?: unknown) => void }[] = [];
  private draining = false;
  private torn = false;

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        // After a failed or short write the file may end in half a line: start on a fresh one,
        // so the torn line is the only one lost to a reader, not also the next record.
        const lead = this.torn ? '\n' : '';
        const buf = Buffer.from(lead + batch.map((b) => b.text).join(''), 'utf8');
        try {
          const fh = await this.file();
          // A synchronous append: ~3 µs of CPU against ~60 µs for fs/promises' trip through the
          // libuv thread pool (measured on the bench machine; the write was ~9% of the gateway's
          // CPU in benchmark S1). Either way the line is in the page cache, not fsynced, when the
          // request answers. The price: a stalled disk stalls the event loop, not only the
          // requests waiting for their lines; every request that reads personal data waits for
          // its lines anyway.
          const bytesWritten = writeSync(fh.fd, buf);
          if (bytesWritten !== buf.length) throw new Error('short write to the audit file');
          this.torn = false;
          for (const b of batch) b.done();
        } catch (err) {
          this.torn = true;
          for (const b of batch) b.done(err);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  async listBySubject(subject: string, options: ListOptions = {}): Promise<AuditPage> {
    const first = options.first ?? DEFAULT_PAGE;
    const after = options.after == null ? 0 : lineCursor(options.after);
    const items: AuditPage['items'] = [];
    let hasNextPage = false;
    const input = createReadStream(this.path, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const line of lines) {
        n += 1;
        if (n <= after || !line.includes(subject)) continue;
        const record = parseRecord(line);
        if (record?.subject !== subject) continue;
        if (items.length === first) {
          hasNextPage = true;
          break;
        }
        items.push({ id: String(n), record });
      }
    } catch (err) {
      // No file yet: nothing was ever recorded.
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    } finally {
      lines.close();
      input.destroy();
    }
    return { items, hasNextPage };
  }

  async close(): Promise<void> {
    await this.queue;
    const h = this.handle;
    this.handle = null;
    if (h) await (await h.catch(() => null))?.close();
  }
}

/** An `after` position this sink never handed out. */
export class AuditCursorError extends Error {
  constructor() {
    super('not a position of this audit trail');
    this.name = 'AuditCursorError';
  }
}

function lineCursor(after: string): number {
  if (!/^\d{1,15}$/.test(after)) throw new AuditCursorError();
  return Number(after);
}

function parseRecord(text: string): AuditRecord | null {
  try {
    const r = recordSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    // A torn last line (process killed mid-write) is skipped, not fatal.
    return null;
  }
}

/**
 * Redis: every record is XADDed to `<prefix>audit` (the whole trail, in order) and to
 * `<prefix>audit:subject:<ref>` (that subject's records) in one MULTI, so both always agree and a
 * subject's list is one XRANGE. The streams are never trimmed.
 */
class RedisSink extends BaseSink {
  readonly kind = 'redis' as const;
  private readonly redis: LazyRedis;
  private readonly prefix: string;

  constructor(options: AuditSinkOptions, url: string) {
    super(options);
    this.redis = new LazyRedis(url);
    this.prefix = options.prefix ?? 'nordgraph:';
  }

  get streamKey(): string {
    return `${this.prefix}audit`;
  }

  subjectKey(subject: string): string {
    return `${this.prefix}audit:subject:${subject}`;
  }

  protected async append(records: AuditRecord[]): Promise<void> {
    const client = await this.redis.get();
    const multi = client.multi();
    for (const r of records) {
      const e = JSON.stringify(r);
      multi.addCommand(['XADD', this.streamKey, '*', 'e', e]);
      multi.addCommand(['XADD', this.subjectKey(r.subject), '*', 'e', e]);
    }
    await multi.exec();
  }

  async listBySubject(subject: string, options: ListOptions = {}): Promise<AuditPage> {
    const first = options.first ?? DEFAULT_PAGE;
    if (options.after != null && !/^\d{1,20}-\d{1,20}$/.test(options.after)) {
      throw new AuditCursorError();
    }
    const start = options.after == null ? '-' : `(${options.after}`;
    const client = await this.redis.get();
    const raw = await client.sendCommand<[string, string[]][]>([
      'XRANGE',
      this.subjectKey(subject),
      start,
      '+',
      'COUNT',
      String(first + 1),
    ]);
    const items: AuditPage['items'] = [];
    for (const [id, fields] of raw.slice(0, first)) {
      const e = fields[fields.indexOf('e') + 1];
      const record = e === undefined ? null : parseRecord(e);
      if (record) items.push({ id, record });
    }
    return { items, hasNextPage: raw.length > first };
  }

  close(): Promise<void> {
    return this.redis.close();
  }
}

/** The sink configuration asks for: Redis with `redisUrl`, else the file. */
export function createAuditSink(options: AuditSinkOptions): AuditSink {
  if (options.redisUrl) return new RedisSink(options, options.redisUrl);
  return new FileSink(options, options.file ?? './var/audit.jsonl');
}

/**
 * The subject reference of a person for the trail: its normalised national id when it has one,
 * else its provider id (Byndle id, then Bisnode GEDI): the same values the cache indexes a person
 * under (events/evict.ts), so one reference serves access requests and erasure alike.
 */
export function auditSubject(
  person: {
    market?: Market | null;
    nationalId?: string | null;
    byndleId?: string | null;
    gedi?: string | null;
  },
  salt: string,
): string | null {
  if (person.nationalId) {
    const v = person.market ? validateNationalId(person.market, person.nationalId) : null;
    return subjectRef(v?.ok ? v.value : person.nationalId, salt);
  }
  const providerId = person.byndleId ?? person.gedi;
  return providerId ? subjectRef(providerId, salt) : null;
}

/** The ISO prefix ("YYYY-MM-DDTHH:MM:SS.") of the second isoTime last made, and that second. */
let isoSecond = Number.NaN;
let isoPrefix = '';
/**
 * `new Date(ms).toISOString()`, with the date part made once per second: toISOString was ~1% of a
 * person card's CPU (a record per person and per customer read, each ~3 µs).
 */
export function isoTime(time: number): string {
  // As Date does: a fractional time counts as its whole milliseconds.
  const ms = Math.trunc(time);
  const rest = ((ms % 1000) + 1000) % 1000;
  const second = ms - rest;
  if (second !== isoSecond) {
    // Everything up to the milliseconds ("mmmZ" is 4 characters), also for 6-digit years.
    isoPrefix = new Date(second).toISOString().slice(0, -4);
    isoSecond = second;
  }
  return `${isoPrefix}${rest < 10 ? '00' : rest < 100 ? '0' : ''}${rest}Z`;
}

export interface RequestAuditOptions {
  /** The caller (its id), as authenticated. */
  caller: string | { id: string };
  /** The purpose the caller declared for this request or connection. */
  purpose: string | null | undefined;
  requestId: string;
  sink: AuditSink;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * A request's trail. Reads of the same (subject, field, provider) merge into one record whose
 * `fields` is the union, so a person reached ten times in one query is one record, not ten.
 */
export function createRequestAudit(options: RequestAuditOptions): AuditTrail {
  const callerId = typeof options.caller === 'string' ? options.caller : options.caller.id;
  const purpose = options.purpose ?? null;
  const clock = options.now;
  const at = clock ? () => isoTime(clock().getTime()) : () => isoTime(Date.now());
  let pending = new Map<string, { record: AuditRecord; fields: Set<string> }>();

  return {
    read(entry) {
      // A programming error in the caller, surfaced at once rather than as a record no one can read.
      if (!(AUDIT_PROVIDERS as readonly string[]).includes(entry.provider)) {
        throw new TypeError('audit read with a provider that is not a Provider enum value');
      }
      const provider = entry.provider as AuditProvider;
      // Safety net: a value that is not a reference (a national id passed by mistake) is
      // pseudonymised here rather than stored in clear.
      const subject = SUBJECT_REF.test(entry.subject) ? entry.subject : options.sink.ref(entry.subject);
      const key = `${subject}\u0000${entry.field}\u0000${provider}`;
      let p = pending.get(key);
      if (!p) {
        p = {
          record: {
            at: at(),
            requestId: options.requestId,
            callerId,
            purpose,
            subject,
            field: entry.field,
            fields: [],
            provider,
          },
          fields: new Set(),
        };
        pending.set(key, p);
      }
      for (const f of entry.fields) p.fields.add(f);
    },
    async flush() {
      if (pending.size === 0) return;
      const batch = [...pending.values()].map((p) => ({ ...p.record, fields: [...p.fields] }));
      pending = new Map();
      await options.sink.write(batch);
    },
  };
}

/**
 * Apollo Server plugin: writes each HTTP operation's trail before its response goes out, so
 * nothing is shown to a caller that the trail does not hold (a failed write is logged and
 * counted, see AuditSink.write). Operations that read no personal data cost nothing here.
 */
export function auditPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue }) {
          await contextValue.audit.flush();
        },
      };
    },
  };
}
