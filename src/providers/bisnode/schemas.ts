import { z } from 'zod';

/**
 * Bisnode Consumer Intelligence V3 bodies, written from bisnode-consumer-intelligence.md,
 * FACTS.md §2 and the sandbox's OpenAPI document (`/openapi.json` on the Bisnode port). Fields
 * the gateway reads are required as the contract says; the rest of the person is optional, so
 * an additive change upstream never breaks a read, while a dropped field we rely on becomes
 * UPSTREAM_BAD_RESPONSE on its GraphQL field instead of a silently wrong answer.
 */

/** How much of a paired date is known; missing parts are filled conservatively upstream. */
export const datePrecisionSchema = z.enum(['YEAR', 'MONTH', 'DAY']);
export type DatePrecision = z.infer<typeof datePrecisionSchema>;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const personStatusSchema = z.object({
  active: z.boolean(),
  protected: z.boolean(),
  deceased: z.boolean().optional(),
  deregistered: z.boolean().optional(),
  deregistrationReason: z.string().nullable().optional(),
});

export const personAddressSchema = z.object({
  type: z.string().optional(),
  subType: z.string().optional(),
  current: z.boolean(),
  careOf: z.string().nullable().optional(),
  streetName: z.string().nullable(),
  streetNumber: z.string().nullable(),
  entrance: z.string().nullable().optional(),
  floor: z.string().nullable().optional(),
  apartment: z.string().nullable().optional(),
  postalCode: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable().optional(),
  validFromDate: isoDate.nullable().optional(),
  validFromDatePrecision: datePrecisionSchema.nullable().optional(),
  validToDate: isoDate.nullable().optional(),
  validToDatePrecision: datePrecisionSchema.nullable().optional(),
});
export type V3Address = z.infer<typeof personAddressSchema>;

export const personPhoneNumberSchema = z.object({
  number: z.string().min(1),
  type: z.enum(['MOBILE', 'LANDLINE']),
  telemarketingRestriction: z.boolean(),
});

export const personSourceSchema = z.object({
  updatedTimestamp: z.string().optional(),
  name: z.string(),
  market: z.string(),
});

export const legalIdSchema = z.object({
  identityNumber: z.string().min(1),
  temporary: z.boolean().optional(),
  validityPeriod: z.unknown().optional(),
  history: z.array(z.object({ identityNumber: z.string() }).loose()).optional(),
});

/** Statistical variables; their set may grow, so every scalar entry is kept by name. */
export const enrichmentSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);

/** A V3 person. The gedi is not in the body (removed in V3): callers know it from the path or list item. */
export const v3PersonSchema = z.object({
  status: personStatusSchema,
  relationships: z
    .object({ householdMembers: z.array(z.string()).optional() })
    .loose()
    .optional(),
  addresses: z.array(personAddressSchema),
  phoneNumbers: z.array(personPhoneNumberSchema),
  enrichment: enrichmentSchema.optional(),
  customEnrichment: z.record(z.string(), z.string()).optional(),
  metadata: z.object({
    updatedTimestamp: z.string().nullable().optional(),
    sources: z.array(personSourceSchema),
  }),
  languageTag: z.string().optional(),
  directMarketingRestriction: z.boolean(),
  charityMarketingRestriction: z.boolean(),
  onlineMarketingRestriction: z.boolean(),
  gender: z.enum(['MALE', 'FEMALE', 'OTHER', 'UNKNOWN']).nullable().optional(),
  sex: z.enum(['MALE', 'FEMALE', 'OTHER', 'UNKNOWN']).nullable().optional(),
  minor: z.enum(['YES', 'NO', 'UNKNOWN']).optional(),
  citizenship: z.array(z.string()).optional(),
  legalId: legalIdSchema.nullable(),
  estimatedAge: z.number().int().nullable().optional(),
  firstNames: z.array(z.string()),
  preferredFirstName: z.string().nullable().optional(),
  additionalName: z.string().nullable().optional(),
  familyName: z.string().nullable(),
  birthDate: isoDate.nullable().optional(),
  birthDatePrecision: datePrecisionSchema.nullable().optional(),
  deceasedDate: isoDate.nullable().optional(),
  maritalStatus: z.string().nullable().optional(),
});
export type V3Person = z.infer<typeof v3PersonSchema>;

