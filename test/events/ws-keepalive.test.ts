import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { useWsTransport } from '../../src/events/ws-transport.js';

/**
 * Keep-alive of the graphql-ws transport (events/ws-transport.ts): one timer for all sockets
 * pings every socket each interval and drops a socket that did not answer the previous ping.
 * Over real WebSockets against the transport alone, with a short interval.
 */

const KEEP_ALIVE_MS = 40;
/** graphql-ws's connection-init wait, short here (3 s by default). */
const INIT_WAIT_MS = 150;
let server: Server;
let transport: { dispose: () => Promise<void> };
let url: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  const schema = makeExecutableSchema({
    typeDefs: 'type Query { "A constant." ok: Boolean }',
    resolvers: { Query: { ok: () => true } },
  });
  server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  transport = useWsTransport({ schema, connectionInitWaitTimeout: INIT_WAIT_MS }, wss, {
    keepAliveMs: KEEP_ALIVE_MS,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await transport?.dispose();
  await new Promise((resolve) => server?.close(resolve));
});

/** An acknowledged graphql-transport-ws connection; `autoPong: false` never answers pings. */
async function connect(
  autoPong: boolean,
): Promise<{ ws: WebSocket; pings: () => number; closed: Promise<number> }> {
  const ws = new WebSocket(url, 'graphql-transport-ws', { autoPong });
  sockets.push(ws);
  let pings = 0;
  ws.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.once('message', (data: Buffer) => {
      const msg = JSON.parse(String(data)) as { type: string };
      if (msg.type === 'connection_ack') resolve();
      else reject(new Error(`expected connection_ack, got ${msg.type}`));
    });
    ws.once('error', reject);
  });
  return { ws, pings: () => pings, closed };
}

async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 5));
}

describe('graphql-ws keep-alive', () => {
  it('keeps a socket that answers pings and drops one that does not', async () => {
    const answering = await connect(true);
    const silent = await connect(false);
    // The silent socket is pinged, then terminated at the next round (1006: no close frame).
    const code = await silent.closed;
    expect(code).toBe(1006);
    expect(silent.pings()).toBeGreaterThanOrEqual(1);
    // The answering one has been pinged in at least as many rounds and is still open and served.
    await until(() => answering.pings() >= 3);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    const reply = new Promise<unknown>((resolve) =>
      answering.ws.on('message', (data: Buffer) => {
        const msg = JSON.parse(String(data)) as { type: string; payload?: unknown };
        if (msg.type === 'next') resolve(msg.payload);
      }),
    );
    answering.ws.send(JSON.stringify({ id: 'q1', type: 'subscribe', payload: { query: '{ ok }' } }));
    expect(await reply).toEqual({ data: { ok: true } });
  }, 10_000);
});

describe('graphql-ws connection-init wait', () => {
  it('closes a socket that sends no connection_init with 4408, and keeps one that did', async () => {
    const opened = Date.now();
    const mute = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(mute);
    const muteClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      mute.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    const initialised = await connect(true);
    const closed = await muteClosed;
    expect(closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(INIT_WAIT_MS);
    // Well past the wait, the initialised socket is still open.
    await new Promise((r) => setTimeout(r, INIT_WAIT_MS * 3));
    expect(initialised.ws.readyState).toBe(WebSocket.OPEN);
  }, 10_000);
});
