import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { ZodType } from 'zod';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import type { IssuedToken, TokenStore } from '../common/tokens.js';
import type { Business, Borrower, Population } from '../population/types.js';
import {
  ACCOUNTS_FORMAT_VERSION,
  AccountingDataListSchema,
  BorrowerSchema,
  CreateCreditScorerRequestSchema,
  CreateCreditScorerResultSchema,
  CreditScoreSchema,
  DebtorListSchema,
  ErrorSchema,
  MAX_LIMIT,
  MODEL_VERSION,
  NotificationListSchema,
  PaginationQuerySchema,
  PartnerIntegrationSchema,
  PingSchema,
  READ_SCOPE,
  RelationshipListSchema,
  RequestBorrowerAccessResultSchema,
  RequestBorrowerAccessSchema,
  RequestDebtorAccessResultSchema,
  RequestDebtorAccessSchema,
  SECURITY_SCHEME,
  SelfSchema,
  ValidationErrorSchema,
  WRITE_SCOPE,
  orgNrParam,
} from './schemas.js';
import {
  isValidOrgNr,
  stableUuid,
  type Relationship,
  type RelationshipKind,
  type SymetriskState,
} from './state.js';

type AuthEnv = SandboxEnv & { Variables: { token: IssuedToken } };

/** When the sandbox's Symetrisk account and partner integration were "created"; fixed for determinism. */
const ACCOUNT_CREATED_AT = '2024-03-01T09:00:00.000Z';

const json = <T extends ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const E401 = json(
  ErrorSchema,
  'Missing, unknown or expired bearer token (`WWW-Authenticate: Bearer` header)',
);
const E403 = (why: string) => json(ErrorSchema, why);
const E404 = (why: string) => json(ErrorSchema, why);
const E422 = json(
  ValidationErrorSchema,
  'Request validation failed: organisation number in the path not 9 digits, limit outside 1-100, ' +
    'negative skip, missing or malformed body',
);

const E415 = json(ErrorSchema, 'The body was sent with a Content-Type other than application/json');

const security = (scopes: string[]) => [{ [SECURITY_SCHEME]: scopes }];

const pageOf = <T>(list: T[], q: { limit?: number | undefined; skip?: number | undefined }) => {
  const limit = q.limit ?? MAX_LIMIT;
  const skip = q.skip ?? 0;
  const items = list.slice(skip, skip + limit);
  return { metadata: { limit, skip, returnedItems: items.length, totalItems: list.length }, items };
};

function address(b: Business) {
  const a = b.address;
  return {
    address_line: `${a.street} ${a.houseNumber}${a.entrance}`.trim(),
    postal_code: a.postalCode,
    city: a.city,
    country: a.country,
  };
}

function accountingItems(pop: Population, borrower: Borrower) {
  const index = pop.borrowers.indexOf(borrower);
  const count = borrower.accounting.length;
  // Newest first, at most 100 (the population keeps that order; sort again so the contract never depends on it).
  const snapshots = [...borrower.accounting]
    .sort((a, b) => (a.snapshotDate < b.snapshotDate ? 1 : a.snapshotDate > b.snapshotDate ? -1 : 0))
    .slice(0, 100);
  return snapshots.map((s, i) => ({
    // Stable across resets: borrower position and snapshot age, oldest snapshot of a borrower gets the lowest id.
    id: (index + 1) * 1000 + (count - i),
    data: {
      symetrisk_real_time_accounts_format_version: ACCOUNTS_FORMAT_VERSION,
      organization_number: borrower.orgNr,
      year: s.year,
      month: s.month,
      snapshot_date: s.snapshotDate,
      currency: 'NOK' as const,
      revenue: s.revenue,
      operating_result: s.operatingResult,
      net_result: s.netResult,
      total_assets: s.totalAssets,
      equity: s.equity,
      cash: s.cash,
      short_term_debt: s.shortTermDebt,
      long_term_debt: s.longTermDebt,
      total_debt: s.shortTermDebt + s.longTermDebt,
      equity_ratio: s.totalAssets === 0 ? null : Math.round((s.equity / s.totalAssets) * 10_000) / 10_000,
    },
  }));
}

