import { randomBytes } from 'node:crypto';
import { TokenStore, type IssuedToken } from '../common/tokens.js';
import type { SandboxContext } from '../common/context.js';
import { DEFAULT_RATE_LIMITS, RateLimiter } from './ratelimit.js';

/** Default access-token lifetime (FACTS: 12 h, changeable per client). */
export const ACCESS_TOKEN_TTL_SECONDS = 43_200;
/** Refresh tokens live 30 days (FACTS). */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
/** Authorization codes are single-use and short-lived, as in RFC 6749 section 4.1.2. */
export const AUTH_CODE_TTL_SECONDS = 600;

export type TokenKind = 'client' | 'user';

export interface UserGrant {
  clientId: string;
  username: string;
  customerNumber: number;
  expiresAt: number;
}

export interface AuthCode extends UserGrant {
  redirectUri: string;
}

/** All of Connect's mutable state; `reset()` drops it. */
export class ConnectState {
  readonly tokens: TokenStore;
  readonly refreshTokens = new Map<string, UserGrant>();
  readonly codes = new Map<string, AuthCode>();
  readonly limiter: RateLimiter;

  constructor(private readonly ctx: SandboxContext) {
    this.tokens = new TokenStore(() => ctx.now());
    this.limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...ctx.options.connectRateLimit }, () =>
      ctx.now(),
    );
  }

  accessTtlSeconds(): number {
    return this.ctx.options.tokenTtlSeconds?.connect ?? ACCESS_TOKEN_TTL_SECONDS;
  }

  issueClientToken(clientId: string): IssuedToken {
    return this.tokens.issue(clientId, this.accessTtlSeconds(), ['client'], { kind: 'client', clientId });
  }

  issueUserTokens(
    grant: Omit<UserGrant, 'expiresAt'>,
    refreshToken?: string,
  ): { access: IssuedToken; refresh: string } {
    const access = this.tokens.issue(grant.username, this.accessTtlSeconds(), ['user'], {
      kind: 'user',
      clientId: grant.clientId,
      username: grant.username,
      customerNumber: grant.customerNumber,
    });
    let refresh = refreshToken;
    if (!refresh) {
      refresh = randomBytes(32).toString('base64url');
      this.refreshTokens.set(refresh, {
        ...grant,
        expiresAt: this.ctx.now() + REFRESH_TOKEN_TTL_SECONDS * 1000,
      });
    }
    return { access, refresh };
  }

  newCode(grant: Omit<AuthCode, 'expiresAt'>): string {
    const code = randomBytes(18).toString('base64url');
    this.codes.set(code, { ...grant, expiresAt: this.ctx.now() + AUTH_CODE_TTL_SECONDS * 1000 });
    return code;
  }

  reset(): void {
    this.tokens.reset();
    this.refreshTokens.clear();
    this.codes.clear();
    this.limiter.reset();
  }
}
