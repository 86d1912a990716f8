import { getHeapSpaceStatistics } from 'node:v8';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Baseline (c) of issue 7 for S4/S5: a bare `ws` broadcast, the least a WebSocket fan-out can cost
 * in Node. A plain http server takes the same Byndle webhook POST nordgraph takes (Basic auth
 * checked, JSON parsed), and for every event sends one `next` message, stringified once, to every
 * subscribed socket. It speaks just enough graphql-transport-ws (connection_init → connection_ack,
 * subscribe) for the benchmark's clients to be identical for both systems. No log, no dedupe, no
 * filters, no GraphQL: the practical floor, not a competitor.
 *
 * Same IPC protocol as gateway-child.ts (ready / memory / stats / close), so ws.ts drives both
 * the same way. Env: BARE_WS_AUTH (the expected Authorization header value).
 */

const expectedAuth = process.env.BARE_WS_AUTH ?? '';
/** Sockets that sent `subscribe`, with the operation id they chose. */
const subscribers = new Map<WebSocket, string>();
let sequence = 0;

interface ByndleDelivery {
  events?: { externalId?: string | null }[];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * One message per event for all sockets. Every benchmark client subscribes with id "1", so the
 * message is byte-identical for all of them; sockets with another id get their own copy.
 */
function broadcast(data: Record<string, unknown>): void {
  const payload = JSON.stringify({ data });
  const shared = `{"id":"1","type":"next","payload":${payload}}`;
  for (const [ws, id] of subscribers) {
    ws.send(id === '1' ? shared : `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`);
  }
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/byndle') {
    res.writeHead(404).end();
    return;
  }
  if (req.headers.authorization !== expectedAuth) {
    res.writeHead(401).end();
    return;
  }
  readBody(req).then(
    (text) => {
      const delivery = JSON.parse(text) as ByndleDelivery;
      res.writeHead(204).end();
      for (const e of delivery.events ?? []) {
        sequence++;
        broadcast({
          events: { cursor: String(sequence).padStart(16, '0'), externalId: e.externalId ?? null },
        });
      }
    },
    () => res.writeHead(400).end(),
  );
});

// perMessageDeflate off, as nordgraph's WebSocketServer (ws's server default).
const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (raw: Buffer) => {
    const msg = JSON.parse(raw.toString('utf8')) as { type: string; id?: string };
    if (msg.type === 'connection_init') ws.send('{"type":"connection_ack"}');
    else if (msg.type === 'subscribe' && msg.id) subscribers.set(ws, msg.id);
    else if (msg.type === 'complete') subscribers.delete(ws);
    else if (msg.type === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => subscribers.delete(ws));
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
const origin = `http://127.0.0.1:${port}`;

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
const send = (message: Record<string, unknown>) => process.send?.(message);

process.on('message', (raw: { type: string; id?: number }) => {
  if (raw.type === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    send({
      type: 'memory',
      id: raw.id,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      // Committed size per V8 space: a young generation grown during a burst of connections is
      // RSS that is not per subscription.
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size])),
      listeners: subscribers.size,
    });
  } else if (raw.type === 'stats') {
    const loopDelay = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) };
    loop.reset();
    send({
      type: 'stats',
      id: raw.id,
      rss: process.memoryUsage.rss(),
      listeners: subscribers.size,
      loopDelay,
    });
  } else if (raw.type === 'close') {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

send({
  type: 'ready',
  url: `${origin}/graphql`,
  wsUrl: `ws://127.0.0.1:${port}/graphql`,
  origin,
  pid: process.pid,
});
