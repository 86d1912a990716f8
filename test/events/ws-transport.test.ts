import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, TEST_HEADERS } from '../helpers/gateway.js';
import { personChanged } from '../helpers/events.js';
import type { Nordgraph } from '../../src/app.js';

/**
 * The graphql-ws transport (events/ws-transport.ts) serialises a shared result once and splices
 * it into each socket's `next` envelope. Seen on the wire by a raw socket: every message is the
 * exact graphql-transport-ws JSON, each operation id gets its own payload even when several
 * operations share one socket and one event, and several events sent in one turn (one corked
 * write) arrive whole and in order.
 */

const run = `${process.pid}-${Date.now()}`;
let seq = 0;
const uniqueId = (prefix: string) => `${prefix}-${run}-${++seq}`;

let app: Nordgraph;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  app = await startTestGateway({ SYMETRISK_POLL_INTERVAL_MS: '0' });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.terminate();
  await app?.close();
});

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A raw graphql-transport-ws connection: every text frame is kept, parsed. */
async function connect(): Promise<{ ws: WebSocket; messages: Message[]; raw: string[] }> {
  const ws = new WebSocket(app.wsUrl, 'graphql-transport-ws');
  sockets.push(ws);
  const messages: Message[] = [];
  const raw: string[] = [];
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    raw.push(text);
    messages.push(JSON.parse(text) as Message);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: { ...TEST_HEADERS } }));
  await waitUntil('connection_ack', () => messages.some((m) => m.type === 'connection_ack'));
  return { ws, messages, raw };
}

const event = (externalId: string) => personChanged({ externalId });

const BY_EXTERNAL_ID =
  'subscription($e: String!) { events(filter: { externalId: $e }) { cursor externalId } }';
const WITH_KIND = 'subscription($e: String!) { events(filter: { externalId: $e }) { kind externalId } }';

describe('graphql-ws transport', () => {
  it('gives each operation on one socket its own id and payload for the same events', async () => {
    const ext = uniqueId('ext');
    const { ws, messages, raw } = await connect();
    const tails = () => (app.eventLog as unknown as { fanOut: { size: number } }).fanOut.size;
    const before = tails();
    // Two operations of one query (one shared result) and one of another, on one socket.
    for (const [id, query] of [
      ['first', BY_EXTERNAL_ID],
      ['"quoted"\\id', BY_EXTERNAL_ID],
      ['third', WITH_KIND],
    ] as const)
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables: { e: ext } } }));
    await waitUntil('three subscriptions', () => tails() >= before + 3);

    // Two events appended together: delivered in one turn, so in one corked write.
    const { stored } = await app.eventLog.append([event(ext), event(ext)]);
    await waitUntil('six next messages', () => messages.filter((m) => m.type === 'next').length >= 6);

    const next = messages.filter((m) => m.type === 'next');
    const byId = (id: string) => next.filter((m) => m.id === id).map((m) => m.payload);
    const cursorsOf = (id: string) =>
      byId(id).map((p) => (p as { data: { events: { cursor: string } } }).data.events.cursor);
    for (const id of ['first', '"quoted"\\id']) {
      expect(byId(id)).toEqual(
        stored.map((s) => ({ data: { events: { cursor: s.cursor, externalId: ext } } })),
      );
    }
    expect(cursorsOf('first')).toEqual(stored.map((s) => s.cursor));
    expect(byId('third')).toEqual([
      { data: { events: { kind: 'PERSON_CHANGED', externalId: ext } } },
      { data: { events: { kind: 'PERSON_CHANGED', externalId: ext } } },
    ]);
    // Byte for byte the envelope graphql-ws itself writes.
    const firstRaw = raw.find((t) => t.startsWith('{"id":"first"'));
    expect(firstRaw).toBe(
      `{"id":"first","type":"next","payload":{"data":{"events":{"cursor":"${stored[0]!.cursor}","externalId":"${ext}"}}}}`,
    );
    expect(messages.filter((m) => m.type === 'error')).toEqual([]);
  });

  it('sends a result with errors in the same formatted shape as HTTP, not spliced', async () => {
    const { ws, messages } = await connect();
    ws.send(
      JSON.stringify({
        id: 'bad',
        type: 'subscribe',
        payload: { query: 'subscription { events(after: "not-a-cursor") { cursor } }' },
      }),
    );
    await waitUntil('an answer', () => messages.some((m) => m.id === 'bad'));
    const answer = messages.find((m) => m.id === 'bad')!;
    // A refused operation is graphql-ws's `error` (or a `next` with errors): never a spliced `{}`.
    expect(['error', 'next']).toContain(answer.type);
    expect(JSON.stringify(answer.payload)).toContain('BAD_USER_INPUT');
  });
});

describe("graphql-ws's own server (NORDGRAPH_WS_TRANSPORT=graphql-ws, the benchmark baseline)", () => {
  it('serves a subscription and closes it with 1001 when the gateway closes', async () => {
    const before = process.env.NORDGRAPH_WS_TRANSPORT;
    process.env.NORDGRAPH_WS_TRANSPORT = 'graphql-ws';
    let baseline: Nordgraph | undefined;
    try {
      baseline = await startTestGateway({ SYMETRISK_POLL_INTERVAL_MS: '0' });
    } finally {
      if (before === undefined) delete process.env.NORDGRAPH_WS_TRANSPORT;
      else process.env.NORDGRAPH_WS_TRANSPORT = before;
    }
    const ws = new WebSocket(baseline.wsUrl, 'graphql-transport-ws');
    sockets.push(ws);
    const messages: Message[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(String(data)) as Message));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { ...TEST_HEADERS } }));
    await waitUntil('connection_ack', () => messages.some((m) => m.type === 'connection_ack'));
    const externalId = uniqueId('baseline');
    ws.send(
      JSON.stringify({
        id: 'b',
        type: 'subscribe',
        payload: { query: BY_EXTERNAL_ID, variables: { e: externalId } },
      }),
    );
    const tails = () => (baseline!.eventLog as unknown as { fanOut: { size: number } }).fanOut.size;
    await waitUntil('the subscription', () => tails() >= 1);
    await baseline.eventLog.append([event(externalId)]);
    await waitUntil('the event', () => messages.some((m) => m.id === 'b' && m.type === 'next'));
    expect(messages.filter((m) => m.id === 'b').map((m) => m.type)).toEqual(['next']);
    await baseline.close();
    expect(await closed).toBe(1001);
  });
});
