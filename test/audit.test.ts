import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createAuditSink, createRequestAudit, isoTime, type AuditSink } from '../src/security/audit.js';
import { subjectRef } from '../src/security/identifiers.js';
import { sha256Hex } from '../src/security/callers.js';
import { gql, startTestGateway } from './helpers/gateway.js';
import type { Nordgraph } from '../src/app.js';

const SALT = 'audit-test-salt-0123456789';
/** A valid Norwegian fødselsnummer of the sandbox population (examples/person.variables.json). */
const NATIONAL_ID = '15058027984';
const SUBJECT = subjectRef(NATIONAL_ID, SALT);
const OTHER = subjectRef('01019012345', SALT);

function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger('info', 'audit-test', stream), lines };
}

async function auditCounter(metrics: ReturnType<typeof createMetrics>, outcome: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric('nordgraph_audit_writes_total')!.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** Behaviour both sinks share: merging, one write per request, oldest-first listing with a cursor. */
function sinkContract(name: string, make: () => Promise<{ sink: AuditSink; writes: () => Promise<number> }>) {
  describe(`${name} audit sink`, () => {
    let sink: AuditSink;
    let writes: () => Promise<number>;
    beforeAll(async () => {
      ({ sink, writes } = await make());
    });
    afterAll(async () => {
      await sink.close();
    });

    it('merges identical (subject, field, provider) reads of a request into one record with the union of fields', async () => {
      const before = await writes();
      const trail = createRequestAudit({
        caller: { id: 'app-1' },
        purpose: 'customer-service',
        requestId: 'req-1',
        sink,
        now: () => new Date('2026-11-22T10:00:00.000Z'),
      });
      trail.read({
        subject: SUBJECT,
        field: 'Query.person',
        fields: ['firstName', 'address'],
        provider: 'BYNDLE',
      });
      trail.read({
        subject: SUBJECT,
        field: 'Query.person',
        fields: ['address', 'phones'],
        provider: 'BYNDLE',
      });
      trail.read({ subject: SUBJECT, field: 'Person.household', fields: ['firstName'], provider: 'BYNDLE' });
      trail.read({ subject: OTHER, field: 'Person.household', fields: ['firstName'], provider: 'BYNDLE' });
      await trail.flush();
      // Nothing read since: no second write.
      await trail.flush();
      expect((await writes()) - before).toBe(1);

      const page = await sink.listBySubject(SUBJECT);
      expect(page.hasNextPage).toBe(false);
      expect(page.items.map((i) => i.record)).toEqual([
        {
          at: '2026-11-22T10:00:00.000Z',
          requestId: 'req-1',
          callerId: 'app-1',
          purpose: 'customer-service',
          subject: SUBJECT,
          field: 'Query.person',
          fields: ['firstName', 'address', 'phones'],
          provider: 'BYNDLE',
        },
        {
          at: '2026-11-22T10:00:00.000Z',
          requestId: 'req-1',
          callerId: 'app-1',
          purpose: 'customer-service',
          subject: SUBJECT,
          field: 'Person.household',
          fields: ['firstName'],
          provider: 'BYNDLE',
        },
      ]);
      expect((await sink.listBySubject(OTHER)).items.map((i) => i.record.field)).toEqual([
        'Person.household',
      ]);
    });

    it('lists one subject oldest first, a page at a time, continuing after a cursor', async () => {
      const subject = subjectRef(`paging-${randomUUID()}`, SALT);
      for (let i = 1; i <= 5; i += 1) {
        const trail = createRequestAudit({
          caller: 'app-2',
          purpose: 'testing',
          requestId: `page-${i}`,
          sink,
        });
        trail.read({ subject, field: 'Query.person', fields: ['firstName'], provider: 'BISNODE' });
        // Another subject in between, which the listing must skip.
        trail.read({ subject: OTHER, field: 'Query.person', fields: ['lastName'], provider: 'BISNODE' });
        await trail.flush();
      }
      const first = await sink.listBySubject(subject, { first: 2 });
      expect(first.items.map((i) => i.record.requestId)).toEqual(['page-1', 'page-2']);
      expect(first.hasNextPage).toBe(true);
      const second = await sink.listBySubject(subject, { first: 2, after: first.items[1]!.id });
      expect(second.items.map((i) => i.record.requestId)).toEqual(['page-3', 'page-4']);
      const last = await sink.listBySubject(subject, { first: 2, after: second.items[1]!.id });
      expect(last.items.map((i) => i.record.requestId)).toEqual(['page-5']);
      expect(last.hasNextPage).toBe(false);
      expect((await sink.listBySubject(subject, { after: last.items[0]!.id })).items).toEqual([]);
    });

    it('pseudonymises a subject passed in clear instead of storing it', async () => {
      const trail = createRequestAudit({ caller: 'app-3', purpose: 'testing', requestId: 'clear-1', sink });
      trail.read({ subject: NATIONAL_ID, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
      await trail.flush();
      const records = (await sink.listBySubject(SUBJECT)).items.map((i) => i.record);
      expect(records.at(-1)).toMatchObject({ requestId: 'clear-1', subject: SUBJECT });
    });

    it('refuses a read with a provider that is not a Provider enum value', () => {
      const trail = createRequestAudit({ caller: 'app-4', purpose: 'testing', requestId: 'bad', sink });
      expect(() =>
        trail.read({ subject: SUBJECT, field: 'Query.person', fields: [], provider: 'byndle' }),
      ).toThrow(/Provider enum/);
    });
  });
}

describe('the file sink', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nordgraph-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const metrics = createMetrics({ defaultMetrics: false });
  sinkContract('file', async () => ({
    sink: createAuditSink({
      file: join(dir, 'nested', 'audit.jsonl'),
      salt: SALT,
      onWrite: (o) => metrics.onAuditWrite(o),
    }),
    writes: () => auditCounter(metrics, 'ok'),
  }));

  it('appends to an existing file, one write per request, never rewriting what is there', async () => {
    const file = join(dir, 'append.jsonl');
    const earlier = JSON.stringify({ note: 'written before' });
    await writeFile(file, `${earlier}\n`);
    const sink = createAuditSink({ file, salt: SALT });
    for (const requestId of ['a', 'b']) {
      const trail = createRequestAudit({ caller: 'app', purpose: 'testing', requestId, sink });
      trail.read({ subject: SUBJECT, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
      trail.read({ subject: OTHER, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
      await trail.flush();
    }
    await sink.close();
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines[0]).toBe(earlier);
    expect(lines.slice(1).map((l) => (JSON.parse(l) as { requestId: string }).requestId)).toEqual([
      'a',
      'a',
      'b',
      'b',
    ]);
    // The foreign first line is skipped when listing, not fatal.
    const again = createAuditSink({ file, salt: SALT });
    expect((await again.listBySubject(SUBJECT)).items.map((i) => [i.id, i.record.requestId])).toEqual([
      ['2', 'a'],
      ['4', 'b'],
    ]);
    await again.close();
  });

  it('stamps each record with the time it was read, to the millisecond', async () => {
    const file = join(dir, 'times.jsonl');
    const sink = createAuditSink({ file, salt: SALT });
    const clock = [
      '2026-12-07T10:00:00.001Z',
      '2026-12-07T10:00:00.001Z',
      '2026-12-07T10:00:00.012Z',
      '2026-12-07T10:00:01.345Z',
      '1969-12-31T23:59:59.999Z',
    ];
    let tick = 0;
    const trail = createRequestAudit({
      caller: 'app',
      purpose: 'testing',
      requestId: 'times',
      sink,
      now: () => new Date(clock[Math.min(tick++, clock.length - 1)]!),
    });
    trail.read({ subject: SUBJECT, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
    trail.read({ subject: OTHER, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
    trail.read({ subject: SUBJECT, field: 'Person.customers', fields: ['emails'], provider: 'CONNECT' });
    trail.read({ subject: OTHER, field: 'Person.customers', fields: ['emails'], provider: 'CONNECT' });
    trail.read({ subject: SUBJECT, field: 'Person.household', fields: ['firstName'], provider: 'BYNDLE' });
    await trail.flush();
    await sink.close();
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { at: string }).at)).toEqual(clock);
  });

  it('writes the same time as toISOString, for times in any order around second boundaries and years', () => {
    const base = Date.parse('2026-12-07T23:59:58.990Z');
    const times = [
      0,
      -1,
      -999,
      -1000,
      999,
      1000,
      base,
      base + 10,
      base + 1010,
      base - 5000,
      base + 86_400_000,
      // Six-digit years (the extended format) and fractional times (truncated, as Date does).
      8.64e15,
      -8.64e15,
      253_402_300_800_000,
      -62_167_219_200_001,
      1.5,
      -1.5,
      base + 0.9,
    ];
    for (let i = 0; i < 2000; i++) times.push(base + Math.floor(Math.random() * 4000) - 2000);
    expect(times.map(isoTime)).toEqual(times.map((t) => new Date(t).toISOString()));
  });

  it('lists nothing (no error) before anything was recorded', async () => {
    const sink = createAuditSink({ file: join(dir, 'never-written.jsonl'), salt: SALT });
    expect(await sink.listBySubject(SUBJECT)).toEqual({ items: [], hasNextPage: false });
    await sink.close();
  });

  it('logs and counts a failed write, without personal data, and does not throw', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, '');
    const m = createMetrics({ defaultMetrics: false });
    const { log, lines } = captureLog();
    // The file's parent is a regular file: every write fails.
    const sink = createAuditSink({
      file: join(blocker, 'audit.jsonl'),
      salt: SALT,
      log,
      onWrite: (o) => m.onAuditWrite(o),
    });
    const trail = createRequestAudit({ caller: 'app', purpose: 'testing', requestId: 'fails-1', sink });
    trail.read({ subject: NATIONAL_ID, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
    await expect(trail.flush()).resolves.toBeUndefined();
    expect(await auditCounter(m, 'error')).toBe(1);
    expect(await auditCounter(m, 'ok')).toBe(0);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 50, sink: 'file', records: 1, requestId: 'fails-1' });
    expect(entry.msg).toMatch(/audit trail write failed/);
    expect(lines[0]).not.toContain(NATIONAL_ID);
    expect(lines[0]).not.toContain(SUBJECT);
    await sink.close();
  });
});

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('the Redis sink', () => {
  const prefix = `nordgraph-test:${randomUUID()}:`;
  const redis = createClient({ url: redisUrl });
  beforeAll(async () => {
    await redis.connect();
  });
  afterAll(async () => {
    // Only this run's keys.
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(keys);
    await redis.close();
  });

  const metrics = createMetrics({ defaultMetrics: false });
  sinkContract('redis', async () => ({
    sink: createAuditSink({ redisUrl, prefix, salt: SALT, onWrite: (o) => metrics.onAuditWrite(o) }),
    writes: () => auditCounter(metrics, 'ok'),
  }));

  it('keeps the whole trail in <prefix>audit and each subject in <prefix>audit:subject:<ref>, never a national id', async () => {
    const all = await redis.xRange(`${prefix}audit`, '-', '+');
    const mine = await redis.xRange(`${prefix}audit:subject:${SUBJECT}`, '-', '+');
    expect(all.length).toBeGreaterThan(mine.length);
    expect(mine.length).toBeGreaterThan(0);
    for (const e of mine) expect((JSON.parse(e.message.e!) as { subject: string }).subject).toBe(SUBJECT);
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.filter((k) => k.includes(NATIONAL_ID))).toEqual([]);
    expect(all.filter((e) => e.message.e!.includes(NATIONAL_ID))).toEqual([]);
  });

  it('logs and counts a write that Redis refuses', async () => {
    // A plain string where the trail's stream should be: XADD fails with WRONGTYPE.
    const wrongPrefix = `${prefix}wrongtype:`;
    await redis.set(`${wrongPrefix}audit`, 'not a stream');
    const m = createMetrics({ defaultMetrics: false });
    const { log, lines } = captureLog();
    const sink = createAuditSink({
      redisUrl,
      prefix: wrongPrefix,
      salt: SALT,
      log,
      onWrite: (o) => m.onAuditWrite(o),
    });
    const trail = createRequestAudit({ caller: 'app', purpose: 'testing', requestId: 'redis-fails', sink });
    trail.read({ subject: SUBJECT, field: 'Query.person', fields: ['firstName'], provider: 'BYNDLE' });
    await trail.flush();
    await sink.close();
    expect(await auditCounter(m, 'error')).toBe(1);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'audit trail write failed: personal-data reads of this request are not recorded',
    ]);
  });
});

/** A caller with every scope but `admin`, for the scope check. */
const READER_KEY = 'audit-test-reader-key-0123456789abcdef';

const PERSON = `query Person($nationalId: String!) {
  person(nationalId: $nationalId, market: NO) { firstName lastName address { formatted } phones { number } }
}`;
const TRAIL = `query Trail($nationalId: String!, $first: Int, $after: String) {
  auditTrail(nationalId: $nationalId, first: $first, after: $after) {
    edges { cursor node { callerId purpose subject field fields provider at requestId } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

/** Everything the trail stored, as text: the file, or the Redis streams under the run's prefix. */
async function storedText(mode: 'file' | 'redis', file: string, prefix: string): Promise<string> {
  if (mode === 'file') return readFile(file, 'utf8');
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const keys = await redis.keys(`${prefix}*`);
    const entries = await Promise.all(keys.map((k) => redis.xRange(k, '-', '+')));
    return [...keys, ...entries.flat().map((e) => e.message.e!)].join('\n');
  } finally {
    await redis.close();
  }
}

describe.each([
  { mode: 'file' as const, skip: false },
  { mode: 'redis' as const, skip: !redisUrl },
])('the audit trail over HTTP ($mode)', ({ mode, skip }) => {
  let dir: string;
  let app: Nordgraph;
  let file: string;
  const prefix = `nordgraph-test:${randomUUID()}:`;
  beforeAll(async () => {
    if (skip) return;
    dir = await mkdtemp(join(tmpdir(), 'nordgraph-audit-http-'));
    file = join(dir, 'audit.jsonl');
    app = await startTestGateway({
      AUDIT_LOG_FILE: file,
      ...(mode === 'redis'
        ? { REDIS_URL: redisUrl!, AUDIT_KEY_PREFIX: prefix, EVENTS_KEY_PREFIX: `${prefix}events:` }
        : {}),
      API_KEYS: JSON.stringify([
        {
          id: 'reader',
          sha256: sha256Hex(READER_KEY),
          scopes: ['nationalid:read', 'credit:read', 'customer:write', 'write'],
          purposes: ['testing'],
        },
      ]),
    });
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (mode === 'redis' && !skip) {
      const redis = createClient({ url: redisUrl });
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(keys);
      await redis.close();
    }
  });

  it.skipIf(skip)(
    'records a person query with the caller, purpose, subject reference, fields and provider, and lists it for admins',
    async () => {
      const read = await gql(
        app.url,
        PERSON,
        { nationalId: NATIONAL_ID },
        { 'x-purpose': 'customer-service' },
      );
      expect(read.body.errors).toBeUndefined();
      expect(read.body.data?.person).not.toBeNull();

      const trail = await gql<{
        auditTrail: {
          edges: { cursor: string; node: Record<string, unknown> }[];
          pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
        };
      }>(app.url, TRAIL, { nationalId: NATIONAL_ID });
      expect(trail.body.errors).toBeUndefined();
      const nodes = trail.body.data!.auditTrail.edges.map((e) => e.node);
      const subject = subjectRef(NATIONAL_ID, app.config.CACHE_KEY_SALT);
      expect(nodes).toEqual([
        {
          callerId: 'sandbox-dev',
          purpose: 'customer-service',
          subject,
          field: 'Query.person',
          fields: ['address', 'firstName', 'lastName', 'phones'],
          provider: 'BYNDLE',
          at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown as string,
          requestId: expect.any(String) as unknown as string,
        },
      ]);
      expect(trail.body.data!.auditTrail.pageInfo).toMatchObject({
        hasNextPage: false,
        hasPreviousPage: false,
      });

      // The trail's own read (admin query) is not personal data and added nothing; a second read adds one.
      await gql(app.url, PERSON, { nationalId: NATIONAL_ID }, { 'x-purpose': 'testing' });
      const next = await gql<{ auditTrail: { edges: { node: { purpose: string } }[] } }>(app.url, TRAIL, {
        nationalId: NATIONAL_ID,
        after: trail.body.data!.auditTrail.pageInfo.endCursor,
      });
      expect(next.body.data!.auditTrail.edges.map((e) => e.node.purpose)).toEqual(['testing']);

      const text = await storedText(mode, file, prefix);
      expect(text).toContain(subject);
      expect(text).not.toContain(NATIONAL_ID);
      // Only the configured sink is written.
      if (mode === 'redis') await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
      else expect(text.split('\n').filter(Boolean)).toHaveLength(2);
    },
  );

  it.skipIf(skip)(
    'answers BAD_USER_INPUT for an invalid national id or cursor, without echoing them',
    async () => {
      const bad = await gql(app.url, TRAIL, { nationalId: '15058027985' });
      expect(bad.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'nationalId',
      });
      expect(JSON.stringify(bad.body)).not.toContain('15058027985');
      const cursor = await gql(app.url, TRAIL, { nationalId: NATIONAL_ID, after: 'bm90LWEtY3Vyc29y' });
      expect(cursor.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
    },
  );

  it.skipIf(skip)('needs the admin scope', async () => {
    const reader = await gql(app.url, TRAIL, { nationalId: NATIONAL_ID }, { 'x-api-key': READER_KEY });
    expect(reader.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      field: 'Query.auditTrail',
    });
    expect(reader.body.data).toBeNull();
  });
});
