import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
const post = (url: string, body: unknown, method = 'POST') =>
  fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function symetriskToken(): Promise<string> {
  const c = sandbox.credentials.symetrisk;
  const res = await fetch(sandbox.tokenUrls.symetrisk, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  sandbox = await startSandbox({
    population: { persons: 800, businesses: 200, vehicles: 300, customers: 200, borrowers: 40 },
  });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('the sandbox control API', () => {
  it('serves every provider control route on every provider port', async () => {
    for (const origin of Object.values(sandbox.urls)) {
      const res = await fetch(`${origin}/_sandbox/connect/rate-limit`);
      expect(res.status).toBe(200);
    }
  });

  it('counts requests per provider by route pattern, never by raw path', async () => {
    await post(`${sandbox.controlUrl}/counters/reset`, {});
    const token = await symetriskToken();
    const orgNr = sandbox.context.population.borrowers[0]!.orgNr;
    await fetch(`${sandbox.apiUrls.symetrisk}/borrower/${orgNr}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await fetch(`${sandbox.apiUrls.symetrisk}/ping`, { headers: { authorization: `Bearer ${token}` } });
    const counters = (await (await fetch(`${sandbox.controlUrl}/counters`)).json()) as Record<
      string,
      Record<string, number>
    >;
    expect(counters.symetrisk).toMatchObject({
      'POST /oauth2/token': 1,
      'GET /api/v1/borrower/:organization_number': 1,
      'GET /api/v1/ping': 1,
    });
    expect(JSON.stringify(counters)).not.toContain(orgNr);
  });

  it('injects an error status, limited to the next N requests', async () => {
    const token = await symetriskToken();
    await post(`${sandbox.controlUrl}/faults/symetrisk`, { errorRate: 1, errorStatus: 503, times: 2 }, 'PUT');
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await fetch(`${sandbox.apiUrls.symetrisk}/ping`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      );
    }
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('injects 429 with Retry-After', async () => {
    await post(`${sandbox.controlUrl}/faults/bisnode`, { rateLimitRate: 1, retryAfterSeconds: 7 }, 'PUT');
    const res = await fetch(sandbox.tokenUrls.bisnode, { method: 'POST' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    await fetch(`${sandbox.controlUrl}/faults/bisnode`, { method: 'DELETE' });
  });

  it('injects added latency', async () => {
    await post(`${sandbox.controlUrl}/faults/symetrisk`, { latencyMs: 300 }, 'PUT');
    const started = performance.now();
    const res = await fetch(`${sandbox.apiUrls.symetrisk}/ping`);
    expect(res.status).toBe(401);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await fetch(`${sandbox.controlUrl}/faults`, { method: 'DELETE' });
  });

  it('injects a connection reset', async () => {
    await post(`${sandbox.controlUrl}/faults/connect`, { resetRate: 1, times: 1 }, 'PUT');
    const err = await request(`${sandbox.apiUrls.connect}/v1/client/customer/info/1`).then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).not.toBeNull();
    expect(err?.code).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
  });

  it('injects malformed JSON on a 200', async () => {
    const token = await symetriskToken();
    await post(`${sandbox.controlUrl}/faults/symetrisk`, { malformedJsonRate: 1, times: 1 }, 'PUT');
    const res = await fetch(`${sandbox.apiUrls.symetrisk}/ping`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    await expect(res.clone().json()).rejects.toThrow();
  });

  it('rejects a bad fault body with 400 and a message', async () => {
    const res = await post(`${sandbox.controlUrl}/faults/byndle`, { errorRate: 2 }, 'PUT');
    expect(res.status).toBe(400);
    const unknown = await post(`${sandbox.controlUrl}/faults/nobody`, {}, 'PUT');
    expect(unknown.status).toBe(400);
  });

  it('changes a person and serves the change from every provider', async () => {
    const person = sandbox.context.population.persons.find(
      (p) => p.market === 'NO' && p.phones.some((ph) => ph.type === 'mobile'),
    )!;
    const oldMobile = person.phones.find((p) => p.type === 'mobile')!.number;
    const res = await post(`${sandbox.controlUrl}/persons/${person.id}/change`, { fields: ['mobile'] });
    expect(res.status).toBe(200);
    const changed = (await (await fetch(`${sandbox.controlUrl}/persons/${person.id}`)).json()) as {
      phones: { number: string; type: string }[];
    };
    const newMobile = changed.phones.find((p) => p.type === 'mobile')!.number;
    expect(newMobile).not.toBe(oldMobile);
    expect(sandbox.context.population.personByPhone.get(newMobile)?.id).toBe(person.id);
  });

  it('resets to the seeded state', async () => {
    await post(`${sandbox.controlUrl}/reset`, {});
    const person = sandbox.context.population.persons.find((p) => p.market === 'NO')!;
    const before = structuredClone(sandbox.context.population.personById.get(person.id));
    await post(`${sandbox.controlUrl}/persons/${person.id}/change`, { fields: ['lastName', 'address'] });
    expect(sandbox.context.population.personById.get(person.id)).not.toEqual(before);
    expect((await post(`${sandbox.controlUrl}/reset`, {})).status).toBe(200);
    expect(sandbox.context.population.personById.get(person.id)).toEqual(before);
    const counters = (await (await fetch(`${sandbox.controlUrl}/counters`)).json()) as Record<
      string,
      Record<string, number>
    >;
    expect(counters.byndle).toEqual({});
  });
});
