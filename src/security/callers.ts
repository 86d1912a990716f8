import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  importSPKI,
  jwtVerify,
  errors as joseErrors,
} from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';

/**
 * Callers: who is asking, with which scopes and for which purposes of processing.
 *
 * Two kinds of credentials, checked the same way on HTTP (headers) and graphql-ws
 * (connection_init params, or the upgrade request's headers):
 * - API keys (`x-api-key: <key>`, or `authorization: Bearer <key>`): configured in API_KEYS as
 *   SHA-256 digests, never in clear. A plain digest is enough because keys are long random
 *   strings (≥ 32 characters): nothing to brute-force, and a slow hash (scrypt, argon2) would
 *   cost every request milliseconds. Lookup is by digest, so timing reveals nothing of a key.
 * - JWTs (`authorization: Bearer <jwt>`), verified with `jose`: HS256 with JWT_HS256_SECRET, RS256
 *   with JWT_RS256_PUBLIC_KEY (PEM) or a JWKS (JWT_JWKS_URL); issuer and audience checked when
 *   configured. Scopes from `scope` (space-separated) or `scp` (array); purposes from `purposes`
 *   (array or space-separated).
 * In sandbox mode a development key with every scope and any purpose is accepted as well
 * (SANDBOX_DEV_API_KEY, printed at start and written in the README); never in live mode.
 */

