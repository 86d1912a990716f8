import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  token: string;
  /** Who the token was issued to: a client id, a username, or a Connect user id. */
  subject: string;
  scopes: string[];
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
  /** Free-form extra, e.g. the Connect customer number behind a user token. */
  claims: Record<string, string | number>;
}

/**
 * Opaque bearer tokens for one simulated provider. Expiry is enforced on every use, so tests
 * that configure a short lifetime see real expiry.
 */
export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(
    subject: string,
    ttlSeconds: number,
    scopes: string[] = [],
    claims: Record<string, string | number> = {},
  ): IssuedToken {
    const issuedAt = this.now();
    const token: IssuedToken = {
      token: randomBytes(24).toString('base64url'),
      subject,
      scopes,
      issuedAt,
      expiresAt: issuedAt + ttlSeconds * 1000,
      claims,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** The token behind an `Authorization: Bearer x` header, or a reason it is not valid. */
  verify(
    authorization: string | undefined,
  ): { ok: true; token: IssuedToken } | { ok: false; reason: 'missing' | 'invalid' | 'expired' } {
    if (!authorization) return { ok: false, reason: 'missing' };
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m?.[1]) return { ok: false, reason: 'invalid' };
    const t = this.tokens.get(m[1]);
    if (!t) return { ok: false, reason: 'invalid' };
    if (t.expiresAt <= this.now()) {
      this.tokens.delete(t.token);
      return { ok: false, reason: 'expired' };
    }
    return { ok: true, token: t };
  }

  reset(): void {
    this.tokens.clear();
  }
}

/** Parses `Authorization: Basic base64(id:secret)`; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}
