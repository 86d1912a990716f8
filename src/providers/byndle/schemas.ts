/**
 * Byndle's response bodies, written from the sandbox's OpenAPI document (GET /openapi.json) and
 * byndle.md. Deliberately not imported from src/sandbox: the sandbox is a second reading of the
 * same contract, so a misreading on either side fails a test instead of agreeing with itself.
 */
import { z } from 'zod';

/** The Brønnøysund role names Byndle filters and reports by, verbatim from byndle.md. */
export const BYNDLE_ROLE_NAMES = [
  'Bestyrende reder',
  'Bobestyrer',
  'Daglig leder/administrerende direktør',
  'Deltaker med proratisk ansvar (delt ansvar)',
  'Deltaker med solidarisk ansvar (fullt ansvarlig)',
  'Forretningsfører',
  'Innehaver',
  'Komplementar',
  'Kontaktperson',
  'Nestleder',
  'Norsk representant for utenlandsk enhet',
  'Observatør',
  'Regnskapsfører',
  'Revisor',
  'Styremedlem',
  'Styrets leder',
  'Varamedlem',
] as const;
export const roleName = z.enum(BYNDLE_ROLE_NAMES);
export type ByndleRoleName = z.infer<typeof roleName>;

const gender = z.enum(['MALE', 'FEMALE']);
const phoneType = z.enum(['mobile', 'landline']);

export const status = z.object({ id: z.number().int().min(1).max(9), description: z.string() });

export const address = z.object({
  street: z.string(),
  houseNumber: z.string(),
  entrance: z.string(),
  dwellingNumber: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
  fullAddress: z.string(),
  validFrom: z.string().nullable(),
  validTo: z.string().nullable(),
});
export type ByndleAddress = z.infer<typeof address>;

export const reservations = z.object({
  reservedDm: z.boolean(),
  reservedPhoneSale: z.boolean(),
  reservedHumOrg: z.boolean(),
});

export const person = z.object({
  byndleId: z.string(),
  nationalId: z.string(),
  firstName: z.string(),
  middleName: z.string().nullable(),
  lastName: z.string(),
  gender,
  birthDate: z.string(),
  deceasedDate: z.string().nullable(),
  status,
  address: address.nullable(),
  mobile: z.string().nullable(),
  landline: z.string().nullable(),
  email: z.string().nullable(),
  reservations,
  buildingType: z.string(),
  maritalStatus: z.enum(['UNMARRIED', 'MARRIED', 'DIVORCED', 'WIDOWED']),
});
export type ByndlePerson = z.infer<typeof person>;

/** POST /v1/lookup/person: matchLevel 1 when identified by national id or mobile, else 2-12. */
export const matchedPerson = person.extend({
  matchLevel: z.number().int().min(1).max(12),
  matchedOn: z.enum(['nationalId', 'mobile', 'nameAndAddress']),
});
export type ByndleMatchedPerson = z.infer<typeof matchedPerson>;

const phone = z.object({ number: z.string(), type: phoneType });

export const personExtended = z.object({
  person,
  addressHistory: z.array(address),
  household: z.object({
    householdId: z.string(),
    buildingType: z.string(),
    members: z.array(
      z.object({
        byndleId: z.string(),
        firstName: z.string(),
        lastName: z.string(),
        birthDate: z.string(),
        gender,
      }),
    ),
  }),
  properties: z.array(
    z.object({
      propertyId: z.string(),
      municipalityNumber: z.string().nullable(),
      gnr: z.number().int().nullable(),
      bnr: z.number().int().nullable(),
    }),
  ),
  vehicles: z.array(
    z.object({
      regNr: z.string(),
      vin: z.string(),
      make: z.string(),
      model: z.string(),
      year: z.number().int(),
    }),
  ),
  businessRoles: z.array(
    z.object({ orgNr: z.string(), businessName: z.string(), role: roleName, since: z.string() }),
  ),
  phones: z.array(phone),
});
export type ByndlePersonExtended = z.infer<typeof personExtended>;

export const personPhones = z.object({
  byndleId: z.string(),
  phones: z.array(phone.extend({ reservedPhoneSale: z.boolean() })),
});

export const phoneOwner = z.object({ phoneNumber: z.string(), type: phoneType, owner: person });
export type ByndlePhoneOwner = z.infer<typeof phoneOwner>;

export const phoneReservations = reservations.extend({ phoneNumber: z.string(), byndleId: z.string() });
export type ByndlePhoneReservations = z.infer<typeof phoneReservations>;

