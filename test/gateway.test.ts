import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { gql, startTestGateway, TEST_HEADERS } from './helpers/gateway.js';
import type { Nordgraph } from '../src/app.js';

let app: Nordgraph;

beforeAll(async () => {
  app = await startTestGateway({ MAX_BODY_BYTES: '2048' });
});
afterAll(async () => {
  await app?.close();
});

describe('the gateway server', () => {
  it('answers /healthz while the process lives', async () => {
    const res = await fetch(new URL('/healthz', app.url));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('reports ready on /readyz once config is valid and every sandbox provider answers', async () => {
    const res = await fetch(new URL('/readyz', app.url));
    const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    expect(res.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(Object.keys(body.checks).sort()).toEqual([
      'config',
      'eventLog',
      'sandbox.bisnode',
      'sandbox.byndle',
      'sandbox.connect',
      'sandbox.symetrisk',
      'token.bisnode',
      'token.byndle',
      'token.connect',
      'token.symetrisk',
    ]);
  });

  it('serves a query over HTTP POST at /graphql', async () => {
    const { status, body } = await gql<{ service: { name: string; mode: string } }>(
      app.url,
      '{ service { name mode version } }',
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.service).toMatchObject({ name: 'nordgraph', mode: 'SANDBOX' });
  });

  it('serves a query over HTTP GET when the client sends a preflight-forcing header', async () => {
    const url = new URL(app.url);
    url.searchParams.set('query', '{ service { name } }');
    const res = await fetch(url, {
      headers: { ...TEST_HEADERS, accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { service: { name: 'nordgraph' } } });
  });

  it('rejects a body larger than MAX_BODY_BYTES with 413', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { ...TEST_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ service { name } } # ${'x'.repeat(4096)}` }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a body that is not JSON with 400 and a clear message', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { ...TEST_HEADERS, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toMatch(/not valid JSON/);
  });

  it('blocks a simple cross-site GET without a preflight-forcing header (CSRF prevention)', async () => {
    const url = new URL(app.url);
    url.searchParams.set('query', '{ service { name } }');
    const res = await fetch(url, { headers: { ...TEST_HEADERS, 'content-type': 'text/plain' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });

  it('streams a subscription over graphql-ws on the same port and path', async () => {
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
    try {
      const beats: number[] = [];
      await new Promise<void>((resolve, reject) => {
        client.subscribe<{ heartbeat: { sequence: number } }>(
          { query: 'subscription { heartbeat(intervalMs: 10, count: 3) { sequence at } }' },
          {
            next: (msg) => {
              if (msg.data) beats.push(msg.data.heartbeat.sequence);
            },
            error: reject,
            complete: resolve,
          },
        );
      });
      expect(beats).toEqual([1, 2, 3]);
    } finally {
      await client.dispose();
    }
  });

  it('reports every provider up, and a failing one down with its error code', async () => {
    const q = '{ providerStatus { provider up error } }';
    const up = await gql<{ providerStatus: { provider: string; up: boolean; error: string | null }[] }>(
      app.url,
      q,
    );
    expect(up.body.data?.providerStatus.map((p) => [p.provider, p.up])).toEqual([
      ['BYNDLE', true],
      ['BISNODE', true],
      ['CONNECT', true],
      ['SYMETRISK', true],
    ]);
    await fetch(`${app.sandbox!.controlUrl}/faults/symetrisk`, {
      method: 'PUT',
      headers: { ...TEST_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 503 }),
    });
    try {
      const down = await gql<{ providerStatus: { provider: string; up: boolean; error: string | null }[] }>(
        app.url,
        q,
      );
      expect(down.body.data?.providerStatus.find((p) => p.provider === 'SYMETRISK')).toEqual({
        provider: 'SYMETRISK',
        up: false,
        error: 'UPSTREAM_UNAVAILABLE',
      });
      expect(down.body.data?.providerStatus.find((p) => p.provider === 'BYNDLE')?.up).toBe(true);
    } finally {
      await fetch(`${app.sandbox!.controlUrl}/faults`, { method: 'DELETE' });
    }
  });

  it('reports not ready on /readyz while the event log cannot be written', async () => {
    const log = app.eventLog as unknown as { failWrites?: (on: boolean) => void };
    expect(typeof log.failWrites).toBe('function'); // the memory log of the default (no Redis) mode
    log.failWrites!(true);
    try {
      const res = await fetch(new URL('/readyz', app.url));
      const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
      expect(res.status).toBe(503);
      expect(body.checks.eventLog?.ok).toBe(false);
    } finally {
      log.failWrites!(false);
    }
  });

  it('answers 404 with a pointer to /graphql on unknown paths', async () => {
    const res = await fetch(new URL('/nope', app.url));
    expect(res.status).toBe(404);
  });
});
