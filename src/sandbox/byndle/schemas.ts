import { z } from '@hono/zod-openapi';
import { BYNDLE_ROLES } from '../population/types.js';

/**
 * Byndle's error body (designed; the public page shows none): the HTTP status repeated, a
 * PascalCase error code, and a human-readable message. Used for every error status, including
 * validation failures and injected faults.
 */
export const ErrorSchema = z
  .object({
    status: z.number().int().openapi({ example: 404 }),
    error: z.string().openapi({
      example: 'NotFound',
      description:
        'PascalCase code: BadRequest, Unauthorized, NotFound, Conflict, TooManyRequests, InternalServerError, ServiceUnavailable',
    }),
    message: z.string().openapi({ example: 'No person matched the provided data' }),
  })
  .openapi('ByndleError', { description: 'Error body of every Byndle error response.' });

export type ErrorStatus = 400 | 401 | 404 | 409;

/** Response entries for the error statuses a route can answer, all with the Byndle error body. */
export function errors<S extends ErrorStatus>(
  ...statuses: S[]
): Record<S, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }> {
  const descriptions: Record<ErrorStatus, string> = {
    400: 'Invalid input (validation failure or unknown value)',
    401: 'Missing, invalid or expired bearer token',
    404: 'Nothing found',
    409: 'Conflict with existing data',
  };
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: descriptions[s], content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as Record<S, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>;
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const bearerSecurity = [{ Bearer: [] as string[] }];

export const StatusSchema = z
  .object({
    id: z.number().int().min(1).max(9).openapi({ example: 1 }),
    description: z.string().openapi({ example: 'Bosatt / Aktiv' }),
  })
  .openapi('ByndlePersonStatus', {
    description:
      "Byndle's person status: 1 Bosatt / Aktiv, 2 Utflyttet, 3 Utvandret, 4 Forsvunnet, 5 død, 6 Utgått fødselsnummer korrigret til nytt, 7 Fødselsregistrert, 8 Annulert tilgang, 9 Uregistrert person (descriptions verbatim from Byndle).",
  });

export const AddressSchema = z
  .object({
    street: z.string().openapi({ example: 'Storgata' }),
    houseNumber: z.string().openapi({ example: '12' }),
    entrance: z
      .string()
      .openapi({ example: 'B', description: 'Letter after the house number; empty when none' }),
    dwellingNumber: z
      .string()
      .openapi({ example: 'H0101', description: 'Bruksenhetsnummer; empty when none' }),
    postalCode: z.string().openapi({ example: '0150' }),
    city: z.string().openapi({ example: 'OSLO' }),
    country: z.string().openapi({ example: 'NO' }),
    fullAddress: z.string().openapi({ example: 'Storgata 12B, H0101, 0150 OSLO' }),
    validFrom: z.string().nullable().openapi({ example: '2019-08-01' }),
    validTo: z.string().nullable().openapi({ example: null, description: 'null for the current address' }),
  })
  .openapi('ByndleAddress');

export const ReservationsSchema = z
  .object({
    reservedDm: z.boolean().openapi({ description: 'Reserved against direct mail' }),
    reservedPhoneSale: z.boolean().openapi({ description: 'Reserved against phone sales' }),
    reservedHumOrg: z.boolean().openapi({ description: 'Reserved against humanitarian organisations' }),
  })
  .openapi('ByndleReservations');

export const PersonSchema = z
  .object({
    byndleId: z.string().openapi({ example: 'BY4662EF92' }),
    nationalId: z.string().openapi({ example: '01017012345', description: 'Fødselsnummer or D-number' }),
    firstName: z.string().openapi({ example: 'Ola' }),
    middleName: z.string().nullable().openapi({ example: null }),
    lastName: z.string().openapi({ example: 'Nordmann' }),
    gender: z.enum(['MALE', 'FEMALE']),
    birthDate: z.string().openapi({ example: '1970-01-01' }),
    deceasedDate: z.string().nullable(),
    status: StatusSchema,
    address: AddressSchema.nullable(),
    mobile: z.string().nullable().openapi({ example: '+4791234567', description: 'E.164' }),
    landline: z.string().nullable().openapi({ example: null, description: 'E.164' }),
    email: z.string().nullable(),
    reservations: ReservationsSchema,
    buildingType: z.string().openapi({ example: 'Enebolig' }),
    maritalStatus: z.enum(['UNMARRIED', 'MARRIED', 'DIVORCED', 'WIDOWED']),
  })
  .openapi('ByndlePerson');

export const MatchedPersonSchema = PersonSchema.extend({
  matchLevel: z.number().int().min(1).max(12).openapi({
    example: 2,
    description:
      '1 when identified by national id or mobile number; otherwise the match level (2-12) from the match-level table',
  }),
  matchedOn: z.enum(['nationalId', 'mobile', 'nameAndAddress']),
}).openapi('ByndleMatchedPerson');

export const PersonHolderSchema = z
  .object({
    type: z.literal('person'),
    byndleId: z
      .string()
      .nullable()
      .openapi({ description: 'null when the person is not registered in Norway' }),
    firstName: z.string(),
    middleName: z.string().nullable(),
    lastName: z.string(),
    birthDate: z.string(),
  })
  .openapi('ByndlePersonParty');

export const BusinessHolderSchema = z
  .object({
    type: z.literal('business'),
    orgNr: z.string().openapi({ example: '923609016' }),
    name: z.string(),
  })
  .openapi('ByndleBusinessParty');

export const PartySchema = z
  .discriminatedUnion('type', [PersonHolderSchema, BusinessHolderSchema])
  .openapi('ByndleParty', { description: 'A person or a business (role holder, vehicle owner)' });

export const RoleNameSchema = z.enum(BYNDLE_ROLES).openapi('ByndleRoleName');

export const BusinessRoleSchema = z
  .object({
    role: RoleNameSchema,
    since: z.string().openapi({ example: '2015-03-01' }),
    holder: PartySchema,
  })
  .openapi('ByndleBusinessRole');

export const BusinessSchema = z
  .object({
    orgNr: z.string().openapi({ example: '923609016' }),
    name: z.string().openapi({ example: 'Fjordkraft Testdata AS' }),
    organisationForm: z.string().openapi({ example: 'AS' }),
    address: AddressSchema,
    registeredDate: z.string(),
    industryCode: z.string().openapi({ example: '62.010', description: 'NACE' }),
    employees: z.number().int(),
    roles: z.array(BusinessRoleSchema),
  })
  .openapi('ByndleBusiness');

export const VehicleSchema = z
  .object({
    regNr: z.string().openapi({ example: 'EL12345' }),
    vin: z.string().openapi({ example: 'WVWZZZ1JZXW000001' }),
    make: z.string(),
    model: z.string(),
    year: z.number().int(),
    color: z.string(),
    fuel: z.enum(['Petrol', 'Diesel', 'Electric', 'Hybrid']),
    firstRegistered: z.string(),
    owner: PartySchema,
  })
  .openapi('ByndleVehicle');

export const PhoneSchema = z
  .object({
    number: z.string().openapi({ example: '+4791234567' }),
    type: z.enum(['mobile', 'landline']),
  })
  .openapi('ByndlePhone');

export const PersonExtendedSchema = z
  .object({
    person: PersonSchema,
    addressHistory: z
      .array(AddressSchema)
      .openapi({ description: 'Current address first, then earlier ones' }),
    household: z.object({
      householdId: z.string(),
      buildingType: z.string(),
      members: z.array(
        z.object({
          byndleId: z.string(),
          firstName: z.string(),
          lastName: z.string(),
          birthDate: z.string(),
          gender: z.enum(['MALE', 'FEMALE']),
        }),
      ),
    }),
    properties: z.array(
      z.object({
        propertyId: z
          .string()
          .openapi({ example: '0301-208/41', description: 'Matrikkel id: kommunenr-gnr/bnr' }),
        municipalityNumber: z.string().nullable().openapi({ example: '0301' }),
        gnr: z.number().int().nullable().openapi({ example: 208, description: 'Gårdsnummer' }),
        bnr: z.number().int().nullable().openapi({ example: 41, description: 'Bruksnummer' }),
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
      z.object({ orgNr: z.string(), businessName: z.string(), role: RoleNameSchema, since: z.string() }),
    ),
    phones: z.array(PhoneSchema),
  })
  .openapi('ByndlePersonExtended');

export const EVENT_NAMES = [
  'reservedDm.changed',
  'reservedPhoneSale.changed',
  'reservedHumOrg.changed',
  'buildingType.changed',
  'mobNr.changed',
  'telNr.changed',
  'name.last.changed',
  'name.first.changed',
  'address.postNr.changed',
  'address.dwellingNr.changed',
  'address.streetNr.changed',
  'address.streetName.changed',
  'address.full.changed',
  'sourceMatchLevel.changed',
  'status.changed',
  'entry.removed',
  'entry.added',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const EntryInputSchema = z
  .object({
    externalId: z
      .string()
      .min(1)
      .max(100)
      .openapi({ example: 'CUST-1001', description: 'Your id; unique per ajourhold' }),
    firstName: z.string().min(1).max(100).openapi({ example: 'Ola' }),
    lastName: z.string().min(1).max(100).openapi({ example: 'Nordmann' }),
    street: z.string().max(200).openapi({ example: 'Storgata' }),
    houseNumber: z.string().max(20).openapi({ example: '12B', description: 'May be empty' }),
    postalCode: z
      .string()
      .regex(/^\d{4}$/)
      .openapi({ example: '0150' }),
    city: z.string().max(100).openapi({ example: 'OSLO' }),
    birthDate: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .openapi({ example: '1970-01-01' }),
    nationalId: z
      .string()
      .regex(/^\d{11}$/)
      .optional(),
    mobile: z.string().max(20).optional().openapi({ example: '+4791234567' }),
  })
  .strict()
  .openapi('ByndleAjourholdEntryInput');

export const EntrySchema = z
  .object({
    ajourholdId: z.string(),
    externalId: z.string(),
    byndleId: z.string().nullable(),
    matchLevel: z
      .number()
      .int()
      .min(2)
      .max(12)
      .nullable()
      .openapi({ description: 'null when nothing matched (yet)' }),
    maintained: z
      .boolean()
      .openapi({ description: 'true for match levels 2-9: the entry is kept updated and notified' }),
    status: StatusSchema.nullable(),
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
    reservations: ReservationsSchema.nullable(),
    buildingType: z.string().nullable(),
    corrections: z
      .array(z.object({ field: z.string(), sent: Scalar, corrected: Scalar }))
      .openapi({ description: 'Fields Byndle corrected from its registers when the entry was added' }),
    addedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ByndleAjourholdEntry');

export const EventSchema = z
  .object({
    eventId: z.string().openapi({ description: 'Unique; the same on every redelivery of the event' }),
    eventName: z.enum(EVENT_NAMES),
    occurredAt: z.string(),
    externalId: z.string(),
    byndleId: z.string().nullable(),
    field: z.string().nullable().openapi({ example: 'mobile' }),
    oldValue: Scalar,
    newValue: Scalar,
  })
  .openapi('ByndleAjourholdEvent');

export const PageMeta = {
  page: z.number().int().openapi({ example: 1 }),
  pageSize: z.number().int().openapi({ example: 100 }),
  totalCount: z.number().int().openapi({ example: 250 }),
  totalPages: z.number().int().openapi({ example: 3 }),
};

export const PageQuery = {
  page: z.coerce.number().int().min(1).default(1).openapi({ description: '1-based page number', example: 1 }),
  pageSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ description: 'Items per page, at most 1000', example: 100 }),
};

export const WebhookInputSchema = z
  .object({
    url: z.url().openapi({ example: 'https://example.no/byndle/webhook' }),
    username: z.string().min(1).max(200),
    password: z.string().min(1).max(200),
    events: z
      .array(z.enum(EVENT_NAMES))
      .min(1)
      .optional()
      .openapi({ description: 'Events to receive; all when absent' }),
  })
  .strict()
  .openapi('ByndleWebhookInput');

export const WebhookSchema = z
  .object({
    ajourholdId: z.string(),
    url: z.string(),
    username: z.string(),
    events: z.array(z.enum(EVENT_NAMES)),
    createdAt: z.string(),
  })
  .openapi('ByndleWebhook', { description: 'The password is never returned' });
