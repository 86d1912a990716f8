import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { IssuedToken } from '../common/tokens.js';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { apiError, apiErrorResponse, ExceptionResponse } from './errors.js';
import {
  checkCredentials,
  MAX_SEARCH_HITS,
  replaceCustomerInfo,
  searchCustomers,
  searchRequirementError,
  toCustomerInfo,
  TOO_MANY_HITS_MESSAGE,
} from './customers.js';
import {
  ChangeCustomerInfoRequest,
  CredentialCheckRequest,
  CredentialCheckResponse,
  CustomerInfo,
  SearchCustomerRequest,
  SearchCustomerResponse,
  SuccessResponse,
} from './schemas.js';
import type { ConnectState, TokenKind } from './state.js';

export const API_BASE = '/capi';

const RateHeaders = z.object({
  'X-RateLimit-Remaining': z.string().openapi({
    example: '99',
    description: 'Calls left in the tighter of the per-second and per-minute windows',
  }),
  'X-RateLimit-Reset': z
    .string()
    .openapi({ example: '1', description: 'Whole seconds until that window resets' }),
});

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  headers: RateHeaders,
  content: { 'application/json': { schema } },
});

const e400 = json(ExceptionResponse, 'Bad Request: invalid input');
const e401 = json(
  ExceptionResponse,
  'Unauthorized: bearer token missing, unknown or expired (see WWW-Authenticate)',
);
const e403 = json(ExceptionResponse, 'Forbidden: wrong kind of token for this endpoint');
const e404 = json(ExceptionResponse, 'Not Found: no such customer');
const e429 = {
  description:
    'Too Many Requests: per client id, 100 calls/s and 2000 calls/min by default. Retry-After says when to retry.',
  headers: RateHeaders.extend({
    'Retry-After': z.string().openapi({ example: '1', description: 'Seconds to wait before retrying' }),
  }),
  content: { 'application/json': { schema: ExceptionResponse } },
};
const e500 = json(ExceptionResponse, 'Internal Server Error');

const USER_SECURITY = [{ Authorization_Code: [] }];
const CLIENT_SECURITY = [{ Client_Credentials: [] }];

const RATE_NOTE =
  '\n\nRate limited per client id (the client the token was issued to; requests without a valid token share ' +
  'one "anonymous" bucket): 100 calls/s and 2000 calls/min unless configured. Every response carries ' +
  '`X-RateLimit-Remaining` and `X-RateLimit-Reset`.';

const getUserInfo = createRoute({
  method: 'get',
  path: `${API_BASE}/v1/customer/info`,
  tags: ['Customer'],
  summary: 'List customer info',
  description:
    'User mode: the customer of the logged-in user (user token from the authorization-code flow). ' +
    "A client-credentials token is refused with 403. 404 when the user's customer does not exist." +
    RATE_NOTE,
  security: USER_SECURITY,
  responses: {
    200: json(CustomerInfo, 'The customer'),
    400: e400,
    401: e401,
    403: e403,
    404: e404,
    429: e429,
    500: e500,
  },
});

const postUserInfo = createRoute({
  method: 'post',
  path: `${API_BASE}/v1/customer/info`,
  tags: ['Customer'],
  summary: 'Change customer info',
  description:
    'User mode. Replaces the existing customer data for EVERY field in the request: fields that are not sent ' +
    'are stored as null (lists as empty). Connect requires at least lastName or companyName; when the name ' +
    'is null or empty, or has neither, lastName is set to "-". The change is visible to later reads ' +
    '(user and client mode) until the sandbox is reset. Login credentials are not changed.' +
    RATE_NOTE,
  security: USER_SECURITY,
  request: {
    body: { content: { 'application/json': { schema: ChangeCustomerInfoRequest } }, required: true },
  },
  responses: {
    200: json(SuccessResponse, 'Stored'),
    400: e400,
    401: e401,
    403: e403,
    404: e404,
    429: e429,
    500: e500,
  },
});

