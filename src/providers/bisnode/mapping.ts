import type { ConsumerModel, PersonModel, SubscribedPersonModel } from '../../domain.js';
import type {
  Address,
  AuditEvent,
  BisnodeWebhook,
  Gender,
  Market,
  PersonEnrichment,
  Phone,
} from '../../generated/resolvers-types.js';
import { UpstreamError } from '../errors.js';
import type {
  V3Address,
  V3AuditEvent,
  V3Consumer,
  V3Person,
  V3SubscribedPerson,
  V3Webhook,
} from './schemas.js';

const MARKETS: readonly Market[] = ['NO', 'SE', 'DK', 'FI'];

export function asMarket(value: string | null | undefined): Market | null {
  return MARKETS.includes(value as Market) ? (value as Market) : null;
}

/** What Bisnode knows about one person, mapped once and shared by Person and Person.enrichment. */
export interface BisnodePersonRecord {
  person: PersonModel;
  enrichment: PersonEnrichment;
  /** Whether _find could return this person (see isSearchable); decides loader priming. */
  searchable: boolean;
}

export interface PersonMappingContext {
  /** The gedi, from the path or the list item; null after _find, whose body carries none. */
  gedi: string | null;
  /** The market asked (find) or listed (subscriptions); derived from the body when null. */
  market: Market | null;
  /**
   * A keyed, non-reversible reference of a value (UpstreamCache.ref): the stable Person.id of a
   * person found by _find, where the gedi is unknown, without putting a national id in the id.
   */
  ref: (value: string) => string;
}

/**
 * Imprecise dates come as a pair: a date filled conservatively (an unknown birth date in 2005 is
 * 2005-12-31) and its precision. Only day-precise dates are shown: a filled-in day would be a
 * silently wrong answer.
 */
function preciseDate(date: string | null | undefined, precision: string | null | undefined): string | null {
  if (!date) return null;
  return precision == null || precision === 'DAY' ? date : null;
}

function marketOf(v3: V3Person, given: Market | null): Market | null {
  if (given) return given;
  for (const s of v3.metadata.sources) {
    const m = asMarket(s.market);
    if (m) return m;
  }
  // `sv-SE`: the register's language region names the market when no source does.
  return asMarket(v3.languageTag?.split('-')[1]) ?? asMarket(v3.citizenship?.[0]);
}

function formatAddress(a: V3Address): string | null {
  const number = [a.streetNumber, a.entrance].filter(Boolean).join('');
  const street = [a.streetName, number].filter(Boolean).join(' ');
  const place = [a.postalCode, a.city].filter(Boolean).join(' ');
  const parts = [a.careOf ? `c/o ${a.careOf}` : '', street, place].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : null;
}

export function toAddress(a: V3Address): Address {
  return {
    street: a.streetName ?? null,
    houseNumber: a.streetNumber ?? null,
    entrance: a.entrance ?? null,
    // Bisnode's apartment is the dwelling number (NO bruksenhetsnummer H0101, SE lägenhetsnummer).
    dwellingNumber: a.apartment ?? null,
    postalCode: a.postalCode ?? null,
    city: a.city ?? null,
    country: a.country ?? null,
    formatted: formatAddress(a),
    validFrom: preciseDate(a.validFromDate, a.validFromDatePrecision),
    validTo: preciseDate(a.validToDate, a.validToDatePrecision),
  };
}

function toGender(v3: V3Person): Gender | null {
  const g = v3.gender ?? v3.sex;
  return g === 'MALE' || g === 'FEMALE' || g === 'OTHER' ? g : null;
}

/** The stable Person.id: `bisnode:<gedi>`, or a keyed reference of market + legal id when the gedi is unknown. */
export function bisnodePersonId(
  gedi: string | null,
  market: Market,
  legalId: string | null,
  ref: (v: string) => string,
): string {
  if (gedi) return `bisnode:${gedi}`;
  return `bisnode:ref:${ref(`${market}:${legalId ?? ''}`)}`;
}

