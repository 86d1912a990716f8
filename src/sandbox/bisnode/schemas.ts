import { z } from '@hono/zod-openapi';

/**
 * The wire shapes of Consumer Intelligence V3 as this sandbox serves them. Named components
 * follow the document's DTO names where it gives them (ConsumerDataDto, WebhookEventTypeDto,
 * SourceName, GediSource, LifeEventTrigger).
 */

export const MARKETS = ['SE', 'NO', 'DK', 'FI'] as const;
export type BisnodeMarket = (typeof MARKETS)[number];

export const SOURCE_NAMES = ['CPR', 'CUSTOM_SANDBOX', 'DUN_BRADSTREET', 'DVV', 'FREG', 'SPAR'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
export const sourceNameSchema = z.enum(SOURCE_NAMES).openapi('SourceName', { example: 'SPAR' });

/** The population register each market is identified against. */
export const SOURCE_BY_MARKET: Record<BisnodeMarket, SourceName> = {
  DK: 'CPR',
  FI: 'DVV',
  NO: 'FREG',
  SE: 'SPAR',
};

/** Event `market` values: the four served markets, and XX for anything else. */
export const eventMarketSchema = z.enum(['DK', 'FI', 'NO', 'SE', 'XX']).openapi('EventMarket', {
  description: 'Market of the consumer or person. Markets the client has no source for are reported as XX.',
  example: 'SE',
});
export type EventMarket = z.infer<typeof eventMarketSchema>;

const precision = z.enum(['YEAR', 'MONTH', 'DAY']).openapi('DatePrecision', {
  description:
    'How much of the paired date is known. Unknown parts are filled conservatively (an unknown birth date in 2005 is 2005-12-31).',
});

// ---------------------------------------------------------------------------------------------
// Find person / ConsumerDataDto
// ---------------------------------------------------------------------------------------------

const s250 = (description: string, example?: string) =>
  z
    .string()
    .max(250)
    .nullish()
    .openapi({ description, ...(example !== undefined ? { example } : {}) });

export const consumerDataSchema = z
  .object({
    legalId: s250(
      'National identity number, matched exactly (after trimming). SE in the 12-digit form YYYYMMDDNNNC, NO 11 digits, DK 10 digits, FI DDMMYYCZZZQ. When given, it alone decides the match.',
      '198001022386',
    ),
    firstName: s250(
      'First name(s); only the first 3 names are used. Separators: space, comma, dash.',
      'Anna',
    ),
    familyName: s250('Family name(s); only the first 3 names are used.', 'Andersson'),
    dateOfBirth: z.iso.date().nullish().openapi({ description: 'YYYY-MM-DD', example: '1980-09-23' }),
    yearOfBirth: z.number().int().min(0).max(9999).nullish().openapi({ example: 1969 }),
    streetName: s250('Street name of a current or earlier address.', 'Storgatan'),
    streetNumber: s250('Street number of a current or earlier address.', '22'),
    postalCode: s250('Postal code; spaces are ignored.', '41114'),
    city: s250('Postal city.', 'Göteborg'),
    entrance: s250('Entrance (letter after the number).', 'A'),
    floor: s250('Floor.', '3'),
    apartment: s250('Apartment.', '1522'),
    fullAddress: s250(
      'One-string address, parsed as "<street name> <number><entrance>[, <postal code> <city>]". Parsed parts fill only fields that are null or absent; an empty string keeps a field unparsed.',
      'Storgatan 22B',
    ),
    phoneNumber: s250(
      'A current or earlier phone number, preferably E.164. National forms are read in the market (leading 00 or the trunk 0 is accepted).',
      '+46704284712',
    ),
    gender: z.enum(['MALE', 'FEMALE', 'OTHER']).nullish(),
  })
  .openapi('ConsumerDataDto', {
    description:
      'Data to identify a person. Matching: `legalId` decides alone. Otherwise every group given must agree with one person (name: firstName and familyName; birth: dateOfBirth or yearOfBirth; address: streetName with postalCode or city, plus streetNumber/entrance if given; phone; gender) and the agreeing groups must be one of: name+birth, name+address, name+phone, birth+address, or phone alone. A phone-only match never returns a person reserved against telemarketing. Persons with protected identity and minors are never found. More than one candidate is no match.',
  });
export type ConsumerData = z.infer<typeof consumerDataSchema>;

// ---------------------------------------------------------------------------------------------
// Person (V3)
// ---------------------------------------------------------------------------------------------

const personStatus = z
  .object({
    active: z.boolean().openapi({ description: 'Registered as living in the market.' }),
    protected: z.boolean().openapi({ description: 'Protected identity (V2 protectedIdentity).' }),
    deceased: z.boolean(),
    deregistered: z.boolean().openapi({ description: 'Moved abroad, missing, or otherwise deregistered.' }),
    deregistrationReason: z
      .enum(['EMIGRATED', 'MOVED_OUT', 'MISSING', 'ID_REPLACED', 'ANNULLED', 'UNREGISTERED'])
      .nullable(),
  })
  .openapi('PersonStatus');

const relationships = z
  .object({
    householdMembers: z
      .array(z.string())
      .openapi({ description: 'Gedis of the other persons registered at the same current address.' }),
  })
  .openapi('Relationships');

const relocationEvent = z
  .object({
    type: z.enum(['DOMESTIC', 'EMIGRATION']),
    relocationDate: z.iso.date(),
    relocationDatePrecision: precision,
    country: z.string().openapi({ example: 'SE' }),
  })
  .openapi('RelocationEvent');

const address = z
  .object({
    type: z.literal('POSTAL'),
    subType: z.literal('DOMICILE'),
    current: z.boolean(),
    careOf: z.string().nullable(),
    streetName: z.string(),
    streetNumber: z.string().nullable(),
    entrance: z.string().nullable(),
    floor: z.string().nullable(),
    apartment: z.string().nullable(),
    postalCode: z.string(),
    city: z.string(),
    country: z.string(),
    validFromDate: z.iso.date().nullable(),
    validFromDatePrecision: precision.nullable(),
    validToDate: z.iso.date().nullable(),
    validToDatePrecision: precision.nullable(),
  })
  .openapi('PersonAddress', { description: 'Current address first, then earlier ones, newest first.' });

const phoneNumber = z
  .object({
    number: z.string().openapi({ example: '+46704284712' }),
    type: z.enum(['MOBILE', 'LANDLINE']),
    telemarketingRestriction: z.boolean().openapi({ description: 'Reserved against phone sales.' }),
  })
  .openapi('PersonPhoneNumber');

export const ENRICHMENT_VARIABLES = [
  'householdSize',
  'buildingType',
  'incomeClass',
  'purchasingPowerIndex',
  'urbanization',
  'carOwnershipProbability',
] as const;
export type EnrichmentVariable = (typeof ENRICHMENT_VARIABLES)[number];

const enrichment = z
  .object({
    householdSize: z.number().int().openapi({ description: 'Persons registered at the current address.' }),
    buildingType: z.enum(['DETACHED_HOUSE', 'TERRACED_HOUSE', 'APARTMENT', 'OTHER']),
    incomeClass: z
      .number()
      .int()
      .min(1)
      .max(9)
      .openapi({ description: 'Modelled income class, 1 (low) to 9.' }),
    purchasingPowerIndex: z.number().int().openapi({ description: 'Modelled, 100 = market average.' }),
    urbanization: z.enum(['URBAN', 'SUBURBAN', 'RURAL']),
    carOwnershipProbability: z.number().int().min(0).max(100),
  })
  .openapi('Enrichment', {
    description: 'Statistical variables. A change to one of them emits ENRICHMENT_CHANGED with its name.',
  });

const metadata = z
  .object({
    updatedTimestamp: z.iso.datetime(),
    sources: z.array(
      z
        .object({ updatedTimestamp: z.iso.datetime(), name: sourceNameSchema, market: z.string() })
        .openapi('PersonSource'),
    ),
  })
  .openapi('PersonMetadata');

const validityPeriod = z
  .object({
    startDate: z.iso.date().nullable(),
    startDatePrecision: precision.nullable(),
    endDate: z.iso.date().nullable(),
    endDatePrecision: precision.nullable(),
  })
  .openapi('ValidityPeriod');

const legalId = z
  .object({
    identityNumber: z.string().openapi({ example: '198001022386' }),
    temporary: z.boolean().openapi({ description: 'A temporary number, e.g. a Norwegian D-number.' }),
    validityPeriod: validityPeriod.nullable(),
    history: z.array(z.object({ identityNumber: z.string(), validityPeriod: validityPeriod.nullable() })),
  })
  .openapi('LegalId');

export const personSchema = z
  .object({
    status: personStatus,
    relationships,
    relocationEvents: z.array(relocationEvent),
    addresses: z.array(address),
    birthPlace: z.object({ country: z.string(), city: z.string().nullable() }).nullable(),
    phoneNumbers: z.array(phoneNumber),
    enrichment,
    customEnrichment: z
      .record(z.string(), z.string())
      .openapi({ description: 'Client-specific variables; empty in the sandbox.' }),
    metadata,
    languageTag: z.string().openapi({ example: 'sv-SE' }),
    directMarketingRestriction: z.boolean(),
    charityMarketingRestriction: z.boolean(),
    onlineMarketingRestriction: z.boolean(),
    sex: z.enum(['MALE', 'FEMALE', 'OTHER', 'UNKNOWN']),
    gender: z.enum(['MALE', 'FEMALE', 'OTHER', 'UNKNOWN']),
    minor: z.enum(['YES', 'NO', 'UNKNOWN']),
    citizenship: z.array(z.string()),
    legalId,
    estimatedAge: z
      .number()
      .int()
      .openapi({ description: 'From the birth date, or the death date if deceased.' }),
    firstNames: z.array(z.string()),
    possibleNicknames: z.array(z.string()),
    preferredFirstName: z.string(),
    additionalName: z.string().nullable(),
    familyName: z.string(),
    honorificPrefix: z.string().nullable(),
    honorificSuffix: z.string().nullable(),
    shortenedFullName: z.string().max(36),
    baseNameCode: z.string().nullable(),
    birthDate: z.iso.date(),
    birthDatePrecision: precision,
    deceasedDate: z.iso.date().nullable(),
    deceasedDatePrecision: precision.nullable(),
    maritalStatus: z.enum(['UNMARRIED', 'MARRIED', 'DIVORCED', 'WIDOWED', 'REGISTERED_PARTNER', 'UNKNOWN']),
    diplomaticImmunity: z.boolean(),
    futureLegalAuthorization: z.boolean(),
    identificationClaim: z.boolean(),
  })
  .openapi('Person', {
    description:
      'A V3 person. The gedi is not in the body (removed in V3): it is the path id. For a protected identity, addresses, phone numbers, relocation events, birth place and household are withheld.',
  });
export type V3Person = z.infer<typeof personSchema>;

// ---------------------------------------------------------------------------------------------
// Consumers
// ---------------------------------------------------------------------------------------------

export const CONSUMER_ID_PATTERN = /^(?!_)[a-zA-Z0-9@\-_]+$/;
export const consumerIdSchema = z
  .string()
  .min(1)
  .max(250)
  .regex(CONSUMER_ID_PATTERN)
  .openapi({ example: 'customer-1001', description: 'A (to you) unique id for this consumer.' });

export const CONSUMER_STATES = ['UPLOADED', 'IDENTIFYING', 'IDENTIFIED', 'NOT_IDENTIFIED'] as const;
export type ConsumerState = (typeof CONSUMER_STATES)[number];
export const consumerStateSchema = z.enum(CONSUMER_STATES).openapi('ConsumerStateTypeDto');

export const MAX_CONSUMERS_PER_UPLOAD = 100;

export const consumerUploadSchema = z
  .object({
    consumerId: consumerIdSchema,
    market: z
      .string()
      .min(1)
      .regex(/^[A-Z]{2}$/)
      .openapi({ example: 'SE', description: 'ISO 3166-1 alpha-2. SE, NO, DK and FI have sources.' }),
    data: consumerDataSchema,
  })
  .openapi('ConsumerUploadDto');

export const consumerUploadBatchSchema = z
  .array(consumerUploadSchema)
  .min(1, { message: 'at least 1 consumer is required' })
  .max(MAX_CONSUMERS_PER_UPLOAD, { message: `at most ${MAX_CONSUMERS_PER_UPLOAD} consumers per call` })
  .openapi({
    description: `1 to ${MAX_CONSUMERS_PER_UPLOAD} consumers; consumerIds unique within the call.`,
  });

export const deleteConsumersSchema = z
  .object({
    consumerIds: z.array(consumerIdSchema).min(1).max(250),
  })
  .openapi('DeleteConsumersDto');

export const consumerSchema = z
  .object({
    consumerId: z.string(),
    market: z.string(),
    state: consumerStateSchema,
    gedi: z.string().nullable().openapi({ description: 'Set when IDENTIFIED.' }),
    source: sourceNameSchema.nullable().openapi({ description: 'Set when IDENTIFIED.' }),
    data: consumerDataSchema,
    uploadedTimestamp: z.iso.datetime(),
    updatedTimestamp: z.iso.datetime().openapi({ description: 'Last state change.' }),
  })
  .openapi('Consumer');

export const consumerPageSchema = z
  .object({
    nextPageToken: z.string().nullable().openapi({ description: 'null on the last page.' }),
    data: z.array(consumerSchema),
  })
  .openapi('ConsumerPage');

// ---------------------------------------------------------------------------------------------
// Webhook events
// ---------------------------------------------------------------------------------------------

export const EVENT_TYPES = [
  'PING',
  'CONSUMER_UPLOADED',
  'CONSUMER_DELETED',
  'CONSUMER_IDENTIFIED',
  'CONSUMER_NOT_IDENTIFIED',
  'PERSON_SUBSCRIBED',
  'PERSON_UNSUBSCRIBED',
  'PERSON_REIDENTIFIED',
  'PERSON_CHANGED',
  'ENRICHMENT_CHANGED',
  'LIFE_EVENT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const webhookEventTypeSchema = z.enum(['*', ...EVENT_TYPES]).openapi('WebhookEventTypeDto');
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

export const LIFE_EVENT_TRIGGERS = [
  'HOUSEHOLD_MOVE',
  'SINGLE_TO_COUPLE',
  'MOVE_FROM_APARTMENT_TO_HOUSE',
  'MOVE_FROM_HOUSE_TO_APARTMENT',
  'MOVE_URBANIZATION',
] as const;
export const lifeEventTriggerSchema = z.enum(LIFE_EVENT_TRIGGERS).openapi('LifeEventTrigger');

const gediSource = z.object({ gedi: z.string(), source: sourceNameSchema }).openapi('GediSource');

const base = {
  id: z.string().openapi({ description: 'Unique per event; the same on every redelivery.' }),
  timestamp: z.iso.datetime(),
};
const event = <T extends EventType, S extends z.ZodRawShape>(type: T, shape: S, description: string) =>
  z.object({ type: z.literal(type), ...base, ...shape }).openapi(`${type}_Event`, { description });

export const eventSchemas = [
  event('PING', {}, 'Sent to a webhook right after it is created.'),
  event(
    'CONSUMER_UPLOADED',
    { consumerId: z.string(), market: eventMarketSchema },
    'A consumer has been uploaded.',
  ),
  event(
    'CONSUMER_DELETED',
    { consumerId: z.string(), market: eventMarketSchema },
    'A consumer has been deleted.',
  ),
  event(
    'CONSUMER_IDENTIFIED',
    { consumerId: z.string(), market: eventMarketSchema, gedi: z.string(), source: sourceNameSchema },
    'A person has been identified for a consumer.',
  ),
  event(
    'CONSUMER_NOT_IDENTIFIED',
    { consumerId: z.string(), market: eventMarketSchema, sources: z.array(sourceNameSchema) },
    'No person could be identified for the consumer (sources is empty for a market without a source).',
  ),
  event(
    'PERSON_SUBSCRIBED',
    {
      consumerIds: z.array(z.string()),
      market: eventMarketSchema,
      gedi: z.string(),
      source: sourceNameSchema,
    },
    'Sandbox design (payload not in the document): a person got its first identified consumer.',
  ),
  event(
    'PERSON_UNSUBSCRIBED',
    {
      consumerIds: z.array(z.string()),
      market: eventMarketSchema,
      gedi: z.string(),
      source: sourceNameSchema,
    },
    'Sandbox design (payload not in the document): a person lost its last consumer; consumerIds are the consumers whose removal ended the subscription.',
  ),
  event(
    'PERSON_REIDENTIFIED',
    {
      consumerIds: z.array(z.string()),
      market: eventMarketSchema,
      previous: gediSource,
      replacedBy: gediSource,
    },
    'A subscribed person is now identified with a different gedi.',
  ),
  event(
    'PERSON_CHANGED',
    {
      consumerIds: z.array(z.string()),
      gedi: z.string(),
      source: sourceNameSchema,
      jsonPointers: z.array(z.string()).openapi({ example: ['/phoneNumbers'] }),
      changedId: z.string(),
    },
    'A subscribed person has changed; jsonPointers name the changed top-level fields of the Person.',
  ),
  event(
    'ENRICHMENT_CHANGED',
    { consumerIds: z.array(z.string()), gedi: z.string(), variable: z.string() },
    'An enrichment variable of a subscribed person has changed.',
  ),
  event(
    'LIFE_EVENT',
    {
      phase: z.string().openapi({ example: 'PREDICT' }),
      market: eventMarketSchema,
      gedi: z.string(),
      consumerIds: z.array(z.string()),
      trigger: lifeEventTriggerSchema,
      probability: z.number().int().min(1).max(99).optional(),
      withinEstimatedDays: z.number().int().optional(),
    },
    'A life event, to a subscribed person, occurred.',
  ),
] as const;

export const webhookEventSchema = z
  .union(eventSchemas)
  .openapi('WebhookEvent', { description: 'One event; deliveries and audit pages carry arrays of them.' });
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** An event as it is built before it gets its id and timestamp. */
export type EventInput = WebhookEvent extends infer E
  ? E extends { type: EventType }
    ? Omit<E, 'id' | 'timestamp'>
    : never
  : never;

// ---------------------------------------------------------------------------------------------
// Subscriptions, audit events
// ---------------------------------------------------------------------------------------------

export const subscribedPersonSchema = z
  .object({
    gedi: z.string(),
    market: z.string(),
    consumerIds: z.array(z.string()),
    changedTimestamp: z.iso.datetime(),
    person: personSchema,
  })
  .openapi('SubscribedPerson', {
    description:
      'Sandbox design (the item shape is not in the document): the gedi, the consumers connected to it, when the subscription last changed (subscribed, consumer set, person data, enrichment, re-identification), and the latest person data.',
  });

export const subscribedPersonPageSchema = z
  .object({
    nextPageToken: z
      .string()
      .openapi({ description: 'Never null: at the end it is the cursor to fetch later changes with.' }),
    data: z.array(subscribedPersonSchema),
  })
  .openapi('SubscribedPersonPage');

export const auditEventPageSchema = z
  .object({
    nextPageToken: z
      .string()
      .openapi({ description: 'Never null: at the end it is the cursor to fetch later events with.' }),
    data: z.array(webhookEventSchema),
  })
  .openapi('AuditEventPage');

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

export const createWebhookSchema = z
  .object({
    url: z
      .string()
      .url()
      .max(2000)
      .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http(s) URL' })
      .openapi({ example: 'https://example.com/hooks/bci' }),
    events: z.array(webhookEventTypeSchema).min(1),
    description: z.string().max(1000).nullish(),
  })
  .openapi('CreateWebhookDto');

export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(webhookEventTypeSchema),
    description: z.string().nullable(),
  })
  .openapi('Webhook');

