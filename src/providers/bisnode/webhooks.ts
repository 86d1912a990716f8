import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ChangedPersonField, DomainEventInput } from '../../events/types.js';

/**
 * Consumer Intelligence webhooks: a POST of a JSON array of events, signed with headers
 * `ci-signature-timestamp` (epoch seconds, fresh per attempt) and `ci-signature-sha256` =
 * hex(HMAC-SHA256(secret, timestamp + "." + rawBody)). Only a 200 counts as delivered; anything
 * else is redelivered, so an event can arrive more than once, always with the same `id`.
 */

/** How far a signature timestamp may be from our clock, either way. */
export const BISNODE_SIGNATURE_TOLERANCE_SECONDS = 300;

export type BisnodeSignatureResult = { ok: true } | { ok: false; reason: 'missing' | 'stale' | 'mismatch' };

/**
 * Verifies the signature over the raw body bytes against any of `secrets` (several are valid
 * while a webhook is being rotated: create the new one, then delete the old one). Constant-time
 * compare of equal-length digests.
 */
export function verifyBisnodeSignature(input: {
  rawBody: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  secrets: string[];
  nowMs?: number;
  toleranceSeconds?: number;
}): BisnodeSignatureResult {
  const { rawBody, timestamp, signature, secrets } = input;
  const nowMs = input.nowMs ?? Date.now();
  const tolerance = input.toleranceSeconds ?? BISNODE_SIGNATURE_TOLERANCE_SECONDS;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing' };
  if (!/^[0-9a-f]{64}$/i.test(signature)) return { ok: false, reason: 'mismatch' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > tolerance) return { ok: false, reason: 'stale' };
  const given = Buffer.from(signature, 'hex');
  let ok = false;
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
    // No early exit: the time taken does not say which secret matched.
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok ? { ok: true } : { ok: false, reason: 'mismatch' };
}

const market = z.enum(['DK', 'FI', 'NO', 'SE', 'XX']);
const source = z.string().min(1);
const gediSource = z.object({ gedi: z.string().min(1), source });
const base = { id: z.string().min(1).max(200), timestamp: z.iso.datetime({ offset: true }) };

export const BISNODE_EVENT_TYPES = [
  'PING',
  'CONSUMER_UPLOADED',
  'CONSUMER_DELETED',
  'CONSUMER_IDENTIFIED',
  'CONSUMER_NOT_IDENTIFIED',
  'PERSON_SUBSCRIBED',
  'PERSON_UNSUBSCRIBED',
  'PERSON_REIDENTIFIED',
  'PERSON_CHANGED',
  'ENRICHMENT_CHANGED',
  'LIFE_EVENT',
] as const;

export const bisnodeWebhookEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('PING'), ...base }),
  z.object({ type: z.literal('CONSUMER_UPLOADED'), ...base, consumerId: z.string(), market }),
  z.object({ type: z.literal('CONSUMER_DELETED'), ...base, consumerId: z.string(), market }),
  z.object({
    type: z.literal('CONSUMER_IDENTIFIED'),
    ...base,
    consumerId: z.string(),
    market,
    gedi: z.string().min(1),
    source,
  }),
  z.object({
    type: z.literal('CONSUMER_NOT_IDENTIFIED'),
    ...base,
    consumerId: z.string(),
    market,
    sources: z.array(source),
  }),
  z.object({
    type: z.literal('PERSON_SUBSCRIBED'),
    ...base,
    consumerIds: z.array(z.string()),
    market,
    gedi: z.string().min(1),
    source,
  }),
  z.object({
    type: z.literal('PERSON_UNSUBSCRIBED'),
    ...base,
    consumerIds: z.array(z.string()),
    market,
    gedi: z.string().min(1),
    source,
  }),
  z.object({
    type: z.literal('PERSON_REIDENTIFIED'),
    ...base,
    consumerIds: z.array(z.string()),
    market,
    previous: gediSource,
    replacedBy: gediSource,
  }),
  z.object({
    type: z.literal('PERSON_CHANGED'),
    ...base,
    consumerIds: z.array(z.string()),
    gedi: z.string().min(1),
    source,
    // The document marks these "not yet implemented": tolerate their absence.
    jsonPointers: z.array(z.string()).default([]),
    changedId: z.string().nullish(),
  }),
  z.object({
    type: z.literal('ENRICHMENT_CHANGED'),
    ...base,
    consumerIds: z.array(z.string()),
    gedi: z.string().min(1),
    variable: z.string(),
  }),
  z.object({
    type: z.literal('LIFE_EVENT'),
    ...base,
    phase: z.string(),
    market,
    gedi: z.string().min(1),
    consumerIds: z.array(z.string()),
    trigger: z.string(),
    probability: z.number().int().min(1).max(99).optional(),
    withinEstimatedDays: z.number().int().optional(),
  }),
]);
export type BisnodeWebhookEvent = z.infer<typeof bisnodeWebhookEventSchema>;

/** Every element needs an id, a type and a timestamp; known types are then checked in full. */
const envelope = z.object({ type: z.string().min(1), ...base }).loose();

export interface ParsedBisnodeDelivery {
  events: BisnodeWebhookEvent[];
  /** Event types this version does not know (acknowledged, not stored), by type. */
  unknownTypes: string[];
}

/**
 * Parses a delivery (a JSON array). A type we do not know yet is acknowledged and skipped rather
 * than refused: refusing it would make Bisnode redeliver the whole batch until it gives up.
 */
