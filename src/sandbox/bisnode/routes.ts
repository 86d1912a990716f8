import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { parseBasicAuth } from '../common/tokens.js';
import { findPerson, isEmptyQuery } from './matching.js';
import { constraintViolation, problem, problemSchema } from './problem.js';
import {
  MAX_CONSUMERS_PER_UPLOAD,
  auditEventPageSchema,
  consumerDataSchema,
  consumerPageSchema,
  consumerStateSchema,
  consumerUploadBatchSchema,
  createWebhookSchema,
  createdWebhookSchema,
  deleteConsumersSchema,
  oauthErrorSchema,
  personSchema,
  subscribedPersonPageSchema,
  tokenRequestSchema,
  tokenResponseSchema,
  webhookListSchema,
  webhookSchema,
} from './schemas.js';
import { isServedMarket, type BisnodeState, type ConsumerRec, type WebhookRec } from './state.js';

export const API = '/consumer-intelligence/v3';
export const TOKEN_PATH = '/as/token.oauth2';
const DEFAULT_TOKEN_TTL_SECONDS = 3600;
const DEFAULT_PAGE_SIZE = 100;

const problemContent = { 'application/problem+json': { schema: problemSchema } };
const err = (description: string) => ({ description, content: problemContent });
const retryAfter = {
  'Retry-After': {
    description: 'Seconds until the client may call again.',
    schema: { type: 'integer' as const },
  },
};
const common = {
  401: err(
    'Missing, invalid or expired access token (title "Unauthorized"); with `WWW-Authenticate: Bearer`.',
  ),
  429: {
    ...err(
      'Rate limited: by default more than 200 requests in one second from one client (fixed one-second windows; configurable with PUT /_sandbox/bisnode/rate-limit).',
    ),
    headers: retryAfter,
  },
};
const violation = err(
  'Constraint Violation: the request does not validate; `violations` names each field (`[3].consumerId` for array item 3).',
);
const security = [{ bearerAuth: [] }];

const pageSizeQuery = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .openapi({ type: 'integer', default: DEFAULT_PAGE_SIZE, minimum: 1, maximum: 1000, example: 100 });
const pageTokenQuery = z
  .string()
  .max(500)
  .optional()
  .openapi({ description: 'The nextPageToken of the previous page.' });

// ---------------------------------------------------------------------------------------------
// Cursors: opaque to clients, "<kind>:<number>" base64url inside.
// ---------------------------------------------------------------------------------------------

type CursorKind = 'consumers' | 'subscriptions' | 'audit';
const encodeCursor = (kind: CursorKind, n: number) => Buffer.from(`${kind}:${n}`).toString('base64url');
function decodeCursor(kind: CursorKind, token: string | undefined): number | null | undefined {
  if (token === undefined || token === '') return undefined;
  const m = /^([a-z]+):(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m || m[1] !== kind) return null;
  return Number(m[2]);
}

// ---------------------------------------------------------------------------------------------
// Route definitions
// ---------------------------------------------------------------------------------------------

const tokenRoute = createRoute({
  method: 'post',
  path: TOKEN_PATH,
  tags: ['OAuth'],
  summary: 'Get an access token (OAuth 2.0 client credentials)',
  description:
    'Form body `grant_type=client_credentials&scope=bci`; the client authenticates with HTTP Basic (client_id:client_secret) or with client_id/client_secret form fields. A missing scope means bci. Tokens live 3600 s (sandbox option tokenTtlSeconds.bisnode) and expiry is enforced. Errors are OAuth 2.0 `{error, error_description}`.',
  request: {
    body: {
      required: false,
      content: { 'application/x-www-form-urlencoded': { schema: tokenRequestSchema } },
    },
  },
  responses: {
    200: { description: 'Token issued.', content: { 'application/json': { schema: tokenResponseSchema } } },
    400: {
      description:
        'invalid_request, unsupported_grant_type (anything but client_credentials) or invalid_scope.',
      content: { 'application/json': { schema: oauthErrorSchema } },
    },
    401: {
      description: 'invalid_client: unknown client or wrong secret; with `WWW-Authenticate: Basic`.',
      content: { 'application/json': { schema: oauthErrorSchema } },
    },
  },
});