const searchRoute = createRoute({
  method: 'post',
  path: `${API_BASE}/v1/client/customer/search`,
  tags: ['Client'],
  summary: 'Search customer - client mode',
  description:
    'Client mode (client-credentials token; a user token is refused with 403). Searching by name or address ' +
    'requires (companyName or lastName) and streetAddress and (postalCode or postalPlace); otherwise ' +
    'phoneNumber or email must be set; anything else is a 400. The response lists the customers found ' +
    '(empty when none). More than 5 matches is a 403 "Number of customers in response are limited to 5 ' +
    'customers": narrow the search (streetNumber, firstName, productCode...).' +
    RATE_NOTE,
  security: CLIENT_SECURITY,
  request: {
    body: { content: { 'application/json': { schema: SearchCustomerRequest } }, required: true },
  },
  responses: {
    200: json(SearchCustomerResponse, 'Customers found (0 to 5)'),
    400: e400,
    401: e401,
    403: json(
      ExceptionResponse,
      'Forbidden: more than 5 customers match ("Number of customers in response are limited to 5 customers"), or a user token was sent',
    ),
    429: e429,
    500: e500,
  },
});

const checkRoute = createRoute({
  method: 'post',
  path: `${API_BASE}/v1/client/credential/customers/check`,
  tags: ['Client'],
  summary: 'Check customer number - client mode',
  description:
    'Client mode. Returns the customers behind the credentials sent: emails (type A), mobile numbers ' +
    '(type B) and external ids "AID:..." (type D). Credentials that match nothing are left out. A batch ' +
    'endpoint: 1 to 100 credentials per call (sandbox limit; more is a 400).' +
    RATE_NOTE,
  security: CLIENT_SECURITY,
  request: {
    body: { content: { 'application/json': { schema: CredentialCheckRequest } }, required: true },
  },
  responses: {
    200: json(CredentialCheckResponse, 'The customers found for the credentials'),
    400: e400,
    401: e401,
    403: e403,
    429: e429,
    500: e500,
  },
});

const clientInfoRoute = createRoute({
  method: 'get',
  path: `${API_BASE}/v1/client/customer/info/{customerNumber}`,
  tags: ['Client'],
  summary: 'List customer info - client mode',
  description:
    'Client mode. One customer by number; 404 when unknown, 400 when not a positive integer.' + RATE_NOTE,
  security: CLIENT_SECURITY,
  request: {
    params: z.object({
      customerNumber: z.coerce
        .number()
        .int()
        .min(1)
        .openapi({
          param: { name: 'customerNumber', in: 'path' },
          example: 563457,
          description: 'Customer number',
        }),
    }),
  },
  responses: {
    200: json(CustomerInfo, 'The customer'),
    400: e400,
    401: e401,
    403: e403,
    404: e404,
    429: e429,
    500: e500,
  },
});

type Verification = ReturnType<ConnectState['tokens']['verify']>;

