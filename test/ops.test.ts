import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { Nordgraph } from '../src/app.js';
import { METRICS_OPEN_WARNING, warnIfMetricsOpen } from '../src/observability/metrics-auth.js';
import { gql, startTestGateway, TEST_HEADERS } from './helpers/gateway.js';

/** A person in the sandbox for the default seed (as in examples/). */
const NATIONAL_ID = '15058027984';
const PERSON = `query Person($nationalId: String!) { person(nationalId: $nationalId, market: NO) { id firstName } }`;

const origin = (app: Nordgraph) => app.url.replace(/\/graphql$/, '');

function captureLines(): { stream: Writable; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------
// OTLP receiver: what an OpenTelemetry collector would receive (OTLP/HTTP JSON).

interface OtlpAttr {
  key: string;
  value: { stringValue?: string; intValue?: string | number; arrayValue?: unknown };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttr[];
}
interface Received {
  paths: string[];
  bodies: string[];
  spans: OtlpSpan[];
}

async function startOtlpReceiver(): Promise<{ server: Server; url: string; received: Received }> {
  const received: Received = { paths: [], bodies: [], spans: [] };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.paths.push(req.url ?? '');
      received.bodies.push(text);
      const body = JSON.parse(text) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, received };
}

function attrs(span: OtlpSpan): Record<string, string> {
  return Object.fromEntries(
    (span.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue ?? '')]),
  );
}

