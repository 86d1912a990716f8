import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { gql, startGatewayOn, startTestGateway, TEST_HEADERS } from '../helpers/gateway.js';
import { personChanged } from '../helpers/events.js';
import { ByndleSandbox, type SandboxPerson } from '../helpers/byndle.js';
import type { Nordgraph } from '../../src/app.js';
import type { DomainEventInput, EventLog, StoredEvent } from '../../src/events/types.js';
import { compareCursor } from '../../src/events/subscribe.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

const EXTENDED = 'GET /v1/lookup/person/extended';
const POLL_MS = 200;
const run = `${process.pid}-${Date.now()}`;
let seq = 0;
const uniqueId = (prefix: string) => `${prefix}-${run}-${++seq}`;

let app: Nordgraph;
let log: EventLog;
let control: string;
let persons: SandboxPerson[];
/** Tail listeners currently registered (subscriptions hold one each while they run). */
let activeTails = 0;
/** tail() calls so far (one per subscription started). */
let tailCalls = 0;

beforeAll(async () => {
  app = await startTestGateway({ SYMETRISK_POLL_INTERVAL_MS: String(POLL_MS) });
  log = app.eventLog;
  control = app.sandbox!.controlUrl;
  persons = (await new ByndleSandbox(app).persons(200)).filter((p) => p.byndleId);
  // Count tail subscribers (event streams follow the log), to see subscriptions register and clean up.
  const follow = log.follow.bind(log);
  const unfollow = log.unfollow.bind(log);
  const following = new Set<object>();
  log.follow = (subscriber) => {
    if (!following.has(subscriber)) activeTails++;
    following.add(subscriber);
    tailCalls++;
    follow(subscriber);
  };
  log.unfollow = (subscriber) => {
    if (following.delete(subscriber)) activeTails--;
    unfollow(subscriber);
  };
}, 60_000);

afterAll(async () => {
  await app?.close();
});

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Sub<T> {
  items: T[];
  errors: unknown[];
  completed: () => boolean;
  /** Resolves with the first `n` items (fails on an error or after the timeout). */
  take(n: number, timeoutMs?: number): Promise<T[]>;
  dispose(): Promise<void>;
}

