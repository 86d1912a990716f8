/**
 * Zod contracts of Symetrisk's answers (https://api.symetrisk.com/api/v1), written from the
 * provider document, FACTS.md and the sandbox's OpenAPI document. Only what the gateway reads is
 * required; extra fields are stripped, so Symetrisk adding a field never breaks a query, while a
 * missing or mistyped field we rely on becomes UPSTREAM_BAD_RESPONSE on its GraphQL field.
 */
import { z } from 'zod';

const orgNr = z.string().regex(/^\d{9}$/);
/** Timestamps are passed on as ISO-8601 strings; the gateway does not compute with them. */
const timestamp = z.string().min(1);

export const relationshipStateSchema = z.enum([
  'access_requested',
  'access_approved',
  'access_rejected',
  'access_revoked',
]);
export type UpstreamRelationshipState = z.infer<typeof relationshipStateSchema>;

/** `{metadata, items}` is the shape of every Symetrisk list. */
export const paginationMetadataSchema = z.object({
  limit: z.number().int(),
  skip: z.number().int().min(0),
  returnedItems: z.number().int().min(0),
  totalItems: z.number().int().min(0),
});

export const pongSchema = z.object({ message: z.literal('pong') });

export const selfSchema = z.object({
  company: z.object({
    id: z.string(),
    name: z.string(),
    brreg_organization_number: orgNr,
    created_at: timestamp,
  }),
  client: z.object({ client_id: z.string(), scopes: z.array(z.string()) }),
});
export type UpstreamSelf = z.infer<typeof selfSchema>;

export const partnerIntegrationSchema = z.object({
  partner_integration: z.object({
    id: z.string(),
    name: z.string(),
    organization_number: orgNr,
    status: z.string(),
    created_at: timestamp,
    credit_scorer_companies: z.array(
      z.object({ id: z.string(), organization_number: orgNr, name: z.string(), created_at: timestamp }),
    ),
  }),
  client: z.object({ client_id: z.string(), scopes: z.array(z.string()) }),
});

export const borrowerSchema = z.object({
  organization_number: orgNr,
  name: z.string(),
  /** null when access was never requested. */
  relationship_state: relationshipStateSchema.nullable(),
  consented_to_share_data: z.boolean(),
  requested_at: timestamp.nullable(),
  approved_at: timestamp.nullable(),
  has_accounting_data: z.boolean(),
});
export type UpstreamBorrower = z.infer<typeof borrowerSchema>;

export const relationshipSchema = z.object({
  organization_number: orgNr,
  name: z.string(),
  relationship_state: relationshipStateSchema,
  requested_at: timestamp.nullable(),
  approved_at: timestamp.nullable(),
});
export type UpstreamRelationship = z.infer<typeof relationshipSchema>;

export const relationshipListSchema = z.object({
  metadata: paginationMetadataSchema,
  items: z.array(relationshipSchema),
});

export const debtorSchema = z.object({
  organization_number: orgNr,
  name: z.string(),
  /** list-debtors only lists consented debtors. */
  relationship_state: z.literal('access_approved'),
  requested_at: timestamp.nullable(),
  approved_at: timestamp.nullable(),
  credit_score_available: z.boolean(),
});
export type UpstreamDebtor = z.infer<typeof debtorSchema>;

export const debtorListSchema = z.object({
  creditor_organization_number: orgNr,
  metadata: paginationMetadataSchema,
  items: z.array(debtorSchema),
});

export const creditScoreSchema = z.object({
  creditor_organization_number: orgNr,
  debtor_organization_number: orgNr,
  score: z.number().min(0).max(100),
  risk_class: z.enum(['A', 'B', 'C', 'D', 'E']),
  probability_of_default: z.number().min(0).max(1),
  calculated_at: timestamp,
});
export type UpstreamCreditScore = z.infer<typeof creditScoreSchema>;

/** Symetrisk's "real-time accounts" format, version 2025-09-19. Amounts in NOK. */
export const accountingItemSchema = z.object({
  id: z.number().int(),
  data: z.object({
    symetrisk_real_time_accounts_format_version: z.string(),
    organization_number: orgNr,
    year: z.number().int(),
    month: z.number().int().min(1).max(12),
    snapshot_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    currency: z.literal('NOK'),
    revenue: z.number(),
    operating_result: z.number(),
    net_result: z.number(),
    total_assets: z.number(),
    equity: z.number(),
    cash: z.number(),
    short_term_debt: z.number(),
    long_term_debt: z.number(),
  }),
});
export type UpstreamAccountingItem = z.infer<typeof accountingItemSchema>;

export const accountingListSchema = z.object({
  metadata: paginationMetadataSchema,
  items: z.array(accountingItemSchema),
});

export const notificationSchema = z.object({
  id: z.number().int(),
  type: z.string().min(1),
  relationship_type: z.enum(['borrower', 'debtor']),
  organization_number: orgNr,
  creditor_organization_number: orgNr,
  created_at: timestamp,
  message: z.string(),
});
export type UpstreamNotification = z.infer<typeof notificationSchema>;

export const notificationListSchema = z.object({
  metadata: paginationMetadataSchema,
  items: z.array(notificationSchema),
});

// ------------------------------------------------------------------ writes

/**
 * Per-item refusal reasons. Read as a plain string: a reason Symetrisk adds later must not fail
 * the whole answer (the items it did accept would be lost to the caller); mapping.ts turns an
 * unknown one into REJECTED.
 */
const itemError = z.string().min(1).nullable();

export const accessRequestItemSchema = z.object({
  organization_number: z.string(),
  name: z.string().nullable(),
  relationship_state: relationshipStateSchema.nullable(),
  signup_link: z.string().nullable(),
  requested_at: timestamp.nullable(),
  already_existed: z.boolean(),
  error: itemError,
});
export type UpstreamAccessRequestItem = z.infer<typeof accessRequestItemSchema>;

export const borrowerAccessResultSchema = z.object({ borrowers: z.array(accessRequestItemSchema) });

export const debtorAccessResultSchema = z.object({
  creditor_organization_number: orgNr,
  debtors: z.array(accessRequestItemSchema),
});

export const creditScorerItemSchema = z.object({
  organization_number: z.string(),
  company: z
    .object({ id: z.string(), organization_number: orgNr, name: z.string(), created_at: timestamp })
    .nullable(),
  created: z.boolean(),
  error: itemError,
});
export type UpstreamCreditScorerItem = z.infer<typeof creditScorerItemSchema>;

export const creditScorerResultSchema = z.object({ companies: z.array(creditScorerItemSchema) });
