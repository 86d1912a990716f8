import type { ProviderEndpoint } from '../../config.js';
import type { ProviderDeps } from '../deps.js';
import { UpstreamError } from '../errors.js';
import { ProviderHttp, type UpstreamResponseMeta } from '../http.js';
import { TokenCache, clientCredentialsFetcher } from '../tokens.js';
import {
  CREDENTIAL_CHECK_MAX,
  changeCustomerInfoResponseSchema,
  credentialCheckResponseSchema,
  customerInfoSchema,
  searchCustomerResponseSchema,
  type ChangeCustomerInfoRequest,
  type CheckedCredential,
  type CustomerInfo,
  type SearchCustomerRequest,
} from './schemas.js';

/** Route patterns: the labels for metrics and logs, never a path holding a customer number. */
export const CONNECT_ENDPOINTS = {
  myInfo: 'GET /v1/customer/info',
  updateMyInfo: 'POST /v1/customer/info',
  clientInfo: 'GET /v1/client/customer/info/{customerNumber}',
  search: 'POST /v1/client/customer/search',
  credentialCheck: 'POST /v1/client/credential/customers/check',
} as const;

/** Connect's rate-limit headers from the latest answer (100/s and 2000/min per client by default). */
export interface ConnectRateLimit {
  /** Calls left in the tighter of the two windows. */
  remaining: number;
  /** Whole seconds until that window resets. */
  resetSeconds: number;
  observedAt: number;
}

