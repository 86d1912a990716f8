import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gql, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';
import { ProviderHttp, type ProviderHttpOptions } from '../../src/providers/http.js';
import { UpstreamError } from '../../src/providers/errors.js';
import { TokenCache, byndleTokenFetcher, clientCredentialsFetcher } from '../../src/providers/tokens.js';
import { SYMETRISK_SCOPES } from '../../src/providers/symetrisk/client.js';
import { createConnectHttpClient } from '../../src/providers/connect/client.js';
import { UpstreamCache } from '../../src/cache.js';
import { createLogger } from '../../src/log.js';

let app: Nordgraph;
let control: string;
let symTokens: TokenCache;
let byndleTokens: TokenCache;
let borrowers: { orgNr: string }[];
let businessOrgNr: string;
let otherBusinessOrgNr: string;
const clients: ProviderHttp[] = [];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const put = (path: string, body: unknown) =>
  fetch(`${control}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const fault = (provider: string, body: Record<string, unknown>) => put(`/faults/${provider}`, body);
const resetCounters = () => fetch(`${control}/counters/reset`, { method: 'POST' });
const counters = async (provider: string) =>
  ((await (await fetch(`${control}/counters`)).json()) as Record<string, Record<string, number>>)[provider]!;

function symetrisk(
  resilience: ProviderHttpOptions['resilience'] = {},
  timeoutMs = 3_000,
  onCall?: ProviderHttpOptions['onCall'],
): ProviderHttp {
  const http = new ProviderHttp({
    provider: 'symetrisk',
    baseUrl: app.providers.symetrisk.baseUrl,
    timeoutMs,
    tokens: symTokens,
    resilience,
    onCall,
  });
  clients.push(http);
  return http;
}
const ping = (http: ProviderHttp) =>
  http.request({ method: 'GET', path: '/ping', endpoint: 'GET /ping', schema: z.unknown() });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as UpstreamError,
  );

function errorAt(body: GraphQLResponse, field: string) {
  return body.errors?.find((e) => e.path?.[0] === field);
}

beforeAll(async () => {
  // Byndle's deadline lowered so the 35 s stall test fails its field within 1 s.
  app = await startTestGateway({ BYNDLE_TIMEOUT_MS: '1000' });
  control = app.sandbox!.controlUrl;
  const s = app.providers.symetrisk;
  symTokens = new TokenCache(
    clientCredentialsFetcher({
      provider: 'symetrisk',
      tokenUrl: s.tokenUrl,
      clientId: s.clientId,
      clientSecret: s.clientSecret,
      scope: SYMETRISK_SCOPES,
      credentialsIn: 'basic',
      timeoutMs: 3_000,
    }),
  );
  const b = app.providers.byndle;
  byndleTokens = new TokenCache(
    byndleTokenFetcher({
      tokenUrl: b.tokenUrl,
      username: b.clientId,
      password: b.clientSecret,
      timeoutMs: 3_000,
    }),
  );
  // Tokens first: the faults below aim at API calls, not at the token endpoints.
  await symTokens.get();
  await byndleTokens.get();
  borrowers = (
    (await (await fetch(`${control}/borrowers?limit=50`)).json()) as { borrowers: { orgNr: string }[] }
  ).borrowers;
  const businesses = (
    (await (await fetch(`${control}/businesses?limit=5`)).json()) as { businesses: { orgNr: string }[] }
  ).businesses;
  businessOrgNr = businesses[0]!.orgNr;
  otherBusinessOrgNr = businesses[1]!.orgNr;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

describe('retries', () => {
  it('retries a GET after a transient 503 and succeeds (2 upstream calls)', async () => {
    const http = symetrisk();
    await resetCounters();
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, times: 1, pathIncludes: '/ping' });
    await expect(ping(http)).resolves.toBeDefined();
    expect(await counters('symetrisk')).toEqual({ 'GET (fault 503)': 1, 'GET /api/v1/ping': 1 });
  });

  it('never retries a write: one upstream call, and the 503 reaches the caller', async () => {
    const http = symetrisk();
    await resetCounters();
    await fault('symetrisk', {
      errorRate: 1,
      errorStatus: 503,
      times: 1,
      pathIncludes: '/request-borrower-access',
    });
    const err = await failure(
      http.request({
        method: 'POST',
        path: '/request-borrower-access',
        endpoint: 'POST /request-borrower-access',
        body: { organization_number: borrowers[0]!.orgNr },
        schema: z.unknown(),
      }),
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
    expect(await counters('symetrisk')).toEqual({ 'POST (fault 503)': 1 });
  });

  it('retries a POST marked idempotent (a read sent as POST)', async () => {
    const http = symetrisk();
    await resetCounters();
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, times: 1, pathIncludes: '/ping' });
    // The sandbox answers POST /ping 404 (no such route): the point is that a second call was made.
    const err = await failure(
      http.request({
        method: 'POST',
        path: '/ping',
        endpoint: 'POST /ping',
        schema: z.unknown(),
        idempotent: true,
      }),
    );
    expect(err?.status).toBe(404);
    const c = await counters('symetrisk');
    expect(c['POST (fault 503)']).toBe(1);
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('answers 429 upstream with a retry after the advised delay', async () => {
    const http = symetrisk();
    await resetCounters();
    await fault('symetrisk', { rateLimitRate: 1, retryAfterSeconds: 1, times: 1, pathIncludes: '/ping' });
    const started = performance.now();
    await expect(ping(http)).resolves.toBeDefined();
    // A lower bound, not a performance figure: the retry waited for the advised second.
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(await counters('symetrisk')).toEqual({ 'GET (fault 429)': 1, 'GET /api/v1/ping': 1 });
  });

  it('fails fast with UPSTREAM_RATE_LIMITED and retryAfterMs when Retry-After is too long', async () => {
    const http = symetrisk();
    await resetCounters();
    await fault('symetrisk', { rateLimitRate: 1, retryAfterSeconds: 30, pathIncludes: '/ping' });
    const err = await failure(ping(http));
    expect(err).toMatchObject({ code: 'UPSTREAM_RATE_LIMITED', status: 429, retryAfterMs: 30_000 });
    expect(await counters('symetrisk')).toEqual({ 'GET (fault 429)': 1 });
  });
});

describe('partial data with a typed error, no crash', () => {
  const query = `query($org: String!) { borrower(organizationNumber: $org) { organizationNumber } service { name } }`;

  it('gives a 503ing provider field UPSTREAM_UNAVAILABLE with its status while the rest arrives', async () => {
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, pathIncludes: '/api/v1/' });
    const { status, body } = await gql(app.url, query, { org: borrowers[1]!.orgNr });
    expect(status).toBe(200);
    expect(body.data).toEqual({ borrower: null, service: { name: 'nordgraph' } });
    expect(errorAt(body, 'borrower')?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'symetrisk',
      status: 503,
    });
  });

  it('turns a connection reset into UPSTREAM_UNAVAILABLE', async () => {
    await fault('connect', { resetRate: 1, pathIncludes: '/capi' });
    const { body } = await gql(app.url, `query { customer(customerNumber: 4242) { id } service { name } }`);
    expect(body.data).toEqual({ customer: null, service: { name: 'nordgraph' } });
    expect(errorAt(body, 'customer')?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'connect',
    });
  });

  it('turns malformed JSON into UPSTREAM_BAD_RESPONSE', async () => {
    await fault('symetrisk', { malformedJsonRate: 1, pathIncludes: '/api/v1/' });
    const { body } = await gql(app.url, query, { org: borrowers[2]!.orgNr });
    expect(body.data).toEqual({ borrower: null, service: { name: 'nordgraph' } });
    expect(errorAt(body, 'borrower')?.extensions).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      provider: 'symetrisk',
    });
  });

  it('fails a 35 s stall with UPSTREAM_TIMEOUT on that field while the other providers answer', async () => {
    // Warm Byndle's token, so the stall hits the lookup and not the token endpoint.
    await gql(app.url, `query($org: String!) { business(organizationNumber: $org) { name } }`, {
      org: businessOrgNr,
    });
    await fault('byndle', { latencyMs: 35_000, pathIncludes: '/v1/lookup/business' });
    const { body } = await gql(
      app.url,
      `query($org: String!, $b: String!) {
        business(organizationNumber: $b) { name }
        borrower(organizationNumber: $org) { organizationNumber } }`,
      { org: borrowers[3]!.orgNr, b: otherBusinessOrgNr },
    );
    expect(body.data?.borrower).toEqual({ organizationNumber: borrowers[3]!.orgNr });
    expect(body.data?.business).toBeNull();
    expect(errorAt(body, 'business')?.extensions).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      provider: 'byndle',
    });
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, fails fast without calling, and closes after a probe', async () => {
    const http = symetrisk({ breakerThreshold: 3, breakerCooldownMs: 300, retries: 0 });
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, pathIncludes: '/ping' });
    for (let i = 0; i < 3; i++)
      expect(await failure(ping(http))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(http.state()).toBe('open');

    await resetCounters();
    const fast = await failure(ping(http));
    expect(fast).toMatchObject({ code: 'UPSTREAM_CIRCUIT_OPEN', provider: 'symetrisk', status: null });
    expect(await counters('symetrisk')).toEqual({});

    await fetch(`${control}/faults`, { method: 'DELETE' });
    await sleep(400); // past the cool-down: the next call is the half-open probe
    await expect(ping(http)).resolves.toBeDefined();
    expect(http.state()).toBe('closed');
    expect(await counters('symetrisk')).toEqual({ 'GET /api/v1/ping': 1 });
  });

  it('opens again when the half-open probe fails', async () => {
    const http = symetrisk({ breakerThreshold: 2, breakerCooldownMs: 200, retries: 0 });
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, pathIncludes: '/ping' });
    await failure(ping(http));
    await failure(ping(http));
    expect(http.state()).toBe('open');
    await sleep(300);
    expect(await failure(ping(http))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
    expect(http.state()).toBe('open');
  });

  it('lets exactly one probe through after the cool-down; calls during the probe fail fast', async () => {
    const http = symetrisk({ breakerThreshold: 1, breakerCooldownMs: 200, retries: 0 });
    await fault('symetrisk', { errorRate: 1, errorStatus: 503, pathIncludes: '/ping' });
    await failure(ping(http));
    expect(http.state()).toBe('open');
    // The provider is back but slow: the probe is still in flight when the next calls arrive.
    await fetch(`${control}/faults`, { method: 'DELETE' });
    await fault('symetrisk', { latencyMs: 300, pathIncludes: '/ping' });
    await sleep(250);
    await resetCounters();
    const probe = ping(http);
    expect(http.state()).toBe('half-open');
    const during = await Promise.all([failure(ping(http)), failure(ping(http))]);
    expect(during.map((e) => e?.code)).toEqual(['UPSTREAM_CIRCUIT_OPEN', 'UPSTREAM_CIRCUIT_OPEN']);
    await expect(probe).resolves.toBeDefined();
    expect(http.state()).toBe('closed');
    expect(await counters('symetrisk')).toEqual({ 'GET /api/v1/ping': 1 });
  });
});

describe('bulkhead', () => {
  it('keeps a slow Byndle from delaying Symetrisk, and refuses calls beyond its queue at once', async () => {
    const byndle = new ProviderHttp({
      provider: 'byndle',
      baseUrl: app.providers.byndle.baseUrl,
      // The deadline includes time spent queued: room for one slow call after another.
      timeoutMs: 5_000,
      tokens: byndleTokens,
      resilience: { maxConcurrent: 2, maxQueue: 1 },
    });
    clients.push(byndle);
    const sym = symetrisk();
    await fault('byndle', { latencyMs: 1_000, pathIncludes: '/v1/lookup/business' });
    const settled: string[] = [];
    const calls = [0, 1, 2, 3].map((i) =>
      byndle
        .request({
          method: 'GET',
          path: `/v1/lookup/business/${businessOrgNr}`,
          endpoint: 'GET /v1/lookup/business/{orgNr}',
          schema: z.unknown(),
          emptyOn: [404],
        })
        .then(
          () => settled.push(`byndle ${i} ok`),
          (e: UpstreamError) => settled.push(`byndle ${i} ${e.code}`),
        ),
    );
    // The fourth call finds 2 in flight and 1 waiting: refused without waiting.
    await calls[3];
    expect(settled).toEqual(['byndle 3 UPSTREAM_UNAVAILABLE']);
    expect(byndle.load()).toEqual({ active: 2, queued: 1 });
    await ping(sym).then(() => settled.push('symetrisk ok'));
    expect(settled).toEqual(['byndle 3 UPSTREAM_UNAVAILABLE', 'symetrisk ok']);
    await Promise.all(calls);
    expect(settled.slice(2).sort()).toEqual(['byndle 0 ok', 'byndle 1 ok', 'byndle 2 ok']);
  });
});

describe('deadline', () => {
  it('cancels an exchange at its deadline, and a call queued past its own deadline is never sent', async () => {
    const slow = symetrisk({ maxConcurrent: 1, maxQueue: 5, retries: 0 }, 300);
    await fault('symetrisk', { latencyMs: 800, pathIncludes: '/ping' });
    await resetCounters();
    const first = failure(ping(slow));
    const queued = failure(ping(slow));
    expect(slow.load()).toEqual({ active: 1, queued: 1 });
    const [a, b] = await Promise.all([first, queued]);
    expect(a).toMatchObject({ code: 'UPSTREAM_TIMEOUT', provider: 'symetrisk' });
    expect(b).toMatchObject({ code: 'UPSTREAM_TIMEOUT', provider: 'symetrisk' });
    // The first exchange was cancelled at its deadline, which freed the slot for the queued
    // call; that call's own deadline had passed too, so it never went out.
    await sleep(100);
    expect(slow.load()).toEqual({ active: 0, queued: 0 });
    // The sandbox counts a call when its 800 ms latency has passed: wait for that, then one only.
    await sleep(600);
    expect(await counters('symetrisk')).toEqual({ 'GET /api/v1/ping': 1 });
    await fetch(`${control}/faults`, { method: 'DELETE' });
    await expect(ping(slow)).resolves.toBeDefined();
  });
});

describe('observers', () => {
  it('settles a call whose metrics hook throws, and frees its bulkhead slot', async () => {
    const http = symetrisk({ maxConcurrent: 1, maxQueue: 1, retries: 0 }, 3_000, () => {
      throw new Error('a bug in an observer');
    });
    await expect(ping(http)).resolves.toMatchObject({ message: 'pong' });
    await expect(ping(http)).resolves.toMatchObject({ message: 'pong' });
    expect(http.load()).toEqual({ active: 0, queued: 0 });
  });
});

describe("Connect's 100 calls/s on our side", () => {
  it('makes 150 concurrent customer reads with at most 100 upstream calls in any second and no 429', async () => {
    // Fresh windows at the sandbox, so earlier tests' calls do not count.
    await fetch(`${app.sandbox!.urls.connect}/_sandbox/connect/rate-limit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ perSecond: 100, perMinute: 2000 }),
    });
    const starts: number[] = [];
    const statuses: (number | null)[] = [];
    const cache = new UpstreamCache({ keySalt: 'resilience-test-salt-0123' });
    const connect = createConnectHttpClient(app.providers.connect, {
      cache,
      log: createLogger('silent'),
      onCall: ({ status, ms }) => {
        starts.push(performance.now() - ms);
        statuses.push(status);
      },
    });
    await connect.customerInfo(1); // token first
    starts.length = 0;
    statuses.length = 0;
    await resetCounters();
    const customers = (
      (await (await fetch(`${control}/customers?limit=150`)).json()) as {
        customers: { customerNumber: number }[];
      }
    ).customers;
    expect(customers).toHaveLength(150);
    const answers = await Promise.all(customers.map((c) => connect.customerInfo(c.customerNumber)));
    expect(answers.map((a) => a?.customerNumber)).toEqual(customers.map((c) => c.customerNumber));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Exactly 150 at the sandbox: any 429 would have been retried and shown here as more.
    const c = await counters('connect');
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(150);
    starts.sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= 1_000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(100);
    expect(connect.rateLimit()?.remaining).toBeGreaterThanOrEqual(0);
    await connect.close();
    await cache.close();
  });
});