export const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().openapi({
      description:
        'HMAC-SHA256 key of the ci-signature-sha256 header: hex(HMAC(secret, timestamp + "." + rawBody)). Returned only here.',
    }),
  })
  .openapi('CreatedWebhook');

export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) }).openapi('WebhookList');

// ---------------------------------------------------------------------------------------------
// OAuth
// ---------------------------------------------------------------------------------------------

export const tokenRequestSchema = z
  .object({
    grant_type: z.string().optional().openapi({ example: 'client_credentials' }),
    scope: z.string().optional().openapi({ example: 'bci', description: 'Only "bci"; absent means bci.' }),
    client_id: z.string().optional().openapi({ description: 'Alternative to Basic auth.' }),
    client_secret: z.string().optional(),
  })
  .openapi('TokenRequest');

export const tokenResponseSchema = z
  .object({
    access_token: z.string(),
    expires_in: z.number().int().openapi({ example: 3600 }),
    scope: z.literal('bci'),
    token_type: z.literal('bearer'),
  })
  .openapi('TokenResponse');

export const oauthErrorSchema = z
  .object({
    error: z.enum(['invalid_request', 'invalid_client', 'unsupported_grant_type', 'invalid_scope']),
    error_description: z.string(),
  })
  .openapi('OAuthError');
