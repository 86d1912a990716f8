import type { Resolvers } from '../src/generated/resolvers-types.js';
import { decodeCursor, pageSize, tokenConnection } from '../src/connection.js';
import { InputError } from '../src/errors.js';

/** Bisnode pages of consumers, subscribed persons and audit events: 1 to 1000 per page, 100 by default. */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/**
 * The upstream token inside an `after` cursor: undefined when there is no cursor (first page),
 * null when the cursor marks the end of a list whose upstream token ran out (consumers).
 */
function upstreamToken(after: string | null | undefined): string | null | undefined {
  const pos = decodeCursor(after);
  if (pos === null) return undefined;
  if (pos.kind !== 'token') throw new InputError('after', 'a cursor returned by this field');
  return pos.token;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/** Bisnode consumers, subscribed persons, audit events and webhooks (schema/consumer.graphql). */
export const consumerResolvers: Resolvers = {
  Query: {
    consumers: async (_root, { state, first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const token = upstreamToken(after);
      // The cursor after the last consumer carries no upstream token: the list has ended.
      if (token === null) return tokenConnection([], '', null, false);
      const page = await ctx.loaders.bisnode.consumers({
        pageToken: token ?? null,
        pageSize: size,
        state: state ?? null,
      });
      return tokenConnection(page.items, token ?? null, page.nextToken, page.hasNext);
    },

    subscribedPersons: async (_root, { fromDate, first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      // Bisnode takes either a start date or a page token, never both.
      if (fromDate != null && after != null)
        throw new InputError('fromDate', 'no fromDate together with `after`');
      if (fromDate != null && !isIsoDate(fromDate)) throw new InputError('fromDate', 'a date as YYYY-MM-DD');
      const token = upstreamToken(after) ?? null;
      const page = await ctx.loaders.bisnode.subscribedPersons({
        pageToken: token,
        fromDate: fromDate ?? null,
        pageSize: size,
      });
      return tokenConnection(page.items, token, page.nextToken, page.hasNext);
    },

    auditEvents: async (_root, { first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const token = upstreamToken(after) ?? null;
      const page = await ctx.loaders.bisnode.auditEvents({ pageToken: token, pageSize: size });
      return tokenConnection(page.items, token, page.nextToken, page.hasNext);
    },

    bisnodeWebhooks: (_root, _args, ctx) => ctx.loaders.bisnode.webhooks(),
  },

  Consumer: {
    person: (parent, _args, ctx) => (parent.gedi ? ctx.loaders.bisnode.personByGedi.load(parent.gedi) : null),
  },

  SubscribedPerson: {
    // The list carries the person; a gedi-only item (none in practice) is fetched by gedi.
    person: (parent, _args, ctx) => parent.person ?? ctx.loaders.bisnode.personByGedi.load(parent.gedi),
  },
};
