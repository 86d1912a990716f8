import type { ProviderEndpoint } from '../../config.js';
import type { ProviderDeps } from '../deps.js';
import { ProviderHttp } from '../http.js';
import { TokenCache, clientCredentialsFetcher } from '../tokens.js';
import {
  acceptedBodySchema,
  auditEventPageSchema,
  createdWebhookSchema,
  webhookSchema,
  consumerPageSchema,
  subscribedPersonPageSchema,
  v3PersonSchema,
  webhookListSchema,
  type AuditEventPage,
  type ConsumerUploadItem,
  type V3CreatedWebhook,
  type ConsumerPage,
  type FindPersonQuery,
  type SubscribedPersonPage,
  type V3Person,
  type V3Webhook,
} from './schemas.js';

/** Route patterns: the labels for metrics and logs, never a path holding a gedi. */
export const BISNODE_ENDPOINTS = {
  findPerson: 'POST /markets/{market}/persons/_find',
  person: 'GET /persons/{gedi}',
  subscribedPersons: 'GET /subscriptions/persons',
  consumers: 'GET /consumers',
  auditEvents: 'GET /audit-events',
  webhooks: 'GET /webhooks',
  uploadConsumers: 'POST /consumers',
  deleteConsumers: 'DELETE /consumers',
  createWebhook: 'POST /webhooks',
  deleteWebhook: 'DELETE /webhooks/{id}',
} as const;

export type ConsumerStateFilter = 'UPLOADED' | 'IDENTIFYING' | 'IDENTIFIED' | 'NOT_IDENTIFIED';

