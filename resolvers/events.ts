import { InputError } from '../src/errors.js';
import type { GatewayContext } from '../src/context.js';
import type { StoredEvent } from '../src/events/types.js';
import { InvalidCursorError } from '../src/events/log.js';
import {
  eventMatcher,
  subscribeEvents,
  type EventCriteria,
  type PersonRefs,
} from '../src/events/subscribe.js';
import type {
  AccessRelationshipType,
  EventPersonFilter,
  Market,
  Provider,
  RelationshipState,
  Resolvers,
} from '../src/generated/resolvers-types.js';
import {
  validateConsumerId,
  validateNationalId,
  validateNorwegianOrgNumber,
} from '../src/security/identifiers.js';

const MAX_TEXT = 250;
const MAX_CONSUMER_IDS = 100;
const MAX_CURSOR = 64;
const CURSOR_EXPECTED = 'the `cursor` of an event this subscription delivered earlier';

const PROVIDERS = { BYNDLE: 'byndle', BISNODE: 'bisnode', SYMETRISK: 'symetrisk' } as const;
const toProvider = (p: StoredEvent['provider']): Provider => p.toUpperCase() as Provider;

function text(argument: string, value: string | null | undefined, what: string): string | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v.length < 1 || v.length > MAX_TEXT)
    throw new InputError(argument, `${what} of 1 to ${MAX_TEXT} characters`);
  return v;
}

/** Person identifiers → keyed hashes (the filter holds no clear national id). */
function personRefs(
  filter: EventPersonFilter | null | undefined,
  ref: (v: string) => string,
): PersonRefs | undefined {
  if (!filter) return undefined;
  const byndleId = text('filter.person.byndleId', filter.byndleId, 'a Byndle id');
  const gedi = text('filter.person.gedi', filter.gedi, 'a GEDI');
  let nationalId: string | undefined;
  if (filter.nationalId != null) {
    const id = validateNationalId(filter.market ?? 'NO', filter.nationalId);
    if (!id.ok) throw new InputError('filter.person.nationalId', id.expected);
    nationalId = id.value;
  }
  if (!byndleId && !gedi && !nationalId)
    throw new InputError('filter.person', 'at least one of byndleId, gedi or nationalId');
  return {
    byndleId: byndleId && ref(byndleId),
    gedi: gedi && ref(gedi),
    nationalId: nationalId && ref(nationalId),
  };
}

interface CommonFilter {
  person?: EventPersonFilter | null;
  consumerIds?: string[] | null;
  externalId?: string | null;
  market?: Market | null;
  providers?: Provider[] | null;
}

function commonCriteria(filter: CommonFilter, ctx: GatewayContext): EventCriteria {
  const consumerIds = filter.consumerIds ?? undefined;
  if (consumerIds) {
    if (consumerIds.length > MAX_CONSUMER_IDS)
      throw new InputError('filter.consumerIds', `at most ${MAX_CONSUMER_IDS} consumer ids`);
    for (const c of consumerIds) {
      const r = validateConsumerId(c);
      if (!r.ok) throw new InputError('filter.consumerIds', r.expected);
    }
  }
  return {
    person: personRefs(filter.person, (v) => ctx.cache.ref(v)),
    consumerIds,
    externalId: text('filter.externalId', filter.externalId, 'an external id'),
    market: filter.market ?? undefined,
    providers: filter.providers?.map((p) => {
      if (p === 'CONNECT') throw new InputError('filter.providers', 'BYNDLE, BISNODE or SYMETRISK');
      return PROVIDERS[p];
    }),
  };
}

function cursorArg(after: string | null | undefined): string | null {
  if (after == null) return null;
  if (after.length < 1 || after.length > MAX_CURSOR) throw new InputError('after', CURSOR_EXPECTED);
  return after;
}

/** Starts the stream; a cursor the log does not know is the caller's mistake, named as `after`. */
async function stream(ctx: GatewayContext, after: string | null, match: (e: StoredEvent) => boolean) {
  try {
    return await subscribeEvents({ log: ctx.events, after, match });
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new InputError('after', CURSOR_EXPECTED);
    throw err;
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

const ACCESS_STATES: Record<string, RelationshipState> = {
  access_requested: 'ACCESS_REQUESTED',
  access_approved: 'ACCESS_APPROVED',
  access_rejected: 'ACCESS_REJECTED',
  access_revoked: 'ACCESS_REVOKED',
};

/** Fields both event types share; the parent is the stored event. */
const eventFields = {
  id: (e: StoredEvent) => e.cursor,
  provider: (e: StoredEvent) => toProvider(e.provider),
  sourceTypes: (e: StoredEvent) => e.sourceTypes ?? [],
  changedFields: (e: StoredEvent) => e.changedFields ?? [],
  consumerIds: (e: StoredEvent) => e.consumerIds ?? [],
  externalId: (e: StoredEvent) => e.externalId ?? null,
  market: (e: StoredEvent) => e.market ?? e.person?.market ?? null,
  person: (e: StoredEvent, _args: unknown, ctx: GatewayContext) => ctx.eventPersons.person(e),
};

/** personChanges and events (schema/events.graphql): the event log as graphql-ws subscriptions. */
export const eventResolvers: Resolvers = {
  Subscription: {
    personChanges: {
      subscribe: async (_root, { filter, after }, ctx) => {
        const criteria: EventCriteria = {
          ...commonCriteria(filter ?? {}, ctx),
          kinds: ['PERSON_CHANGED'],
          changedFields: filter?.changedFields ?? undefined,
        };
        return stream(
          ctx,
          cursorArg(after),
          eventMatcher(criteria, (v) => ctx.cache.ref(v)),
        );
      },
      resolve: (event: StoredEvent) => event,
    },
    events: {
      subscribe: async (_root, { filter, after }, ctx) => {
        let organizationNumber: string | undefined;
        if (filter?.organizationNumber != null) {
          const r = validateNorwegianOrgNumber(filter.organizationNumber);
          if (!r.ok) throw new InputError('filter.organizationNumber', r.expected);
          organizationNumber = r.value;
        }
        const criteria: EventCriteria = {
          ...commonCriteria(filter ?? {}, ctx),
          kinds: filter?.kinds ?? undefined,
          organizationNumber,
        };
        return stream(
          ctx,
          cursorArg(after),
          eventMatcher(criteria, (v) => ctx.cache.ref(v)),
        );
      },
      resolve: (event: StoredEvent) => event,
    },
  },
  PersonChangeEvent: {
    ...eventFields,
  },
  DomainEvent: {
    ...eventFields,
    matchLevel: (e) => num(e.details?.matchLevel),
    organizationNumber: (e) => e.organizationNumber ?? null,
    lifeEvent: (e) =>
      e.kind === 'LIFE_EVENT'
        ? {
            trigger: str(e.details?.trigger),
            phase: str(e.details?.phase),
            probability: num(e.details?.probability),
            withinEstimatedDays: num(e.details?.withinEstimatedDays),
          }
        : null,
    borrowerAccess: (e) => {
      if (e.kind !== 'BORROWER_ACCESS_CHANGED' || !e.organizationNumber) return null;
      const state = ACCESS_STATES[str(e.details?.state) ?? ''];
      if (!state) return null;
      const relationshipType: AccessRelationshipType =
        e.details?.relationshipType === 'debtor' ? 'DEBTOR' : 'BORROWER';
      return {
        organizationNumber: e.organizationNumber,
        relationshipType,
        state,
        creditorOrganizationNumber:
          relationshipType === 'DEBTOR' ? str(e.details?.creditorOrganizationNumber) : null,
        message: str(e.details?.message),
      };
    },
  },
};