function subscribe<T>(query: string, variables: Record<string, unknown> = {}, client?: Client): Sub<T> {
  const own =
    client ??
    createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
  const items: T[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const stop = own.subscribe<T>(
    { query, variables },
    {
      next: (msg) => {
        if (msg.errors) errors.push(...msg.errors);
        if (msg.data) items.push(msg.data as T);
      },
      error: (err) => errors.push(err),
      complete: () => {
        completed = true;
      },
    },
  );
  return {
    items,
    errors,
    completed: () => completed,
    async take(n, timeoutMs = 5_000) {
      await waitUntil(
        `${n} events (have ${items.length})`,
        () => items.length >= n || errors.length > 0,
        timeoutMs,
      );
      expect(errors).toEqual([]);
      return items.slice(0, n);
    },
    async dispose() {
      stop();
      if (!client) await own.dispose();
    },
  };
}

/** Subscribes and waits until the gateway has registered its tail listener (then live events reach it). */
async function subscribed<T>(query: string, variables: Record<string, unknown> = {}): Promise<Sub<T>> {
  const before = tailCalls;
  const sub = subscribe<T>(query, variables);
  await waitUntil('the subscription to tail the log', () => tailCalls > before || sub.errors.length > 0);
  expect(sub.errors).toEqual([]);
  return sub;
}

const event = personChanged;

async function append(...events: DomainEventInput[]): Promise<StoredEvent[]> {
  const { stored } = await log.append(events);
  expect(stored).toHaveLength(events.length);
  return stored;
}

const EVENTS = `subscription($filter: EventFilter, $after: String) {
  events(filter: $filter, after: $after) {
    id cursor kind provider occurredAt receivedAt sourceTypes market changedFields consumerIds
    externalId matchLevel organizationNumber
    lifeEvent { trigger phase probability withinEstimatedDays }
    borrowerAccess { organizationNumber relationshipType state creditorOrganizationNumber message }
  }
}`;
type Ev = { events: Record<string, unknown> & { cursor: string; externalId: string | null } };

const PERSON_CHANGES = `subscription($filter: PersonChangeFilter, $after: String) {
  personChanges(filter: $filter, after: $after) {
    id cursor provider occurredAt changedFields sourceTypes externalId consumerIds market
  }
}`;
type Pc = { personChanges: { cursor: string; externalId: string | null; changedFields: string[] } };

async function counters(): Promise<Record<string, Record<string, number>>> {
  return (await (await fetch(`${control}/counters`)).json()) as Record<string, Record<string, number>>;
}

describe('compareCursor', () => {
  it('orders memory cursors and Redis stream ids numerically, part by part', () => {
    expect(compareCursor('0000000000000002', '0000000000000010')).toBeLessThan(0);
    expect(compareCursor('0000000000000010', '0000000000000010')).toBe(0);
    expect(compareCursor('9-0', '10-0')).toBeLessThan(0); // as strings "9-0" > "10-0"
    expect(compareCursor('1700000000000-2', '1700000000000-10')).toBeLessThan(0);
    expect(compareCursor('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(compareCursor('1700000000000-5', '1700000000000-5')).toBe(0);
  });
});

describe('Subscription.events and personChanges over graphql-ws', () => {
  it('delivers live events in log order with their fields', async () => {
    const externalId = uniqueId('ext');
    const sub = await subscribed<Ev>(EVENTS, { filter: { externalId } });
    try {
      const [a, b, c] = await append(
        event({ externalId }),
        event({
          externalId,
          provider: 'bisnode',
          kind: 'LIFE_EVENT',
          person: { gedi: 'g-1', market: 'SE' },
          market: 'SE',
          consumerIds: ['c-1'],
          changedFields: undefined,
          sourceTypes: ['LIFE_EVENT'],
          details: { trigger: 'MOVING', phase: 'PREDICTED', probability: 0.8, withinEstimatedDays: 90 },
        }),
        event({
          externalId,
          kind: 'AJOURHOLD_ENTRY_ADDED',
          changedFields: undefined,
          sourceTypes: ['entry.added'],
          details: { matchLevel: 7 },
        }),
      );
      const got = (await sub.take(3)).map((m) => m.events);
      expect(got.map((e) => e.cursor)).toEqual([a!.cursor, b!.cursor, c!.cursor]);
      expect(got[0]).toMatchObject({
        id: a!.cursor,
        kind: 'PERSON_CHANGED',
        provider: 'BYNDLE',
        changedFields: ['MOBILE'],
        sourceTypes: ['mobNr.changed'],
        market: 'NO',
        lifeEvent: null,
        borrowerAccess: null,
      });
      expect(got[1]).toMatchObject({
        kind: 'LIFE_EVENT',
        provider: 'BISNODE',
        market: 'SE',
        consumerIds: ['c-1'],
        changedFields: [],
        lifeEvent: { trigger: 'MOVING', phase: 'PREDICTED', probability: 0.8, withinEstimatedDays: 90 },
      });
      expect(got[2]).toMatchObject({ kind: 'AJOURHOLD_ENTRY_ADDED', matchLevel: 7 });
    } finally {
      await sub.dispose();
    }
  });

  it('filters by kinds, market and consumer ids; personChanges only gets person changes', async () => {
    const externalId = uniqueId('ext');
    const kinds = await subscribed<Ev>(EVENTS, {
      filter: { externalId, kinds: ['CONSUMER_IDENTIFIED', 'PERSON_SUBSCRIBED'] },
    });
    const market = await subscribed<Ev>(EVENTS, { filter: { externalId, market: 'SE' } });
    const consumers = await subscribed<Ev>(EVENTS, { filter: { externalId, consumerIds: ['wanted-1'] } });
    const changes = await subscribed<Pc>(PERSON_CHANGES, {
      filter: { externalId, changedFields: ['ADDRESS', 'STATUS'] },
    });
    try {
      const [changedNo, identifiedSe, subscribedDk, changedSe, sentinel] = await append(
        event({ externalId, changedFields: ['ADDRESS'] }),
        event({ externalId, kind: 'CONSUMER_IDENTIFIED', market: 'SE', consumerIds: ['wanted-1'] }),
        event({ externalId, kind: 'PERSON_SUBSCRIBED', market: 'DK', consumerIds: ['other'] }),
        event({ externalId, market: 'SE', changedFields: ['MOBILE'], consumerIds: ['wanted-1', 'x'] }),
        // Matches every filter: once it arrives, nothing before it is still on its way.
        event({
          externalId,
          kind: 'PERSON_SUBSCRIBED',
          market: 'SE',
          consumerIds: ['wanted-1'],
          changedFields: ['STATUS'],
        }),
      );
      const cursors = async (s: Sub<Ev>, n: number) => (await s.take(n)).map((m) => m.events.cursor);
      expect(await cursors(kinds, 3)).toEqual([identifiedSe!.cursor, subscribedDk!.cursor, sentinel!.cursor]);
      expect(await cursors(market, 3)).toEqual([identifiedSe!.cursor, changedSe!.cursor, sentinel!.cursor]);
      expect(await cursors(consumers, 3)).toEqual([
        identifiedSe!.cursor,
        changedSe!.cursor,
        sentinel!.cursor,
      ]);
      // The sentinel is no person change; the ADDRESS change is the only one matching.
      const last = await append(event({ externalId, changedFields: ['STATUS', 'MOBILE'] }));
      expect((await changes.take(2)).map((m) => m.personChanges.cursor)).toEqual([
        changedNo!.cursor,
        last[0]!.cursor,
      ]);
      for (const s of [kinds, market, consumers]) expect(s.items).toHaveLength(3);
    } finally {
      await Promise.all([kinds, market, consumers, changes].map((s) => s.dispose()));
    }
  });

  it('filters by person: Byndle id, GEDI or national id, compared without echoing them', async () => {
    const [p, other] = persons as [SandboxPerson, SandboxPerson];
    const externalId = uniqueId('ext');
    const byId = await subscribed<Pc>(PERSON_CHANGES, {
      filter: { externalId, person: { byndleId: p.byndleId } },
    });
    const byNationalId = await subscribed<Pc>(PERSON_CHANGES, {
      filter: { externalId, person: { nationalId: p.nationalId, market: 'NO' } },
    });
    const byGedi = await subscribed<Pc>(PERSON_CHANGES, {
      filter: { externalId, person: { gedi: 'gedi-123' } },
    });
    try {
      const [mine, , byNid, gediEvent] = await append(
        event({ externalId, person: { byndleId: p.byndleId, market: 'NO' } }),
        event({ externalId, person: { byndleId: other.byndleId, market: 'NO' } }),
        event({ externalId, person: { nationalId: p.nationalId, market: 'NO' } }),
        event({ externalId, provider: 'bisnode', person: { gedi: 'gedi-123' } }),
      );
      expect((await byId.take(1)).map((m) => m.personChanges.cursor)).toEqual([mine!.cursor]);
      expect((await byNationalId.take(1)).map((m) => m.personChanges.cursor)).toEqual([byNid!.cursor]);
      expect((await byGedi.take(1)).map((m) => m.personChanges.cursor)).toEqual([gediEvent!.cursor]);
      expect(byId.items).toHaveLength(1);
    } finally {
      await Promise.all([byId, byNationalId, byGedi].map((s) => s.dispose()));
    }
  });

  it('resumes from a cursor: the missed events in order, then live ones, none twice at the seam', async () => {
    const externalId = uniqueId('ext');
    const before = await append(...Array.from({ length: 5 }, () => event({ externalId })));
    // Events appended while the replay reads: one before the read (in the page and in the live
    // buffer), one after it (only in the buffer).
    const readAfter = log.readAfter.bind(log);
    let during: StoredEvent[] = [];
    log.readAfter = async (cursor, limit) => {
      log.readAfter = readAfter;
      during = await append(event({ externalId }));
      const page = await readAfter(cursor, limit);
      during.push(...(await append(event({ externalId }))));
      return page;
    };
    const sub = subscribe<Ev>(EVENTS, { filter: { externalId }, after: before[1]!.cursor });
    try {
      await sub.take(5);
      const live = await append(event({ externalId }));
      const got = (await sub.take(6)).map((m) => m.events.cursor);
      expect(got).toEqual([...before.slice(2), ...during, ...live].map((e) => e.cursor));
      await new Promise((r) => setTimeout(r, 100));
      expect(sub.items).toHaveLength(6);
    } finally {
      log.readAfter = readAfter;
      await sub.dispose();
    }
  });

  it('replays a long gap page by page, in order', async () => {
    const externalId = uniqueId('ext');
    const [first] = await append(event({ externalId }));
    const missed = await append(...Array.from({ length: 1_234 }, () => event({ externalId })));
    const sub = subscribe<Pc>(PERSON_CHANGES, { filter: { externalId }, after: first!.cursor });
    try {
      const got = await sub.take(missed.length, 15_000);
      expect(got.map((m) => m.personChanges.cursor)).toEqual(missed.map((e) => e.cursor));
    } finally {
      await sub.dispose();
    }
  });

  it('answers a cursor the log never handed out with BAD_USER_INPUT naming `after`', async () => {
    for (const after of ['not-a-cursor', '12', 'x'.repeat(100)]) {
      const sub = subscribe<Ev>(EVENTS, { after });
      await waitUntil('the error', () => sub.errors.length > 0);
      expect(sub.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
      await sub.dispose();
    }
  });

  it('validates filters: a bad national id, organisation number or consumer id is BAD_USER_INPUT', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ person: { nationalId: '12345678901', market: 'NO' } }, 'filter.person.nationalId'],
      [{ person: {} }, 'filter.person'],
      [{ organizationNumber: '123' }, 'filter.organizationNumber'],
      [{ consumerIds: ['_bad'] }, 'filter.consumerIds'],
      [{ providers: ['CONNECT'] }, 'filter.providers'],
    ];
    for (const [filter, argument] of cases) {
      const sub = subscribe<Ev>(EVENTS, { filter });
      await waitUntil('the error', () => sub.errors.length > 0);
      const err = sub.errors[0] as { message: string; extensions: Record<string, unknown> } | undefined;
      expect(err?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(err?.message).not.toContain('12345678901');
      await sub.dispose();
    }
  });

  it('removes its tail listener when the client completes or disconnects', async () => {
    // Earlier tests' subscriptions are gone once their connections closed on the server too.
    await waitUntil('earlier subscriptions to end', () => activeTails === 0);
    const baseline = 0;
    const a = await subscribed<Ev>(EVENTS, { filter: { externalId: uniqueId('ext') } });
    const b = await subscribed<Ev>(EVENTS, { filter: { externalId: uniqueId('ext') }, after: null });
    expect(activeTails).toBe(baseline + 2);
    await a.dispose(); // complete, then close
    await waitUntil('one listener to go', () => activeTails === baseline + 1);
    // A connection dropped without "complete".
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
    const c = subscribe<Ev>(EVENTS, { filter: { externalId: uniqueId('ext') } }, client);
    await waitUntil('c to tail', () => activeTails === baseline + 2);
    await client.dispose();
    await waitUntil('c to go', () => activeTails === baseline + 1);
    await b.dispose();
    await c.dispose();
    await waitUntil('all to go', () => activeTails === baseline);
  });

  it('resolves `person` of an event once upstream for all its subscribers', async () => {
    const p = persons[5]!;
    const externalId = uniqueId('ext');
    const query = `subscription($filter: PersonChangeFilter) {
      personChanges(filter: $filter) { cursor person { id firstName lastName } }
    }`;
    type P = { personChanges: { cursor: string; person: { firstName: string } | null } };
    const subs: Sub<P>[] = [];
    for (let i = 0; i < 5; i++) subs.push(await subscribed<P>(query, { filter: { externalId } }));
    try {
      await fetch(`${control}/counters/reset`, { method: 'POST' });
      const [e] = await append(event({ externalId, person: { byndleId: p.byndleId, market: 'NO' } }));
      for (const s of subs) {
        const [m] = await s.take(1);
        expect(m!.personChanges).toEqual({
          cursor: e!.cursor,
          person: { id: `byndle:${p.byndleId}`, firstName: p.firstName, lastName: p.lastName },
        });
      }
      expect((await counters()).byndle?.[EXTENDED]).toBe(1);
    } finally {
      await Promise.all(subs.map((s) => s.dispose()));
    }
  });

  it('turns a Symetrisk approval into BORROWER_ACCESS_CHANGED within a few poll intervals', async () => {
    const own = app.sandbox!.credentials.symetrisk.ownOrgNr;
    const res = await fetch(`${control}/businesses?limit=500`);
    const businesses = ((await res.json()) as { businesses: { orgNr: string }[] }).businesses;
    const orgNr = businesses.map((b) => b.orgNr).find((o) => o !== own)!;
    const requested = await gql<{ requestBorrowerAccess: { results: { outcome: string }[] } }>(
      app.url,
      'mutation($o: [String!]!) { requestBorrowerAccess(organizationNumbers: $o) { results { outcome } } }',
      { o: [orgNr] },
    );
    expect(requested.body.errors).toBeUndefined();
    const sub = await subscribed<Ev>(EVENTS, {
      filter: { kinds: ['BORROWER_ACCESS_CHANGED'], organizationNumber: orgNr },
    });
    try {
      const approved = await fetch(`${control}/symetrisk/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ organization_number: orgNr }),
      });
      expect(approved.ok).toBe(true);
      const started = Date.now();
      const [m] = await sub.take(1, POLL_MS * 10);
      expect(Date.now() - started).toBeLessThan(POLL_MS * 10);
      expect(m!.events).toMatchObject({
        kind: 'BORROWER_ACCESS_CHANGED',
        provider: 'SYMETRISK',
        organizationNumber: orgNr,
        sourceTypes: ['access_approved'],
        borrowerAccess: {
          organizationNumber: orgNr,
          relationshipType: 'BORROWER',
          state: 'ACCESS_APPROVED',
          creditorOrganizationNumber: null,
        },
      });
      // Later polls see the same notification again; it is not stored twice.
      await new Promise((r) => setTimeout(r, POLL_MS * 3));
      expect(sub.items).toHaveLength(1);
      const all = await log.readAfter(null, 100_000);
      expect(
        all.filter((e) => e.kind === 'BORROWER_ACCESS_CHANGED' && e.organizationNumber === orgNr),
      ).toHaveLength(1);
    } finally {
      await sub.dispose();
    }
  });
});

describe.skipIf(!redisUrl)('subscriptions on the Redis stream, two instances', () => {
  let a: Nordgraph;
  let b: Nordgraph;
  beforeAll(async () => {
    a = await startGatewayOn(app.sandbox!, { REDIS_URL: redisUrl! });
    b = await startGatewayOn(app.sandbox!, { REDIS_URL: redisUrl! });
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('resumes on B from a stream id, with events appended on A before, during and after the replay', async () => {
    const externalId = uniqueId('ext');
    const { stored: before } = await a.eventLog.append(
      Array.from({ length: 4 }, () => event({ externalId })),
    );
    const readAfter = b.eventLog.readAfter.bind(b.eventLog);
    const during: StoredEvent[] = [];
    b.eventLog.readAfter = async (cursor, limit) => {
      b.eventLog.readAfter = readAfter;
      during.push(...(await a.eventLog.append([event({ externalId })])).stored);
      const page = await readAfter(cursor, limit);
      during.push(...(await a.eventLog.append([event({ externalId })])).stored);
      return page;
    };
    const client = createClient({
      url: b.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
    const sub = subscribe<Ev>(EVENTS, { filter: { externalId }, after: before[0]!.cursor }, client);
    try {
      await sub.take(5, 10_000);
      const { stored: live } = await a.eventLog.append([event({ externalId })]);
      const got = (await sub.take(6, 10_000)).map((m) => m.events.cursor);
      expect(got).toEqual([...before.slice(1), ...during, ...live].map((e) => e.cursor));
      expect(got.every((c) => /^\d+-\d+$/.test(c))).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(sub.items).toHaveLength(6);
    } finally {
      b.eventLog.readAfter = readAfter;
      await sub.dispose();
      await client.dispose();
    }
  });
});