export function registerApi(app: OpenAPIHono<SandboxEnv>, ctx: SandboxContext, state: ConnectState): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'Client_Credentials', {
    type: 'http',
    scheme: 'bearer',
    description: 'Access token from POST /login/oauth/token with grant_type=client_credentials',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Authorization_Code', {
    type: 'http',
    scheme: 'bearer',
    description:
      'User access token from POST /login/oauth/token with grant_type=authorization_code (after GET ' +
      '/login/oauth/authorize), refresh_token, or the sandbox-only password grant',
  });

  // The rate limiter and the auth check both need the token; verify it once per request.
  const verified = new WeakMap<Request, Verification>();
  const verifyOnce = (c: Context): Verification => {
    let v = verified.get(c.req.raw);
    if (!v) {
      v = state.tokens.verify(c.req.header('authorization'));
      verified.set(c.req.raw, v);
    }
    return v;
  };

  // Registered before the routes so it wraps them: limit first, as an API gateway in front would.
  app.use(`${API_BASE}/*`, async (c, next) => {
    const v = verifyOnce(c);
    const key = v.ok ? String(v.token.claims.clientId) : 'anonymous';
    const d = state.limiter.consume(key);
    const rateHeaders = {
      'X-RateLimit-Remaining': String(d.remaining),
      'X-RateLimit-Reset': String(d.resetSeconds),
    };
    if (!d.allowed) {
      const { perSecond, perMinute } = state.limiter.limits;
      return apiErrorResponse(
        429,
        `Rate limit exceeded: at most ${perSecond} calls per second and ${perMinute} calls per minute per client`,
        { ...rateHeaders, 'Retry-After': String(d.retryAfterSeconds) },
      );
    }
    await next();
    // Hono turns validator exceptions (malformed JSON, wrong media type) into the shared 500; they are the caller's 400.
    if (c.error instanceof HTTPException && c.error.status < 500) {
      c.res = apiErrorResponse(400, c.error.message || 'Bad request body');
    }
    for (const [k, val] of Object.entries(rateHeaders)) c.res.headers.set(k, val);
  });

  const tokenOf = new WeakMap<Request, IssuedToken>();
  // Route middleware runs before body validation, so a caller without a valid token gets 401, not 400.
  const requireToken =
    (need: TokenKind): MiddlewareHandler =>
    async (c, next) => {
      const v = verifyOnce(c);
      if (!v.ok) {
        const reason =
          v.reason === 'missing'
            ? 'Full authentication is required: send Authorization: Bearer <access token>'
            : v.reason === 'expired'
              ? 'Access token expired'
              : 'Invalid access token';
        const challenge =
          v.reason === 'missing'
            ? 'Bearer realm="connect"'
            : `Bearer realm="connect", error="invalid_token", error_description="${reason}"`;
        return apiErrorResponse(401, reason, { 'www-authenticate': challenge });
      }
      if (v.token.claims.kind !== need) {
        return apiErrorResponse(
          403,
          need === 'user'
            ? 'This endpoint needs a logged-in user (authorization_code token); a client token was sent'
            : 'This endpoint needs a client token (client_credentials); a user token was sent',
        );
      }
      tokenOf.set(c.req.raw, v.token);
      await next();
    };
  const tokenFor = (c: Context): IssuedToken => {
    const t = tokenOf.get(c.req.raw);
    if (!t) throw new Error('route registered without requireToken');
    return t;
  };

  app.openapi({ ...getUserInfo, middleware: [requireToken('user')] }, (c) => {
    const number = Number(tokenFor(c).claims.customerNumber);
    const customer = ctx.population.customerByNumber.get(number);
    if (!customer) return apiError(c, 404, `Customer ${number} not found`);
    return c.json(toCustomerInfo(customer), 200);
  });

  app.openapi({ ...postUserInfo, middleware: [requireToken('user')] }, (c) => {
    const number = Number(tokenFor(c).claims.customerNumber);
    const customer = ctx.population.customerByNumber.get(number);
    if (!customer) return apiError(c, 404, `Customer ${number} not found`);
    replaceCustomerInfo(customer, c.req.valid('json'));
    return c.json({ success: true }, 200);
  });

  app.openapi({ ...searchRoute, middleware: [requireToken('client')] }, (c) => {
    const body = c.req.valid('json');
    const rule = searchRequirementError(body);
    if (rule) return apiError(c, 400, rule);
    const hits = searchCustomers(ctx.population, body);
    if (hits.length > MAX_SEARCH_HITS) return apiError(c, 403, TOO_MANY_HITS_MESSAGE);
    return c.json({ customers: hits.map(toCustomerInfo) }, 200);
  });

  app.openapi({ ...checkRoute, middleware: [requireToken('client')] }, (c) =>
    c.json({ customers: checkCredentials(ctx.population, c.req.valid('json').credentials) }, 200),
  );

  app.openapi({ ...clientInfoRoute, middleware: [requireToken('client')] }, (c) => {
    const { customerNumber } = c.req.valid('param');
    const customer = ctx.population.customerByNumber.get(customerNumber);
    if (!customer) return apiError(c, 404, `Customer ${customerNumber} not found`);
    return c.json(toCustomerInfo(customer), 200);
  });
}