const findRoute = createRoute({
  method: 'post',
  path: `${API}/markets/{market}/persons/_find`,
  tags: ['Persons'],
  summary: 'Find person',
  description:
    'One query per call. 200 with the person, or 204 with an empty body when nobody (or more than one person) matches. See ConsumerDataDto for the matching rules.',
  security,
  request: {
    params: z.object({
      market: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .openapi({ param: { name: 'market', in: 'path' }, example: 'SE', description: 'SE, NO, DK or FI.' }),
    }),
    body: { required: true, content: { 'application/json': { schema: consumerDataSchema } } },
  },
  responses: {
    200: { description: 'The matched person.', content: { 'application/json': { schema: personSchema } } },
    204: { description: 'No person matched.' },
    400: violation,
    ...common,
    403: err('Forbidden: the client has no source for this market (any market but SE, NO, DK, FI).'),
  },
});

const getPersonRoute = createRoute({
  method: 'get',
  path: `${API}/persons/{gedi}`,
  tags: ['Persons'],
  summary: 'Get person',
  description:
    'By gedi. Minors and protected identities are returned here too (they are only hidden from search). An earlier gedi of a re-identified person keeps resolving.',
  security,
  request: {
    params: z.object({
      gedi: z
        .string()
        .max(250)
        .openapi({ param: { name: 'gedi', in: 'path' }, example: 'gedi-000000042' }),
    }),
  },
  responses: {
    200: { description: 'The person.', content: { 'application/json': { schema: personSchema } } },
    ...common,
    404: err('No person has this gedi.'),
  },
});

const subscriptionsRoute = createRoute({
  method: 'get',
  path: `${API}/subscriptions/persons`,
  tags: ['Persons'],
  summary: 'List subscribed persons',
  description:
    'De-duplicated identified consumers, ascending by changed timestamp (subscribed, consumer set changed, person changed, enrichment changed, re-identified). At the end the page is empty but nextPageToken is still set: store it and use it later to get what changed since. A person that is changed again moves to the end. Unsubscribed persons leave the list.',
  security,
  request: {
    query: z.object({
      pageToken: pageTokenQuery.openapi({ description: 'Cannot be used with fromDate.' }),
      fromDate: z.iso.date().optional().openapi({
        description: 'Start at persons changed on or after this UTC date. Cannot be used with pageToken.',
      }),
      pageSize: pageSizeQuery,
    }),
  },
  responses: {
    200: { description: 'A page.', content: { 'application/json': { schema: subscribedPersonPageSchema } } },
    400: violation,
    ...common,
  },
});

const listConsumersRoute = createRoute({
  method: 'get',
  path: `${API}/consumers`,
  tags: ['Consumers'],
  summary: 'List consumers',
  description:
    'Ascending by upload time (a re-uploaded consumer counts from its latest upload). nextPageToken is null on the last page. Pass the same `state` with each pageToken.',
  security,
  request: {
    query: z.object({
      pageToken: pageTokenQuery,
      pageSize: pageSizeQuery,
      state: consumerStateSchema.optional(),
    }),
  },
  responses: {
    200: { description: 'A page.', content: { 'application/json': { schema: consumerPageSchema } } },
    400: violation,
    ...common,
  },
});

