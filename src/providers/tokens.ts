import { request } from 'undici';
import { z } from 'zod';
import type { ProviderName } from '../config.js';
import { UpstreamError, codeForStatus } from './errors.js';

export interface TokenGrant {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface TokenCacheOptions {
  /** Refresh this long before the provider's expiry, so no call goes out with a dying token. */
  refreshSkewMs?: number;
  now?: () => number;
}

/**
 * One upstream token per provider client, shared by every request: cached until shortly
 * before expiry, and fetched once for all concurrent callers (single flight). `invalidate`
 * after a 401 drops it only if nobody has replaced it yet, so N parallel 401s cause one refresh.
 */
export class TokenCache {
  private current: TokenGrant | null = null;
  private pending: Promise<TokenGrant> | null = null;
  private readonly refreshSkewMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchToken: () => Promise<TokenGrant>,
    { refreshSkewMs = 60_000, now = Date.now }: TokenCacheOptions = {},
  ) {
    this.refreshSkewMs = refreshSkewMs;
    this.now = now;
  }

  /** The held token when it is not about to expire, else null (then `get()` fetches one). */
  cached(): string | null {
    const c = this.current;
    return c && c.expiresAt - this.refreshSkewMs > this.now() ? c.token : null;
  }

  async get(): Promise<string> {
    const held = this.cached();
    if (held !== null) return held;
    this.pending ??= this.fetchToken().then(
      (grant) => {
        this.current = grant;
        this.pending = null;
        return grant;
      },
      (err: unknown) => {
        this.pending = null;
        throw err;
      },
    );
    return (await this.pending).token;
  }

  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }

  /** True while a token is held that is not about to expire (for /readyz). */
  healthy(): boolean {
    return this.current !== null && this.current.expiresAt > this.now();
  }
}

const oauthToken = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  token_type: z.string().optional(),
});

const byndleToken = z.object({ token: z.string().min(1), expires: z.string().min(1) });

async function readTokenResponse(
  provider: ProviderName,
  res: Awaited<ReturnType<typeof request>>,
): Promise<unknown> {
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    // OAuth error bodies ({error, error_description}) are safe to surface; credentials never are.
    let reason = '';
    try {
      const j = JSON.parse(text) as { error?: unknown };
      if (typeof j.error === 'string') reason = `: ${j.error}`;
    } catch {
      /* not JSON: the status says enough */
    }
    throw new UpstreamError(
      provider,
      codeForStatus(res.statusCode),
      res.statusCode,
      `${provider} token endpoint answered ${res.statusCode}${reason}`,
      'token',
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError(
      provider,
      'UPSTREAM_BAD_RESPONSE',
      200,
      `${provider} token endpoint sent invalid JSON`,
      'token',
    );
  }
}

function badToken(provider: ProviderName, error: z.ZodError): UpstreamError {
  const fields = error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
  return new UpstreamError(
    provider,
    'UPSTREAM_BAD_RESPONSE',
    200,
    `${provider} token response did not match the contract (${fields})`,
    'token',
  );
}

export interface ClientCredentials {
  provider: ProviderName;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  timeoutMs: number;
  /** Connect takes client_id/client_secret in the form; Bisnode and Symetrisk take Basic auth. */
  credentialsIn?: 'basic' | 'form';
  now?: () => number;
}

/** OAuth2 client-credentials grant (RFC 6749 §4.4). */
export function clientCredentialsFetcher(o: ClientCredentials): () => Promise<TokenGrant> {
  const now = o.now ?? Date.now;
  return async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (o.scope) form.set('scope', o.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if ((o.credentialsIn ?? 'basic') === 'basic') {
      const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`);
      headers.authorization = `Basic ${basic.toString('base64')}`;
    } else {
      form.set('client_id', o.clientId);
      form.set('client_secret', o.clientSecret);
    }
    const res = await request(o.tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(o.timeoutMs),
    }).catch((err: unknown) => {
      throw new UpstreamError(
        o.provider,
        'UPSTREAM_UNAVAILABLE',
        null,
        `${o.provider} token endpoint unreachable (${(err as Error).name})`,
        'token',
      );
    });
    const parsed = oauthToken.safeParse(await readTokenResponse(o.provider, res));
    if (!parsed.success) throw badToken(o.provider, parsed.error);
    return { token: parsed.data.access_token, expiresAt: now() + parsed.data.expires_in * 1000 };
  };
}

/** Byndle's create-token: GET with header `Auth: username:password` → {token, expires}. */
export function byndleTokenFetcher(o: {
  tokenUrl: string;
  username: string;
  password: string;
  timeoutMs: number;
}): () => Promise<TokenGrant> {
  return async () => {
    const res = await request(o.tokenUrl, {
      method: 'GET',
      headers: { auth: `${o.username}:${o.password}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(o.timeoutMs),
    }).catch((err: unknown) => {
      throw new UpstreamError(
        'byndle',
        'UPSTREAM_UNAVAILABLE',
        null,
        `byndle token endpoint unreachable (${(err as Error).name})`,
        'token',
      );
    });
    const parsed = byndleToken.safeParse(await readTokenResponse('byndle', res));
    if (!parsed.success) throw badToken('byndle', parsed.error);
    const expiresAt = Date.parse(parsed.data.expires);
    if (Number.isNaN(expiresAt))
      throw new UpstreamError(
        'byndle',
        'UPSTREAM_BAD_RESPONSE',
        200,
        'byndle token expiry is not a date',
        'token',
      );
    return { token: parsed.data.token, expiresAt };
  };
}
