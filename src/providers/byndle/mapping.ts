/**
 * Byndle bodies → domain models. Pure functions: no I/O, no GraphQL.
 */
import { createHash } from 'node:crypto';
import type {
  AjourholdEntryModel,
  BusinessModel,
  BusinessRoleModel,
  PersonExtendedModel,
  PersonModel,
  VehicleModel,
} from '../../domain.js';
import type {
  Address,
  AjourholdChange,
  AjourholdCorrection,
  BusinessRoleType,
  ByndleWebhook,
  PersonStatus,
  Phone,
  PhoneReservation,
} from '../../generated/resolvers-types.js';
import type {
  ByndleAddress,
  ByndleAjourholdChange,
  ByndleAjourholdEntry,
  ByndleBusiness,
  ByndleMatchedPerson,
  ByndleParty,
  ByndlePerson,
  ByndlePersonExtended,
  ByndlePhoneReservations,
  ByndleRoleName,
  ByndleVehicle,
  ByndleWebhook as ByndleWebhookBody,
} from './schemas.js';

/** Byndle's role names (byndle.md, verbatim) ↔ the API's BusinessRoleType. */
export const ROLE_TYPES: Record<ByndleRoleName, BusinessRoleType> = {
  'Bestyrende reder': 'MANAGING_SHIPOWNER',
  Bobestyrer: 'ESTATE_ADMINISTRATOR',
  'Daglig leder/administrerende direktør': 'CHIEF_EXECUTIVE',
  'Deltaker med proratisk ansvar (delt ansvar)': 'PARTNER_PRO_RATA_LIABILITY',
  'Deltaker med solidarisk ansvar (fullt ansvarlig)': 'PARTNER_JOINT_LIABILITY',
  Forretningsfører: 'BUSINESS_MANAGER',
  Innehaver: 'PROPRIETOR',
  Komplementar: 'GENERAL_PARTNER',
  Kontaktperson: 'CONTACT_PERSON',
  Nestleder: 'DEPUTY_CHAIR',
  'Norsk representant for utenlandsk enhet': 'NORWEGIAN_REPRESENTATIVE',
  Observatør: 'OBSERVER',
  Regnskapsfører: 'ACCOUNTANT',
  Revisor: 'AUDITOR',
  Styremedlem: 'BOARD_MEMBER',
  'Styrets leder': 'BOARD_CHAIR',
  Varamedlem: 'DEPUTY_BOARD_MEMBER',
};

export const ROLE_NAMES = Object.fromEntries(
  Object.entries(ROLE_TYPES).map(([name, type]) => [type, name]),
) as Record<BusinessRoleType, ByndleRoleName>;

/** Byndle's person status ids 1-9 (byndle.md) ↔ PersonStatus. */
export const PERSON_STATUSES: Record<number, PersonStatus> = {
  1: 'RESIDENT',
  2: 'MOVED_OUT',
  3: 'EMIGRATED',
  4: 'MISSING',
  5: 'DECEASED',
  6: 'ID_REPLACED',
  7: 'BIRTH_REGISTERED',
  8: 'ACCESS_ANNULLED',
  9: 'UNREGISTERED',
};

export const STATUS_IDS = Object.fromEntries(
  Object.entries(PERSON_STATUSES).map(([id, status]) => [status, Number(id)]),
) as Record<PersonStatus, number>;

/**
 * A Byndle person carries how much Byndle told us: `basic` from person lookup or phone owner,
 * `extended` from person extended (with address history). Person fields that only the extended
 * answer has fetch it when asked for a `basic` one. A plain property so it survives the cache.
 */
export type ByndlePersonModel = PersonModel & { byndleDetail: 'basic' | 'extended' };

/**
 * What the role or ownership record itself says about the party, besides the reference: a person
 * without a Byndle id (not registered in Norway) as a summary, a business's name. Lets the link
 * resolvers answer without a call when that is all a query asks for.
 */
export interface PartySummary {
  person?: PersonModel;
  businessName?: string;
}
export type ByndleBusinessRoleModel = BusinessRoleModel & { holderSummary?: PartySummary };
export type ByndleVehicleModel = VehicleModel & { ownerSummary?: PartySummary };

