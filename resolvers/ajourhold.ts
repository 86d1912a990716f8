import { decodeCursor, offsetConnection, pageSize } from '../src/connection.js';
import type { AjourholdEntryModel } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import type {
  AddAjourholdEntryInput,
  AddAjourholdEntryOutcome,
  AjourholdCorrection,
  Resolvers,
} from '../src/generated/resolvers-types.js';
import type { AjourholdPage, AjourholdPageKey } from '../src/providers/byndle/loaders.js';
import { toAjourholdCorrections, toAjourholdEntry } from '../src/providers/byndle/mapping.js';
import type { ByndleAjourholdEntryInput } from '../src/providers/byndle/schemas.js';
import { validateNorwegianPersonId, validatePhoneE164 } from '../src/security/identifiers.js';

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

// Our own ids travel in Byndle's URL paths (remove by externalId): a plain alphabet keeps them
// unambiguous there and in logs.
const ENTRY_ID = /^[A-Za-z0-9_-]{1,100}$/;
const ENTRY_ID_EXPECTED = "1-100 characters of A-Z, a-z, 0-9, '_' and '-'";
const POSTAL_CODE = /^\d{4}$/;

/** YYYY-MM-DD naming a day that exists and is not in the future. */
function isRealPastDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  return (
    y >= 1850 &&
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    t <= Date.now()
  );
}

/**
 * The whole add input checked before anything goes upstream, normalised to Byndle's body. Every
 * bad field is found; the error names the first (`argument: input.<field>`) and lists them all
 * in `extensions.fields`. Messages describe the expected form only, never the value sent.
 */
function validateAddInput(input: AddAjourholdEntryInput): ByndleAjourholdEntryInput {
  const bad: { field: string; expected: string }[] = [];
  const text = (field: string, value: string, min: number, max: number) => {
    const v = value.trim();
    if (v.length < min || v.length > max)
      bad.push({ field, expected: min > 0 ? `${min}-${max} characters` : `at most ${max} characters` });
    return v;
  };
  if (!ENTRY_ID.test(input.externalId)) bad.push({ field: 'externalId', expected: ENTRY_ID_EXPECTED });
  const body: ByndleAjourholdEntryInput = {
    externalId: input.externalId,
    firstName: text('firstName', input.firstName, 1, 100),
    lastName: text('lastName', input.lastName, 1, 100),
    street: text('street', input.street, 0, 200),
    houseNumber: text('houseNumber', input.houseNumber ?? '', 0, 20),
    postalCode: input.postalCode.trim(),
    city: text('city', input.city, 0, 100),
    birthDate: input.birthDate.trim(),
  };
  if (!POSTAL_CODE.test(body.postalCode))
    bad.push({ field: 'postalCode', expected: 'a Norwegian postal code of 4 digits' });
  if (!isRealPastDate(body.birthDate))
    bad.push({ field: 'birthDate', expected: 'a real, past date as YYYY-MM-DD' });
  if (input.nationalId != null) {
    const id = validateNorwegianPersonId(input.nationalId);
    if (id.ok) body.nationalId = id.value;
    else bad.push({ field: 'nationalId', expected: id.expected });
  }
  if (input.mobile != null) {
    const phone = validatePhoneE164(input.mobile);
    if (phone.ok) body.mobile = phone.value;
    else bad.push({ field: 'mobile', expected: phone.expected });
  }
  const first = bad[0];
  if (first) {
    throw new InputError(`input.${first.field}`, first.expected, {
      field: first.field,
      fields: bad.map((b) => b.field),
    });
  }
  return body;
}

/** Stored by the idempotency store and replayed as is: plain, JSON-serialisable data only. */
interface AddResult {
  outcome: AddAjourholdEntryOutcome;
  entry: AjourholdEntryModel | null;
  maintained: boolean;
  corrections: AjourholdCorrection[];
}
interface RemoveResult {
  removed: AjourholdEntryModel[];
  notFound: boolean;
}

export const ajourholdResolvers: Resolvers = {
  Mutation: {
    // No cache eviction on add or remove: ajourhold lists are never cached across requests (see
    // loaders.ts), and no cached person answer depends on ajourhold membership
    // (PersonMatch.maintained is a function of the match level alone).
    addAjourholdEntry: async (_root, { input, idempotencyKey }, ctx) => {
      const body = validateAddInput(input);
      // Not retried upstream: a POST that timed out may have been stored. Retrying with the same
      // idempotency key is safe here, and even without one the externalId makes a repeat
      // harmless (Byndle answers 409 → ALREADY_EXISTS).
      return ctx.idempotency.run(
        'addAjourholdEntry',
        ctx.caller.id,
        idempotencyKey,
        body,
        async (): Promise<AddResult> => {
          const r = await ctx.clients.byndle.addAjourholdEntry(body);
          if (!r.created)
            return { outcome: 'ALREADY_EXISTS', entry: null, maintained: false, corrections: [] };
          return {
            outcome: 'ADDED',
            entry: toAjourholdEntry(r.entry),
            maintained: r.entry.maintained,
            corrections: toAjourholdCorrections(r.entry),
          };
        },
      );
    },

    removeAjourholdEntry: async (_root, { externalId, byndleId, idempotencyKey }, ctx) => {
      if ((externalId == null) === (byndleId == null)) {
        throw new InputError(
          externalId == null ? 'externalId' : 'byndleId',
          'exactly one of externalId and byndleId',
        );
      }
      const key = externalId != null ? { externalId } : { byndleId: byndleId! };
      const [argument, value] = externalId != null ? ['externalId', externalId] : ['byndleId', byndleId!];
      if (!ENTRY_ID.test(value)) throw new InputError(argument, ENTRY_ID_EXPECTED);
      // Not retried upstream (a DELETE that timed out may have happened); a blind repeat is
      // harmless anyway: it answers notFound.
      return ctx.idempotency.run(
        'removeAjourholdEntry',
        ctx.caller.id,
        idempotencyKey,
        key,
        async (): Promise<RemoveResult> => {
          const removed = await ctx.clients.byndle.removeAjourholdEntries(key);
          return removed === null
            ? { removed: [], notFound: true }
            : { removed: removed.map(toAjourholdEntry), notFound: false };
        },
      );
    },
  },

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
