import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { sendError } from '../common/app.js';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import { byndleErrorFormatter, fail, osloClaimTime, osloIso } from './format.js';
import { errors, json } from './schemas.js';

const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
const ISSUER = 'portal.byndle.no';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** The sandbox API user, what the real response's `user`/`customer` objects describe. */
const USER = { uid: 1042, userId: '6f1c2a0e-5b7d-4c1e-9a3f-0b9d1e2c4a10', role: 'SystemAdministrator' };
const CUSTOMER = { customerId: 'c4e1d2b3-7a8f-4e6d-9c0b-1a2b3c4d5e6f', name: 'Nordgraph Sandbox AS' };

/**
 * Byndle's tokens: HS256 JWTs with the sample's claims (FACTS.md §1), signed with a secret
 * made per sandbox start. Issued tokens are also remembered so that expiry is enforced to the
 * millisecond (the `exp` claim has only seconds) and a control-API reset revokes them.
 */
export class ByndleTokens {
  private readonly secret = randomBytes(32);
  private readonly issued = new Map<string, number>();

  constructor(private readonly ctx: SandboxContext) {}

  private ttlSeconds(): number {
    return this.ctx.options.tokenTtlSeconds?.byndle ?? DEFAULT_TTL_SECONDS;
  }

  issue(): { token: string; issuedAt: number; expiresAt: number } {
    const issuedAt = this.ctx.now();
    const expiresAt = issuedAt + this.ttlSeconds() * 1000;
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = b64url(
      JSON.stringify({
        userId: USER.userId,
        customerId: CUSTOMER.customerId,
        issued: osloClaimTime(issuedAt),
        exp: Math.floor(expiresAt / 1000),
        iss: ISSUER,
        aud: ISSUER,
        role: USER.role,
        uid: USER.uid,
        // A nonce keeps two tokens issued in the same second distinct.
        jti: randomBytes(8).toString('hex'),
      }),
    );
    const sig = createHmac('sha256', this.secret).update(`${header}.${payload}`).digest('base64url');
    const token = `${header}.${payload}.${sig}`;
    this.issued.set(token, expiresAt);
    return { token, issuedAt, expiresAt };
  }

  verify(authorization: string | undefined): 'ok' | 'missing' | 'invalid' | 'expired' {
    if (!authorization) return 'missing';
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    const token = m?.[1];
    if (!token) return 'invalid';
    const [h, p, s] = token.split('.');
    if (!h || !p || !s) return 'invalid';
    const expected = createHmac('sha256', this.secret).update(`${h}.${p}`).digest();
    const got = Buffer.from(s, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return 'invalid';
    const expiresAt = this.issued.get(token);
    if (expiresAt === undefined) return 'invalid';
    if (expiresAt <= this.ctx.now()) {
      this.issued.delete(token);
      return 'expired';
    }
    return 'ok';
  }

  reset(): void {
    this.issued.clear();
  }
}

/** `Auth: username:password`, plain as documented; a base64-encoded value is accepted too. */
export function parseAuthHeader(value: string | undefined): { username: string; password: string } | null {
  if (!value) return null;
  const v = value.trim().replace(/^Basic\s+/i, '');
  const split = (s: string) => {
    const i = s.indexOf(':');
    return i > 0 ? { username: s.slice(0, i), password: s.slice(i + 1) } : null;
  };
  const plain = split(v);
  if (plain) return plain;
  if (!/^[A-Za-z0-9+/=_-]+$/.test(v)) return null;
  return split(Buffer.from(v, 'base64').toString('utf8'));
}

export function bearerAuth(tokens: ByndleTokens): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const r = tokens.verify(c.req.header('authorization'));
    if (r === 'ok') return next();
    const message =
      r === 'missing'
        ? 'Authorization header with a bearer token is required'
        : r === 'expired'
          ? 'The token has expired; create a new token'
          : 'The bearer token is not valid';
    return sendError(c, byndleErrorFormatter, 401, 'Unauthorized', message, {
      'www-authenticate': 'Bearer realm="byndle"',
    });
  };
}

