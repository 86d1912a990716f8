import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway } from '../helpers/gateway.js';
import { mobileOf, type ByndleSandbox, type SandboxPerson } from '../helpers/byndle.js';
import { WebhookHarness, basic, waitFor, type AnyPerson } from '../helpers/webhooks.js';
import { SANDBOX_BYNDLE_WEBHOOK, type Nordgraph } from '../../src/app.js';
import { MemoryEventLog } from '../../src/events/log.js';
import type { StoredEvent } from '../../src/events/types.js';

const EXTENDED = 'GET /v1/lookup/person/extended';
let app: Nordgraph;
let h: WebhookHarness;
let sb: ByndleSandbox;
let control: string;
let origin: string;
let bisnodeSecret: string;
let byndlePersons: SandboxPerson[];
let sePersons: AnyPerson[];
const uniqueId = (prefix: string) => h.uniqueId(prefix);

const memoryLog = () => {
  if (!(app.eventLog instanceof MemoryEventLog)) throw new Error('these tests need the in-memory event log');
  return app.eventLog;
};
const allEvents = () => h.allEvents();

const waitForEvent = (what: string, match: (e: StoredEvent) => boolean) =>
  waitFor(what, async () => (await allEvents()).find(match));

const deliveries = (provider: string) => h.deliveries(provider);
const allDelivered = (provider: string) => h.allDelivered(provider);
const bisnode = (path: string, init?: { method?: string; body?: unknown }) => h.bisnode(path, init);

const sign = (secret: string, ts: string, body: string) =>
  createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
const nowSeconds = () => String(Math.floor(Date.now() / 1000));

