import type { ProviderEndpoint } from '../../config.js';
import type { ProviderDeps } from '../deps.js';
import { UpstreamError } from '../errors.js';
import { ProviderHttp } from '../http.js';
import { TokenCache, clientCredentialsFetcher } from '../tokens.js';
import {
  accountingListSchema,
  borrowerAccessResultSchema,
  borrowerSchema,
  creditScoreSchema,
  creditScorerResultSchema,
  debtorAccessResultSchema,
  debtorListSchema,
  notificationListSchema,
  partnerIntegrationSchema,
  pongSchema,
  relationshipListSchema,
  selfSchema,
  type UpstreamSelf,
} from './schemas.js';

/** Both scopes: reads now, access requests (write) from the same token later. */
export const SYMETRISK_SCOPES = 'https://api.symetrisk.com/read https://api.symetrisk.com/write';

/** Most organisations one write call takes (every Symetrisk write accepts 1-100 items). */
export const SYMETRISK_MAX_WRITE_ITEMS = 100;

/** Symetrisk's own page-size bounds for every list (limit 1-100, skip >= 0). */
export const SYMETRISK_MAX_LIMIT = 100;

export interface PageParams {
  limit: number;
  skip: number;
}

const enc = encodeURIComponent;

/**
 * ProviderHttp answers null only for `emptyOn` statuses, and these calls have none; the check
 * narrows the type without a non-null assertion and would catch a change in that rule.
 */
function present<T>(body: T | null, endpoint: string): T {
  if (body === null)
    throw new UpstreamError(
      'symetrisk',
      'UPSTREAM_BAD_RESPONSE',
      null,
      `symetrisk ${endpoint} sent no body`,
      endpoint,
    );
  return body;
}

/**
 * One function per Symetrisk endpoint, all through the one ProviderHttp path with a Cognito
 * client-credentials token. Statuses that mean "nothing here" resolve to null; everything else
 * that is not 2xx throws UpstreamError (403 included: callers decide whether "no approval" is an
 * error for them).
 */
