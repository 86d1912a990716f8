import { z } from '@hono/zod-openapi';

/** The two scopes of Symetrisk's Cognito resource server (FACTS.md section 4). */
export const READ_SCOPE = 'https://api.symetrisk.com/read';
export const WRITE_SCOPE = 'https://api.symetrisk.com/write';
export const ACCOUNTS_FORMAT_VERSION = '2025-09-19' as const;
export const MODEL_VERSION = 'symetrisk-score-2025.3';
export const SECURITY_SCHEME = 'SymetriskOAuth2';
export const MAX_LIMIT = 100;
/** Most organisations one access request may name; larger bodies get 422 (design). */
export const MAX_ITEMS_PER_REQUEST = 100;

export const RELATIONSHIP_STATES = [
  'access_requested',
  'access_approved',
  'access_rejected',
  'access_revoked',
] as const;
export type RelationshipState = (typeof RELATIONSHIP_STATES)[number];

export const NOTIFICATION_TYPES = ['access_approved', 'access_rejected', 'access_revoked'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const ORG_NR_PATTERN = /^\d{9}$/;
const orgNrExample = '987654321';

// ---------------------------------------------------------------- errors

export const ErrorSchema = z
  .object({
    detail: z.string().openapi({ example: 'Not authenticated' }),
  })
  .openapi('Error', {
    description:
      'Every error except request validation (422) is FastAPI style: one human-readable `detail` string. ' +
      'The status code is the machine-readable part.',
  });

export const ValidationErrorSchema = z
  .object({
    detail: z.array(
      z
        .object({
          type: z.string().openapi({ example: 'string_pattern_mismatch' }),
          loc: z.array(z.union([z.string(), z.number().int()])).openapi({
            example: ['path', 'organization_number'],
          }),
          msg: z.string().openapi({ example: "String should match pattern '^\\d{9}$'" }),
          input: z.unknown().optional(),
        })
        .openapi('ValidationErrorItem'),
    ),
  })
  .openapi('HTTPValidationError', {
    description:
      'Request validation failure (422), FastAPI/pydantic style: one entry per problem, `loc` starts with ' +
      'where it was found (`path`, `query`, `body`). Malformed JSON is reported as type `json_invalid`.',
  });

export const OAuthErrorSchema = z
  .object({
    error: z.enum([
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'invalid_scope',
      'unauthorized_client',
      'unsupported_grant_type',
    ]),
  })
  .openapi('OAuthError', {
    description: 'Amazon Cognito token endpoint error. Cognito answers every token error with 400.',
    example: { error: 'invalid_client' },
  });

// ---------------------------------------------------------------- token

export const TokenRequestSchema = z
  .object({
    grant_type: z.string().optional().openapi({ example: 'client_credentials' }),
    scope: z
      .string()
      .optional()
      .openapi({
        example: `${READ_SCOPE} ${WRITE_SCOPE}`,
        description: 'Space-separated scopes. Absent: every scope the client is allowed.',
      }),
    client_id: z.string().optional().openapi({
      description: 'Optional; when given it must match the client id in the Basic header.',
    }),
  })
  .openapi('TokenRequest');

export const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    expires_in: z.number().int().openapi({ example: 3600 }),
    token_type: z.literal('Bearer'),
  })
  .openapi('TokenResponse');

// ---------------------------------------------------------------- common params

export const orgNrParam = (name: string, description: string) =>
  z
    .string()
    .regex(ORG_NR_PATTERN)
    .openapi({ param: { name, in: 'path' }, example: orgNrExample, description });

export const PaginationQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .default(MAX_LIMIT)
    .openapi({
      param: { name: 'limit', in: 'query' },
      example: 100,
      description: `Max amount of items to return. Default ${MAX_LIMIT}, 1-${MAX_LIMIT}; outside that range 422.`,
    }),
  skip: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .openapi({
      param: { name: 'skip', in: 'query' },
      // zod-to-openapi renders a coerced number with min(0) as nullable; it never is.
      type: 'integer',
      minimum: 0,
      default: 0,
      example: 0,
      description: 'Number of items to skip. Default 0. Skipping past the end returns an empty page.',
    }),
});

export const MetadataSchema = z
  .object({
    limit: z.number().int().openapi({ example: 100 }),
    skip: z.number().int().openapi({ example: 0 }),
    returnedItems: z.number().int().openapi({ example: 24 }),
    totalItems: z.number().int().openapi({ example: 24 }),
  })
  .openapi('PaginationMetadata', { description: 'Present on every list response.' });

// ---------------------------------------------------------------- self / partner

export const ClientSchema = z
  .object({
    client_id: z.string(),
    scopes: z.array(z.string()).openapi({ example: [READ_SCOPE, WRITE_SCOPE] }),
  })
  .openapi('ApiClient', { description: 'The API client; `scopes` are those of the token used.' });

export const CompanySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().openapi({ example: 'Fjordbanken ASA' }),
    brreg_organization_number: z.string().openapi({ example: orgNrExample }),
    created_at: z.string().openapi({ example: '2024-03-01T09:00:00Z' }),
  })
  .openapi('Company');