const uploadConsumersRoute = createRoute({
  method: 'post',
  path: `${API}/consumers`,
  tags: ['Consumers'],
  summary: 'Upload consumers',
  description: `1 to ${MAX_CONSUMERS_PER_UPLOAD} consumers; 202 with an empty body. Identification then runs asynchronously: UPLOADED → IDENTIFYING → IDENTIFIED or NOT_IDENTIFIED (sandbox: identificationDelayMs, default 200 ms, between steps), with webhooks CONSUMER_UPLOADED, then CONSUMER_IDENTIFIED (plus PERSON_SUBSCRIBED when the person gets its first consumer) or CONSUMER_NOT_IDENTIFIED. Uploading an existing consumerId replaces it (data, state UPLOADED, position at the end of the list); the person it was identified with stays subscribed until the new identification ends (PERSON_UNSUBSCRIBED if it then points elsewhere or nowhere). Markets without a source (anything but SE, NO, DK, FI) are accepted and end NOT_IDENTIFIED with sources [] and market XX in events.`,
  security,
  request: {
    body: { required: true, content: { 'application/json': { schema: consumerUploadBatchSchema } } },
  },
  responses: {
    202: { description: 'Accepted; identification started.' },
    400: violation,
    ...common,
  },
});

const deleteConsumersRoute = createRoute({
  method: 'delete',
  path: `${API}/consumers`,
  tags: ['Consumers'],
  summary: 'Delete consumers',
  description:
    'Deletes at once and answers 202 with an empty body. Each deleted consumer emits CONSUMER_DELETED; a person that loses its last consumer is unsubscribed (PERSON_UNSUBSCRIBED). Unknown consumerIds are ignored.',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: deleteConsumersSchema } } } },
  responses: {
    202: { description: 'Deleted.' },
    400: violation,
    ...common,
  },
});

const auditRoute = createRoute({
  method: 'get',
  path: `${API}/audit-events`,
  tags: ['Audit events'],
  summary: 'List audit events',
  description:
    'Every event on your resources (the webhook event shapes, PING excepted), ascending by insertion, whether or not a webhook subscribed to it. nextPageToken is never null: at the end it fetches later events.',
  security,
  request: { query: z.object({ pageToken: pageTokenQuery, pageSize: pageSizeQuery }) },
  responses: {
    200: { description: 'A page.', content: { 'application/json': { schema: auditEventPageSchema } } },
    400: violation,
    ...common,
  },
});

const listWebhooksRoute = createRoute({
  method: 'get',
  path: `${API}/webhooks`,
  tags: ['Webhooks'],
  summary: 'List webhooks',
  description: 'Secrets are never listed.',
  security,
  responses: {
    200: { description: 'All webhooks.', content: { 'application/json': { schema: webhookListSchema } } },
    ...common,
  },
});

const createWebhookRoute = createRoute({
  method: 'post',
  path: `${API}/webhooks`,
  tags: ['Webhooks'],
  summary: 'Create webhook',
  description:
    'Answers 201 with the `secret` (only here). A PING event is delivered right after. There is no update: create a new webhook and delete the old one. Delivery: POST of a JSON array of events with headers `ci-signature-timestamp` (epoch seconds, fresh per attempt) and `ci-signature-sha256` = hex(HMAC-SHA256(secret, timestamp + "." + rawBody)); only status 200 counts as received, anything else is redelivered with backoff (so an event can arrive more than once, always with the same id). Each webhook gets only the event types it lists ("*" = all). The sandbox also accepts http:// URLs.',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: createWebhookSchema } } } },
  responses: {
    201: { description: 'Created.', content: { 'application/json': { schema: createdWebhookSchema } } },
    400: violation,
    ...common,
    409: err('A webhook with the same url already exists.'),
  },
});

