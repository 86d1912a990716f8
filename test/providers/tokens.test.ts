import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenCache } from '../../src/providers/tokens.js';
import { gql, startTestGateway } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

describe('the upstream token cache', () => {
  it('fetches once for all concurrent callers', async () => {
    let fetches = 0;
    const cache = new TokenCache(async () => {
      fetches += 1;
      await new Promise((r) => setTimeout(r, 20));
      return { token: `t${fetches}`, expiresAt: Date.now() + 3_600_000 };
    });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.get()));
    expect(new Set(tokens)).toEqual(new Set(['t1']));
    expect(fetches).toBe(1);
  });

  it('refreshes shortly before expiry, not after', async () => {
    let now = 0;
    let fetches = 0;
    const cache = new TokenCache(async () => ({ token: `t${++fetches}`, expiresAt: now + 3_600_000 }), {
      refreshSkewMs: 60_000,
      now: () => now,
    });
    expect(await cache.get()).toBe('t1');
    now = 3_600_000 - 61_000;
    expect(await cache.get()).toBe('t1');
    now = 3_600_000 - 59_000;
    expect(await cache.get()).toBe('t2');
  });

  it('drops a token on invalidate only if it is still the current one', async () => {
    let fetches = 0;
    const cache = new TokenCache(async () => ({ token: `t${++fetches}`, expiresAt: Date.now() + 3_600_000 }));
    const first = await cache.get();
    cache.invalidate(first);
    const second = await cache.get();
    cache.invalidate(first); // a late 401 for the old token must not throw away the new one
    expect(await cache.get()).toBe(second);
    expect(fetches).toBe(2);
  });

  it('does not cache a failed fetch', async () => {
    let calls = 0;
    const cache = new TokenCache(async () => {
      calls += 1;
      if (calls === 1) throw new Error('token endpoint down');
      return { token: 'ok', expiresAt: Date.now() + 3_600_000 };
    });
    await expect(cache.get()).rejects.toThrow('token endpoint down');
    expect(await cache.get()).toBe('ok');
  });
});

describe('a provider revoking our token', () => {
  let app: Nordgraph;
  beforeAll(async () => {
    app = await startTestGateway();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function counters(): Promise<Record<string, Record<string, number>>> {
    return (await (await fetch(`${app.sandbox!.controlUrl}/counters`)).json()) as Record<
      string,
      Record<string, number>
    >;
  }

  it('answers 401 upstream with one token refresh and one retry, invisible to the caller', async () => {
    const query = '{ symetriskNotifications(first: 1) { totalCount } }';
    expect((await gql(app.url, query)).body.errors).toBeUndefined();
    // A sandbox reset revokes every token it issued: the gateway's cached token is now dead.
    await fetch(`${app.sandbox!.controlUrl}/reset`, { method: 'POST' });
    const { body } = await gql(app.url, query);
    expect(body.errors).toBeUndefined();
    const c = (await counters()).symetrisk ?? {};
    expect(c['POST /oauth2/token']).toBe(1);
    expect(c['GET /api/v1/notifications']).toBe(2); // the 401 and the retry
  });
});
