import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { parseBasicAuth, type TokenStore } from '../common/tokens.js';
import {
  OAuthErrorSchema,
  READ_SCOPE,
  TokenRequestSchema,
  TokenResponseSchema,
  WRITE_SCOPE,
} from './schemas.js';

/** Mirrors BASE_PATHS.symetrisk.token (not imported: src/sandbox/index.ts imports this module). */
export const TOKEN_PATH = '/oauth2/token';
const DEFAULT_TTL_SECONDS = 3600;

/**
 * Amazon Cognito's client-credentials token endpoint, as Symetrisk uses it. Cognito answers every
 * token error with 400 and `{"error": "..."}`, invalid_client included.
 */
export function registerTokenRoute(
  app: OpenAPIHono<SandboxEnv>,
  ctx: SandboxContext,
  tokens: TokenStore,
): void {
  const clients = () => {
    const cr = ctx.credentials.symetrisk;
    return new Map([
      [cr.clientId, { secret: cr.clientSecret, scopes: [READ_SCOPE, WRITE_SCOPE] }],
      [cr.readOnlyClientId, { secret: cr.readOnlyClientSecret, scopes: [READ_SCOPE] }],
    ]);
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: TOKEN_PATH,
      summary: 'Get an access token (Amazon Cognito, client credentials)',
      description:
        'Headers `Authorization: Basic base64(CLIENT_ID:CLIENT_SECRET)` and `Content-Type: ' +
        'application/x-www-form-urlencoded`; body `grant_type=client_credentials&scope=<space-separated>`. ' +
        `Scopes ${READ_SCOPE} and ${WRITE_SCOPE}; without scope the token gets every scope of the client; a ` +
        'scope the client lacks, or an unknown one, is invalid_scope. Errors (all 400): invalid_request ' +
        '(grant_type missing, not form-encoded, repeated parameter), invalid_client (no/bad Basic credentials, ' +
        'or client_id in the body differs), invalid_grant (authorization_code or refresh_token: this sandbox ' +
        'never issues codes or refresh tokens, so any given is invalid), unsupported_grant_type (anything ' +
        'else), invalid_scope. Tokens live 3600 s.',
      request: {
        body: {
          content: { 'application/x-www-form-urlencoded': { schema: TokenRequestSchema } },
          required: true,
        },
      },
      responses: {
        200: {
          content: { 'application/json': { schema: TokenResponseSchema } },
          description: 'The access token',
        },
        400: {
          content: { 'application/json': { schema: OAuthErrorSchema } },
          description: 'Token request refused',
        },
      },
    }),
    (c) => {
      const form = c.req.valid('form');
      const basic = parseBasicAuth(c.req.header('authorization'));
      const client = basic ? clients().get(basic.id) : undefined;
      if (
        !basic ||
        !client ||
        client.secret !== basic.secret ||
        (form.client_id && form.client_id !== basic.id)
      )
        return c.json({ error: 'invalid_client' as const }, 400);
      if (!form.grant_type) return c.json({ error: 'invalid_request' as const }, 400);
      if (form.grant_type === 'authorization_code' || form.grant_type === 'refresh_token')
        return c.json({ error: 'invalid_grant' as const }, 400);
      if (form.grant_type !== 'client_credentials')
        return c.json({ error: 'unsupported_grant_type' as const }, 400);
      const asked = (form.scope ?? '').split(/\s+/).filter(Boolean);
      if (asked.some((s) => !client.scopes.includes(s)))
        return c.json({ error: 'invalid_scope' as const }, 400);
      const scopes = asked.length > 0 ? [...new Set(asked)] : client.scopes;
      const ttl = ctx.options.tokenTtlSeconds?.symetrisk ?? DEFAULT_TTL_SECONDS;
      const token = tokens.issue(basic.id, ttl, scopes);
      return c.json({ access_token: token.token, expires_in: ttl, token_type: 'Bearer' as const }, 200);
    },
    // A body that is not a flat form (e.g. a repeated parameter) is Cognito's invalid_request.
    (result, c) => (result.success ? undefined : c.json({ error: 'invalid_request' as const }, 400)),
  );
}
