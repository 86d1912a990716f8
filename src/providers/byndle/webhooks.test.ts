import { describe, expect, it } from 'vitest';
import { normaliseByndleDelivery, verifyByndleAuthorization, type ByndleWebhookEvent } from './webhooks.js';

const creds = { username: 'nordgraph', password: 'a-long-password' };
const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

describe('verifyByndleAuthorization', () => {
  it('accepts exactly the registered credentials', () => {
    expect(verifyByndleAuthorization(basic('nordgraph:a-long-password'), creds)).toBe(true);
    expect(verifyByndleAuthorization(basic('nordgraph:a-long-passwor'), creds)).toBe(false);
    expect(verifyByndleAuthorization(basic('Nordgraph:a-long-password'), creds)).toBe(false);
    expect(verifyByndleAuthorization(basic('nordgraph'), creds)).toBe(false);
    expect(verifyByndleAuthorization('Bearer x', creds)).toBe(false);
    expect(verifyByndleAuthorization(undefined, creds)).toBe(false);
    expect(verifyByndleAuthorization(basic('nordgraph:a-long-password'), null)).toBe(false);
  });
});

describe('normaliseByndleDelivery', () => {
  const at = '2024-05-01T10:00:00.000Z';
  const ev = (
    eventId: string,
    eventName: ByndleWebhookEvent['eventName'],
    over: Partial<ByndleWebhookEvent> = {},
  ) =>
    ({
      eventId,
      eventName,
      occurredAt: at,
      externalId: 'X1',
      byndleId: 'BY1',
      field: null,
      oldValue: 'old',
      newValue: 'new',
      ...over,
    }) as ByndleWebhookEvent;
  const delivery = (events: ByndleWebhookEvent[]) => ({
    ajourholdId: 'AJ',
    deliveryId: 'd',
    sentAt: at,
    events,
  });

  it("groups one person's simultaneous field events into one PERSON_CHANGED keyed by its event ids", () => {
    const out = normaliseByndleDelivery(
      delivery([
        ev('e2', 'address.full.changed'),
        ev('e1', 'address.streetName.changed'),
        ev('e3', 'mobNr.changed'),
        ev('e4', 'reservedDm.changed', { externalId: 'X2', byndleId: 'BY2' }),
      ]),
    );
    expect(out.map((e) => [e.sourceId, e.externalId, e.changedFields])).toEqual([
      ['e1+e2+e3', 'X1', ['ADDRESS', 'MOBILE']],
      ['e4', 'X2', ['MARKETING_RESTRICTIONS']],
    ]);
    // The same delivery again (a redelivery) gives the same ids: the log dedupes it.
    expect(
      normaliseByndleDelivery(
        delivery([
          ev('e3', 'mobNr.changed'),
          ev('e2', 'address.full.changed'),
          ev('e1', 'address.streetName.changed'),
        ]),
      )[0]!.sourceId,
    ).toBe('e1+e2+e3');
    // No values are carried over.
    expect(JSON.stringify(out)).not.toContain('new');
  });

  it('maps entry.added/removed to ajourhold events with the match level', () => {
    const out = normaliseByndleDelivery(
      delivery([
        ev('a', 'entry.added', { oldValue: null, newValue: 3 }),
        ev('r', 'entry.removed', { oldValue: 3, newValue: null }),
      ]),
    );
    expect(out.map((e) => [e.kind, e.sourceId, e.details?.matchLevel])).toEqual([
      ['AJOURHOLD_ENTRY_ADDED', 'a', 3],
      ['AJOURHOLD_ENTRY_REMOVED', 'r', 3],
    ]);
  });
});