describe('OpenTelemetry tracing', () => {
  it('exports a span per GraphQL operation with upstream calls as children, without national ids or URLs', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startTestGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      const res = await gql(app.url, PERSON, { nationalId: NATIONAL_ID });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
    } finally {
      // Shutdown flushes the batch of spans to the receiver.
      await app.close();
      await new Promise<void>((r) => receiver.server.close(() => r()));
    }
    const { spans, paths, bodies } = receiver.received;
    expect(paths.every((p) => p === '/v1/traces')).toBe(true);
    const operation = spans.find((s) => s.name === 'query Person');
    expect(operation).toBeDefined();
    expect(attrs(operation!)).toMatchObject({
      'graphql.operation.name': 'Person',
      'graphql.operation.type': 'query',
    });
    const children = spans.filter((s) => s.parentSpanId === operation!.spanId);
    expect(children.length).toBeGreaterThan(0);
    for (const child of children) {
      expect(child.traceId).toBe(operation!.traceId);
      const a = attrs(child);
      expect(['byndle', 'bisnode', 'connect', 'symetrisk']).toContain(a['nordgraph.provider']);
      expect(a['http.response.status_code']).toBe('200');
      expect(child.name).toBe(
        `${a['nordgraph.provider']} ${a['http.request.method']} ${a['nordgraph.upstream.endpoint']}`,
      );
    }
    expect(children.map((c) => attrs(c)['nordgraph.upstream.endpoint'])).toContain(
      'GET /v1/lookup/person/extended',
    );
    // Nothing exported carries the national id, a query string or an upstream URL.
    const all = bodies.join('\n');
    expect(all).not.toContain(NATIONAL_ID);
    expect(all).not.toContain('?');
    expect(all).not.toContain('http://127.0.0.1');
  }, 60_000);

  it('is off without an OTLP endpoint: no span leaves the process', async () => {
    const receiver = await startOtlpReceiver();
    const app = await startTestGateway();
    try {
      const res = await gql(app.url, PERSON, { nationalId: NATIONAL_ID });
      expect(res.status).toBe(200);
    } finally {
      await app.close();
      await new Promise<void>((r) => receiver.server.close(() => r()));
    }
    expect(receiver.received.bodies).toEqual([]);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe('/metrics protection', () => {
  const TOKEN = 'metrics-token-for-tests-only-x7';
  let app: Nordgraph;
  beforeAll(async () => {
    app = await startTestGateway({ METRICS_TOKEN: TOKEN });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without a bearer token, or with a wrong one', async () => {
    const none = await fetch(`${origin(app)}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.text()).not.toContain('nordgraph_');
    const wrong = await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  it('serves the metrics with the configured bearer token', async () => {
    const res = await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('nordgraph_graphql_operations_total');
  });

  it('warns at start in live mode when no token is set, and not when one is', () => {
    const live: Record<string, string> = { PROVIDERS_MODE: 'live' };
    for (const p of ['BYNDLE', 'BISNODE', 'CONNECT', 'SYMETRISK']) {
      live[`${p}_BASE_URL`] = 'https://example.invalid/api';
      live[`${p}_TOKEN_URL`] = 'https://example.invalid/token';
    }
    Object.assign(live, {
      BYNDLE_USERNAME: 'u',
      BYNDLE_PASSWORD: 'p',
      BYNDLE_AJOURHOLD_ID: 'a',
      BISNODE_CLIENT_ID: 'c',
      BISNODE_CLIENT_SECRET: 's',
      CONNECT_CLIENT_ID: 'c',
      CONNECT_CLIENT_SECRET: 's',
      SYMETRISK_CLIENT_ID: 'c',
      SYMETRISK_CLIENT_SECRET: 's',
    });
    const open = captureLines();
    warnIfMetricsOpen(loadConfig(live), createLogger('info', 'nordgraph', open.stream));
    expect(open.records().map((r) => [r.level, r.msg])).toEqual([[40, METRICS_OPEN_WARNING]]);
    const closed = captureLines();
    warnIfMetricsOpen(
      loadConfig({ ...live, METRICS_TOKEN: TOKEN }),
      createLogger('info', 'n', closed.stream),
    );
    const sandbox = captureLines();
    warnIfMetricsOpen(loadConfig({}), createLogger('info', 'n', sandbox.stream));
    expect([...closed.lines, ...sandbox.lines]).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('X-Forwarded-For and TRUST_PROXY', () => {
  /** Unauthenticated /graphql requests (rate limited by client address) from three "clients". */
  async function threeClients(app: Nordgraph): Promise<number[]> {
    const statuses: number[] = [];
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'x-request-id': `xff-${ip}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      statuses.push(res.status);
    }
    return statuses;
  }

  it('ignores a spoofed X-Forwarded-For by default: one address, one rate limit, logged as the peer', async () => {
    const log = captureLines();
    const app = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '2' }, { logDestination: log.stream });
    try {
      const statuses = await threeClients(app);
      expect(statuses[2]).toBe(429);
      await waitUntil('access lines', () => log.records().filter((r) => r.msg === 'request').length >= 3);
      const clients = log
        .records()
        .filter((r) => r.msg === 'request')
        .map((r) => r.client);
      expect(new Set(clients)).toEqual(new Set(['127.0.0.1']));
    } finally {
      await app.close();
    }
  }, 60_000);

  it('honours X-Forwarded-For with TRUST_PROXY=1: three clients, three budgets, logged by their address', async () => {
    const log = captureLines();
    const app = await startTestGateway(
      { RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1' },
      { logDestination: log.stream },
    );
    try {
      const statuses = await threeClients(app);
      // Unauthenticated: refused, but none of them for the others' requests.
      expect(statuses).not.toContain(429);
      await waitUntil('access lines', () => log.records().filter((r) => r.msg === 'request').length >= 3);
      const clients = log
        .records()
        .filter((r) => r.msg === 'request')
        .map((r) => r.client);
      expect(clients).toEqual(['203.0.113.1', '203.0.113.2', '203.0.113.3']);
      // Only the hop our proxy wrote counts: an address the client put in front is ignored, so
      // these are 203.0.113.1's second and third requests.
      const again: number[] = [];
      for (const spoof of ['198.51.100.9', '198.51.100.10']) {
        const res = await fetch(app.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `${spoof}, 203.0.113.1` },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        again.push(res.status);
      }
      expect(again[0]).not.toBe(429);
      expect(again[1]).toBe(429);
    } finally {
      await app.close();
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe('WebSocket rate limiting', () => {
  let app: Nordgraph;
  beforeAll(async () => {
    app = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '4' });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  type Outcome = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };

  function once(client: ReturnType<typeof createClient>, query: string): Promise<Outcome> {
    return new Promise((resolve) => {
      let result: Outcome = {};
      client.subscribe(
        { query },
        {
          next: (v) => (result = v as Outcome),
          error: (err) => resolve({ errors: err as Outcome['errors'] }),
          complete: () => resolve(result),
        },
      );
    });
  }

  it('counts subscribe messages against the caller budget shared with HTTP, then answers RATE_LIMITED', async () => {
    // One HTTP request and two WebSocket operations use three of the caller's four.
    expect((await gql(app.url, '{ __typename }')).status).toBe(200);
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
      // One connection for all three operations (one connection attempt counted).
      lazyCloseTimeout: 60_000,
    });
    try {
      expect(await once(client, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      expect(await once(client, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
      expect((await gql(app.url, '{ __typename }')).status).toBe(200);
      const limited = await once(client, '{ __typename }');
      expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(Number(limited.errors?.[0]?.extensions?.retryAfter)).toBeGreaterThan(0);
      const http = await gql(app.url, '{ __typename }');
      expect(http.status).toBe(429);
    } finally {
      await client.dispose();
    }
  });

  it('refuses connection attempts past the limit with HTTP 429 and Retry-After at the upgrade', async () => {
    // The connection above used one attempt of this client address; three more are allowed.
    const attempt = () =>
      new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
        const ws = new WebSocket(app.wsUrl, 'graphql-transport-ws');
        ws.once('open', () => {
          ws.close();
          resolve({ status: 101 });
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
          });
          res.resume();
          ws.terminate();
        });
        ws.once('error', (err) => {
          if (!/Unexpected server response/.test(err.message)) reject(err);
        });
      });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await attempt());
    expect(results.map((r) => r.status)).toEqual([101, 101, 101, 429]);
    expect(Number(results[3]!.retryAfter)).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

/** A TCP relay to Redis that can be stalled (data held back, not dropped): Redis "unreachable". */
async function startRedisRelay(): Promise<{ url: string; stall(on: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const held: { to: Socket; data: Buffer }[] = [];
  let stalled = false;
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (data: Buffer) => {
      if (stalled) held.push({ to, data });
      else to.write(data);
    });
  const server: TcpServer = createTcpServer((client) => {
    const upstream = connect(6379, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => s.destroy());
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    stall(on) {
      stalled = on;
      if (!on) for (const { to, data } of held.splice(0)) if (!to.destroyed) to.write(data);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('/readyz', () => {
  type Ready = { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };

  it('is not ready while a provider token cannot be obtained, and ready again once it can', async () => {
    const app = await startTestGateway();
    const control = app.sandbox!.controlUrl;
    try {
      await fetch(`${control}/faults/bisnode`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 1, errorStatus: 503, pathIncludes: '/as/token.oauth2' }),
      });
      const down = await fetch(`${origin(app)}/readyz`);
      const body = (await down.json()) as Ready;
      expect(down.status).toBe(503);
      expect(body.checks['token.bisnode']).toEqual({
        ok: false,
        detail: 'UPSTREAM_UNAVAILABLE (status 503)',
      });
      expect(body.checks['token.byndle']).toEqual({ ok: true });
      await fetch(`${control}/faults`, { method: 'DELETE' });
      const up = await fetch(`${origin(app)}/readyz`);
      expect(up.status).toBe(200);
      expect(((await up.json()) as Ready).checks['token.bisnode']).toEqual({ ok: true });
    } finally {
      await fetch(`${control}/faults`, { method: 'DELETE' });
      await app.close();
    }
  }, 60_000);

  it('is not ready while Redis (REDIS_URL) does not answer, and ready again when it does', async () => {
    const relay = await startRedisRelay();
    const app = await startTestGateway({
      REDIS_URL: relay.url,
      EVENTS_KEY_PREFIX: `ops-test:${randomUUID()}:`,
    });
    try {
      const first = await fetch(`${origin(app)}/readyz`);
      expect(first.status).toBe(200);
      relay.stall(true);
      const down = await fetch(`${origin(app)}/readyz`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as Ready).checks.eventLog?.ok).toBe(false);
      relay.stall(false);
      const up = await fetch(`${origin(app)}/readyz`);
      expect(up.status).toBe(200);
    } finally {
      relay.stall(false);
      await app.close();
      await relay.close();
    }
  }, 60_000);
});
