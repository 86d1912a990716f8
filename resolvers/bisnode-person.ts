import type { BisnodeFindInput, Market, Resolvers } from '../src/generated/resolvers-types.js';
import { InputError } from '../src/errors.js';
import { bisnodePersonKey } from '../src/providers/bisnode/index.js';
import type { FindPersonQuery } from '../src/providers/bisnode/schemas.js';
import { validateNationalId, validatePhoneE164 } from '../src/security/identifiers.js';

/** Bisnode rejects longer search strings with a Constraint Violation; say so before the call. */
const MAX_TEXT = 250;

const FIND_EXPECTED =
  'a nationalId, or firstName and familyName together with dateOfBirth, an address ' +
  '(streetName with postalCode or city) or phoneNumber';

function text(input: BisnodeFindInput, field: keyof BisnodeFindInput): string | undefined {
  const v = input[field]?.trim();
  if (!v) return undefined;
  if (v.length > MAX_TEXT) throw new InputError(`input.${field}`, `at most ${MAX_TEXT} characters`);
  return v;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/**
 * Checks a search beyond its GraphQL types. Returns the national-id loader key when a national id
 * is given (it decides the match alone at Bisnode, so the other fields are not sent), otherwise the
 * _find body.
 */
export function bisnodeFindArguments(
  market: Market,
  input: BisnodeFindInput,
): { key: string; query?: undefined } | { key?: undefined; query: FindPersonQuery } {
  const nationalId = text(input, 'nationalId');
  const dateOfBirth = text(input, 'dateOfBirth');
  const rawPhone = text(input, 'phoneNumber');
  if (dateOfBirth !== undefined && !isIsoDate(dateOfBirth))
    throw new InputError('input.dateOfBirth', 'a date as YYYY-MM-DD');
  let phoneNumber: string | undefined;
  if (rawPhone !== undefined) {
    const phone = validatePhoneE164(rawPhone);
    if (!phone.ok) throw new InputError('input.phoneNumber', phone.expected);
    phoneNumber = phone.value;
  }
  if (nationalId !== undefined) {
    const id = validateNationalId(market, nationalId);
    if (!id.ok) throw new InputError('input.nationalId', id.expected);
    return { key: bisnodePersonKey(market, id.value) };
  }
  const query: FindPersonQuery = {
    firstName: text(input, 'firstName'),
    familyName: text(input, 'familyName'),
    dateOfBirth,
    streetName: text(input, 'streetName'),
    streetNumber: text(input, 'streetNumber'),
    postalCode: text(input, 'postalCode'),
    city: text(input, 'city'),
    phoneNumber,
  };
  const hasName = query.firstName !== undefined && query.familyName !== undefined;
  const hasAddress =
    query.streetName !== undefined && (query.postalCode !== undefined || query.city !== undefined);
  if (!hasName || !(dateOfBirth !== undefined || hasAddress || phoneNumber !== undefined)) {
    throw new InputError('input', FIND_EXPECTED);
  }
  return { query };
}

/** Bisnode persons (schema/person.graphql): by gedi, by search, and Person.enrichment for any person. */
export const bisnodePersonResolvers: Resolvers = {
  Query: {
    bisnodePerson: (_root, { gedi }, ctx) => {
      const g = gedi.trim();
      if (g.length < 1 || g.length > MAX_TEXT)
        throw new InputError('gedi', `a GEDI of 1 to ${MAX_TEXT} characters`);
      return ctx.loaders.bisnode.personByGedi.load(g);
    },

    bisnodeFindPerson: (_root, { market, input }, ctx) => {
      const args = bisnodeFindArguments(market, input);
      return args.key !== undefined
        ? ctx.loaders.bisnode.personByNationalId.load(args.key)
        : ctx.loaders.bisnode.findPerson(market, args.query);
    },
  },

  Person: {
    /**
     * Bisnode's view of the same person: by gedi when the person came from Bisnode (no extra call:
     * the same loader entry), else by national id in the person's market (e.g. a Byndle person in NO).
     */
    enrichment: (parent, _args, ctx) => {
      if (parent.gedi) return ctx.loaders.bisnode.enrichmentByGedi.load(parent.gedi);
      if (!parent.nationalId) return null;
      const id = validateNationalId(parent.market, parent.nationalId);
      if (!id.ok) return null;
      return ctx.loaders.bisnode.enrichmentByNationalId.load(bisnodePersonKey(parent.market, id.value));
    },
  },
};