export function createSymetriskHttpClient(endpoint: ProviderEndpoint, deps: ProviderDeps) {
  const tokens = new TokenCache(
    clientCredentialsFetcher({
      provider: 'symetrisk',
      tokenUrl: endpoint.tokenUrl,
      clientId: endpoint.clientId,
      clientSecret: endpoint.clientSecret,
      scope: SYMETRISK_SCOPES,
      timeoutMs: endpoint.timeoutMs,
      credentialsIn: 'basic',
    }),
  );
  const http = new ProviderHttp({
    provider: 'symetrisk',
    baseUrl: endpoint.baseUrl,
    timeoutMs: endpoint.timeoutMs,
    tokens,
    onCall: deps.onCall,
    resilience: deps.resilience,
  });
  deps.onHttp?.(http);

  // Our own company never changes for a client; one /self per process (single flight), and a
  // failure is forgotten so the next caller tries again.
  let self: Promise<UpstreamSelf> | null = null;
  const getSelf = (): Promise<UpstreamSelf> => {
    self ??= http
      .request({ method: 'GET', path: '/self', endpoint: 'GET /self', schema: selfSchema })
      .then((body) => body as UpstreamSelf)
      .catch((err: unknown) => {
        self = null;
        throw err;
      });
    return self;
  };

  return {
    tokens,

    async ping(): Promise<void> {
      await http.request({ method: 'GET', path: '/ping', endpoint: 'GET /ping', schema: pongSchema });
    },

    self: getSelf,

    partnerIntegration() {
      return http.request({
        method: 'GET',
        path: '/partner-integration',
        endpoint: 'GET /partner-integration',
        schema: partnerIntegrationSchema,
      });
    },

    /** The own company's organisation number: the creditor of Borrower.creditScore. */
    async ownOrganizationNumber(): Promise<string> {
      return (await getSelf()).company.brreg_organization_number;
    },

    /** Null when Symetrisk does not know the organisation (404). */
    borrower(orgNr: string) {
      return http.request({
        method: 'GET',
        path: `/borrower/${enc(orgNr)}`,
        endpoint: 'GET /borrower/{organization_number}',
        schema: borrowerSchema,
        emptyOn: [404],
      });
    },

    async relationships(page: PageParams) {
      const body = await http.request({
        method: 'GET',
        path: '/relationships',
        endpoint: 'GET /relationships',
        query: { limit: page.limit, skip: page.skip },
        schema: relationshipListSchema,
      });
      return present(body, 'GET /relationships');
    },

    async debtors(creditor: string, page: PageParams) {
      const body = await http.request({
        method: 'GET',
        path: `/list-debtors/${enc(creditor)}`,
        endpoint: 'GET /list-debtors/{creditor_organization_number}',
        query: { limit: page.limit, skip: page.skip },
        schema: debtorListSchema,
      });
      return present(body, 'GET /list-debtors/{creditor_organization_number}');
    },

    /** Null when the debtor is unknown or has no score yet (404); 403 without an approved relationship. */
    creditScore(creditor: string, debtor: string) {
      return http.request({
        method: 'GET',
        path: `/get-credit-score/${enc(creditor)}/${enc(debtor)}`,
        endpoint: 'GET /get-credit-score/{creditor_organization_number}/{debtor_organization_number}',
        schema: creditScoreSchema,
        emptyOn: [404],
      });
    },

    /** Null when the organisation is unknown (404); 403 without an approved borrower relationship. */
    accountingData(orgNr: string, page: PageParams) {
      return http.request({
        method: 'GET',
        path: `/accounting-data/${enc(orgNr)}`,
        endpoint: 'GET /accounting-data/{organization_number}',
        query: { limit: page.limit, skip: page.skip },
        schema: accountingListSchema,
        emptyOn: [404],
      });
    },

    async notifications(page: PageParams) {
      const body = await http.request({
        method: 'GET',
        path: '/notifications',
        endpoint: 'GET /notifications',
        query: { limit: page.limit, skip: page.skip },
        schema: notificationListSchema,
      });
      return present(body, 'GET /notifications');
    },

    // Writes. ProviderHttp never retries them (only the 401 token refresh, refused before any
    // processing). Each takes at most SYMETRISK_MAX_WRITE_ITEMS organisations; writes.ts splits.

    async requestBorrowerAccess(orgNrs: readonly string[]) {
      const body = await http.request({
        method: 'POST',
        path: '/request-borrower-access',
        endpoint: 'POST /request-borrower-access',
        body: { borrowers: orgNrs.map((o) => ({ organization_number: o })) },
        schema: borrowerAccessResultSchema,
      });
      return present(body, 'POST /request-borrower-access').borrowers;
    },

    async requestDebtorAccess(creditor: string, orgNrs: readonly string[]) {
      const body = await http.request({
        method: 'POST',
        path: `/request-debtor-access/${enc(creditor)}`,
        endpoint: 'POST /request-debtor-access/{creditor_organization_number}',
        body: { debtors: orgNrs.map((o) => ({ organization_number: o })) },
        schema: debtorAccessResultSchema,
      });
      return present(body, 'POST /request-debtor-access/{creditor_organization_number}').debtors;
    },

    async createCreditScorerCompany(orgNrs: readonly string[]) {
      const body = await http.request({
        method: 'POST',
        path: '/create-credit-scorer-company',
        endpoint: 'POST /create-credit-scorer-company',
        // Symetrisk's own example names the list `borrowers` for this endpoint too.
        body: { borrowers: orgNrs.map((o) => ({ organization_number: o })) },
        schema: creditScorerResultSchema,
      });
      return present(body, 'POST /create-credit-scorer-company').companies;
    },

    close: () => http.close(),
  };
}

export type SymetriskHttpClient = ReturnType<typeof createSymetriskHttpClient>;