const deleteWebhookRoute = createRoute({
  method: 'delete',
  path: `${API}/webhooks/{id}`,
  tags: ['Webhooks'],
  summary: 'Delete webhook',
  description: 'Answers the deleted webhook. Deliveries already being retried are not called back.',
  security,
  request: {
    params: z.object({
      id: z
        .string()
        .max(100)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The deleted webhook.', content: { 'application/json': { schema: webhookSchema } } },
    ...common,
    404: err('No webhook has this id.'),
  },
});

/** Every provider route as method + path pattern, for 405 answers on known paths. */
export const ROUTES = [
  tokenRoute,
  findRoute,
  getPersonRoute,
  subscriptionsRoute,
  listConsumersRoute,
  uploadConsumersRoute,
  deleteConsumersRoute,
  auditRoute,
  listWebhooksRoute,
  createWebhookRoute,
  deleteWebhookRoute,
].map((r) => ({
  method: r.method.toUpperCase(),
  pattern: new RegExp(`^${r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
}));

const publicWebhook = (h: WebhookRec) => ({
  id: h.id,
  url: h.url,
  events: h.events,
  description: h.description,
});

const publicConsumer = (r: ConsumerRec) => ({
  consumerId: r.consumerId,
  market: r.market,
  state: r.state,
  gedi: r.state === 'IDENTIFIED' ? r.gedi : null,
  source: r.state === 'IDENTIFIED' ? r.source : null,
  data: r.data,
  uploadedTimestamp: r.uploadedTimestamp,
  updatedTimestamp: r.updatedTimestamp,
});

function oauthError(c: Context, status: 400 | 401, error: string, description: string) {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="bci"';
  return c.json(
    { error, error_description: description } as z.infer<typeof oauthErrorSchema>,
    status,
    headers,
  );
}

export function registerRoutes(app: OpenAPIHono<SandboxEnv>, ctx: SandboxContext, state: BisnodeState): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: `Access token from POST ${TOKEN_PATH} (OAuth 2.0 client credentials, scope bci).`,
  });

  // Every API call: a valid bearer token, then the client's rate limit.
  app.use(`${API}/*`, async (c, next) => {
    const v = state.tokens.verify(c.req.header('authorization'));
    if (!v.ok) {
      const detail =
        v.reason === 'missing'
          ? 'No bearer token in the Authorization header.'
          : v.reason === 'expired'
            ? 'The access token has expired.'
            : 'The request contained an invalid or expired token.';
      return problem(c, 401, detail, { headers: { 'www-authenticate': `Bearer error="invalid_token"` } });
    }
    const rate = state.takeRequest(v.token.subject);
    if (!rate.ok) {
      return problem(c, 429, `More than ${state.rateLimitPerSecond} requests per second.`, {
        headers: { 'retry-after': String(rate.retryAfterSeconds) },
      });
    }
    await next();
    return undefined;
  });

  app.openapi(tokenRoute, async (c) => {
    const form = c.req.valid('form');
    const basic = parseBasicAuth(c.req.header('authorization'));
    const clientId = basic?.id ?? form.client_id;
    const clientSecret = basic?.secret ?? form.client_secret;
    const creds = ctx.credentials.bisnode;
    if (!clientId || clientId !== creds.clientId || clientSecret !== creds.clientSecret) {
      return oauthError(c, 401, 'invalid_client', 'Client authentication failed.');
    }
    if (!form.grant_type) return oauthError(c, 400, 'invalid_request', 'Missing grant_type.');
    if (form.grant_type !== 'client_credentials') {
      return oauthError(c, 400, 'unsupported_grant_type', 'Only client_credentials is supported.');
    }
    const scope = form.scope?.trim() || 'bci';
    if (scope !== 'bci')
      return oauthError(c, 400, 'invalid_scope', `Scope "${scope}" is not granted; use "bci".`);
    const ttl = ctx.options.tokenTtlSeconds?.bisnode ?? DEFAULT_TOKEN_TTL_SECONDS;
    const t = state.tokens.issue(clientId, ttl, ['bci']);
    return c.json(
      { access_token: t.token, expires_in: ttl, scope: 'bci' as const, token_type: 'bearer' as const },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  app.openapi(findRoute, (c) => {
    const { market } = c.req.valid('param');
    const query = c.req.valid('json');
    if (!isServedMarket(market)) {
      return problem(c, 403, `The current context is not allowed to access market ${market}.`);
    }
    if (isEmptyQuery(query)) {
      return constraintViolation(c, [{ field: '', message: 'at least one search field must be given' }]);
    }
    const outcome = findPerson(ctx.population, market, query, ctx.now());
    if (outcome.kind === 'none') return c.body(null, 204);
    return c.json(state.v3(outcome.person), 200);
  });

  app.openapi(getPersonRoute, (c) => {
    const person = state.personByGedi(c.req.valid('param').gedi);
    if (!person) return problem(c, 404, 'The requested entity was not found.');
    return c.json(state.v3(person), 200);
  });

  app.openapi(subscriptionsRoute, (c) => {
    const q = c.req.valid('query');
    if (q.pageToken && q.fromDate) {
      return constraintViolation(c, [{ field: 'fromDate', message: 'cannot be used with pageToken' }]);
    }
    let cursor = decodeCursor('subscriptions', q.pageToken);
    if (cursor === null)
      return constraintViolation(c, [{ field: 'pageToken', message: 'invalid page token' }]);
    if (cursor === undefined) cursor = q.fromDate ? state.cursorAt(`${q.fromDate}T00:00:00Z`) : 0;
    const page = state.listSubscriptions(cursor, q.pageSize ?? DEFAULT_PAGE_SIZE);
    return c.json({ nextPageToken: encodeCursor('subscriptions', page.cursor), data: page.items }, 200);
  });

  app.openapi(listConsumersRoute, (c) => {
    const q = c.req.valid('query');
    const cursor = decodeCursor('consumers', q.pageToken);
    if (cursor === null)
      return constraintViolation(c, [{ field: 'pageToken', message: 'invalid page token' }]);
    const page = state.listConsumers(cursor ?? 0, q.pageSize ?? DEFAULT_PAGE_SIZE, q.state);
    const last = page.items.at(-1);
    return c.json(
      {
        nextPageToken: page.more && last ? encodeCursor('consumers', last.seq) : null,
        data: page.items.map(publicConsumer),
      },
      200,
    );
  });

  app.openapi(uploadConsumersRoute, (c) => {
    const items = c.req.valid('json');
    const seen = new Map<string, number>();
    const duplicates = [];
    for (const [i, item] of items.entries()) {
      if (seen.has(item.consumerId)) {
        duplicates.push({
          field: `[${i}].consumerId`,
          message: `duplicate of [${seen.get(item.consumerId)}].consumerId`,
        });
      } else seen.set(item.consumerId, i);
    }
    if (duplicates.length > 0) return constraintViolation(c, duplicates);
    state.upload(items);
    return c.body(null, 202);
  });

  app.openapi(deleteConsumersRoute, (c) => {
    state.deleteConsumers(c.req.valid('json').consumerIds);
    return c.body(null, 202);
  });

  app.openapi(auditRoute, (c) => {
    const q = c.req.valid('query');
    const cursor = decodeCursor('audit', q.pageToken);
    if (cursor === null)
      return constraintViolation(c, [{ field: 'pageToken', message: 'invalid page token' }]);
    const from = Math.min(cursor ?? 0, state.audit.length);
    const data = state.audit.slice(from, from + (q.pageSize ?? DEFAULT_PAGE_SIZE));
    return c.json({ nextPageToken: encodeCursor('audit', from + data.length), data }, 200);
  });

  app.openapi(listWebhooksRoute, (c) =>
    c.json({ webhooks: [...state.webhooks.values()].map(publicWebhook) }, 200),
  );

  app.openapi(createWebhookRoute, (c) => {
    const body = c.req.valid('json');
    for (const h of state.webhooks.values()) {
      if (h.url === body.url)
        return problem(c, 409, `Webhook ${h.id} already uses this url.`, { title: 'Conflict' });
    }
    const hook = state.createWebhook(body.url, body.events, body.description ?? null);
    return c.json({ ...publicWebhook(hook), secret: hook.secret }, 201);
  });

  app.openapi(deleteWebhookRoute, (c) => {
    const hook = state.deleteWebhook(c.req.valid('param').id);
    if (!hook) return problem(c, 404, 'The requested entity was not found.');
    return c.json(publicWebhook(hook), 200);
  });
}