/** Posts a Bisnode delivery to nordgraph as Bisnode would, signed with `secret` at `ts`. */
function postBisnode(body: string, secret = bisnodeSecret, ts = nowSeconds()): Promise<Response> {
  return fetch(`${origin}/webhooks/bisnode`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ci-signature-timestamp': ts,
      'ci-signature-sha256': sign(secret, ts, body),
    },
    body,
  });
}
function postByndle(
  body: string,
  authorization = basic(SANDBOX_BYNDLE_WEBHOOK.username, SANDBOX_BYNDLE_WEBHOOK.password),
) {
  return fetch(`${origin}/webhooks/byndle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body,
  });
}

const identified = (id = randomUUID()) =>
  JSON.stringify([
    {
      type: 'CONSUMER_IDENTIFIED',
      id,
      timestamp: new Date().toISOString(),
      consumerId: uniqueId('C'),
      market: 'SE',
      gedi: 'gedi-test-1',
      source: 'SPAR',
    },
  ]);
const byndleDelivery = (eventId = `evt-${randomUUID()}`) =>
  JSON.stringify({
    ajourholdId: 'AJ-SANDBOX-1',
    deliveryId: randomUUID(),
    sentAt: new Date().toISOString(),
    events: [
      {
        eventId,
        eventName: 'telNr.changed',
        occurredAt: new Date().toISOString(),
        externalId: uniqueId('X'),
        byndleId: 'BY-TEST',
        field: 'landline',
        oldValue: null,
        newValue: '+4722000000',
      },
    ],
  });
const bySource = async (sourceId: string) => (await allEvents()).filter((e) => e.sourceId === sourceId);

const addEntry = (p: SandboxPerson) => h.addEntry(p);
const takeByndle = () => byndlePersons.shift()!;
const takeSe = () => sePersons.shift()!;

beforeAll(async () => {
  app = await startTestGateway();
  h = new WebhookHarness(app);
  sb = h.sb;
  control = h.control;
  origin = new URL(app.url).origin;
  // Redeliveries come quickly, so a 503 followed by recovery is seen within the test.
  await h.setup(origin, 100);
  bisnodeSecret = h.bisnodeSecret;
  byndlePersons = h.byndlePersons;
  sePersons = h.sePersons;
}, 60_000);

afterAll(async () => {
  await app?.close();
});

describe('Byndle webhooks', () => {
  it('turns a sandbox mobile change into one PERSON_CHANGED (MOBILE) in the event log', async () => {
    const p = takeByndle();
    const externalId = await addEntry(p);
    const added = await waitForEvent('entry.added', (e) => e.externalId === externalId);
    expect(added).toMatchObject({
      provider: 'byndle',
      kind: 'AJOURHOLD_ENTRY_ADDED',
      person: { byndleId: p.byndleId },
      sourceTypes: ['entry.added'],
    });

    const res = await fetch(`${control}/persons/${p.id}/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['mobile'] }),
    });
    expect(res.status).toBe(200);
    const changed = await waitForEvent(
      'mobNr.changed',
      (e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED',
    );
    expect(changed).toMatchObject({
      provider: 'byndle',
      kind: 'PERSON_CHANGED',
      person: { byndleId: p.byndleId },
      changedFields: ['MOBILE'],
      sourceTypes: ['mobNr.changed'],
    });
    expect(changed.sourceId).toMatch(/^evt-/);
    // Values stay with Byndle: the event says what changed, not to what.
    expect(JSON.stringify(changed)).not.toContain(mobileOf(p)!);
  });

  it("groups an address change's five field events into one PERSON_CHANGED (ADDRESS)", async () => {
    const p = takeByndle();
    const externalId = await addEntry(p);
    await waitForEvent('entry.added', (e) => e.externalId === externalId);
    await fetch(`${control}/persons/${p.id}/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['address'] }),
    });
    await allDelivered('byndle');
    const changes = await waitFor('address change', async () => {
      const found = (await allEvents()).filter(
        (e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED',
      );
      return found.length > 0 ? found : undefined;
    });
    expect(changes).toHaveLength(1);
    expect(changes[0]!.changedFields).toEqual(['ADDRESS']);
    expect(changes[0]!.sourceTypes).toContain('address.full.changed');
    expect(changes[0]!.sourceId.split('+').length).toBe(changes[0]!.sourceTypes!.length);
  });

  it('evicts the changed person from the cache: the next query goes upstream once more', async () => {
    const p = takeByndle();
    const externalId = await addEntry(p);
    await waitForEvent('entry.added', (e) => e.externalId === externalId);
    const query = `query($id: String!) { person(nationalId: $id) { id phones { number } } }`;
    const counts = async () => (await sb.counts())[EXTENDED] ?? 0;

    const first = await gql(app.url, query, { id: p.nationalId });
    expect(first.body.errors).toBeUndefined();
    const afterFirst = await counts();
    await gql(app.url, query, { id: p.nationalId });
    expect(await counts()).toBe(afterFirst); // served from cache

    await fetch(`${control}/persons/${p.id}/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['mobile'] }),
    });
    await waitForEvent('mobNr.changed', (e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED');
    // The eviction runs before the answer: once Byndle saw its 200, the cache is clean.
    await allDelivered('byndle');

    const again = await gql<{ person: { phones: { number: string }[] } }>(app.url, query, {
      id: p.nationalId,
    });
    expect(again.body.errors).toBeUndefined();
    expect(await counts()).toBe(afterFirst + 1);
    const now = (await sb.person(p.id))!;
    expect(again.body.data!.person.phones.map((x) => x.number)).toContain(mobileOf(now));
  });

  it('answers 401 to wrong or missing Basic credentials and stores nothing', async () => {
    const eventId = `evt-${randomUUID()}`;
    const wrong = await postByndle(
      byndleDelivery(eventId),
      basic(SANDBOX_BYNDLE_WEBHOOK.username, 'not-the-password'),
    );
    expect(wrong.status).toBe(401);
    const missing = await postByndle(byndleDelivery(eventId), '');
    expect(missing.status).toBe(401);
    expect(await bySource(eventId)).toEqual([]);
  });

  it('answers 400 to a malformed delivery', async () => {
    expect((await postByndle('{not json')).status).toBe(400);
    const res = await postByndle(
      JSON.stringify({ ajourholdId: 'AJ-SANDBOX-1', events: [{ eventName: 'nope' }] }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { issues: string[] }).issues.length).toBeGreaterThan(0);
  });

  it('acknowledges a redelivery with 200 and stores it once', async () => {
    const eventId = `evt-${randomUUID()}`;
    const body = byndleDelivery(eventId);
    const one = await postByndle(body);
    const two = await postByndle(body);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(await one.json()).toMatchObject({ stored: 1, duplicates: 0 });
    expect(await two.json()).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await bySource(eventId)).toHaveLength(1);
  });

  it('answers 503 while the log cannot be written; the redelivery is stored once it can', async () => {
    const p = takeByndle();
    const externalId = await addEntry(p);
    await waitForEvent('entry.added', (e) => e.externalId === externalId);
    await allDelivered('byndle');
    const before = (await deliveries('byndle')).length;
    memoryLog().failWrites(true);
    try {
      await fetch(`${control}/persons/${p.id}/change`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fields: ['mobile'] }),
      });
      const refused = await waitFor('a refused delivery', async () => {
        const d = (await deliveries('byndle')).slice(before).find((x) => x.lastStatus === 503);
        return d;
      });
      expect(refused.state).toBe('pending');
      expect(
        (await allEvents()).some((e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED'),
      ).toBe(false);
    } finally {
      memoryLog().failWrites(false);
    }
    const changed = await waitForEvent(
      'redelivered mobNr.changed',
      (e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED',
    );
    expect(changed.changedFields).toEqual(['MOBILE']);
    await allDelivered('byndle');
    expect(
      (await allEvents()).filter((e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED'),
    ).toHaveLength(1);
  });
});

