import { secretsEqual } from '../../security/callers.js';
import { z } from 'zod';
import type { ChangedPersonField, DomainEventInput } from '../../events/types.js';

/**
 * Byndle's ajourhold webhook: `Authorization: Basic base64(username:password)` with the
 * credentials nordgraph registered at Byndle, body `{ajourholdId, deliveryId, sentAt, events}`.
 * Any 2xx accepts a delivery; anything else is redelivered with the same body (same eventIds).
 */

export const BYNDLE_EVENT_NAMES = [
  'reservedDm.changed',
  'reservedPhoneSale.changed',
  'reservedHumOrg.changed',
  'buildingType.changed',
  'mobNr.changed',
  'telNr.changed',
  'name.last.changed',
  'name.first.changed',
  'address.postNr.changed',
  'address.dwellingNr.changed',
  'address.streetNr.changed',
  'address.streetName.changed',
  'address.full.changed',
  'sourceMatchLevel.changed',
  'status.changed',
  'entry.removed',
  'entry.added',
] as const;
export type ByndleEventName = (typeof BYNDLE_EVENT_NAMES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const byndleWebhookEventSchema = z.object({
  eventId: z.string().min(1).max(200),
  eventName: z.enum(BYNDLE_EVENT_NAMES),
  occurredAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 date-time'),
  externalId: z.string().min(1),
  byndleId: z.string().nullable(),
  field: z.string().nullable(),
  oldValue: scalar,
  newValue: scalar,
});
export type ByndleWebhookEvent = z.infer<typeof byndleWebhookEventSchema>;

export const byndleWebhookDeliverySchema = z.object({
  ajourholdId: z.string().min(1),
  deliveryId: z.string().min(1),
  sentAt: z.string(),
  events: z.array(byndleWebhookEventSchema),
});
export type ByndleWebhookDelivery = z.infer<typeof byndleWebhookDeliverySchema>;

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Constant-time check of `Authorization: Basic ...` against the expected credentials (secretsEqual). */
export function verifyByndleAuthorization(
  header: string | undefined,
  expected: BasicCredentials | null,
): boolean {
  if (!expected || !header) return false;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = secretsEqual(decoded.slice(0, colon), expected.username);
  const passOk = secretsEqual(decoded.slice(colon + 1), expected.password);
  return userOk && passOk;
}

const FIELD_BY_EVENT: Record<
  Exclude<ByndleEventName, 'entry.added' | 'entry.removed'>,
  ChangedPersonField
> = {
  'reservedDm.changed': 'MARKETING_RESTRICTIONS',
  'reservedPhoneSale.changed': 'MARKETING_RESTRICTIONS',
  'reservedHumOrg.changed': 'MARKETING_RESTRICTIONS',
  'buildingType.changed': 'BUILDING_TYPE',
  'mobNr.changed': 'MOBILE',
  'telNr.changed': 'LANDLINE',
  'name.last.changed': 'LAST_NAME',
  'name.first.changed': 'FIRST_NAME',
  'address.postNr.changed': 'ADDRESS',
  'address.dwellingNr.changed': 'ADDRESS',
  'address.streetNr.changed': 'ADDRESS',
  'address.streetName.changed': 'ADDRESS',
  'address.full.changed': 'ADDRESS',
  'sourceMatchLevel.changed': 'MATCH_LEVEL',
  'status.changed': 'STATUS',
};

const matchLevelOf = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * Byndle events -> domain events.
 *
 * One data change of one person reaches us as several field events (an address change is five:
 * streetName, streetNr, postNr, dwellingNr, full). Subscribers want one "person changed" that
 * lists what changed, so field events of the same entry (externalId + byndleId) that happened at
 * the same moment (occurredAt) become one PERSON_CHANGED. Its `sourceId` is the group's Byndle
 * eventIds, sorted and joined with "+" (a single event keeps its own eventId), so:
 * - a redelivery (same body, same eventIds) yields the same sourceId and is deduplicated;
 * - the same events read back from ajourhold "changes since" (reconciliation) group the same way
 *   when passed through this function, so they dedupe against the webhook too.
 * Limit: a group split across two deliveries (Byndle splits at 500 events) is stored as two events.
 * Values (old/new phone numbers, names) are never copied: subscribers read the current person.
 */
export function normaliseByndleDelivery(delivery: ByndleWebhookDelivery): DomainEventInput[] {
  const out: DomainEventInput[] = [];
  const groups = new Map<string, ByndleWebhookEvent[]>();
  for (const e of delivery.events) {
    if (e.eventName === 'entry.added' || e.eventName === 'entry.removed') {
      const level = matchLevelOf(e.eventName === 'entry.added' ? e.newValue : e.oldValue);
      out.push({
        provider: 'byndle',
        sourceId: e.eventId,
        kind: e.eventName === 'entry.added' ? 'AJOURHOLD_ENTRY_ADDED' : 'AJOURHOLD_ENTRY_REMOVED',
        occurredAt: new Date(e.occurredAt).toISOString(),
        person: { byndleId: e.byndleId, market: 'NO' },
        externalId: e.externalId,
        market: 'NO',
        sourceTypes: [e.eventName],
        details: { ajourholdId: delivery.ajourholdId, matchLevel: level },
      });
      continue;
    }
    const key = JSON.stringify([e.externalId, e.byndleId, new Date(e.occurredAt).toISOString()]);
    const g = groups.get(key);
    if (g) g.push(e);
    else groups.set(key, [e]);
  }
  for (const events of groups.values()) {
    const first = events[0]!;
    const fields = new Set<ChangedPersonField>();
    const names = new Set<string>();
    let matchLevel: number | null | undefined;
    for (const e of events) {
      fields.add(FIELD_BY_EVENT[e.eventName as keyof typeof FIELD_BY_EVENT]);
      names.add(e.eventName);
      if (e.eventName === 'sourceMatchLevel.changed') matchLevel = matchLevelOf(e.newValue);
    }
    out.push({
      provider: 'byndle',
      sourceId: events
        .map((e) => e.eventId)
        .sort()
        .join('+'),
      kind: 'PERSON_CHANGED',
      occurredAt: new Date(first.occurredAt).toISOString(),
      person: { byndleId: first.byndleId, market: 'NO' },
      externalId: first.externalId,
      market: 'NO',
      changedFields: [...fields].sort(),
      sourceTypes: [...names].sort(),
      details:
        matchLevel === undefined
          ? { ajourholdId: delivery.ajourholdId }
          : { ajourholdId: delivery.ajourholdId, matchLevel },
    });
  }
  // Log order follows what happened, not how we grouped it.
  return out.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
}