/** Body of POST /markets/{market}/persons/_find (ConsumerDataDto). Unset fields are left out. */
export interface FindPersonQuery {
  legalId?: string;
  firstName?: string;
  familyName?: string;
  dateOfBirth?: string;
  yearOfBirth?: number;
  streetName?: string;
  streetNumber?: string;
  postalCode?: string;
  city?: string;
  entrance?: string;
  floor?: string;
  apartment?: string;
  fullAddress?: string;
  phoneNumber?: string;
  gender?: 'MALE' | 'FEMALE' | 'OTHER';
}

export const consumerStateSchema = z.enum(['UPLOADED', 'IDENTIFYING', 'IDENTIFIED', 'NOT_IDENTIFIED']);

export const consumerSchema = z.object({
  consumerId: z.string().min(1),
  // Any two letters: Bisnode accepts uploads for markets it has no source for (they end NOT_IDENTIFIED).
  market: z.string(),
  state: consumerStateSchema,
  gedi: z.string().nullable().optional(),
  source: z.string().nullable().optional(),
  uploadedTimestamp: z.string().optional(),
  updatedTimestamp: z.string().optional(),
});
export type V3Consumer = z.infer<typeof consumerSchema>;

/** GET /consumers: nextPageToken is null on the last page. */
export const consumerPageSchema = z.object({
  nextPageToken: z.string().nullable(),
  data: z.array(consumerSchema),
});
export type ConsumerPage = z.infer<typeof consumerPageSchema>;

export const subscribedPersonSchema = z.object({
  gedi: z.string().min(1),
  market: z.string(),
  consumerIds: z.array(z.string()),
  changedTimestamp: z.string().nullable().optional(),
  person: v3PersonSchema.nullable().optional(),
});
export type V3SubscribedPerson = z.infer<typeof subscribedPersonSchema>;

/** GET /subscriptions/persons: nextPageToken is never null; at the end the page is empty. */
export const subscribedPersonPageSchema = z.object({
  nextPageToken: z.string().min(1),
  data: z.array(subscribedPersonSchema),
});
export type SubscribedPersonPage = z.infer<typeof subscribedPersonPageSchema>;

/**
 * One audit event: the webhook event shapes. Only the common part is required; the
 * event-specific properties the gateway shows (consumer ids, gedi) are read when present.
 */
export const auditEventSchema = z
  .object({
    id: z.string().min(1),
    type: z.string().min(1),
    timestamp: z.string().min(1),
    consumerId: z.string().optional(),
    consumerIds: z.array(z.string()).optional(),
    gedi: z.string().optional(),
    replacedBy: z.object({ gedi: z.string() }).loose().optional(),
  })
  .loose();
export type V3AuditEvent = z.infer<typeof auditEventSchema>;

/** GET /audit-events: nextPageToken is never null; at the end it fetches later events. */
export const auditEventPageSchema = z.object({
  nextPageToken: z.string().min(1),
  data: z.array(auditEventSchema),
});
export type AuditEventPage = z.infer<typeof auditEventPageSchema>;

export const webhookSchema = z.object({
  id: z.string().min(1),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable().optional(),
});
export type V3Webhook = z.infer<typeof webhookSchema>;

export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) });

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/** ConsumerDataDto as we send it: only set fields, already validated and normalised. */
export type ConsumerData = FindPersonQuery;

/** One item of the POST /consumers body (1 to 100 per call). */
export interface ConsumerUploadItem {
  consumerId: string;
  market: string;
  data: ConsumerData;
}

/** At most this many consumers per POST /consumers (FACTS.md §2, the contract's maxItems). */
export const MAX_CONSUMERS_PER_UPLOAD = 100;
/** At most this many ids per DELETE /consumers (the contract's maxItems). */
export const MAX_CONSUMER_IDS_PER_DELETE = 250;

/** The 202s of POST/DELETE /consumers have an empty body; anything there is ignored. */
export const acceptedBodySchema = z.unknown();

/** POST /webhooks → 201: the webhook and its `secret`, which Bisnode shows only here. */
export const createdWebhookSchema = webhookSchema.extend({ secret: z.string().min(1) });
export type V3CreatedWebhook = z.infer<typeof createdWebhookSchema>;

/** The Constraint Violation problem body (400): `violations[].field` like `[3].consumerId`. */
export const constraintViolationSchema = z
  .object({
    title: z.string().optional(),
    violations: z.array(z.object({ field: z.string(), message: z.string().optional() }).loose()),
  })
  .loose();
export type ConstraintViolations = z.infer<typeof constraintViolationSchema>;