export const SelfSchema = z.object({ company: CompanySchema, client: ClientSchema }).openapi('Self');

export const CreditScorerCompanySchema = z
  .object({
    id: z.string().uuid(),
    organization_number: z.string().openapi({ example: orgNrExample }),
    name: z.string(),
    created_at: z.string(),
  })
  .openapi('CreditScorerCompany', {
    description: 'A company debtors can select during onboarding, and which can see their credit score.',
  });

export const PartnerIntegrationSchema = z
  .object({
    partner_integration: z.object({
      id: z.string().uuid(),
      name: z.string(),
      organization_number: z.string(),
      status: z.enum(['active']),
      created_at: z.string(),
      credit_scorer_companies: z.array(CreditScorerCompanySchema),
    }),
    client: ClientSchema,
  })
  .openapi('PartnerIntegration');

// ---------------------------------------------------------------- access requests

export const OrgRefSchema = z
  .object({
    organization_number: z.string().openapi({ example: orgNrExample }),
  })
  .openapi('OrganizationReference', {
    description:
      'Any string is accepted here; an organisation number that is not 9 digits with a valid mod-11 ' +
      'check digit, or is unknown in Brreg, is reported on its own result item, not as a request error.',
  });

export const CreateCreditScorerRequestSchema = z
  .object({ borrowers: z.array(OrgRefSchema).min(1).max(MAX_ITEMS_PER_REQUEST) })
  .openapi('CreateCreditScorerCompanyRequest', {
    description:
      "The field is called `borrowers` in Symetrisk's own example; each listed organisation becomes a credit-scorer company.",
  });

export const ItemErrorSchema = z
  .enum(['invalid_organization_number', 'organization_not_found', 'own_organization'])
  .nullable()
  .openapi({
    description:
      'null when the item succeeded. invalid_organization_number: not 9 digits or bad mod-11 check digit; ' +
      'organization_not_found: not in Brreg; own_organization: a company cannot request access to itself.',
  });

export const CreateCreditScorerResultSchema = z
  .object({
    companies: z.array(
      z
        .object({
          organization_number: z.string(),
          company: CreditScorerCompanySchema.nullable(),
          created: z
            .boolean()
            .openapi({ description: 'false when it already was a credit-scorer company (idempotent)' }),
          error: ItemErrorSchema,
        })
        .openapi('CreateCreditScorerCompanyResultItem'),
    ),
  })
  .openapi('CreateCreditScorerCompanyResult');

export const AccessResultItemSchema = z
  .object({
    organization_number: z.string().openapi({ example: orgNrExample }),
    name: z.string().nullable(),
    relationship_state: z.enum(RELATIONSHIP_STATES).nullable(),
    signup_link: z
      .string()
      .nullable()
      .openapi({ example: 'https://app.symetrisk.com/signup?invitation=3f1c9a0b7d2e4c11' }),
    requested_at: z.string().nullable(),
    already_existed: z.boolean().openapi({
      description:
        'true when a relationship in access_requested or access_approved already existed; its current state is returned',
    }),
    error: ItemErrorSchema,
  })
  .openapi('AccessRequestResultItem');

export const RequestDebtorAccessSchema = z
  .object({ debtors: z.array(OrgRefSchema).min(1).max(MAX_ITEMS_PER_REQUEST) })
  .openapi('RequestDebtorAccessRequest');
export const RequestDebtorAccessResultSchema = z
  .object({
    creditor_organization_number: z.string(),
    debtors: z.array(AccessResultItemSchema),
  })
  .openapi('RequestDebtorAccessResult');

export const RequestBorrowerAccessSchema = z
  .object({ borrowers: z.array(OrgRefSchema).min(1).max(MAX_ITEMS_PER_REQUEST) })
  .openapi('RequestBorrowerAccessRequest');
export const RequestBorrowerAccessResultSchema = z
  .object({ borrowers: z.array(AccessResultItemSchema) })
  .openapi('RequestBorrowerAccessResult');

// ---------------------------------------------------------------- relationships, debtors

export const RelationshipSchema = z
  .object({
    organization_number: z.string().openapi({ example: orgNrExample }),
    name: z.string(),
    relationship_state: z.enum(RELATIONSHIP_STATES),
    requested_at: z.string().nullable(),
    approved_at: z.string().nullable(),
  })
  .openapi('Relationship', {
    description:
      'States: access_requested (link sent, waiting for the company), access_approved (consented; data ' +
      'readable), access_rejected (the company declined), access_revoked (consent withdrawn after approval).',
  });

export const RelationshipListSchema = z
  .object({ metadata: MetadataSchema, items: z.array(RelationshipSchema) })
  .openapi('RelationshipList');

export const DebtorSchema = z
  .object({
    organization_number: z.string(),
    name: z.string(),
    relationship_state: z.literal('access_approved'),
    requested_at: z.string().nullable(),
    approved_at: z.string().nullable(),
    credit_score_available: z.boolean().openapi({
      description: 'false when the debtor has no accounting data yet (get-credit-score then 404s)',
    }),
  })
  .openapi('Debtor');

