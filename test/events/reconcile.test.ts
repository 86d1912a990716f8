import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway } from '../helpers/gateway.js';
import { mobileOf, type ByndleSandbox, type SandboxPerson } from '../helpers/byndle.js';
import { WebhookHarness, waitFor as waitForIt, type AnyPerson } from '../helpers/webhooks.js';
import type { Nordgraph } from '../../src/app.js';
import type { StoredEvent } from '../../src/events/types.js';

/**
 * Reconciliation: webhooks are lost (a relay in front of nordgraph answers 503 while "down"),
 * the reconciler reads the changes back from the providers' lists and stores them once; when
 * the relay comes back, the provider's redeliveries are acknowledged as duplicates.
 */

const RECONCILE_MS = 250;
const EXTENDED = 'GET /v1/lookup/person/extended';
let app: Nordgraph;
let h: WebhookHarness;
let sb: ByndleSandbox;
let control: string;
let relay: Server;
/** While true the relay answers every delivery 503 and forwards nothing: the webhooks are lost. */
let down = false;
let refused = 0;
let byndlePersons: SandboxPerson[];
let sePersons: AnyPerson[];

const allEvents = () => h.allEvents();
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => waitForIt(what, probe, 15_000);
const deliveries = (provider: string) => h.deliveries(provider);
const allDelivered = (provider: string) => h.allDelivered(provider, 15_000);

/** Upstream calls of one provider's route containing `part` (sandbox counters). */
async function calls(provider: 'byndle' | 'bisnode', part: string): Promise<number> {
  const all = (await (await fetch(`${control}/counters`)).json()) as Record<string, Record<string, number>>;
  return Object.entries(all[provider] ?? {})
    .filter(([k]) => k.includes(part))
    .reduce((n, [, v]) => n + v, 0);
}
/** Waits until the reconciler has read `part` twice more: at least one full run after now. */
async function oneFullRun(provider: 'byndle' | 'bisnode', part: string): Promise<void> {
  const from = await calls(provider, part);
  await waitFor('a full reconciliation run', async () =>
    (await calls(provider, part)) >= from + 2 ? true : undefined,
  );
}

const change = (id: string, fields: string[]) =>
  fetch(`${control}/persons/${id}/change`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fields }),
  });

const addEntry = (p: SandboxPerson) => h.addEntry(p);
const uniqueId = (prefix: string) => h.uniqueId(prefix);
const bisnode = (path: string, init?: { method?: string; body?: unknown }) => h.bisnode(path, init);