describe('Bisnode webhooks', () => {
  it('answers the PING sent at webhook creation with 200 and stores nothing', async () => {
    await allDelivered('bisnode');
    const pings = (await deliveries('bisnode')).filter((d) => d.body.includes('"PING"'));
    expect(pings.length).toBeGreaterThan(0);
    expect(pings.every((d) => d.lastStatus === 200)).toBe(true);

    const id = randomUUID();
    const res = await postBisnode(
      JSON.stringify([{ type: 'PING', id, timestamp: new Date().toISOString() }]),
    );
    expect(res.status).toBe(200);
    expect(await bySource(id)).toEqual([]);
  });

  it('stores CONSUMER_IDENTIFIED (and PERSON_SUBSCRIBED) after a consumer upload', async () => {
    const p = takeSe();
    const consumerId = uniqueId('C');
    const res = await bisnode('/consumers', {
      method: 'POST',
      body: [{ consumerId, market: 'SE', data: { legalId: p.nationalId } }],
    });
    expect(res.status).toBe(202);
    const e = await waitForEvent(
      'CONSUMER_IDENTIFIED',
      (x) => x.consumerIds?.includes(consumerId) === true && x.kind === 'CONSUMER_IDENTIFIED',
    );
    expect(e).toMatchObject({
      provider: 'bisnode',
      kind: 'CONSUMER_IDENTIFIED',
      person: { gedi: p.gedi, market: 'SE' },
      market: 'SE',
      sourceTypes: ['CONSUMER_IDENTIFIED'],
    });
    await waitForEvent(
      'PERSON_SUBSCRIBED',
      (x) => x.kind === 'PERSON_SUBSCRIBED' && x.person?.gedi === p.gedi,
    );
    // CONSUMER_UPLOADED is acknowledged but is not a domain event.
    expect((await allEvents()).some((x) => x.sourceTypes?.includes('CONSUMER_UPLOADED'))).toBe(false);

    // A change of the subscribed person arrives as PERSON_CHANGED with the changed field.
    await fetch(`${control}/persons/${p.id}/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['mobile'] }),
    });
    const changed = await waitForEvent(
      'Bisnode PERSON_CHANGED',
      (x) => x.provider === 'bisnode' && x.kind === 'PERSON_CHANGED' && x.person?.gedi === p.gedi,
    );
    expect(changed.changedFields).toContain('MOBILE');
    expect(changed.sourceTypes).toEqual(['PERSON_CHANGED']);
  });

  it('answers 401 to a bad signature and stores nothing', async () => {
    const id = randomUUID();
    const res = await postBisnode(identified(id), 'not-the-secret');
    expect(res.status).toBe(401);
    const unsigned = await fetch(`${origin}/webhooks/bisnode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: identified(id),
    });
    expect(unsigned.status).toBe(401);
    expect(await bySource(id)).toEqual([]);
  });

  it('answers 401 to a signature whose timestamp is 6 minutes old', async () => {
    const id = randomUUID();
    const stale = String(Math.floor(Date.now() / 1000) - 6 * 60);
    const res = await postBisnode(identified(id), bisnodeSecret, stale);
    expect(res.status).toBe(401);
    expect(await bySource(id)).toEqual([]);
  });

  it('accepts any of several secrets (rotation)', async () => {
    await app.webhookSecrets.put('bisnode', 'rotated-in', 'second-secret-for-rotation');
    try {
      const id = randomUUID();
      expect((await postBisnode(identified(id), 'second-secret-for-rotation')).status).toBe(200);
      expect((await postBisnode(identified(randomUUID()))).status).toBe(200);
      expect(await bySource(id)).toHaveLength(1);
    } finally {
      await app.webhookSecrets.delete('bisnode', 'rotated-in');
    }
  });

  it('answers 400 to a malformed body', async () => {
    expect((await postBisnode('{"not":"an array"}')).status).toBe(400);
    expect(
      (await postBisnode('[{"type":"CONSUMER_IDENTIFIED","id":"x","timestamp":"2024-01-01T00:00:00Z"}]'))
        .status,
    ).toBe(400);
    expect((await postBisnode('not json')).status).toBe(400);
  });

  it('answers a duplicate delivery 200 twice and stores it once', async () => {
    const id = randomUUID();
    const body = identified(id);
    const one = await postBisnode(body);
    const two = await postBisnode(body);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(await bySource(id)).toHaveLength(1);
    const counters = app.webhookIntake.counters();
    expect(counters.requests.bisnode.duplicate).toBeGreaterThanOrEqual(1);
    expect(counters.events.bisnode.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 while the log cannot be written, and stores nothing', async () => {
    const id = randomUUID();
    memoryLog().failWrites(true);
    try {
      const res = await postBisnode(identified(id));
      expect(res.status).toBe(503);
    } finally {
      memoryLog().failWrites(false);
    }
    expect(await bySource(id)).toEqual([]);
    expect((await postBisnode(identified(id))).status).toBe(200);
    expect(await bySource(id)).toHaveLength(1);
  });
});

describe('webhook intake', () => {
  it('answers 413 to a body over the size limit, 405 to GET and 404 to an unknown provider', async () => {
    const big = await postBisnode(`[${' '.repeat(app.config.MAX_BODY_BYTES + 10)}]`);
    expect(big.status).toBe(413);
    expect((await fetch(`${origin}/webhooks/bisnode`)).status).toBe(405);
    expect((await fetch(`${origin}/webhooks/nobody`, { method: 'POST', body: '[]' })).status).toBe(404);
  });
});