export function parseBisnodeDelivery(
  body: unknown,
): { ok: true; value: ParsedBisnodeDelivery } | { ok: false; issues: string[] } {
  const arr = z.array(envelope).safeParse(body);
  if (!arr.success) return { ok: false, issues: issuesOf(arr.error) };
  const events: BisnodeWebhookEvent[] = [];
  const unknownTypes: string[] = [];
  const issues: string[] = [];
  arr.data.forEach((raw, i) => {
    if (!(BISNODE_EVENT_TYPES as readonly string[]).includes(raw.type)) {
      unknownTypes.push(raw.type.slice(0, 60));
      return;
    }
    const e = bisnodeWebhookEventSchema.safeParse(raw);
    if (e.success) events.push(e.data);
    else issues.push(...issuesOf(e.error).map((m) => `[${i}]${m.startsWith('(') ? ' ' : '.'}${m}`));
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { events, unknownTypes } };
}

/** Paths and messages only: zod messages say what was expected, never the value that arrived. */
export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
}

const POINTER_FIELDS: Record<string, ChangedPersonField> = {
  '/addresses': 'ADDRESS',
  '/relocationEvents': 'ADDRESS',
  '/phoneNumbers': 'MOBILE',
  '/familyName': 'LAST_NAME',
  '/firstNames': 'FIRST_NAME',
  '/preferredFirstName': 'FIRST_NAME',
  '/status': 'STATUS',
};
/** Derived from other fields: not a change of its own when those are named too. */
const DERIVED_POINTERS = new Set(['/shortenedFullName']);

export function changedFieldsOfPointers(pointers: string[]): ChangedPersonField[] {
  const fields = new Set<ChangedPersonField>();
  const tops = pointers.map((p) => `/${p.split('/')[1] ?? ''}`);
  for (const p of tops) {
    if (DERIVED_POINTERS.has(p)) continue;
    fields.add(POINTER_FIELDS[p] ?? 'OTHER');
  }
  if (fields.size === 0) fields.add('OTHER');
  return [...fields].sort();
}

const marketOf = (m: z.infer<typeof market>) => (m === 'XX' ? null : m);

/**
 * Bisnode events -> domain events. PING, CONSUMER_UPLOADED and CONSUMER_DELETED are not domain
 * events (acknowledged only). PERSON_CHANGED, ENRICHMENT_CHANGED and PERSON_REIDENTIFIED are all
 * "person changed". `sourceId` is Bisnode's event id, the same on every redelivery.
 */
export function normaliseBisnodeEvents(events: BisnodeWebhookEvent[]): DomainEventInput[] {
  const out: DomainEventInput[] = [];
  for (const e of events) {
    const common = {
      provider: 'bisnode' as const,
      sourceId: e.id,
      occurredAt: new Date(e.timestamp).toISOString(),
      sourceTypes: [e.type],
    };
    switch (e.type) {
      case 'PING':
      case 'CONSUMER_UPLOADED':
      case 'CONSUMER_DELETED':
        break;
      case 'CONSUMER_IDENTIFIED':
        out.push({
          ...common,
          kind: 'CONSUMER_IDENTIFIED',
          person: { gedi: e.gedi, market: marketOf(e.market) },
          consumerIds: [e.consumerId],
          market: marketOf(e.market),
          details: { source: e.source },
        });
        break;
      case 'CONSUMER_NOT_IDENTIFIED':
        out.push({
          ...common,
          kind: 'CONSUMER_NOT_IDENTIFIED',
          consumerIds: [e.consumerId],
          market: marketOf(e.market),
          details: { sources: e.sources.join(',') },
        });
        break;
      case 'PERSON_SUBSCRIBED':
      case 'PERSON_UNSUBSCRIBED':
        out.push({
          ...common,
          kind: e.type,
          person: { gedi: e.gedi, market: marketOf(e.market) },
          consumerIds: e.consumerIds,
          market: marketOf(e.market),
          details: { source: e.source },
        });
        break;
      case 'PERSON_REIDENTIFIED':
        out.push({
          ...common,
          kind: 'PERSON_CHANGED',
          person: { gedi: e.replacedBy.gedi, market: marketOf(e.market) },
          consumerIds: e.consumerIds,
          market: marketOf(e.market),
          changedFields: ['IDENTITY'],
          // The old gedi: its cache entries are evicted too.
          details: { previousGedi: e.previous.gedi, source: e.replacedBy.source },
        });
        break;
      case 'PERSON_CHANGED':
        out.push({
          ...common,
          kind: 'PERSON_CHANGED',
          person: { gedi: e.gedi },
          consumerIds: e.consumerIds,
          changedFields: changedFieldsOfPointers(e.jsonPointers),
          details: { source: e.source, changedId: e.changedId ?? null },
        });
        break;
      case 'ENRICHMENT_CHANGED':
        out.push({
          ...common,
          kind: 'PERSON_CHANGED',
          person: { gedi: e.gedi },
          consumerIds: e.consumerIds,
          changedFields: ['ENRICHMENT'],
          details: { variable: e.variable },
        });
        break;
      case 'LIFE_EVENT':
        out.push({
          ...common,
          kind: 'LIFE_EVENT',
          person: { gedi: e.gedi, market: marketOf(e.market) },
          consumerIds: e.consumerIds,
          market: marketOf(e.market),
          details: {
            trigger: e.trigger,
            phase: e.phase,
            probability: e.probability ?? null,
            withinEstimatedDays: e.withinEstimatedDays ?? null,
          },
        });
        break;
    }
  }
  return out;
}
