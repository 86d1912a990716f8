import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { Nordgraph } from '../src/app.js';
import {
  gql,
  startGatewayOn,
  startTestGateway,
  type GraphQLResponse,
  TEST_HEADERS,
  testApiKey,
} from './helpers/gateway.js';

/**
 * Request limits (src/security/limits.ts) over real HTTP and graphql-ws, and the per-caller rate
 * limit (src/security/rate-limit.ts). Three gateways on one sandbox: `plain` with the defaults,
 * `tight` with small limits and introspection off, `limited` with a small cost limit and
 * RATE_LIMIT_PER_MINUTE=3.
 */
let plain: Nordgraph;
let tight: Nordgraph;
let limited: Nordgraph;
/** Callers of their own, so each test's requests count in a bucket of their own. */
const callerA = testApiKey('caller-a', [], []);
const callerB = testApiKey('caller-b', [], []);
const costCaller = testApiKey('cost-caller', [], []);

beforeAll(async () => {
  plain = await startTestGateway();
  tight = await startGatewayOn(plain.sandbox!, {
    LIMIT_MAX_DEPTH: '2',
    LIMIT_MAX_ALIASES: '2',
    LIMIT_MAX_DIRECTIVES: '2',
    LIMIT_MAX_TOKENS: '100',
    INTROSPECTION: 'false',
  });
  limited = await startGatewayOn(plain.sandbox!, {
    LIMIT_MAX_COST: '5',
    RATE_LIMIT_PER_MINUTE: '3',
    API_KEYS: JSON.stringify([callerA.entry, callerB.entry, costCaller.entry]),
  });
}, 60_000);

afterAll(async () => {
  await limited?.close();
  await tight?.close();
  await plain?.close();
});

/** `{ service { name name ... } }` with `n` selections of `name`: 5 + n tokens, cost 2 + 1.5 n. */
const names = (n: number) => `{ service { ${Array.from({ length: n }, () => 'name').join(' ')} } }`;

function expectRejected(body: GraphQLResponse, status: number, code: string, message: RegExp) {
  expect(status).toBe(400);
  expect(body.data).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors![0]!.extensions?.code).toBe(code);
  expect(body.errors![0]!.message).toMatch(message);
}

function expectServed(res: { status: number; body: GraphQLResponse }) {
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  expect(res.status).toBe(200);
  expect((res.body.data as { service: { name: string } }).service.name).toBe('nordgraph');
}

/** One operation over graphql-ws: every message until completion or error. */
async function overWebSocket(
  app: Nordgraph,
  query: string,
): Promise<{ results: FormattedExecutionResult<Record<string, unknown>, unknown>[]; errors: unknown }> {
  const client = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { ...TEST_HEADERS },
    retryAttempts: 0,
    lazy: true,
  });
  const results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
  try {
    const errors = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query },
        { next: (r) => results.push(r), error: (e) => resolve(e), complete: () => resolve(null) },
      );
    });
    return { results, errors };
  } finally {
    await client.dispose();
  }
}