beforeAll(async () => {
  app = await startTestGateway({ RECONCILE_INTERVAL_MS: String(RECONCILE_MS) });
  h = new WebhookHarness(app);
  sb = h.sb;
  control = h.control;
  const origin = new URL(app.url).origin;

  // The relay: forwards deliveries to nordgraph byte for byte, or loses them while down.
  relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (down) {
        refused++;
        res.writeHead(503).end();
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      fetch(`${origin}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (r) => res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;

  await h.setup(relayUrl, 150);
  byndlePersons = h.byndlePersons;
  sePersons = h.sePersons;
}, 60_000);

afterAll(async () => {
  down = false;
  await app?.close();
  await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
});

describe('reconciliation of lost Byndle webhooks (ajourhold changes since)', () => {
  it('turns a lost address change into exactly one PERSON_CHANGED; the later redelivery is a duplicate', async () => {
    const p = byndlePersons.shift()!;
    const externalId = await addEntry(p);
    down = true;
    const refusedBefore = refused;
    expect((await change(p.id, ['address'])).status).toBe(200);

    const personChanges = async () =>
      (await allEvents()).filter((e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED');
    const [reconciled] = await waitFor('the reconciled change', async () => {
      const found = await personChanges();
      return found.length > 0 ? found : undefined;
    });
    // It came by reconciliation: the webhook was refused and is still pending.
    expect(refused).toBeGreaterThan(refusedBefore);
    expect(
      (await deliveries('byndle')).some((d) => d.state === 'pending' && d.body.includes(externalId)),
    ).toBe(true);
    expect(reconciled).toMatchObject({
      provider: 'byndle',
      kind: 'PERSON_CHANGED',
      person: { byndleId: p.byndleId },
      changedFields: ['ADDRESS'],
    });
    // The same grouping as the webhook: five field events, one sourceId of five eventIds.
    expect(reconciled!.sourceTypes).toContain('address.full.changed');
    expect(reconciled!.sourceId.split('+')).toHaveLength(reconciled!.sourceTypes!.length);

    const duplicatesBefore = app.webhookIntake.counters().events.byndle.duplicates;
    down = false;
    await allDelivered('byndle');
    await oneFullRun('byndle', '/changes');
    expect(app.webhookIntake.counters().events.byndle.duplicates).toBeGreaterThan(duplicatesBefore);
    const after = await personChanges();
    expect(after).toHaveLength(1);
    expect(after[0]!.cursor).toBe(reconciled!.cursor);
    // entry.added was delivered by webhook before and read back by reconciliation: still one.
    const added = (await allEvents()).filter(
      (e) => e.externalId === externalId && e.kind === 'AJOURHOLD_ENTRY_ADDED',
    );
    expect(added).toHaveLength(1);
  });

  it("evicts the person's cache entries for a reconciled change", async () => {
    const p = byndlePersons.shift()!;
    const externalId = await addEntry(p);
    const query = `query($id: String!) { person(nationalId: $id) { id phones { number } } }`;
    const first = await gql(app.url, query, { id: p.nationalId });
    expect(first.body.errors).toBeUndefined();
    const afterFirst = (await sb.counts())[EXTENDED] ?? 0;
    await gql(app.url, query, { id: p.nationalId });
    expect((await sb.counts())[EXTENDED] ?? 0).toBe(afterFirst); // cached

    down = true;
    try {
      await change(p.id, ['mobile']);
      await waitFor('the reconciled mobile change', async () =>
        (await allEvents()).find((e) => e.externalId === externalId && e.kind === 'PERSON_CHANGED'),
      );
      // Eviction runs before the reconciler goes on; one more run makes sure it has finished.
      await oneFullRun('byndle', '/changes');
      const again = await gql<{ person: { phones: { number: string }[] } }>(app.url, query, {
        id: p.nationalId,
      });
      expect(again.body.errors).toBeUndefined();
      expect((await sb.counts())[EXTENDED] ?? 0).toBe(afterFirst + 1);
      const now = (await sb.person(p.id))!;
      expect(again.body.data!.person.phones.map((x) => x.number)).toContain(mobileOf(now));
    } finally {
      down = false;
    }
    await allDelivered('byndle');
  });
});

describe('reconciliation of lost Bisnode webhooks (audit events, same event ids)', () => {
  it('turns a lost PERSON_CHANGED into exactly one event; the later redelivery is a duplicate', async () => {
    const p = sePersons.shift()!;
    const consumerId = uniqueId('C');
    const res = await bisnode('/consumers', {
      method: 'POST',
      body: [{ consumerId, market: 'SE', data: { legalId: p.nationalId } }],
    });
    expect(res.status).toBe(202);
    await waitFor('PERSON_SUBSCRIBED', async () =>
      (await allEvents()).find((e) => e.kind === 'PERSON_SUBSCRIBED' && e.person?.gedi === p.gedi),
    );
    await allDelivered('bisnode');

    down = true;
    const refusedBefore = refused;
    expect((await change(p.id, ['lastName'])).status).toBe(200);
    const changes = async (): Promise<StoredEvent[]> =>
      (await allEvents())
        .filter(
          (e) =>
            e.provider === 'bisnode' &&
            e.kind === 'PERSON_CHANGED' &&
            e.sourceTypes?.includes('PERSON_CHANGED'),
        )
        .filter((e) => e.person?.gedi === p.gedi);
    const [reconciled] = await waitFor('the reconciled PERSON_CHANGED', async () => {
      const found = await changes();
      return found.length > 0 ? found : undefined;
    });
    expect(refused).toBeGreaterThan(refusedBefore);
    expect(reconciled).toMatchObject({
      provider: 'bisnode',
      kind: 'PERSON_CHANGED',
      person: { gedi: p.gedi },
      consumerIds: [consumerId],
    });
    expect(reconciled!.changedFields).toContain('LAST_NAME');
    // The pending delivery carries the same Bisnode event id as the reconciled event.
    const pending = (await deliveries('bisnode')).filter((d) => d.state === 'pending');
    expect(pending.some((d) => d.body.includes(reconciled!.sourceId))).toBe(true);

    const duplicatesBefore = app.webhookIntake.counters().events.bisnode.duplicates;
    down = false;
    await allDelivered('bisnode');
    await oneFullRun('bisnode', 'audit-events');
    expect(app.webhookIntake.counters().events.bisnode.duplicates).toBeGreaterThan(duplicatesBefore);
    const after = await changes();
    expect(after).toHaveLength(1);
    expect(after[0]!.sourceId).toBe(reconciled!.sourceId);
  });
});
