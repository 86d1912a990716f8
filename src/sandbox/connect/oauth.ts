import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { parseBasicAuth } from '../common/tokens.js';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { OAuthError, oauthErrorResponse, type OAuthErrorCode } from './errors.js';
import { TokenRequest, TokenResponse } from './schemas.js';
import type { ConnectState } from './state.js';

export const TOKEN_PATH = '/login/oauth/token';
export const AUTHORIZE_PATH = '/login/oauth/authorize';

const optionalString = z.string().optional();
const TokenQuery = z.object({
  grant_type: optionalString,
  client_id: optionalString,
  client_secret: optionalString,
  code: optionalString,
  redirect_uri: optionalString,
  refresh_token: optionalString,
  username: optionalString,
  password: optionalString,
  scope: optionalString,
});

const tokenRoute = createRoute({
  method: 'post',
  path: TOKEN_PATH,
  tags: ['OAuth'],
  summary: 'Get an access token',
  description:
    'OAuth 2.0 token endpoint of the login server (production `https://connectid.no/user/oauth/token`). ' +
    'Form-urlencoded parameters; the same parameters are also accepted in the query string (as one public ' +
    'client sends them), and client credentials also as HTTP Basic. Body values win over query values.\n\n' +
    'Grants: `client_credentials` (client mode, `/v1/client/...`); `authorization_code` (user mode, after ' +
    "`GET /login/oauth/authorize`); `refresh_token`; and `password` with a sandbox test user's username and " +
    'password, a SANDBOX-ONLY shortcut the real Connect does not offer.\n\n' +
    'Access tokens live 12 h (43200 s) unless the sandbox option tokenTtlSeconds.connect says otherwise; ' +
    "refresh tokens live 30 days and are not rotated. User tokens are bound to the test user's customer number. " +
    'This endpoint is not rate limited (it is on the login server, not the API server).',
  request: {
    query: TokenQuery,
    body: { content: { 'application/x-www-form-urlencoded': { schema: TokenRequest } }, required: false },
  },
  responses: {
    200: { description: 'Token issued', content: { 'application/json': { schema: TokenResponse } } },
    400: {
      description:
        'invalid_request (missing parameter), invalid_grant (bad code, refresh token or user), unsupported_grant_type',
      content: { 'application/json': { schema: OAuthError } },
    },
    401: {
      description: 'invalid_client: unknown client id or wrong secret',
      content: { 'application/json': { schema: OAuthError } },
    },
  },
});

const authorizeRoute = createRoute({
  method: 'get',
  path: AUTHORIZE_PATH,
  tags: ['OAuth'],
  summary: 'Authorization-code stand-in (sandbox)',
  description:
    'Stands in for the ConnectID login page of the authorization-code flow. Instead of showing a login form, ' +
    "it takes the sandbox test user's credentials as `login_hint` (username) and `password`, approves at once " +
    'and redirects (302) to `redirect_uri` with `code` and `state`. The code is single-use, lives 10 minutes and ' +
    'is bound to client_id and redirect_uri. Wrong user credentials redirect with `error=access_denied`, a ' +
    'response_type other than `code` with `error=unsupported_response_type`. An unknown client_id or a missing ' +
    'or non-http(s) redirect_uri is answered 400 without redirecting (RFC 6749 section 4.1.2.1).',
  request: {
    query: z.object({
      client_id: optionalString.openapi({ example: 'no.nordgraph.sandbox' }),
      redirect_uri: optionalString.openapi({ example: 'http://localhost:3000/callback' }),
      response_type: optionalString.openapi({ example: 'code' }),
      state: optionalString.openapi({ example: 'xyz' }),
      scope: optionalString.openapi({ description: 'Ignored' }),
      login_hint: optionalString.openapi({
        example: 'ola.nordmann@example.no',
        description: "Test user's username",
      }),
      password: optionalString.openapi({ example: 'sandbox-user-1', description: "Test user's password" }),
    }),
  },
  responses: {
    302: {
      description:
        'Redirect to redirect_uri with `code` and `state`, or with `error` and `error_description`',
      headers: z.object({
        Location: z.string().openapi({ example: 'http://localhost:3000/callback?code=abc&state=xyz' }),
      }),
    },
    400: {
      description: 'Unknown client or bad redirect_uri',
      content: { 'application/json': { schema: OAuthError } },
    },
  },
});

function oauthError<S extends 400 | 401>(c: Context, status: S, error: OAuthErrorCode, description: string) {
  c.header('cache-control', 'no-store');
  if (status === 401) c.header('www-authenticate', 'Basic realm="connect"');
  return c.json({ error, error_description: description }, status);
}