const TokenResponseSchema = z
  .object({
    token: z.string().openapi({
      description:
        'HS256 JWT. Claims: userId, customerId, issued ("MM/dd/yyyy HH:mm:ss", Norwegian local time), exp (epoch seconds), iss and aud "portal.byndle.no", role, uid. Send it as `Authorization: Bearer <token>`.',
    }),
    userPermissions: z.array(z.string()).openapi({ example: ['Lookup', 'Ajourhold'] }),
    user: z
      .object({
        uid: z.number().int(),
        userId: z.string(),
        username: z.string(),
        name: z.string(),
        role: z.string(),
      })
      .openapi('ByndleUser'),
    expires: z
      .string()
      .openapi({ example: '2022-03-16T12:39:07.99+01:00', description: 'ISO 8601 with offset' }),
    issued: z.string().openapi({ example: '2022-03-09T12:39:07.99+01:00' }),
    customer: z
      .object({ customerId: z.string(), name: z.string(), ajourholdIds: z.array(z.string()) })
      .openapi('ByndleCustomer'),
    anonymousAccessToken: z.string(),
    successfulLogin: z.boolean(),
    requires2FA: z.boolean(),
    maskedEmail: z
      .object({ value: z.string(), verified: z.boolean() })
      .openapi({ example: { value: 's*****@example.no', verified: true } }),
    maskedPhone: z
      .object({ value: z.string(), verified: z.boolean() })
      .openapi({ example: { value: '+47 *** ** 567', verified: true } }),
    hasActiveSubcription: z.boolean().openapi({ description: 'Spelled this way by Byndle' }),
  })
  .openapi('ByndleTokenResponse');

export function registerTokenRoute(
  app: OpenAPIHono<SandboxEnv>,
  ctx: SandboxContext,
  tokens: ByndleTokens,
): void {
  const route = createRoute({
    method: 'get',
    path: '/v1/auth/token',
    tags: ['Authentication'],
    summary: 'Create token',
    description:
      'Send your credentials as `Auth: username:password` (the value may also be base64-encoded). The token lives 7 days; every other endpoint needs `Authorization: Bearer <token>`. Wrong or missing credentials give 401.',
    request: {
      headers: z.object({
        auth: z
          .string()
          .optional()
          .openapi({ description: 'username:password', example: 'sandbox:sandbox-byndle-pw' }),
        'content-type': z.string().optional(),
      }),
    },
    responses: {
      200: json(TokenResponseSchema, 'Token created'),
      ...errors(401),
    },
  });
  app.openapi(route, (c) => {
    const creds = parseAuthHeader(c.req.header('auth'));
    const expected = ctx.credentials.byndle;
    if (!creds) return fail(c, 401, 'Unauthorized', 'Header Auth with username:password is required');
    if (creds.username !== expected.username || creds.password !== expected.password)
      return fail(c, 401, 'Unauthorized', 'Invalid username or password');
    const t = tokens.issue();
    return c.json(
      {
        token: t.token,
        userPermissions: ['Lookup', 'Lookup.Person', 'Lookup.Business', 'Lookup.Vehicle', 'Ajourhold'],
        user: {
          uid: USER.uid,
          userId: USER.userId,
          username: creds.username,
          name: 'Sandbox API user',
          role: USER.role,
        },
        expires: osloIso(t.expiresAt),
        issued: osloIso(t.issuedAt),
        customer: {
          customerId: CUSTOMER.customerId,
          name: CUSTOMER.name,
          ajourholdIds: [expected.ajourholdId],
        },
        anonymousAccessToken: randomBytes(16).toString('hex'),
        successfulLogin: true,
        requires2FA: false,
        maskedEmail: { value: 's*****@example.no', verified: true },
        maskedPhone: { value: '+47 *** ** 567', verified: true },
        hasActiveSubcription: true,
      },
      200,
    );
  });
}
