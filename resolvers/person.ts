import type { PersonExtendedModel, PersonModel, VehicleModel } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import type { GatewayContext } from '../src/context.js';
import type { PersonMatchInput, Resolvers } from '../src/generated/resolvers-types.js';
import { bisnodePersonKey } from '../src/providers/bisnode/index.js';
import type { ByndlePersonModel } from '../src/providers/byndle/mapping.js';
import {
  validateNationalId,
  validateNorwegianPersonId,
  validatePhoneE164,
} from '../src/security/identifiers.js';
import { ajourholdResolvers } from './ajourhold.js';
import { businessResolvers } from './business.js';
import { vehicleResolvers } from './vehicle.js';

/** Loader results may hold an Error per key: the field fails with that upstream error. */
export function unwrap<T>(values: (T | Error)[]): T[] {
  for (const v of values) if (v instanceof Error) throw v;
  return values as T[];
}

const notNull = <T>(v: T | null): v is T => v !== null;

/** A valid E.164 number or the InputError naming the argument. */
export function phoneArg(argument: string, value: string): string {
  const r = validatePhoneE164(value);
  if (!r.ok) throw new InputError(argument, r.expected);
  return r.value;
}

/**
 * Byndle's person extended for any Person: by Byndle id when known, else (a Norwegian person
 * found by another provider) by national id, which primes the by-id loader. Null when Byndle
 * does not know the person.
 */
async function extendedOf(person: PersonModel, ctx: GatewayContext): Promise<PersonExtendedModel | null> {
  const byndle = ctx.loaders.byndle;
  if (person.byndleId) return byndle.personByByndleId.load(person.byndleId);
  if (person.market !== 'NO' || !person.nationalId) return null;
  const id = validateNorwegianPersonId(person.nationalId);
  if (!id.ok) return null; // e.g. a masked number: nothing Byndle could look up
  const found = await byndle.personByNationalId.load(id.value);
  return found?.byndleId ? byndle.personByByndleId.load(found.byndleId) : null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** YYYY-MM-DD that exists in the calendar. */
export function isIsoDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** PersonMatchInput → Byndle's lookup body, every field checked beyond its GraphQL type. */
function matchInput(input: PersonMatchInput) {
  const text = (field: keyof PersonMatchInput, value: string | null | undefined, max: number) => {
    if (value == null) return undefined;
    const v = value.trim();
    if (v.length === 0 || v.length > max) throw new InputError(`input.${field}`, `1 to ${max} characters`);
    return v;
  };
  const firstName = text('firstName', input.firstName, 100);
  const lastName = text('lastName', input.lastName, 100);
  const street = text('street', input.street, 200);
  const houseNumber = text('houseNumber', input.houseNumber, 20);
  let postalCode: string | undefined;
  if (input.postalCode != null) {
    postalCode = input.postalCode.trim();
    if (!/^\d{4}$/.test(postalCode))
      throw new InputError('input.postalCode', 'a Norwegian postal code of 4 digits');
  }
  let birthDate: string | undefined;
  if (input.birthDate != null) {
    birthDate = input.birthDate.trim();
    if (!isIsoDate(birthDate)) throw new InputError('input.birthDate', 'a date as YYYY-MM-DD');
  }
  const mobile = input.mobile != null ? phoneArg('input.mobile', input.mobile) : undefined;
  if (!street && !postalCode && !birthDate && !mobile) {
    // Byndle matches on names plus something that places the person; names alone are ambiguous.
    throw new InputError(
      'input',
      'firstName and lastName with at least one of street, postalCode, birthDate or mobile',
    );
  }
  return { firstName, lastName, street, houseNumber, postalCode, birthDate, mobile };
}

/** Person, PersonMatch, phone lookups and the Byndle-backed Person fields; Customer.person. */
export const personResolvers: Resolvers = {
  Query: {
    person: async (_root, { nationalId, market }, ctx) => {
      const m = market ?? 'NO';
      const id = validateNationalId(m, nationalId);
      if (!id.ok) throw new InputError('nationalId', id.expected);
      if (m === 'NO') return ctx.loaders.byndle.personByNationalId.load(id.value);
      // SE, DK and FI persons are Bisnode's.
      return ctx.loaders.bisnode.personByNationalId.load(bisnodePersonKey(m, id.value));
    },

    personMatch: (_root, { input }, ctx) => ctx.loaders.byndle.personMatch.load(matchInput(input)),

    personByPhone: (_root, { phoneNumber }, ctx) =>
      ctx.loaders.byndle.personByPhone.load(phoneArg('phoneNumber', phoneNumber)),

    phoneReservation: (_root, { phoneNumber }, ctx) =>
      ctx.loaders.byndle.phoneReservation.load(phoneArg('phoneNumber', phoneNumber)),
  },

  Person: {
    // Person lookup and phone owner answers carry only the current address; the history is in
    // person extended, fetched (once per person per request) only when asked for.
    addressHistory: async (person, _args, ctx) => {
      if ((person as Partial<ByndlePersonModel>).byndleDetail !== 'basic') return person.addressHistory;
      return (await extendedOf(person, ctx))?.person.addressHistory ?? person.addressHistory;
    },

    household: async (person, _args, ctx) => {
      const ext = await extendedOf(person, ctx);
      if (!ext) return [];
      const members = unwrap(await ctx.loaders.byndle.personByByndleId.loadMany(ext.householdByndleIds));
      return members.filter(notNull).map((m) => m.person);
    },

    properties: async (person, _args, ctx) =>
      ((await extendedOf(person, ctx))?.properties ?? []).map((id) => ({ id })),

    vehicles: async (person, _args, ctx) => {
      const ext = await extendedOf(person, ctx);
      if (!ext) return [];
      const vehicles = unwrap(
        await ctx.loaders.byndle.vehicleByRegNr.loadMany(ext.vehicleRegistrationNumbers),
      );
      return vehicles.filter((v): v is VehicleModel => v !== null);
    },

    businessRoles: async (person, _args, ctx) => (await extendedOf(person, ctx))?.businessRoles ?? [],
  },

  HeldBusinessRole: {
    business: (role, _args, ctx) => ctx.loaders.byndle.business.load(role.organizationNumber),
  },

  Customer: {
    // The customer is the person who owns their first mobile number, if Byndle knows them.
    person: (customer, _args, ctx) => {
      const mobile = customer.phoneNumbers.find((p) => p.type.toLowerCase() === 'mobile');
      const number = mobile ? validatePhoneE164(mobile.phoneNumber) : null;
      return number?.ok ? ctx.loaders.byndle.personByPhone.load(number.value) : null;
    },
  },
};

/** Every Byndle-backed resolver map, registered with one line in resolvers/index.ts. */
export const byndleResolvers: Resolvers[] = [
  personResolvers,
  businessResolvers,
  vehicleResolvers,
  ajourholdResolvers,
];