function isHttpUrl(s: string | undefined): s is string {
  if (!s) return false;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function registerOAuth(app: OpenAPIHono<SandboxEnv>, ctx: SandboxContext, state: ConnectState): void {
  const findUser = (username: string | undefined, password: string | undefined) =>
    ctx.credentials.connect.users.find(
      (u) =>
        username !== undefined &&
        u.username.toLowerCase() === username.trim().toLowerCase() &&
        u.password === password,
    );

  // Hono turns a wrong media type into an exception (and the shared app into a 500); it is the caller's invalid_request.
  app.use('/login/*', async (c, next) => {
    await next();
    if (c.error instanceof HTTPException && c.error.status < 500) {
      c.res = oauthErrorResponse(
        400,
        'invalid_request',
        'Send the parameters form-urlencoded or in the query string',
      );
    }
  });

  app.openapi(
    tokenRoute,
    (c) => {
      const p: Record<string, string | undefined> = { ...c.req.valid('query'), ...c.req.valid('form') };
      const basic = parseBasicAuth(c.req.header('authorization'));
      const clientId = p.client_id ?? basic?.id;
      const clientSecret = p.client_secret ?? basic?.secret;
      const creds = ctx.credentials.connect;
      if (!clientId) return oauthError(c, 401, 'invalid_client', 'client_id is missing');
      if (clientId !== creds.clientId || clientSecret !== creds.clientSecret) {
        return oauthError(c, 401, 'invalid_client', 'Bad client credentials');
      }
      const now = ctx.now();
      const userTokenBody = (grant: { username: string; customerNumber: number }, refreshToken?: string) => {
        const t = state.issueUserTokens({ clientId, ...grant }, refreshToken);
        c.header('cache-control', 'no-store');
        return c.json(
          {
            access_token: t.access.token,
            token_type: 'bearer' as const,
            expires_in: state.accessTtlSeconds(),
            scope: 'user',
            refresh_token: t.refresh,
          },
          200,
        );
      };

      switch (p.grant_type) {
        case undefined:
        case '':
          return oauthError(c, 400, 'invalid_request', 'grant_type is missing');
        case 'client_credentials': {
          const t = state.issueClientToken(clientId);
          c.header('cache-control', 'no-store');
          return c.json(
            {
              access_token: t.token,
              token_type: 'bearer' as const,
              expires_in: state.accessTtlSeconds(),
              scope: 'client',
            },
            200,
          );
        }
        case 'authorization_code': {
          if (!p.code) return oauthError(c, 400, 'invalid_request', 'code is missing');
          const grant = state.codes.get(p.code);
          // A code is spent by its first use, good or bad (RFC 6749 section 4.1.2).
          state.codes.delete(p.code);
          if (!grant || grant.expiresAt <= now) {
            return oauthError(c, 400, 'invalid_grant', 'Authorization code is invalid, used or expired');
          }
          if (grant.clientId !== clientId) {
            return oauthError(c, 400, 'invalid_grant', 'Authorization code was issued to another client');
          }
          if (grant.redirectUri !== p.redirect_uri) {
            return oauthError(
              c,
              400,
              'invalid_grant',
              'redirect_uri does not match the authorization request',
            );
          }
          return userTokenBody(grant);
        }
        case 'refresh_token': {
          if (!p.refresh_token) return oauthError(c, 400, 'invalid_request', 'refresh_token is missing');
          const grant = state.refreshTokens.get(p.refresh_token);
          if (!grant || grant.expiresAt <= now) {
            if (grant) state.refreshTokens.delete(p.refresh_token);
            return oauthError(c, 400, 'invalid_grant', 'Refresh token is invalid or expired');
          }
          if (grant.clientId !== clientId) {
            return oauthError(c, 400, 'invalid_grant', 'Refresh token was issued to another client');
          }
          return userTokenBody(grant, p.refresh_token);
        }
        case 'password': {
          if (!p.username || !p.password)
            return oauthError(c, 400, 'invalid_request', 'username and password are required');
          const user = findUser(p.username, p.password);
          if (!user) return oauthError(c, 400, 'invalid_grant', 'Bad user credentials');
          return userTokenBody({ username: user.username, customerNumber: user.customerNumber });
        }
        default:
          return oauthError(c, 400, 'unsupported_grant_type', `grant_type ${p.grant_type} is not supported`);
      }
    },
    (result, c) => {
      if (!result.success) {
        return oauthError(c, 400, 'invalid_request', 'Each parameter must be sent once, as a string');
      }
      return undefined;
    },
  );

  app.openapi(
    authorizeRoute,
    (c) => {
      const q = c.req.valid('query');
      if (q.client_id !== ctx.credentials.connect.clientId) {
        return oauthError(c, 400, 'unauthorized_client', 'Unknown client_id');
      }
      if (!isHttpUrl(q.redirect_uri)) {
        return oauthError(c, 400, 'invalid_request', 'redirect_uri must be an absolute http(s) URL');
      }
      const target = new URL(q.redirect_uri);
      const back = (params: Record<string, string>) => {
        for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
        if (q.state !== undefined) target.searchParams.set('state', q.state);
        return c.redirect(target.toString(), 302);
      };
      if (q.response_type !== 'code') {
        return back({ error: 'unsupported_response_type', error_description: 'response_type must be code' });
      }
      const user = findUser(q.login_hint, q.password);
      if (!user) {
        return back({
          error: 'access_denied',
          error_description: 'Unknown sandbox test user or wrong password',
        });
      }
      const code = state.newCode({
        clientId: q.client_id,
        redirectUri: q.redirect_uri,
        username: user.username,
        customerNumber: user.customerNumber,
      });
      return back({ code });
    },
    (result, c) => {
      if (!result.success) {
        return oauthError(c, 400, 'invalid_request', 'Each parameter must be sent once, as a string');
      }
      return undefined;
    },
  );
}