export const party = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('person'),
    /** Null when the person is not registered in Norway. */
    byndleId: z.string().nullable(),
    firstName: z.string(),
    middleName: z.string().nullable(),
    lastName: z.string(),
    birthDate: z.string(),
  }),
  z.object({ type: z.literal('business'), orgNr: z.string(), name: z.string() }),
]);
export type ByndleParty = z.infer<typeof party>;

export const business = z.object({
  orgNr: z.string(),
  name: z.string(),
  organisationForm: z.string(),
  address: address.nullable(),
  registeredDate: z.string(),
  industryCode: z.string(),
  employees: z.number().int(),
  roles: z.array(z.object({ role: roleName, since: z.string(), holder: party })),
});
export type ByndleBusiness = z.infer<typeof business>;

export const vehicle = z.object({
  regNr: z.string(),
  vin: z.string(),
  make: z.string(),
  model: z.string(),
  year: z.number().int(),
  color: z.string(),
  fuel: z.enum(['Petrol', 'Diesel', 'Electric', 'Hybrid']),
  firstRegistered: z.string(),
  owner: party,
});
export type ByndleVehicle = z.infer<typeof vehicle>;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const ajourholdEntry = z.object({
  ajourholdId: z.string(),
  externalId: z.string(),
  byndleId: z.string().nullable(),
  matchLevel: z.number().int().min(2).max(12).nullable(),
  maintained: z.boolean(),
  status: status.nullable(),
  firstName: z.string(),
  middleName: z.string().nullable(),
  lastName: z.string(),
  street: z.string(),
  houseNumber: z.string(),
  entrance: z.string(),
  dwellingNumber: z.string(),
  postalCode: z.string(),
  city: z.string(),
  birthDate: z.string(),
  nationalId: z.string().nullable(),
  mobile: z.string().nullable(),
  landline: z.string().nullable(),
  reservations: reservations.nullable(),
  buildingType: z.string().nullable(),
  corrections: z.array(z.object({ field: z.string(), sent: scalar, corrected: scalar })),
  addedAt: z.string(),
  updatedAt: z.string(),
});
export type ByndleAjourholdEntry = z.infer<typeof ajourholdEntry>;

/** DELETE .../entries/externalId/{externalId} and .../entries/byndleId/{byndleId}. */
export const ajourholdRemoved = z.object({ ajourholdId: z.string(), removed: z.array(ajourholdEntry) });
export type ByndleAjourholdRemoved = z.infer<typeof ajourholdRemoved>;

/**
 * Request body of POST /v1/ajourhold/{ajourholdId}/entries (ByndleAjourholdEntryInput; no other
 * properties allowed). `street` and `houseNumber` may be empty strings but must be sent.
 */
export interface ByndleAjourholdEntryInput {
  externalId: string;
  firstName: string;
  lastName: string;
  street: string;
  houseNumber: string;
  postalCode: string;
  city: string;
  birthDate: string;
  nationalId?: string;
  mobile?: string;
}

const pageFields = {
  ajourholdId: z.string(),
  page: z.number().int(),
  pageSize: z.number().int(),
  totalCount: z.number().int(),
  totalPages: z.number().int(),
};

export const ajourholdEntryPage = z.object({ ...pageFields, items: z.array(ajourholdEntry) });
export type ByndleAjourholdEntryPage = z.infer<typeof ajourholdEntryPage>;

/** Event names are kept as strings: a new event kind should not break reading the list. */
export const ajourholdEvent = z.object({
  eventId: z.string(),
  eventName: z.string(),
  occurredAt: z.string(),
  externalId: z.string(),
  byndleId: z.string().nullable(),
  field: z.string().nullable(),
  oldValue: scalar,
  newValue: scalar,
});

export const ajourholdChange = z.object({
  externalId: z.string(),
  byndleId: z.string().nullable(),
  lastChangedAt: z.string(),
  removed: z.boolean(),
  changes: z.array(ajourholdEvent),
  entry: ajourholdEntry.nullable(),
});
export type ByndleAjourholdChange = z.infer<typeof ajourholdChange>;

export const ajourholdChangePage = z.object({
  ...pageFields,
  since: z.string(),
  items: z.array(ajourholdChange),
});
export type ByndleAjourholdChangePage = z.infer<typeof ajourholdChangePage>;

export const webhook = z.object({
  ajourholdId: z.string(),
  url: z.string(),
  username: z.string(),
  events: z.array(z.string()),
  createdAt: z.string(),
});
export type ByndleWebhook = z.infer<typeof webhook>;

/** GET /v1/auth/token, only what the client needs (the token fetcher in tokens.ts reads it). */
export const token = z.object({ token: z.string().min(1), expires: z.string().min(1) });
