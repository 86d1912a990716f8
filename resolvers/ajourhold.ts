import { decodeCursor, offsetConnection, pageSize } from '../src/connection.js';
import { InputError } from '../src/errors.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';
import type { AjourholdPage, AjourholdPageKey } from '../src/providers/byndle/loaders.js';

const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

/** Offset of an `after` cursor; Byndle pages by number, so only offset cursors fit. */
function offsetOf(after: string | null | undefined): number {
  const pos = decodeCursor(after);
  if (pos === null) return 0;
  if (pos.kind !== 'offset') throw new InputError('after', 'a cursor returned by this list');
  return pos.offset;
}

/**
 * `first` items from `offset` out of Byndle's numbered pages. With page size `first`, a client
 * that pages on with `endCursor` and the same `first` always lands on a page boundary: one
 * call per page. Any other offset straddles two pages and costs two.
 */
async function pageWindow<T>(
  offset: number,
  first: number,
  load: (key: AjourholdPageKey) => Promise<AjourholdPage<T>>,
): Promise<{ items: T[]; totalCount: number }> {
  const page = Math.floor(offset / first) + 1;
  const skip = offset % first;
  const a = await load({ page, pageSize: first });
  let items = a.items.slice(skip);
  if (skip > 0 && a.items.length === first)
    items = items.concat((await load({ page: page + 1, pageSize: first })).items);
  return { items: items.slice(0, first), totalCount: a.totalCount };
}

// ISO-8601 date, or date and time with optional seconds, fraction and zone.
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export const ajourholdResolvers: Resolvers = {
  Query: {
    ajourholdEntries: async (_root, { first, after }, ctx) => {
      const n = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const offset = offsetOf(after);
      const { items, totalCount } = await pageWindow(offset, n, (k) =>
        ctx.loaders.byndle.ajourholdEntries.load(k),
      );
      return offsetConnection(items, offset, totalCount);
    },

    ajourholdChanges: async (_root, { since, first, after }, ctx) => {
      const s = since.trim();
      if (!ISO_MOMENT.test(s) || Number.isNaN(Date.parse(s))) {
        throw new InputError(
          'since',
          'an ISO-8601 date (YYYY-MM-DD) or timestamp (e.g. 2024-01-01T00:00:00Z)',
        );
      }
      const n = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const offset = offsetOf(after);
      const { items, totalCount } = await pageWindow(offset, n, (k) =>
        ctx.loaders.byndle.ajourholdChanges.load({ ...k, since: s }),
      );
      return offsetConnection(items, offset, totalCount);
    },

    byndleWebhook: (_root, _args, ctx) => ctx.loaders.byndle.webhook.load('current'),
  },

  AjourholdEntry: {
    person: async (entry, _args, ctx) =>
      entry.byndleId
        ? ((await ctx.loaders.byndle.personByByndleId.load(entry.byndleId))?.person ?? null)
        : null,
  },
};