export interface ConnectClient {
  /** Client mode: one customer by number; null when Connect answers 404. */
  customerInfo(customerNumber: number): Promise<CustomerInfo | null>;
  /** User mode: the customer of the end user whose token this is; null when Connect answers 404. */
  myCustomerInfo(userToken: string): Promise<CustomerInfo | null>;
  /**
   * User mode write: REPLACES the user's whole customer record with `body` (fields not sent
   * become null). Sent exactly once: never retried, not even on a 429 (see CONNECT_CALLS_PER_SECOND).
   * Throws UpstreamError on any failure, including Connect's `success: false`.
   */
  updateMyCustomerInfo(userToken: string, body: ChangeCustomerInfoRequest): Promise<void>;
  /** Client mode search: at most 5 customers; more matches are Connect's 403 (see isSearchTooBroad). */
  searchCustomers(request: SearchCustomerRequest): Promise<CustomerInfo[]>;
  /** Client mode credential check: 1 to 100 credentials per call, one item per (credential, customer) found. */
  checkCredentials(credentials: string[]): Promise<CheckedCredential[]>;
  /** The last rate-limit headers seen, null before the first call. */
  rateLimit(): ConnectRateLimit | null;
  /** A cheap authenticated call, for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connect allows 100 calls/s and 2000/min per client. ProviderHttp queues our calls to stay under
 * the per-second limit (a sliding window; the extra 100 ms absorb network jitter between our
 * clock and the window Connect opens at our first call). A 429 that still arrives is retried by
 * ProviderHttp after the advised Retry-After, for reads only: a write (POST /v1/customer/info) is
 * sent once, since a 429 from an API gateway in front of Connect does not prove it was not
 * applied and a blind second replace-all write could overwrite a change made in between. The
 * POSTs marked `idempotent` (search, credential check) are reads sent as POST.
 */
export const CONNECT_CALLS_PER_SECOND = 100;
const RATE_LIMIT_SLACK_MS = 100;

/** Warn when this few calls are left in Connect's current window: the next burst may be a 429. */
const LOW_RATE_LIMIT_WARNING = 10;

/**
 * Connect's 403 on search when more than 5 customers match ("Number of customers in response
 * are limited to 5 customers"). Told apart from other 403s by the message, so a real permission
 * problem still surfaces as UPSTREAM_FORBIDDEN.
 */
export function isSearchTooBroad(err: unknown): err is UpstreamError {
  if (!(err instanceof UpstreamError) || err.provider !== 'connect' || err.status !== 403) return false;
  if (err.endpoint !== CONNECT_ENDPOINTS.search) return false;
  const d = err.detail as { errorMessage?: unknown } | undefined;
  return typeof d?.errorMessage === 'string' && /limited to/i.test(d.errorMessage);
}

function header(meta: UpstreamResponseMeta, name: string): string | undefined {
  const v = meta.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createConnectHttpClient(endpoint: ProviderEndpoint, deps: ProviderDeps): ConnectClient {
  // Connect takes client_id/client_secret in the form body of the client-credentials grant.
  const tokens = new TokenCache(
    clientCredentialsFetcher({
      provider: 'connect',
      tokenUrl: endpoint.tokenUrl,
      clientId: endpoint.clientId,
      clientSecret: endpoint.clientSecret,
      timeoutMs: endpoint.timeoutMs,
      credentialsIn: 'form',
    }),
  );
  const http = new ProviderHttp({
    provider: 'connect',
    baseUrl: endpoint.baseUrl,
    timeoutMs: endpoint.timeoutMs,
    tokens,
    onCall: deps.onCall,
    // Connect allows 100 calls/s per client: queue on our side rather than meet its 429.
    resilience: {
      ...deps.resilience,
      rateLimit: {
        limit: deps.connectCallsPerSecond ?? CONNECT_CALLS_PER_SECOND,
        intervalMs: 1_000 + RATE_LIMIT_SLACK_MS,
      },
    },
  });
  deps.onHttp?.(http);
  let lastRateLimit: ConnectRateLimit | null = null;

  const observe = (meta: UpstreamResponseMeta, endpointLabel: string) => {
    const remaining = Number(header(meta, 'x-ratelimit-remaining'));
    const resetSeconds = Number(header(meta, 'x-ratelimit-reset'));
    if (!Number.isFinite(remaining) || !Number.isFinite(resetSeconds)) return;
    lastRateLimit = { remaining, resetSeconds, observedAt: Date.now() };
    if (remaining < LOW_RATE_LIMIT_WARNING) {
      deps.log.warn(
        { provider: 'connect', endpoint: endpointLabel, remaining, resetSeconds },
        'connect rate limit nearly used up',
      );
    }
  };

  const clientInfo = async (customerNumber: number): Promise<CustomerInfo | null> => {
    const { body, meta } = await http.requestWithMeta({
      method: 'GET',
      path: `/v1/client/customer/info/${encodeURIComponent(String(customerNumber))}`,
      endpoint: CONNECT_ENDPOINTS.clientInfo,
      schema: customerInfoSchema,
      emptyOn: [404],
    });
    observe(meta, CONNECT_ENDPOINTS.clientInfo);
    return body;
  };

  return {
    customerInfo: clientInfo,

    async myCustomerInfo(userToken) {
      // The end user's own token; ProviderHttp neither refreshes nor retries it on 401, since
      // only the end user can get a new one: a 401 reaches the caller as UPSTREAM_UNAUTHORIZED.
      const { body, meta } = await http.requestWithMeta({
        method: 'GET',
        path: '/v1/customer/info',
        endpoint: CONNECT_ENDPOINTS.myInfo,
        schema: customerInfoSchema,
        emptyOn: [404],
        bearer: userToken,
      });
      observe(meta, CONNECT_ENDPOINTS.myInfo);
      return body;
    },

    async updateMyCustomerInfo(userToken, body) {
      // A write (not `idempotent`): ProviderHttp attempts it once, whatever the answer. The end
      // user's token is not refreshed on 401 either (ProviderHttp never retries a `bearer` call).
      const { body: answer, meta } = await http.requestWithMeta({
        method: 'POST',
        path: '/v1/customer/info',
        endpoint: CONNECT_ENDPOINTS.updateMyInfo,
        body,
        schema: changeCustomerInfoResponseSchema,
        bearer: userToken,
      });
      observe(meta, CONNECT_ENDPOINTS.updateMyInfo);
      if (answer?.success !== true) {
        throw new UpstreamError(
          'connect',
          'UPSTREAM_REJECTED',
          meta.status,
          `connect ${CONNECT_ENDPOINTS.updateMyInfo} answered success: false`,
          CONNECT_ENDPOINTS.updateMyInfo,
        );
      }
    },

    async searchCustomers(request) {
      const { body, meta } = await http.requestWithMeta({
        method: 'POST',
        path: '/v1/client/customer/search',
        endpoint: CONNECT_ENDPOINTS.search,
        idempotent: true,
        body: request,
        schema: searchCustomerResponseSchema,
      });
      observe(meta, CONNECT_ENDPOINTS.search);
      return body?.customers ?? [];
    },

    async checkCredentials(credentials) {
      if (credentials.length === 0) return [];
      if (credentials.length > CREDENTIAL_CHECK_MAX) {
        // The loaders cap batches at 100; reaching this is a programming error, not a user error.
        throw new RangeError(
          `connect credential check takes at most ${CREDENTIAL_CHECK_MAX} credentials per call`,
        );
      }
      const { body, meta } = await http.requestWithMeta({
        method: 'POST',
        path: '/v1/client/credential/customers/check',
        endpoint: CONNECT_ENDPOINTS.credentialCheck,
        idempotent: true,
        body: { credentials },
        schema: credentialCheckResponseSchema,
      });
      observe(meta, CONNECT_ENDPOINTS.credentialCheck);
      return body?.customers ?? [];
    },

    rateLimit: () => lastRateLimit,

    async ping() {
      // Customer 1 may or may not exist: a 200 or a 404 both prove token and API answer.
      await clientInfo(1);
    },

    close: () => http.close(),
  };
}