export const personId = (byndleId: string) => `byndle:${byndleId}`;
export const businessId = (orgNr: string) => `business:${orgNr}`;
export const vehicleId = (regNr: string) => `vehicle:${regNr}`;

const orNull = (s: string | null | undefined) => (s === undefined || s === null || s === '' ? null : s);

export function toAddress(a: ByndleAddress): Address {
  return {
    street: orNull(a.street),
    houseNumber: orNull(a.houseNumber),
    entrance: orNull(a.entrance),
    dwellingNumber: orNull(a.dwellingNumber),
    postalCode: orNull(a.postalCode),
    city: orNull(a.city),
    country: orNull(a.country),
    formatted: orNull(a.fullAddress),
    validFrom: a.validFrom,
    validTo: a.validTo,
  };
}

function phonesOf(p: ByndlePerson): Phone[] {
  const phones: Phone[] = [];
  if (p.mobile) phones.push({ number: p.mobile, type: 'MOBILE' });
  if (p.landline) phones.push({ number: p.landline, type: 'LANDLINE' });
  return phones;
}

export function toPerson(p: ByndlePerson, matchLevel: number | null = null): ByndlePersonModel {
  const address = p.address ? toAddress(p.address) : null;
  return {
    id: personId(p.byndleId),
    market: 'NO',
    nationalId: orNull(p.nationalId),
    firstName: orNull(p.firstName),
    middleName: orNull(p.middleName),
    lastName: orNull(p.lastName),
    birthDate: orNull(p.birthDate),
    gender: p.gender,
    status: PERSON_STATUSES[p.status.id] ?? null,
    address,
    addressHistory: address ? [address] : [],
    phones: phonesOf(p),
    emails: p.email ? [p.email] : [],
    marketingRestrictions: {
      directMail: p.reservations.reservedDm,
      phoneSales: p.reservations.reservedPhoneSale,
      humanitarian: p.reservations.reservedHumOrg,
    },
    byndleId: p.byndleId,
    gedi: null,
    sources: [{ provider: 'BYNDLE', providerId: p.byndleId, matchLevel }],
    byndleDetail: 'basic',
  };
}

export function toPersonExtended(
  x: ByndlePersonExtended,
): PersonExtendedModel & { person: ByndlePersonModel } {
  const person = toPerson(x.person);
  return {
    person: {
      ...person,
      addressHistory: x.addressHistory.map(toAddress),
      // The extended answer lists every number (mobile first), not just one of each kind.
      phones: x.phones.map((ph) => ({
        number: ph.number,
        type: ph.type === 'mobile' ? 'MOBILE' : 'LANDLINE',
      })),
      byndleDetail: 'extended',
    },
    householdByndleIds: x.household.members.map((m) => m.byndleId).filter((id) => id !== ''),
    properties: x.properties.map((p) => p.propertyId),
    vehicleRegistrationNumbers: x.vehicles.map((v) => v.regNr),
    businessRoles: x.businessRoles.map((r) => ({
      organizationNumber: r.orgNr,
      role: ROLE_TYPES[r.role],
      since: orNull(r.since),
    })),
  };
}

export function toMatch(m: ByndleMatchedPerson): {
  person: ByndlePersonModel;
  matchLevel: number;
  maintained: boolean;
} {
  return {
    person: toPerson(m, m.matchLevel),
    matchLevel: m.matchLevel,
    // Level 1 (identified by national id or mobile) is better than 2; Byndle maintains levels up to 9.
    maintained: m.matchLevel <= 9,
  };
}

/**
 * A person known only from a role or ownership record (no Byndle id: not registered in Norway).
 * The id is derived from what identifies them there, hashed so names do not show in ids.
 */
function unregisteredPerson(p: Extract<ByndleParty, { type: 'person' }>): PersonModel {
  const digest = createHash('sha256')
    .update(`${p.firstName}\u0000${p.lastName}\u0000${p.birthDate}`)
    .digest('base64url')
    .slice(0, 16);
  return {
    id: `byndle-unregistered:${digest}`,
    market: 'NO',
    nationalId: null,
    firstName: orNull(p.firstName),
    middleName: orNull(p.middleName),
    lastName: orNull(p.lastName),
    birthDate: orNull(p.birthDate),
    gender: null,
    status: null,
    address: null,
    addressHistory: [],
    phones: [],
    emails: [],
    marketingRestrictions: null,
    byndleId: null,
    gedi: null,
    sources: [{ provider: 'BYNDLE', providerId: null, matchLevel: null }],
  };
}