export function toPersonModel(v3: V3Person, ctx: PersonMappingContext, endpoint: string): PersonModel {
  const market = marketOf(v3, ctx.market);
  if (!market) {
    throw new UpstreamError(
      'bisnode',
      'UPSTREAM_BAD_RESPONSE',
      200,
      `bisnode ${endpoint} answered a person without a market`,
      endpoint,
    );
  }
  const [first, ...otherFirst] = v3.firstNames;
  const middle = [...otherFirst, v3.additionalName].filter((n): n is string => Boolean(n)).join(' ');
  const current = v3.addresses.find((a) => a.current) ?? null;
  const nationalId = v3.legalId?.identityNumber ?? null;
  return {
    id: bisnodePersonId(ctx.gedi, market, nationalId, ctx.ref),
    market,
    nationalId,
    firstName: first ?? v3.preferredFirstName ?? null,
    middleName: middle || null,
    lastName: v3.familyName ?? null,
    birthDate: preciseDate(v3.birthDate, v3.birthDatePrecision),
    gender: toGender(v3),
    // Byndle's 1-9 status list; the SDL leaves it null when only Bisnode knows the person.
    status: null,
    address: current ? toAddress(current) : null,
    // Bisnode lists the current address first, then earlier ones newest first.
    addressHistory: v3.addresses.filter((a) => a !== current).map(toAddress),
    phones: v3.phoneNumbers.map((p): Phone => ({ number: p.number, type: p.type })),
    emails: [],
    marketingRestrictions: {
      directMail: v3.directMarketingRestriction,
      // Bisnode flags telemarketing per number; a person reserved on any number is reserved.
      phoneSales: v3.phoneNumbers.some((p) => p.telemarketingRestriction),
      humanitarian: v3.charityMarketingRestriction,
    },
    byndleId: null,
    gedi: ctx.gedi,
    sources: [{ provider: 'BISNODE', providerId: ctx.gedi, matchLevel: null }],
  };
}

export function toEnrichment(v3: V3Person, gedi: string | null): PersonEnrichment {
  const variables = [
    ...Object.entries(v3.enrichment ?? {}),
    ...Object.entries(v3.customEnrichment ?? {}),
  ].map(([name, value]) => ({ name, value: value === null ? null : String(value) }));
  return {
    gedi,
    estimatedAge: v3.estimatedAge ?? null,
    maritalStatus: v3.maritalStatus && v3.maritalStatus !== 'UNKNOWN' ? v3.maritalStatus : null,
    directMarketingRestriction: v3.directMarketingRestriction,
    charityMarketingRestriction: v3.charityMarketingRestriction,
    onlineMarketingRestriction: v3.onlineMarketingRestriction,
    protectedIdentity: v3.status.protected,
    variables,
    updatedAt: v3.metadata.updatedTimestamp ?? null,
  };
}

export function toPersonRecord(
  v3: V3Person,
  ctx: PersonMappingContext,
  endpoint: string,
): BisnodePersonRecord {
  return {
    person: toPersonModel(v3, ctx, endpoint),
    enrichment: toEnrichment(v3, ctx.gedi),
    searchable: isSearchable(v3),
  };
}

/**
 * Whether _find could return this person: Bisnode's search never returns protected identities
 * or minors. Used before priming the national-id loader from a by-gedi answer, so a lookup by
 * national id never answers what the provider's search would refuse.
 */
export function isSearchable(v3: V3Person): boolean {
  return !v3.status.protected && v3.minor !== 'YES';
}

/** Null for a consumer in a market outside SE/NO/DK/FI (possible only for uploads made outside nordgraph). */
export function toConsumerModel(c: V3Consumer): ConsumerModel | null {
  const market = asMarket(c.market);
  if (!market) return null;
  return { consumerId: c.consumerId, market, state: c.state, gedi: c.gedi ?? null };
}

export function toSubscribedPersonModel(
  s: V3SubscribedPerson,
  ref: (v: string) => string,
): SubscribedPersonModel {
  return {
    gedi: s.gedi,
    changedAt: s.changedTimestamp ?? null,
    person: s.person
      ? toPersonModel(
          s.person,
          { gedi: s.gedi, market: asMarket(s.market), ref },
          'GET /subscriptions/persons',
        )
      : null,
  };
}

export function toAuditEvent(e: V3AuditEvent): AuditEvent {
  return {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    consumerIds: e.consumerIds ?? (e.consumerId ? [e.consumerId] : []),
    // A re-identification concerns the person's new gedi.
    gedi: e.gedi ?? e.replacedBy?.gedi ?? null,
  };
}

export function toWebhook(w: V3Webhook): BisnodeWebhook {
  return { id: w.id, url: w.url, events: w.events, description: w.description ?? null };
}
