import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { SANDBOX_BYNDLE_WEBHOOK, startNordgraph, type Nordgraph } from '../src/app.js';
import { gql, TEST_HEADERS } from './helpers/gateway.js';
import { ByndleSandbox } from './helpers/byndle.js';
import { personChanged } from './helpers/events.js';

/** A person in the sandbox for the default seed (as in examples/). */
const NATIONAL_ID = '15058027984';

const PERSON = `query Person($nationalId: String!) { person(nationalId: $nationalId, market: NO) { id firstName } }`;
const BY_PHONE = `query PersonByPhone($phoneNumber: String!) { personByPhone(phoneNumber: $phoneNumber) { id firstName } }`;

interface Captured {
  lines: string[];
  records(): Record<string, unknown>[];
}

function captureLog(): { stream: Writable; captured: Captured } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return {
    stream,
    captured: { lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) },
  };
}

async function startLoggedGateway(): Promise<{ app: Nordgraph; captured: Captured }> {
  const { stream, captured } = captureLog();
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
  const app = await startNordgraph(config, createLogger(config.LOG_LEVEL, 'nordgraph', stream));
  return { app, captured };
}

const origin = (app: Nordgraph) => app.url.replace(/\/graphql$/, '');

async function metricsText(app: Nordgraph): Promise<string> {
  const res = await fetch(`${origin(app)}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one sample, e.g. `name{a="x",b="y"}`; labels given are matched, others ignored. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function byndleDelivery(id: string): string {
  return JSON.stringify({
    ajourholdId: 'AJ-OBS',
    deliveryId: `d-${id}`,
    sentAt: new Date().toISOString(),
    events: [
      {
        eventId: `e-${id}`,
        eventName: 'name.last.changed',
        occurredAt: new Date().toISOString(),
        externalId: `ext-${id}`,
        byndleId: `obs-${id}`,
        field: 'name.last',
        oldValue: null,
        newValue: null,
      },
    ],
  });
}

function postByndle(
  app: Nordgraph,
  body: string,
  password: string = SANDBOX_BYNDLE_WEBHOOK.password,
): Promise<Response> {
  return fetch(`${origin(app)}/webhooks/byndle`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: basic(SANDBOX_BYNDLE_WEBHOOK.username, password),
    },
    body,
  });
}

describe('metrics and access logs', () => {
  let app: Nordgraph;
  let captured: Captured;
  let control: string;

  beforeAll(async () => {
    ({ app, captured } = await startLoggedGateway());
    control = app.sandbox!.controlUrl;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });
  afterEach(async () => {
    await fetch(`${control}/faults`, { method: 'DELETE' });
  });

  it('writes one info line per HTTP request with method, route, status, duration, operation and request id', async () => {
    const res = await gql(
      app.url,
      'query ServiceName { service { name } }',
      {},
      { 'x-request-id': 'obs-req-1' },
    );
    expect(res.status).toBe(200);
    await waitUntil('the access line', () => captured.records().some((r) => r.requestId === 'obs-req-1'));
    const lines = captured.records().filter((r) => r.requestId === 'obs-req-1' && r.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      method: 'POST',
      route: '/graphql',
      status: 200,
      operation: 'ServiceName',
      outcome: 'success',
      requestId: 'obs-req-1',
    });
    expect(typeof lines[0]!.ms).toBe('number');

    // Other routes get their line too, named by route pattern only.
    const health = await fetch(`${origin(app)}/healthz?who=${NATIONAL_ID}`, {
      headers: { 'x-request-id': 'obs-req-2' },
    });
    expect(health.status).toBe(200);
    await waitUntil('the healthz line', () => captured.records().some((r) => r.requestId === 'obs-req-2'));
    expect(captured.records().find((r) => r.requestId === 'obs-req-2')).toMatchObject({
      method: 'GET',
      route: '/healthz',
      status: 200,
    });
  });

  it('replaces a caller request id that could carry a personal number', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { ...TEST_HEADERS, 'content-type': 'application/json', 'x-request-id': `id-${NATIONAL_ID}` },
      body: JSON.stringify({ query: '{ service { name } }' }),
    });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitUntil('the access line', () => captured.records().some((r) => r.requestId === id));
    expect(captured.records().find((r) => r.requestId === id)).toMatchObject({ operation: 'anonymous' });
  });

  it('exposes operations, upstream calls, cache lookups and breaker states with their labels', async () => {
    // Same person twice: the second read is served from the upstream cache.
    for (let i = 0; i < 2; i++) {
      const res = await gql<{ person: { id: string } | null }>(app.url, PERSON, { nationalId: NATIONAL_ID });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.person?.id).toBeTruthy();
    }
    const text = await metricsText(app);
    const op = { operation: 'Person', type: 'query', outcome: 'success' };
    expect(sample(text, 'nordgraph_graphql_operations_total', op)).toBe(2);
    expect(sample(text, 'nordgraph_graphql_operation_duration_seconds_count', op)).toBe(2);
    expect(sample(text, 'nordgraph_graphql_operation_duration_seconds_bucket', { ...op, le: '+Inf' })).toBe(
      2,
    );

    const byndleCalls = sample(text, 'nordgraph_upstream_requests_total', {
      provider: 'byndle',
      status: '200',
    });
    expect(byndleCalls).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      /nordgraph_upstream_requests_total\{provider="byndle",endpoint="GET \/v1\/lookup\/person\/extended",method="GET",status="200"\} \d+/,
    );
    expect(sample(text, 'nordgraph_upstream_request_duration_seconds_count', { provider: 'byndle' })).toBe(
      sample(text, 'nordgraph_upstream_requests_total', { provider: 'byndle' }),
    );

    expect(sample(text, 'nordgraph_cache_lookups_total', { result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nordgraph_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(1);

    for (const provider of ['byndle', 'bisnode', 'connect', 'symetrisk']) {
      expect(sample(text, 'nordgraph_circuit_breaker_state', { provider, state: 'closed' })).toBe(1);
      expect(sample(text, 'nordgraph_circuit_breaker_state', { provider, state: 'open' })).toBe(0);
    }
    // Process metrics come along (prefixed).
    expect(text).toContain('nordgraph_process_cpu_user_seconds_total');
  });

  it('labels operations by outcome and caps what can become an operation label', async () => {
    await gql(app.url, '{ service { name } }');
    await gql(app.url, 'query Broken { service { name ');
    await gql(app.url, `query P${NATIONAL_ID} { service { name } }`);
    await gql(app.url, 'query Invalid { noSuchField }');
    const text = await metricsText(app);
    expect(
      sample(text, 'nordgraph_graphql_operations_total', { operation: 'anonymous', outcome: 'success' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'nordgraph_graphql_operations_total', {
        operation: 'unknown',
        outcome: 'GRAPHQL_PARSE_FAILED',
      }),
    ).toBe(1);
    expect(
      sample(text, 'nordgraph_graphql_operations_total', { operation: 'other', outcome: 'success' }),
    ).toBe(1);
    expect(
      sample(text, 'nordgraph_graphql_operations_total', {
        operation: 'Invalid',
        outcome: 'GRAPHQL_VALIDATION_FAILED',
      }),
    ).toBe(1);
  });

  it('counts webhook requests by outcome and their events', async () => {
    const refused = await postByndle(app, byndleDelivery('refused'), 'not-the-password');
    expect(refused.status).toBe(401);
    const stored = await postByndle(app, byndleDelivery(`ok-${Date.now()}`));
    expect(stored.status).toBe(200);
    const text = await metricsText(app);
    expect(
      sample(text, 'nordgraph_webhook_requests_total', { provider: 'byndle', outcome: 'unauthorized' }),
    ).toBe(1);
    expect(sample(text, 'nordgraph_webhook_requests_total', { provider: 'byndle', outcome: 'stored' })).toBe(
      1,
    );
    expect(sample(text, 'nordgraph_webhook_events_total', { provider: 'byndle', result: 'stored' })).toBe(1);
    // A second scrape does not count them again.
    const again = await metricsText(app);
    expect(sample(again, 'nordgraph_webhook_requests_total', { provider: 'byndle', outcome: 'stored' })).toBe(
      1,
    );
  });

  it('counts open subscriptions until they end', async () => {
    const open = async () => sample(await metricsText(app), 'nordgraph_subscriptions_open');
    expect(await open()).toBe(0);
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
    const received: unknown[] = [];
    const stop = client.subscribe(
      { query: 'subscription Live { events { cursor kind } }' },
      { next: (m) => received.push(m), error: (e) => received.push(e), complete: () => undefined },
    );
    await waitUntil('one open subscription', async () => (await open()) === 1);
    stop();
    await waitUntil('no open subscription', async () => (await open()) === 0);
    await client.dispose();
    expect(received).toEqual([]);
  });

  it('keeps national ids and phone numbers out of logs and metrics, also when requests fail', async () => {
    // People not read before in this gateway (nothing cached about them).
    const people = (await new ByndleSandbox(app).persons(50)).filter((p) => p.nationalId !== NATIONAL_ID);
    const subject = people.find((p) => p.byndleId)!;
    const owner = people.find((p) => p !== subject && p.phones.some((ph) => ph.type === 'mobile'))!;
    const nationalId = subject.nationalId;
    const phone = owner.phones.find((ph) => ph.type === 'mobile')!.number;
    const phoneDigits = phone.replace(/\D/g, '').slice(-8);
    expect(nationalId).toMatch(/^\d{11}$/);
    expect(phoneDigits).toMatch(/^\d{8}$/);
    // Providers failing: upstream errors carrying the lookups' subjects.
    for (const provider of ['byndle', 'bisnode']) {
      await fetch(`${control}/faults/${provider}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 1, errorStatus: 500 }),
      });
    }
    const failed = await gql(app.url, PERSON, { nationalId });
    expect(failed.body.errors?.[0]?.extensions?.code).toMatch(/^UPSTREAM_/);
    const byPhone = await gql(app.url, BY_PHONE, { phoneNumber: phone });
    expect(byPhone.body.errors?.[0]?.extensions?.code).toMatch(/^UPSTREAM_/);
    // Inline arguments, a bad national id, and a malformed document with a national id in it.
    const inline = await gql(app.url, `{ person(nationalId: "${nationalId}", market: NO) { id } }`);
    expect(inline.body.errors?.length).toBeGreaterThan(0);
    const badId = `${nationalId.slice(0, 10)}${(Number(nationalId[10]) + 1) % 10}`;
    const bad = await gql(app.url, PERSON, { nationalId: badId });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.body.errors?.length).toBeGreaterThan(0);
    await gql(app.url, `query { person(nationalId: "${nationalId}" `);
    await fetch(`${control}/faults`, { method: 'DELETE' });
    // Connection resets.
    await fetch(`${control}/faults/byndle`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resetRate: 1 }),
    });
    const reset = await gql(app.url, BY_PHONE, { phoneNumber: phone });
    expect(reset.body.errors?.[0]?.extensions?.code).toMatch(/^UPSTREAM_/);

    const text = await metricsText(app);
    expect(
      sample(text, 'nordgraph_graphql_operations_total', { operation: 'Person' }),
    ).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/nordgraph_upstream_requests_total\{provider="byndle",[^}]*status="500"\}/);

    const digits = [nationalId, badId, phoneDigits];
    await waitUntil(
      'all access lines',
      () => captured.lines.filter((l) => l.includes('"msg":"request"')).length >= 10,
    );
    const logText = captured.lines.join('\n');
    expect(logText).toContain('"operation":"PersonByPhone"');
    for (const d of digits) {
      expect(text).not.toContain(d);
      expect(logText).not.toContain(d);
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight slow query and closes subscribers with 1001', async () => {
    const { app, captured } = await startLoggedGateway();
    const control = app.sandbox!.controlUrl;
    try {
      // A subscriber on a raw socket, to see the close code itself.
      const ws = new WebSocket(app.wsUrl, 'graphql-transport-ws');
      const messages: { type: string }[] = [];
      ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as { type: string }));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { ...TEST_HEADERS } }));
      await waitUntil('ack', () => messages.some((m) => m.type === 'connection_ack'));
      ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: 'subscription { events { cursor } }' },
        }),
      );
      await waitUntil('subscription running', async () => {
        return sample(await metricsText(app), 'nordgraph_subscriptions_open') === 1;
      });

      // A slow upstream: the query is in flight when close() starts.
      await fetch(`${control}/faults/byndle`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        // One request only: the fault clears itself when that request arrives, so its clearing
        // tells us the upstream call is in flight (and sleeping) at the sandbox.
        body: JSON.stringify({ latencyMs: 1_500, times: 1, pathIncludes: '/lookup/person/extended' }),
      });
      const before = captured.lines.length;
      const slow = gql<{ person: { id: string } | null }>(app.url, PERSON, { nationalId: NATIONAL_ID });
      await waitUntil('the upstream call to be in flight', async () => {
        const faults = (await (await fetch(`${control}/faults`)).json()) as Record<string, unknown>;
        return faults.byndle === null;
      });
      const closing = app.close();
      const [result, close] = await Promise.all([slow, closed, closing]).then(([r, c]) => [r, c] as const);
      expect(result.status).toBe(200);
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data?.person?.id).toBeTruthy();
      expect(close.code).toBe(1001);
      expect(captured.lines.slice(before).some((l) => l.includes('"operation":"Person"'))).toBe(true);
    } finally {
      await fetch(`${control}/faults`, { method: 'DELETE' }).catch(() => undefined);
      await app.close().catch(() => undefined);
    }
  }, 30_000);

  it('lets a webhook being written finish and be stored', async () => {
    const { app } = await startLoggedGateway();
    try {
      // Hold the event log write until close() has begun.
      const append = app.eventLog.append.bind(app.eventLog);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const writing = new Promise<void>((r) => (entered = r));
      app.eventLog.append = async (events) => {
        entered();
        await gate;
        return append(events);
      };
      const id = `shutdown-${Date.now()}`;
      const delivery = postByndle(app, byndleDelivery(id));
      await writing;
      const closing = app.close();
      // Release the write only once the gateway has stopped accepting connections.
      await waitUntil('the listener to close', () =>
        fetch(`${origin(app)}/healthz`).then(
          () => false,
          () => true,
        ),
      );
      release();
      const res = await delivery;
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ stored: 1 });
      await closing;
    } finally {
      await app.close().catch(() => undefined);
    }
  }, 30_000);
});

describe('event delivery', () => {
  it('logs a subscriber that fails to take an event, and still delivers it to the others', async () => {
    const { app, captured } = await startLoggedGateway();
    try {
      const got: string[] = [];
      app.eventLog.follow({
        onEvent: () => {
          throw new Error('subscriber broke');
        },
      });
      app.eventLog.follow({ onEvent: (e) => got.push(e.sourceId) });
      await app.eventLog.append([personChanged()]);
      await waitUntil('delivery', () => got.length === 1);
      await waitUntil('the log line', () =>
        captured.lines.some((l) => l.includes('event delivery to one subscriber failed')),
      );
      const line = captured.lines.find((l) => l.includes('event delivery to one subscriber failed'))!;
      expect(JSON.parse(line)).toMatchObject({ level: 50, err: { message: 'subscriber broke' } });
    } finally {
      await app.close();
    }
  });
});