function toParty(p: ByndleParty): { ref: BusinessRoleModel['holder']; summary: PartySummary } {
  if (p.type === 'business') {
    return { ref: { kind: 'business', organizationNumber: p.orgNr }, summary: { businessName: p.name } };
  }
  if (p.byndleId) return { ref: { kind: 'person', byndleId: p.byndleId }, summary: {} };
  return { ref: null, summary: { person: unregisteredPerson(p) } };
}

export function toBusiness(b: ByndleBusiness): BusinessModel & { roles: ByndleBusinessRoleModel[] } {
  return {
    id: businessId(b.orgNr),
    organizationNumber: b.orgNr,
    name: b.name,
    form: orNull(b.organisationForm),
    address: b.address ? toAddress(b.address) : null,
    registeredDate: orNull(b.registeredDate),
    industryCode: orNull(b.industryCode),
    employees: b.employees,
    roles: b.roles.map((r) => {
      const { ref, summary } = toParty(r.holder);
      return { role: ROLE_TYPES[r.role], since: orNull(r.since), holder: ref, holderSummary: summary };
    }),
  };
}

export function toVehicle(v: ByndleVehicle): ByndleVehicleModel {
  const { ref, summary } = toParty(v.owner);
  return {
    id: vehicleId(v.regNr),
    registrationNumber: v.regNr,
    vin: orNull(v.vin),
    make: orNull(v.make),
    model: orNull(v.model),
    year: v.year,
    color: orNull(v.color),
    fuel: v.fuel,
    firstRegistered: orNull(v.firstRegistered),
    owner: ref,
    ownerSummary: summary,
  };
}

export function toPhoneReservation(r: ByndlePhoneReservations): PhoneReservation {
  return {
    phoneNumber: r.phoneNumber,
    directMail: r.reservedDm,
    phoneSales: r.reservedPhoneSale,
    humanitarian: r.reservedHumOrg,
  };
}

export function toAjourholdEntry(e: ByndleAjourholdEntry): AjourholdEntryModel {
  const dwelling = e.dwellingNumber ? `, ${e.dwellingNumber}` : '';
  const hasAddress = e.street !== '' || e.postalCode !== '';
  return {
    externalId: e.externalId,
    byndleId: orNull(e.byndleId),
    matchLevel: e.matchLevel,
    maintained: e.maintained,
    firstName: orNull(e.firstName),
    lastName: orNull(e.lastName),
    address: hasAddress
      ? {
          street: orNull(e.street),
          houseNumber: orNull(e.houseNumber),
          entrance: orNull(e.entrance),
          dwellingNumber: orNull(e.dwellingNumber),
          postalCode: orNull(e.postalCode),
          city: orNull(e.city),
          country: 'NO',
          formatted: `${e.street} ${e.houseNumber}${e.entrance}${dwelling}, ${e.postalCode} ${e.city}`.trim(),
          validFrom: null,
          validTo: null,
        }
      : null,
    birthDate: orNull(e.birthDate),
  };
}

/** Correction fields that may carry a national id: never echoed back, whatever Byndle sends. */
const SECRET_CORRECTION_FIELD = /national|ssn|fnr|personnummer|identity/i;

/**
 * Byndle's corrections of an added entry, values as strings. A national id is never listed: the
 * caller sent it, and the corrected value is personal data nordgraph does not hand out here.
 */
export function toAjourholdCorrections(e: ByndleAjourholdEntry): AjourholdCorrection[] {
  const str = (v: string | number | boolean | null) => (v === null || v === '' ? null : String(v));
  return e.corrections
    .filter((c) => !SECRET_CORRECTION_FIELD.test(c.field))
    .map((c) => ({ field: c.field, sent: str(c.sent), corrected: str(c.corrected) }));
}

export function toAjourholdChange(c: ByndleAjourholdChange): AjourholdChange {
  return {
    externalId: c.externalId,
    byndleId: orNull(c.byndleId),
    events: c.changes.map((e) => e.eventName),
    changedAt: c.lastChangedAt,
  };
}

export function toWebhook(w: ByndleWebhookBody): ByndleWebhook {
  return { url: w.url, events: w.events };
}