function latestSnapshotDate(borrower: Borrower | undefined): string | null {
  if (!borrower || borrower.accounting.length === 0) return null;
  return borrower.accounting.reduce((m, s) => (s.snapshotDate > m ? s.snapshotDate : m), '');
}

export function registerRoutes(
  app: OpenAPIHono<SandboxEnv>,
  ctx: SandboxContext,
  tokens: TokenStore,
  state: SymetriskState,
): void {
  const ownOrgNr = () => ctx.credentials.symetrisk.ownOrgNr;
  /** Companies this API client acts for: its own company and the credit-scorer companies it created. */
  const actsFor = () => new Set([ownOrgNr(), ...state.creditScorers.keys()]);

  const auth = (scope: string | null) =>
    createMiddleware<AuthEnv>(async (c, next) => {
      const v = tokens.verify(c.req.header('authorization'));
      if (!v.ok) {
        const detail =
          v.reason === 'missing'
            ? 'Not authenticated'
            : v.reason === 'expired'
              ? 'Token has expired'
              : 'Invalid token';
        const header =
          v.reason === 'missing' ? 'Bearer' : `Bearer error="invalid_token", error_description="${detail}"`;
        return c.json({ detail }, 401, { 'www-authenticate': header });
      }
      if (scope && !v.token.scopes.includes(scope)) {
        return c.json({ detail: `Insufficient scope: this endpoint requires the scope ${scope}` }, 403, {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
        });
      }
      c.set('token', v.token);
      await next();
    });
  const anyToken = auth(null);
  const read = auth(READ_SCOPE);
  const write = auth(WRITE_SCOPE);

  const client = (t: IssuedToken) => ({ client_id: t.subject, scopes: t.scopes });
  const company = (orgNr: string) => ({
    id: stableUuid(`symetrisk-company:${orgNr}`),
    name: ctx.population.businessByOrgNr.get(orgNr)?.name ?? 'Unknown company',
    brreg_organization_number: orgNr,
    created_at: ACCOUNT_CREATED_AT,
  });
  const creditScorer = (orgNr: string) => ({
    id: stableUuid(`symetrisk-credit-scorer:${orgNr}`),
    organization_number: orgNr,
    name: ctx.population.businessByOrgNr.get(orgNr)?.name ?? 'Unknown company',
    created_at:
      orgNr === ownOrgNr() ? ACCOUNT_CREATED_AT : (state.creditScorers.get(orgNr) ?? ACCOUNT_CREATED_AT),
  });

  /** Per-item outcome of an access request (borrower or debtor). */
  const requestAccess = (kind: RelationshipKind, creditor: string, orgNr: string) => {
    const business = ctx.population.businessByOrgNr.get(orgNr);
    const failed = (
      error: 'invalid_organization_number' | 'organization_not_found' | 'own_organization',
    ) => ({
      organization_number: orgNr,
      name: business?.name ?? null,
      relationship_state: null,
      signup_link: null,
      requested_at: null,
      already_existed: false,
      error,
    });
    if (!isValidOrgNr(orgNr)) return failed('invalid_organization_number');
    if (!business) return failed('organization_not_found');
    if (orgNr === creditor) return failed('own_organization');
    const { relationship, existed } = state.request(kind, creditor, orgNr);
    return {
      organization_number: orgNr,
      name: business.name,
      relationship_state: relationship.state,
      signup_link: relationship.signupLink,
      requested_at: relationship.requestedAt,
      already_existed: existed,
      error: null,
    };
  };

  const relationshipItem = (r: Relationship) => ({
    organization_number: r.orgNr,
    name: ctx.population.businessByOrgNr.get(r.orgNr)?.name ?? r.orgNr,
    relationship_state: r.state,
    requested_at: r.requestedAt,
    approved_at: r.approvedAt,
  });

  const creditorParams = z.object({
    creditor_organization_number: orgNrParam(
      'creditor_organization_number',
      "The creditor: the client's own company or a credit-scorer company it created.",
    ),
  });
  const creditorErrors = {
    403: E403('Missing read/write scope, or the client does not act for this creditor'),
    404: E404('The creditor is not a known organisation'),
  };
  /** 404 / 403 for a creditor the client may not act for; null when fine. */
  const checkCreditor = (creditor: string): { status: 403 | 404; detail: string } | null => {
    if (!ctx.population.businessByOrgNr.has(creditor))
      return { status: 404, detail: `Organization ${creditor} not found` };
    if (!actsFor().has(creditor))
      return { status: 403, detail: `This client does not act for creditor ${creditor}` };
    return null;
  };

  // ------------------------------------------------------------------ ping

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/ping',
      summary: 'Ping',
      description: 'Used to check the status of the API. Any valid token, whatever its scopes.',
      security: security([]),
      middleware: [anyToken] as const,
      responses: { 200: json(PingSchema, 'The API is up'), 401: E401 },
    }),
    (c) => c.json({ message: 'pong' as const }, 200),
  );

  // ------------------------------------------------------------------ self

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/self',
      summary: 'Get info about own company and API client',
      description:
        'Own company (the bank / creditor behind the API client) and the client with the scopes of this token.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      responses: {
        200: json(SelfSchema, 'Own company and client'),
        401: E401,
        403: E403('Missing read scope'),
      },
    }),
    (c) => c.json({ company: company(ownOrgNr()), client: client(c.get('token')) }, 200),
  );

  // ------------------------------------------------------------------ partner integration

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/partner-integration',
      summary: 'Get info about partner integration and client',
      description:
        "The partner integration behind the client (owned by the client's own company) and the credit-scorer " +
        'companies it manages: always its own company, plus those created with POST /create-credit-scorer-company.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      responses: {
        200: json(PartnerIntegrationSchema, 'Partner integration and client'),
        401: E401,
        403: E403('Missing read scope'),
      },
    }),
    (c) => {
      const own = ownOrgNr();
      return c.json(
        {
          partner_integration: {
            id: stableUuid(`symetrisk-partner:${own}`),
            name: `${ctx.population.businessByOrgNr.get(own)?.name ?? 'Sandbox'} integration`,
            organization_number: own,
            status: 'active' as const,
            created_at: ACCOUNT_CREATED_AT,
            credit_scorer_companies: [...actsFor()].map(creditScorer),
          },
          client: client(c.get('token')),
        },
        200,
      );
    },
  );

  // ------------------------------------------------------------------ create credit-scorer company

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/create-credit-scorer-company',
      summary: 'Create credit-scorer companies',
      description:
        'Initializes and creates a new credit-scorer company for each listed organisation. It becomes selectable ' +
        'by debtors during onboarding, and this client may then request debtor access, list debtors and read ' +
        'credit scores for it. Idempotent: an existing one is returned with created=false. Per-item errors ' +
        '(invalid or unknown organisation number) do not fail the request. 1-100 items. Requires the write scope.',
      security: security([WRITE_SCOPE]),
      middleware: [write] as const,
      request: {
        body: {
          content: { 'application/json': { schema: CreateCreditScorerRequestSchema } },
          required: true,
        },
      },
      responses: {
        200: json(CreateCreditScorerResultSchema, 'One result per listed organisation, in request order'),
        401: E401,
        403: E403('Missing write scope'),
        415: E415,
        422: E422,
      },
    }),
    (c) => {
      const body = c.req.valid('json');
      const companies = body.borrowers.map(({ organization_number: orgNr }) => {
        if (!isValidOrgNr(orgNr))
          return {
            organization_number: orgNr,
            company: null,
            created: false,
            error: 'invalid_organization_number' as const,
          };
        if (!ctx.population.businessByOrgNr.has(orgNr))
          return {
            organization_number: orgNr,
            company: null,
            created: false,
            error: 'organization_not_found' as const,
          };
        const created = !actsFor().has(orgNr);
        if (created) state.creditScorers.set(orgNr, new Date(ctx.now()).toISOString());
        return { organization_number: orgNr, company: creditScorer(orgNr), created, error: null };
      });
      return c.json({ companies }, 200);
    },
  );

  // ------------------------------------------------------------------ debtors

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/request-debtor-access/{creditor_organization_number}',
      summary: "Request access to debtors' credit score",
      description:
        'Creates a relationship in state access_requested for each debtor and returns its signup link; once the ' +
        'debtor accepts, it becomes access_approved and appears in GET /list-debtors. Asking again for a debtor ' +
        'that is already access_requested or access_approved returns its current state (already_existed=true), ' +
        'not an error; a rejected or revoked one is requested anew. Invalid or unknown organisation numbers are ' +
        'reported on their own item. 1-100 items. Requires the write scope.',
      security: security([WRITE_SCOPE]),
      middleware: [write] as const,
      request: {
        params: creditorParams,
        body: { content: { 'application/json': { schema: RequestDebtorAccessSchema } }, required: true },
      },
      responses: {
        200: json(RequestDebtorAccessResultSchema, 'One result per debtor, in request order'),
        401: E401,
        ...creditorErrors,
        415: E415,
        422: E422,
      },
    }),
    (c) => {
      const { creditor_organization_number: creditor } = c.req.valid('param');
      const bad = checkCreditor(creditor);
      if (bad?.status === 404) return c.json({ detail: bad.detail }, 404);
      if (bad) return c.json({ detail: bad.detail }, 403);
      const debtors = c.req
        .valid('json')
        .debtors.map((d) => requestAccess('debtor', creditor, d.organization_number));
      return c.json({ creditor_organization_number: creditor, debtors }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/list-debtors/{creditor_organization_number}',
      summary: 'List debtors who consented',
      description:
        'Debtors of the creditor in state access_approved, in the order they were requested. To get a credit ' +
        'score, use /get-credit-score/{creditor_organization_number}/{debtor_organization_number}.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: { params: creditorParams, query: PaginationQuerySchema },
      responses: {
        200: json(DebtorListSchema, 'A page of debtors'),
        401: E401,
        ...creditorErrors,
        422: E422,
      },
    }),
    (c) => {
      const { creditor_organization_number: creditor } = c.req.valid('param');
      const bad = checkCreditor(creditor);
      if (bad?.status === 404) return c.json({ detail: bad.detail }, 404);
      if (bad) return c.json({ detail: bad.detail }, 403);
      const pop = ctx.population;
      const approved = state.list('debtor', creditor).filter((r) => r.state === 'access_approved');
      const page = pageOf(approved, c.req.valid('query'));
      return c.json(
        {
          creditor_organization_number: creditor,
          metadata: page.metadata,
          items: page.items.map((r) => ({
            ...relationshipItem(r),
            relationship_state: 'access_approved' as const,
            credit_score_available: (pop.borrowerByOrgNr.get(r.orgNr)?.accounting.length ?? 0) > 0,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/get-credit-score/{creditor_organization_number}/{debtor_organization_number}',
      summary: 'Get the credit score of a debtor',
      description:
        'Only for a debtor in state access_approved with this creditor (else 403). 404 when the debtor is not a ' +
        'known organisation, or has consented but has no accounting data yet (no score can be calculated). ' +
        'calculated_at is the morning after the newest snapshot the score is based on.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: {
        params: creditorParams.extend({
          debtor_organization_number: orgNrParam(
            'debtor_organization_number',
            'The organization number of the debtor to get credit score of.',
          ),
        }),
      },
      responses: {
        200: json(CreditScoreSchema, 'The credit score'),
        401: E401,
        403: E403(
          'Missing read scope, the client does not act for this creditor, or the debtor has not approved',
        ),
        404: E404('Unknown creditor or debtor, or no credit score available for the debtor'),
        422: E422,
      },
    }),
    (c) => {
      const { creditor_organization_number: creditor, debtor_organization_number: debtor } =
        c.req.valid('param');
      const bad = checkCreditor(creditor);
      if (bad?.status === 404) return c.json({ detail: bad.detail }, 404);
      if (bad) return c.json({ detail: bad.detail }, 403);
      const pop = ctx.population;
      const business = pop.businessByOrgNr.get(debtor);
      if (!business) return c.json({ detail: `Organization ${debtor} not found` }, 404);
      if (state.get('debtor', creditor, debtor)?.state !== 'access_approved')
        return c.json(
          { detail: `Debtor ${debtor} has not approved sharing data with creditor ${creditor}` },
          403,
        );
      const borrower = pop.borrowerByOrgNr.get(debtor);
      const basedOn = latestSnapshotDate(borrower);
      if (!borrower || !basedOn)
        return c.json({ detail: `No credit score available for debtor ${debtor}: no accounting data` }, 404);
      const calculated = new Date(`${basedOn}T06:00:00.000Z`);
      calculated.setUTCDate(calculated.getUTCDate() + 1);
      return c.json(
        {
          creditor_organization_number: creditor,
          debtor_organization_number: debtor,
          debtor_name: business.name,
          score: borrower.creditScore,
          risk_class: borrower.riskClass,
          probability_of_default: borrower.probabilityOfDefault,
          calculated_at: calculated.toISOString(),
          based_on_snapshot_date: basedOn,
          model_version: MODEL_VERSION,
        },
        200,
      );
    },
  );

  // ------------------------------------------------------------------ borrowers (bank side)

  const orgParams = z.object({
    organization_number: orgNrParam(
      'organization_number',
      'The brreg organization number of the borrower to retrieve data from.',
    ),
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/accounting-data/{organization_number}',
      summary: 'Get accounting data for borrower',
      description:
        'Returns up to 100 month-end snapshots (snapshot_date is the last day of the month), sorted by ' +
        'snapshot_date descending. Only with a borrower relationship in state access_approved ' +
        '(consented_to_share_data in /borrower), else 403. An approved borrower that has not connected an ' +
        'accounting system gets an empty list. Amounts are NOK.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: { params: orgParams, query: PaginationQuerySchema },
      responses: {
        200: json(AccountingDataListSchema, 'A page of snapshots, newest first'),
        401: E401,
        403: E403('Missing read scope, or no access_approved relationship with the borrower'),
        404: E404('Not a known organisation'),
        422: E422,
      },
    }),
    (c) => {
      const { organization_number: orgNr } = c.req.valid('param');
      const pop = ctx.population;
      if (!pop.businessByOrgNr.has(orgNr)) return c.json({ detail: `Organization ${orgNr} not found` }, 404);
      if (state.get('borrower', ownOrgNr(), orgNr)?.state !== 'access_approved')
        return c.json(
          { detail: `No access_approved relationship with borrower ${orgNr}; request access first` },
          403,
        );
      const borrower = pop.borrowerByOrgNr.get(orgNr);
      const all = borrower ? accountingItems(pop, borrower) : [];
      return c.json(pageOf(all, c.req.valid('query')), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/borrower/{organization_number}',
      summary: 'Get data about a borrower company',
      description:
        "Brreg data of the company and the state of the own company's relationship with it. Any known " +
        'organisation answers 200; relationship_state is null when access was never requested. ' +
        'has_accounting_data and latest_snapshot_date are only revealed once consented.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: { params: orgParams },
      responses: {
        200: json(BorrowerSchema, 'The borrower'),
        401: E401,
        403: E403('Missing read scope'),
        404: E404('Not a known organisation'),
        422: E422,
      },
    }),
    (c) => {
      const { organization_number: orgNr } = c.req.valid('param');
      const pop = ctx.population;
      const b = pop.businessByOrgNr.get(orgNr);
      if (!b) return c.json({ detail: `Organization ${orgNr} not found` }, 404);
      const rel = state.get('borrower', ownOrgNr(), orgNr);
      const consented = rel?.state === 'access_approved';
      const latest = consented ? latestSnapshotDate(pop.borrowerByOrgNr.get(orgNr)) : null;
      return c.json(
        {
          organization_number: orgNr,
          name: b.name,
          organization_form: b.form,
          industry_code: b.industryCode,
          registered_date: b.registeredDate,
          employees: b.employees,
          business_address: address(b),
          relationship_state: rel?.state ?? null,
          consented_to_share_data: consented,
          signup_link: rel?.signupLink ?? null,
          requested_at: rel?.requestedAt ?? null,
          approved_at: rel?.approvedAt ?? null,
          has_accounting_data: latest !== null,
          latest_snapshot_date: latest,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/request-borrower-access',
      summary: 'Request access to borrower companies',
      description:
        'Creates a relationship in state access_requested between the own company and each borrower and returns ' +
        'its signup link. Asking again for a borrower that is already access_requested or access_approved ' +
        'returns its current state (already_existed=true), not an error; a rejected or revoked one is requested ' +
        'anew. Invalid or unknown organisation numbers are reported on their own item. 1-100 items. ' +
        'Requires the write scope.',
      security: security([WRITE_SCOPE]),
      middleware: [write] as const,
      request: {
        body: { content: { 'application/json': { schema: RequestBorrowerAccessSchema } }, required: true },
      },
      responses: {
        200: json(RequestBorrowerAccessResultSchema, 'One result per borrower, in request order'),
        401: E401,
        403: E403('Missing write scope'),
        415: E415,
        422: E422,
      },
    }),
    (c) => {
      const own = ownOrgNr();
      const borrowers = c.req
        .valid('json')
        .borrowers.map((b) => requestAccess('borrower', own, b.organization_number));
      return c.json({ borrowers }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/relationships',
      summary: 'List all borrower relationships',
      description:
        'Every borrower relationship of the own company, whatever its state, oldest request first (new ones ' +
        'append, so skip-pagination is stable). Debtor relationships of credit-scorer companies are listed by ' +
        '/list-debtors instead.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: { query: PaginationQuerySchema },
      responses: {
        200: json(RelationshipListSchema, 'A page of relationships'),
        401: E401,
        403: E403('Missing read scope'),
        422: E422,
      },
    }),
    (c) => {
      const page = pageOf(state.list('borrower', ownOrgNr()), c.req.valid('query'));
      return c.json({ metadata: page.metadata, items: page.items.map(relationshipItem) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/notifications',
      summary: 'Get notifications',
      description:
        'Answers of borrowers and debtors (access_approved, access_rejected, access_revoked) for every company ' +
        'this client acts for, newest first. Symetrisk sends no webhooks: poll this and stop at the first id ' +
        'already seen. Notifications are kept; reading does not remove them.',
      security: security([READ_SCOPE]),
      middleware: [read] as const,
      request: { query: PaginationQuerySchema },
      responses: {
        200: json(NotificationListSchema, 'A page of notifications'),
        401: E401,
        403: E403('Missing read scope'),
        422: E422,
      },
    }),
    (c) => {
      const page = pageOf(state.notificationsFor(actsFor()), c.req.valid('query'));
      return c.json(
        {
          metadata: page.metadata,
          items: page.items.map((n) => ({
            id: n.id,
            type: n.type,
            relationship_type: n.relationshipType,
            organization_number: n.orgNr,
            creditor_organization_number: n.creditor,
            created_at: n.createdAt,
            message: n.message,
          })),
        },
        200,
      );
    },
  );
}