export const DebtorListSchema = z
  .object({
    creditor_organization_number: z.string(),
    metadata: MetadataSchema,
    items: z.array(DebtorSchema),
  })
  .openapi('DebtorList');

export const CreditScoreSchema = z
  .object({
    creditor_organization_number: z.string(),
    debtor_organization_number: z.string(),
    debtor_name: z.string(),
    score: z.number().int().min(0).max(100).openapi({ example: 72, description: '0-100, higher is better' }),
    risk_class: z
      .enum(['A', 'B', 'C', 'D', 'E'])
      .openapi({ description: 'A lowest risk ... E highest risk' }),
    probability_of_default: z
      .number()
      .min(0)
      .max(1)
      .openapi({ example: 0.0123, description: '12-month probability of default, 0-1' }),
    calculated_at: z.string().openapi({ example: '2025-10-01T06:00:00Z' }),
    based_on_snapshot_date: z.string().openapi({ example: '2025-09-30' }),
    model_version: z.string().openapi({ example: MODEL_VERSION }),
  })
  .openapi('CreditScore');

// ---------------------------------------------------------------- borrower, accounting

export const BorrowerSchema = z
  .object({
    organization_number: z.string(),
    name: z.string(),
    organization_form: z.string().openapi({ example: 'AS' }),
    industry_code: z.string().openapi({ example: '62.010' }),
    registered_date: z.string(),
    employees: z.number().int(),
    business_address: z.object({
      address_line: z.string(),
      postal_code: z.string(),
      city: z.string(),
      country: z.string(),
    }),
    relationship_state: z.enum(RELATIONSHIP_STATES).nullable().openapi({
      description: 'null when no access has been requested for this company',
    }),
    consented_to_share_data: z.boolean().openapi({ description: 'true exactly when access_approved' }),
    signup_link: z.string().nullable(),
    requested_at: z.string().nullable(),
    approved_at: z.string().nullable(),
    has_accounting_data: z.boolean().openapi({
      description:
        'Whether the company has connected an accounting system (shown only once consented; else false)',
    }),
    latest_snapshot_date: z.string().nullable(),
  })
  .openapi('Borrower');

export const AccountingSnapshotSchema = z
  .object({
    symetrisk_real_time_accounts_format_version: z.literal(ACCOUNTS_FORMAT_VERSION),
    organization_number: z.string(),
    year: z.number().int().openapi({ example: 2025 }),
    month: z.number().int().min(1).max(12).openapi({ example: 9 }),
    snapshot_date: z.string().openapi({ example: '2025-09-30', description: 'Last day of the month' }),
    currency: z.literal('NOK'),
    revenue: z.number().openapi({ description: 'Revenue of the month (not year to date)' }),
    operating_result: z.number().openapi({ description: 'Operating result of the month' }),
    net_result: z.number().openapi({ description: 'Net result of the month, after interest and tax' }),
    total_assets: z.number().openapi({ description: 'Balance at snapshot_date' }),
    equity: z.number().openapi({ description: 'Balance at snapshot_date; may be negative' }),
    cash: z.number().openapi({ description: 'Balance at snapshot_date' }),
    short_term_debt: z.number().openapi({ description: 'Balance at snapshot_date' }),
    long_term_debt: z.number().openapi({ description: 'Balance at snapshot_date' }),
    total_debt: z.number().openapi({ description: 'short_term_debt + long_term_debt' }),
    equity_ratio: z
      .number()
      .nullable()
      .openapi({ description: 'equity / total_assets, 4 decimals; null when total_assets is 0' }),
  })
  .openapi('RealTimeAccounts');

export const AccountingDataListSchema = z
  .object({
    metadata: MetadataSchema,
    items: z.array(
      z
        .object({
          id: z.number().int().openapi({ description: 'Stable id of the snapshot' }),
          data: AccountingSnapshotSchema,
        })
        .openapi('AccountingDataItem'),
    ),
  })
  .openapi('AccountingDataList');

// ---------------------------------------------------------------- notifications

export const NotificationSchema = z
  .object({
    id: z
      .number()
      .int()
      .openapi({ description: 'Increasing; a poller can stop at the first id it has seen' }),
    type: z.enum(NOTIFICATION_TYPES),
    relationship_type: z.enum(['borrower', 'debtor']),
    organization_number: z.string().openapi({ description: 'The borrower or debtor the event is about' }),
    creditor_organization_number: z.string().openapi({
      description: 'The company that holds the relationship (own company for borrowers)',
    }),
    created_at: z.string(),
    message: z.string(),
  })
  .openapi('Notification');

export const NotificationListSchema = z
  .object({ metadata: MetadataSchema, items: z.array(NotificationSchema) })
  .openapi('NotificationList');

export const PingSchema = z.object({ message: z.literal('pong') }).openapi('Pong');