/** One function per endpoint of Consumer Intelligence V3 (API base ends in /consumer-intelligence/v3). */
export interface BisnodeClient {
  /** POST /markets/{market}/persons/_find: one query per call (no bulk); null on 204 (nobody, or more than one). */
  findPerson(market: string, query: FindPersonQuery): Promise<V3Person | null>;
  /** GET /persons/{gedi}; null on 404. */
  person(gedi: string): Promise<V3Person | null>;
  /** GET /subscriptions/persons; `pageToken` and `fromDate` exclude each other. */
  subscribedPersons(page: {
    pageToken?: string;
    fromDate?: string;
    pageSize: number;
  }): Promise<SubscribedPersonPage>;
  /** GET /consumers, ascending by upload time. */
  consumers(page: {
    pageToken?: string;
    pageSize: number;
    state?: ConsumerStateFilter;
  }): Promise<ConsumerPage>;
  /** GET /audit-events, ascending by insertion. */
  auditEvents(page: { pageToken?: string; pageSize: number }): Promise<AuditEventPage>;
  /** GET /webhooks. */
  webhooks(): Promise<V3Webhook[]>;
  /**
   * POST /consumers with 1 to 100 consumers; 202. A 400 Constraint Violation rejects the whole
   * call (nothing stored): the UpstreamError's `detail` holds the violations. Not idempotent in
   * effect (a re-upload restarts identification), so never retried here.
   */
  uploadConsumers(items: ConsumerUploadItem[]): Promise<void>;
  /** DELETE /consumers with 1 to 250 ids; 202; unknown ids are ignored. */
  deleteConsumers(consumerIds: string[]): Promise<void>;
  /** POST /webhooks → the webhook with its `secret` (shown only here); 409 when the url is taken. */
  createWebhook(body: { url: string; events: string[]; description?: string }): Promise<V3CreatedWebhook>;
  /** DELETE /webhooks/{id} → the deleted webhook; null on 404. */
  deleteWebhook(id: string): Promise<V3Webhook | null>;
  /** A cheap authenticated call (token + GET /webhooks), for providerStatus and /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A body that must be there: ProviderHttp returns null only for `emptyOn` statuses, which these calls do not set. */
function present<T>(v: T | null): T {
  if (v === null) throw new Error('unreachable: a null body without emptyOn');
  return v;
}

export function createBisnodeHttpClient(endpoint: ProviderEndpoint, deps: ProviderDeps): BisnodeClient {
  // OAuth2 client credentials with Basic auth and scope bci; tokens live 3600 s.
  const tokens = new TokenCache(
    clientCredentialsFetcher({
      provider: 'bisnode',
      tokenUrl: endpoint.tokenUrl,
      clientId: endpoint.clientId,
      clientSecret: endpoint.clientSecret,
      scope: 'bci',
      credentialsIn: 'basic',
      timeoutMs: endpoint.timeoutMs,
    }),
  );
  const http = new ProviderHttp({
    provider: 'bisnode',
    baseUrl: endpoint.baseUrl,
    timeoutMs: endpoint.timeoutMs,
    tokens,
    onCall: deps.onCall,
    resilience: deps.resilience,
  });
  deps.onHttp?.(http);

  return {
    findPerson: (market, query) =>
      http.request({
        method: 'POST',
        path: `/markets/${encodeURIComponent(market)}/persons/_find`,
        endpoint: BISNODE_ENDPOINTS.findPerson,
        // A search sent as POST: safe to retry.
        idempotent: true,
        body: query,
        schema: v3PersonSchema,
        emptyOn: [204],
      }),

    person: (gedi) =>
      http.request({
        method: 'GET',
        path: `/persons/${encodeURIComponent(gedi)}`,
        endpoint: BISNODE_ENDPOINTS.person,
        schema: v3PersonSchema,
        emptyOn: [404],
      }),

    subscribedPersons: async ({ pageToken, fromDate, pageSize }) =>
      present(
        await http.request({
          method: 'GET',
          path: '/subscriptions/persons',
          endpoint: BISNODE_ENDPOINTS.subscribedPersons,
          query: { pageToken, fromDate, pageSize },
          schema: subscribedPersonPageSchema,
        }),
      ),

    consumers: async ({ pageToken, pageSize, state }) =>
      present(
        await http.request({
          method: 'GET',
          path: '/consumers',
          endpoint: BISNODE_ENDPOINTS.consumers,
          query: { pageToken, pageSize, state },
          schema: consumerPageSchema,
        }),
      ),

    auditEvents: async ({ pageToken, pageSize }) =>
      present(
        await http.request({
          method: 'GET',
          path: '/audit-events',
          endpoint: BISNODE_ENDPOINTS.auditEvents,
          query: { pageToken, pageSize },
          schema: auditEventPageSchema,
        }),
      ),

    webhooks: async () =>
      present(
        await http.request({
          method: 'GET',
          path: '/webhooks',
          endpoint: BISNODE_ENDPOINTS.webhooks,
          schema: webhookListSchema,
        }),
      ).webhooks,

    uploadConsumers: async (items) => {
      await http.request({
        method: 'POST',
        path: '/consumers',
        endpoint: BISNODE_ENDPOINTS.uploadConsumers,
        body: items,
        schema: acceptedBodySchema,
      });
    },

    deleteConsumers: async (consumerIds) => {
      await http.request({
        method: 'DELETE',
        path: '/consumers',
        endpoint: BISNODE_ENDPOINTS.deleteConsumers,
        body: { consumerIds },
        schema: acceptedBodySchema,
      });
    },

    createWebhook: async (body) =>
      present(
        await http.request({
          method: 'POST',
          path: '/webhooks',
          endpoint: BISNODE_ENDPOINTS.createWebhook,
          body,
          schema: createdWebhookSchema,
        }),
      ),

    deleteWebhook: (id) =>
      http.request({
        method: 'DELETE',
        path: `/webhooks/${encodeURIComponent(id)}`,
        endpoint: BISNODE_ENDPOINTS.deleteWebhook,
        schema: webhookSchema,
        emptyOn: [404],
      }),

    ping: async () => {
      await http.request({
        method: 'GET',
        path: '/webhooks',
        endpoint: BISNODE_ENDPOINTS.webhooks,
        schema: webhookListSchema,
      });
    },

    close: () => http.close(),
  };
}