describe('request limits over HTTP', () => {
  it('accepts an operation at the depth limit and rejects one just over it', async () => {
    expectServed(await gql(tight.url, '{ service { name } }'));
    const { status, body } = await gql(tight.url, '{ borrowerRelationships(first: 1) { edges { cursor } } }');
    expectRejected(body, status, 'GRAPHQL_VALIDATION_FAILED', /depth limit of 2 exceeded, found 3/);
  });

  it('accepts an operation at the alias limit and rejects one just over it', async () => {
    expectServed(await gql(tight.url, '{ service { name } a: service { name } b: service { name } }'));
    const { status, body } = await gql(
      tight.url,
      '{ service { name } a: service { name } b: service { name } c: service { name } }',
    );
    expectRejected(body, status, 'GRAPHQL_VALIDATION_FAILED', /Aliases limit of 2 exceeded, found 3/);
  });

  it('accepts an operation at the directive limit and rejects one just over it', async () => {
    expectServed(await gql(tight.url, '{ service { name @include(if: true) mode @skip(if: false) } }'));
    const { status, body } = await gql(
      tight.url,
      '{ service { name @include(if: true) mode @skip(if: false) version @skip(if: false) } }',
    );
    expectRejected(body, status, 'GRAPHQL_VALIDATION_FAILED', /Directives limit of 2 exceeded, found 3/);
  });

  it('accepts an operation at the token limit and rejects one just over it', async () => {
    expectServed(await gql(tight.url, names(95)));
    const { status, body } = await gql(tight.url, names(96));
    expectRejected(body, status, 'GRAPHQL_PARSE_FAILED', /Document contains more tha[nt] 100 tokens/);
  });

  it('accepts an operation at the cost limit and rejects one just over it', async () => {
    const key = { 'x-api-key': costCaller.key };
    expectServed(await gql(limited.url, names(2), {}, key)); // 2 + 1.5 * 2 = 5
    const { status, body } = await gql(limited.url, names(3), {}, key); // 6.5
    expectRejected(body, status, 'GRAPHQL_VALIDATION_FAILED', /Cost limit of 5 exceeded, found 6\.5/);
  });

  it('gives no "did you mean" suggestions outside development', async () => {
    const { status, body } = await gql(plain.url, '{ service { nmae } }');
    expectRejected(body, status, 'GRAPHQL_VALIDATION_FAILED', /Cannot query field "nmae" on type "Service"/);
    expect(body.errors![0]!.message).not.toMatch(/did you mean/i);
    expect(JSON.stringify(body)).not.toContain('"name"');
  });

  it('serves introspection in sandbox mode and refuses it with INTROSPECTION=false', async () => {
    const query = '{ __schema { queryType { name } } }';
    const on = await gql<{ __schema: { queryType: { name: string } } }>(plain.url, query);
    expect(on.body.errors).toBeUndefined();
    expect(on.body.data!.__schema.queryType.name).toBe('Query');
    const off = await gql(tight.url, query);
    expectRejected(off.body, off.status, 'GRAPHQL_VALIDATION_FAILED', /introspection/i);
  });

  it('refuses a batched (JSON array) request body', async () => {
    const res = await fetch(plain.url, {
      method: 'POST',
      headers: {
        ...TEST_HEADERS,
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify([{ query: '{ service { name } }' }, { query: '{ service { mode } }' }]),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/batching/i);
  });

  it('keeps the default limits loose enough for the examples (deepest, 100-borrower page)', async () => {
    const page = await gql(
      plain.url,
      `{ borrowerRelationships(first: 100) { totalCount edges { node { organizationNumber
         creditScore { score } accounting(first: 12) { edges { node { snapshotDate revenue } } } } } } }`,
    );
    expect(page.body.errors, JSON.stringify(page.body.errors)).toBeUndefined();
  });
});

describe('request limits over WebSocket (graphql-ws)', () => {
  it('rejects a subscription over the depth limit with a coded error', async () => {
    const { results, errors } = await overWebSocket(
      tight,
      'subscription { events { borrowerAccess { state } } }',
    );
    expect(results).toEqual([]);
    expect(Array.isArray(errors)).toBe(true);
    const [first] = errors as { message: string; extensions?: { code?: string } }[];
    expect(first!.message).toMatch(/depth limit of 2 exceeded, found 3/);
    expect(first!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('runs an operation at the limits, and strips suggestions and introspection as HTTP does', async () => {
    const ok = await overWebSocket(tight, '{ service { name } }');
    expect(ok.errors).toBeNull();
    expect(ok.results[0]!.data).toEqual({ service: { name: 'nordgraph' } });

    const misspelt = await overWebSocket(tight, '{ service { nmae } }');
    const [error] = misspelt.errors as { message: string }[];
    expect(error!.message).toBe('Cannot query field "nmae" on type "Service".');

    const tokens = await overWebSocket(tight, names(96));
    const [tokenError] = tokens.errors as { message: string; extensions?: { code?: string } }[];
    expect(tokenError!.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');

    const intro = await overWebSocket(tight, '{ __schema { queryType { name } } }');
    const [introError] = intro.errors as { message: string }[];
    expect(introError!.message).toMatch(/introspection/i);
  });
});

describe('per-caller rate limit', () => {
  it('answers the 4th request in a minute with 429 and Retry-After; another caller is unaffected', async () => {
    const a = { 'x-api-key': callerA.key };
    for (let i = 0; i < 3; i++) expectServed(await gql(limited.url, '{ service { name } }', {}, a));
    const res = await fetch(limited.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...a },
      body: JSON.stringify({ query: '{ service { name } }' }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await res.json()) as GraphQLResponse;
    expect(body.errors![0]!.extensions?.code).toBe('RATE_LIMITED');

    expectServed(await gql(limited.url, '{ service { name } }', {}, { 'x-api-key': callerB.key }));
    // The unlimited gateways (RATE_LIMIT_PER_MINUTE unset under NODE_ENV=test) never answer 429.
    expectServed(await gql(plain.url, '{ service { name } }'));
  });
});

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('per-caller rate limit shared in Redis', () => {
  it('counts one caller across two instances on one Redis', async () => {
    // A fresh caller per run: the window in Redis outlives this process.
    const shared = testApiKey(`shared-${Date.now()}-${Math.floor(Math.random() * 1e6)}`, [], []);
    const env = {
      REDIS_URL: redisUrl!,
      RATE_LIMIT_PER_MINUTE: '3',
      API_KEYS: JSON.stringify([shared.entry]),
    };
    const a = await startGatewayOn(plain.sandbox!, env);
    const b = await startGatewayOn(plain.sandbox!, env);
    try {
      const key = { 'x-api-key': shared.key };
      expectServed(await gql(a.url, '{ service { name } }', {}, key));
      expectServed(await gql(b.url, '{ service { name } }', {}, key));
      expectServed(await gql(a.url, '{ service { name } }', {}, key));
      const fourth = await gql(b.url, '{ service { name } }', {}, key);
      expect(fourth.status).toBe(429);
      expect(fourth.body.errors![0]!.extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