/** Scopes a caller may hold; field directives (`@requiresScopes` in schema/common.graphql) name them. */
export const SCOPES = ['nationalid:read', 'credit:read', 'customer:write', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Allows every purpose of processing (the sandbox development key). */
export const ANY_PURPOSE = '*';

/**
 * The development API key of sandbox mode (printed at start, written in the README): all
 * scopes, any purpose. Never accepted in live mode.
 */
export const SANDBOX_DEV_API_KEY = 'ng_sandbox_dev_key_do_not_use_in_production';

export interface Caller {
  /** Stable name of the caller: the API key's id, `jwt:<sub>`, or `sandbox-dev`. */
  id: string;
  kind: 'api-key' | 'jwt';
  scopes: ReadonlySet<string>;
  /** Purposes this caller may declare; `*` allows any. */
  purposes: ReadonlySet<string>;
}

/** Why a request got no caller: missing credentials, or credentials that did not check out. */
export interface AuthFailure {
  reason: 'missing' | 'invalid';
  /** Safe to show the caller: never echoes the credential. */
  message: string;
}

const purposeName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes');

/** One entry of API_KEYS (a JSON array). */
export const apiKeyEntry = z.object({
  /** Caller name shown in audit entries and logs. */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore'),
  /** Hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex characters'),
  scopes: z.array(z.enum(SCOPES)).default([]),
  purposes: z.array(z.union([purposeName, z.literal(ANY_PURPOSE)])).default([]),
});
export type ApiKeyEntry = z.infer<typeof apiKeyEntry>;

export const apiKeysSchema = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return [] as ApiKeyEntry[];
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {id, sha256, scopes, purposes}' });
      return z.NEVER;
    }
    const result = z
      .array(apiKeyEntry)
      .refine((entries) => new Set(entries.map((e) => e.id)).size === entries.length, 'each id once')
      .safeParse(parsed);
    if (!result.success) {
      // Paths and expectations only: the entries hold digests, not keys, but say no more than needed.
      ctx.addIssue({
        code: 'custom',
        message: `expected a JSON array of {id, sha256, scopes, purposes}: ${result.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      });
      return z.NEVER;
    }
    return result.data;
  });

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

const MIN_KEY_LENGTH = 32;

/** Reads credentials and returns the caller, or why there is none. */
export interface Authenticator {
  authenticate(headers: Readonly<Record<string, string | undefined>>): Promise<Caller | AuthFailure>;
  /** True when at least one way to authenticate is configured (else every request is refused). */
  readonly configured: boolean;
}

export const isCaller = (v: Caller | AuthFailure): v is Caller => 'id' in v;

/** Space-separated string or array of strings (OAuth `scope`, Azure AD `scp`, our `purposes`). */
function claimList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string');
  return [];
}

function scopesOf(payload: JWTPayload): string[] {
  return claimList(payload.scope ?? payload.scp);
}

/** Purposes a token may declare: well-formed names only; `*` (any purpose) is for configured keys alone. */
function purposesOf(payload: JWTPayload): string[] {
  return claimList(payload.purposes).filter((p) => purposeName.safeParse(p).success);
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export async function createAuthenticator(config: Config): Promise<Authenticator> {
  const keys = new Map<string, Caller>();
  for (const entry of config.API_KEYS) {
    keys.set(entry.sha256, {
      id: entry.id,
      kind: 'api-key',
      scopes: new Set(entry.scopes),
      purposes: new Set(entry.purposes),
    });
  }
  if (config.PROVIDERS_MODE === 'sandbox') {
    keys.set(sha256Hex(SANDBOX_DEV_API_KEY), {
      id: 'sandbox-dev',
      kind: 'api-key',
      scopes: new Set(SCOPES),
      purposes: new Set([ANY_PURPOSE]),
    });
  }

  // JWT verification key: HS256 secret, RS256 PEM, or a JWKS (local file contents or URL).
  let hsKey: Uint8Array | null = null;
  let rsKey: Awaited<ReturnType<typeof importSPKI>> | null = null;
  let jwks: JWTVerifyGetKey | null = null;
  if (config.JWT_HS256_SECRET) hsKey = new TextEncoder().encode(config.JWT_HS256_SECRET);
  if (config.JWT_RS256_PUBLIC_KEY) rsKey = await importSPKI(config.JWT_RS256_PUBLIC_KEY, 'RS256');
  if (config.JWT_JWKS_URL) jwks = createRemoteJWKSet(new URL(config.JWT_JWKS_URL));
  else if (config.JWT_JWKS) jwks = createLocalJWKSet(JSON.parse(config.JWT_JWKS) as { keys: [] });
  const jwtConfigured = Boolean(hsKey ?? rsKey ?? jwks);
  if (jwtConfigured && config.PROVIDERS_MODE === 'live') {
    // Without both, any token of a shared identity provider (for any other application) would do.
    if (!config.JWT_ISSUER || !config.JWT_AUDIENCE)
      throw new Error('JWT verification in live mode needs JWT_ISSUER and JWT_AUDIENCE');
    if (config.JWT_JWKS_URL && !config.JWT_JWKS_URL.startsWith('https://'))
      throw new Error('JWT_JWKS_URL must be https in live mode (the keys decide who may call)');
  }
  const verifyOptions = {
    // A token without expiry would be valid forever.
    requiredClaims: ['exp', 'sub'],
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    clockTolerance: 30,
  };

  async function verifyJwt(token: string): Promise<Caller | AuthFailure> {
    if (!jwtConfigured) return { reason: 'invalid', message: 'JWTs are not accepted here: send an API key' };
    // The token's own header names its algorithm; only a key configured for it is tried.
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { reason: 'invalid', message: 'The bearer JWT is not valid: its header cannot be read' };
    }
    let payload: JWTPayload | null = null;
    let lastError: unknown = null;
    const attempts: (() => Promise<{ payload: JWTPayload }>)[] = [];
    if (alg === 'HS256' && hsKey)
      attempts.push(() => jwtVerify(token, hsKey, { ...verifyOptions, algorithms: ['HS256'] }));
    if (alg === 'RS256' && rsKey)
      attempts.push(() => jwtVerify(token, rsKey, { ...verifyOptions, algorithms: ['RS256'] }));
    if (alg === 'RS256' && jwks)
      attempts.push(() => jwtVerify(token, jwks, { ...verifyOptions, algorithms: ['RS256'] }));
    if (attempts.length === 0)
      return {
        reason: 'invalid',
        message: `The bearer JWT is not valid: algorithm ${alg ?? '(none)'} is not accepted`,
      };
    for (const attempt of attempts) {
      try {
        payload = (await attempt()).payload;
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!payload) {
      const why =
        lastError instanceof joseErrors.JWTExpired
          ? 'it has expired'
          : lastError instanceof joseErrors.JWTClaimValidationFailed
            ? `claim "${lastError.claim}" is not as expected`
            : 'its signature or algorithm is not accepted';
      return { reason: 'invalid', message: `The bearer JWT is not valid: ${why}` };
    }
    if (typeof payload.sub !== 'string' || payload.sub === '')
      return { reason: 'invalid', message: 'The bearer JWT is not valid: it has no "sub" claim' };
    return {
      id: `jwt:${payload.sub}`,
      kind: 'jwt',
      scopes: new Set(scopesOf(payload).filter((s) => (SCOPES as readonly string[]).includes(s))),
      purposes: new Set(purposesOf(payload)),
    };
  }

  function byKey(key: string): Caller | AuthFailure {
    if (key.length < MIN_KEY_LENGTH) return { reason: 'invalid', message: 'The API key is not known' };
    const digest = sha256Hex(key);
    const caller = keys.get(digest);
    // Looked up by digest: how long the lookup takes says nothing about the key itself.
    if (!caller) return { reason: 'invalid', message: 'The API key is not known' };
    return caller;
  }

  return {
    configured: keys.size > 0 || jwtConfigured,
    async authenticate(headers) {
      const apiKey = headers['x-api-key'];
      if (apiKey) return byKey(apiKey);
      const authorization = headers.authorization;
      if (authorization) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        if (!match?.[1])
          return { reason: 'invalid', message: 'The Authorization header must be "Bearer <token>"' };
        const token = match[1];
        return JWT_SHAPE.test(token) && !keys.has(sha256Hex(token)) ? verifyJwt(token) : byKey(token);
      }
      return {
        reason: 'missing',
        message:
          'Authentication required: send an API key in `x-api-key` or a JWT in `Authorization: Bearer`',
      };
    },
  };
}

/**
 * Constant-time comparison of a presented secret with the expected one (webhook credentials, the
 * metrics token). Both are hashed to a fixed length first, so neither the time taken nor an early
 * length mismatch tells a caller how much of its guess was right, or how long the secret is.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A stable string naming what a caller may see: two contexts with the same key get the same
 * answers (used to share one subscription execution between subscribers).
 */
export function callerKey(caller: Caller, purpose: string | null): string {
  // Whether the purpose is allowed is part of the key: two callers of one name (a JWT `sub` with
  // other `purposes`) must never share an answer one of them may not see.
  return `${caller.kind}:${caller.id}|${[...caller.scopes].sort().join(',')}|${purpose ?? ''}|${purposeAllowed(caller, purpose) ? 1 : 0}`;
}

/** The purpose a caller declared, if it is one it may declare; else why not. */
export function purposeAllowed(caller: Caller, purpose: string | null): boolean {
  if (!purpose) return false;
  return caller.purposes.has(ANY_PURPOSE) || caller.purposes.has(purpose);
}
