import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { useWsTransport, type WsTransportOptions } from '../../src/events/ws-transport.js';

/**
 * graphql-transport-ws as nordgraph's transport speaks it (events/ws-transport.ts), side by side
 * with graphql-ws's own server (NORDGRAPH_WS_TRANSPORT=graphql-ws): the same hooks, the same raw
 * messages in, the same messages and close codes out. What graphql-ws's server does is the
 * reference; a case where the two differ fails on ours.
 */

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A source the test drives: push events, end it, fail it; it records when it was ended. */
class Source {
  private waiting: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | null =
    null;
  /** What next() hands out, in order: values, then an end (done) or a failure. */
  private readonly queue: ({ value: unknown } | { done: true } | { error: Error })[] = [];
  returned = false;
  push(value: unknown): void {
    this.settle({ value });
  }
  end(): void {
    this.settle({ done: true });
  }
  fail(error: Error): void {
    this.settle({ error });
  }
  private settle(item: { value: unknown } | { done: true } | { error: Error }): void {
    this.queue.push(item);
    const w = this.waiting;
    this.waiting = null;
    if (w) this.take().then(w.resolve, w.reject);
  }
  private take(): Promise<IteratorResult<unknown>> {
    const item = this.queue.shift()!;
    if ('error' in item) return Promise.reject(item.error);
    if ('done' in item) return Promise.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: item.value, done: false });
  }
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => {
        if (this.queue.length > 0) return this.take();
        return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
      },
      return: () => {
        this.returned = true;
        this.waiting?.resolve({ value: undefined, done: true });
        this.waiting = null;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

const typeDefs = /* GraphQL */ `
  type Query {
    "A constant."
    ok: Boolean
    "What the connection's context saw of connection_init's params."
    paramsSeen: String
  }
  type Subscription {
    "Whatever the test pushes into the source named by key."
    ticks(key: String!): Int
    "Texts the test pushes into the source named by key."
    texts(key: String!): String
  }
`;

function startTransport(kind: 'nordgraph' | 'graphql-ws', settings: WsTransportOptions = {}) {
  const sources = new Map<string, Source>();
  /** A subscription's source, kept under its `key` argument for the test to drive. */
  const sourceNamedBy = (_: unknown, { key }: { key: string }) => {
    const source = new Source();
    sources.set(key, source);
    return source;
  };
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        ok: () => true,
        paramsSeen: (_: unknown, __: unknown, ctx: { paramsSeen: string }) => ctx.paramsSeen,
      },
      Subscription: {
        ticks: { subscribe: sourceNamedBy, resolve: (n: number) => n },
        texts: { subscribe: sourceNamedBy, resolve: (t: string) => t },
      },
    },
  });
  const server: Server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const before = process.env.NORDGRAPH_WS_TRANSPORT;
  if (kind === 'graphql-ws') process.env.NORDGRAPH_WS_TRANSPORT = 'graphql-ws';
  else delete process.env.NORDGRAPH_WS_TRANSPORT;
  const transport = useWsTransport(
    {
      schema,
      onConnect: (ctx) => {
        const params = ctx.connectionParams as Record<string, unknown> | undefined;
        if (params?.refuse) return false;
        if (params?.ackPayload) return { welcome: params.ackPayload };
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        if (payload.query.includes('refuseMe')) return [new GraphQLError('refused by onSubscribe')];
        return undefined;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        // A hook that fails on one value: that operation ends, the connection goes on.
        if ((result.data as { ticks?: number } | undefined)?.ticks === 13) throw new Error('unlucky');
        return undefined;
      },
      context: (ctx, _id, payload) => {
        if (payload.query.includes('failContext')) throw new Error('context failed');
        // Read when an operation starts, after onConnect: nordgraph lets the params go by then.
        return { paramsSeen: JSON.stringify(ctx.connectionParams ?? null) };
      },
    },
    wss,
    { keepAliveMs: 0, isProd: false, ...settings },
  );
  if (before === undefined) delete process.env.NORDGRAPH_WS_TRANSPORT;
  else process.env.NORDGRAPH_WS_TRANSPORT = before;
  return { server, transport, sources };
}

describe.each(['nordgraph', 'graphql-ws'] as const)('graphql-transport-ws on the %s transport', (kind) => {
  let running: ReturnType<typeof startTransport>;
  let url: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    running = startTransport(kind);
    await new Promise<void>((resolve) => running.server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(running.server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await running.transport.dispose();
    await new Promise((resolve) => running.server.close(resolve));
  });

  async function until(what: string, probe: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A raw socket: every message kept, parsed; its close code and reason once it closes. */
  async function open(protocol = 'graphql-transport-ws') {
    const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    sockets.push(ws);
    const messages: Message[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(String(data)) as Message));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m));
    return { ws, messages, closed, send };
  }

  async function acknowledged(payload: Record<string, unknown> = {}) {
    const c = await open();
    c.send({ type: 'connection_init', payload });
    await until('connection_ack', () => c.messages.some((m) => m.type === 'connection_ack'));
    return c;
  }

  /** Subscribes `ticks` per operation id (id → source key); resolves once every source runs. */
  async function ticking(c: { send: (m: unknown) => void }, ops: Record<string, string>): Promise<void> {
    for (const [id, key] of Object.entries(ops))
      c.send({ id, type: 'subscribe', payload: { query: `subscription { ticks(key: "${key}") }` } });
    await until('sources', () => Object.values(ops).every((key) => running.sources.has(key)));
  }

  it('acknowledges connection_init, with the payload onConnect returns', async () => {
    const plain = await acknowledged();
    expect(plain.messages).toEqual([{ type: 'connection_ack' }]);
    const withPayload = await acknowledged({ ackPayload: 'hi' });
    expect(withPayload.messages).toEqual([{ type: 'connection_ack', payload: { welcome: 'hi' } }]);
  });

  it('closes with the protocol close codes', async () => {
    const garbage = await open();
    garbage.send('not json');
    expect(await garbage.closed).toEqual({ code: 4400, reason: 'Invalid message received' });

    const early = await open();
    early.send({ id: '1', type: 'subscribe', payload: { query: '{ ok }' } });
    expect(await early.closed).toEqual({ code: 4401, reason: 'Unauthorized' });

    const refused = await open();
    refused.send({ type: 'connection_init', payload: { refuse: true } });
    expect(await refused.closed).toEqual({ code: 4403, reason: 'Forbidden' });

    const twice = await acknowledged();
    twice.send({ type: 'connection_init' });
    expect(await twice.closed).toEqual({ code: 4429, reason: 'Too many initialisation requests' });

    // No subprotocol offered (a client of another protocol).
    const wrongProtocol = await open('');
    expect(await wrongProtocol.closed).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });

    const duplicate = await acknowledged();
    const q = 'subscription { ticks(key: "dup") }';
    duplicate.send({ id: 'a', type: 'subscribe', payload: { query: q } });
    await until('source', () => running.sources.has('dup'));
    duplicate.send({ id: 'a', type: 'subscribe', payload: { query: q } });
    expect(await duplicate.closed).toEqual({ code: 4409, reason: 'Subscriber for a already exists' });
    // The running subscription's source is ended with its socket.
    await until('source ended', () => running.sources.get('dup')?.returned === true);
  });

  it('answers ping with pong, echoing its payload', async () => {
    const c = await acknowledged();
    c.send({ type: 'ping' });
    c.send({ type: 'ping', payload: { n: 1 } });
    await until('two pongs', () => c.messages.filter((m) => m.type === 'pong').length === 2);
    expect(c.messages.slice(1)).toEqual([{ type: 'pong' }, { type: 'pong', payload: { n: 1 } }]);
  });

  it('runs a query as next then complete; errors of onSubscribe and validation as error', async () => {
    const c = await acknowledged();
    c.send({ id: 'q', type: 'subscribe', payload: { query: '{ ok }' } });
    c.send({ id: 'r', type: 'subscribe', payload: { query: '{ refuseMe: ok }' } });
    c.send({ id: 'v', type: 'subscribe', payload: { query: '{ nope }' } });
    await until('three answers', () => c.messages.filter((m) => m.id).length === 4);
    const byId = (id: string) => c.messages.filter((m) => m.id === id);
    expect(byId('q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { ok: true } } },
      { id: 'q', type: 'complete' },
    ]);
    expect(byId('r')).toEqual([{ id: 'r', type: 'error', payload: [{ message: 'refused by onSubscribe' }] }]);
    expect(byId('v')).toHaveLength(1);
    expect(byId('v')[0]).toMatchObject({ id: 'v', type: 'error' });
    expect((byId('v')[0]!.payload as { message: string }[])[0]!.message).toContain('nope');
    // A finished operation's id may be used again.
    c.send({ id: 'q', type: 'subscribe', payload: { query: '{ again: ok }' } });
    await until('second q', () => byId('q').length === 4);
    expect(byId('q')[2]).toEqual({ id: 'q', type: 'next', payload: { data: { again: true } } });
  });

  it('does not keep connection_init params past onConnect', async () => {
    const c = await acknowledged({ secret: 's3cr3t' });
    c.send({ id: 'p', type: 'subscribe', payload: { query: '{ paramsSeen }' } });
    await until('answer', () => c.messages.some((m) => m.id === 'p' && m.type === 'next'));
    const seen = (c.messages.find((m) => m.id === 'p')!.payload as { data: { paramsSeen: string } }).data
      .paramsSeen;
    // graphql-ws keeps them on the context for the connection's life; nordgraph lets them go.
    expect(seen).toBe(kind === 'nordgraph' ? 'null' : '{"secret":"s3cr3t"}');
  });

  it('delivers a subscription event by event; client complete ends its source and its messages', async () => {
    const c = await acknowledged();
    c.send({ id: 's', type: 'subscribe', payload: { query: 'subscription { ticks(key: "s1") }' } });
    await until('source', () => running.sources.has('s1'));
    const source = running.sources.get('s1')!;
    source.push(1);
    source.push(2);
    await until('two events', () => c.messages.filter((m) => m.id === 's').length === 2);
    c.send({ id: 's', type: 'complete' });
    await until('source ended', () => source.returned);
    source.push(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.messages.filter((m) => m.id === 's')).toEqual([
      { id: 's', type: 'next', payload: { data: { ticks: 1 } } },
      { id: 's', type: 'next', payload: { data: { ticks: 2 } } },
    ]);
  });

  it('sends complete when the source ends, error when it fails, and 4500 when a hook throws', async () => {
    const c = await acknowledged();
    await ticking(c, { e: 'ends', f: 'fails' });
    running.sources.get('ends')!.push(7);
    running.sources.get('ends')!.end();
    running.sources.get('fails')!.fail(new Error('source broke'));
    await until('both ended', () => c.messages.filter((m) => m.id).length === 3);
    expect(c.messages.filter((m) => m.id === 'e')).toEqual([
      { id: 'e', type: 'next', payload: { data: { ticks: 7 } } },
      { id: 'e', type: 'complete' },
    ]);
    expect(c.messages.filter((m) => m.id === 'f')).toEqual([
      { id: 'f', type: 'error', payload: [{ message: 'source broke' }] },
    ]);
    c.send({ id: 'x', type: 'subscribe', payload: { query: '{ failContext: ok }' } });
    expect(await c.closed).toEqual({ code: 4500, reason: 'context failed' });
  });

  it('ends only the operation whose onNext hook fails, with an error message', async () => {
    const c = await acknowledged();
    await ticking(c, { u: 'unlucky', l: 'lucky' });
    running.sources.get('unlucky')!.push(13);
    await until('error', () => c.messages.some((m) => m.id === 'u'));
    expect(c.messages.filter((m) => m.id === 'u')).toEqual([
      { id: 'u', type: 'error', payload: [{ message: 'unlucky' }] },
    ]);
    await until('unlucky source ended', () => running.sources.get('unlucky')!.returned);
    running.sources.get('lucky')!.push(1);
    await until('lucky event', () => c.messages.some((m) => m.id === 'l'));
    expect(c.messages.filter((m) => m.id === 'l')).toEqual([
      { id: 'l', type: 'next', payload: { data: { ticks: 1 } } },
    ]);
    expect(running.sources.get('lucky')!.returned).toBe(false);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes on an id too long for a close reason without taking the process down', async () => {
    const c = await acknowledged();
    // 3 bytes a character in UTF-8: 180 bytes of id alone.
    const id = '€'.repeat(60);
    const q = 'subscription { ticks(key: "long-id") }';
    c.send({ id, type: 'subscribe', payload: { query: q } });
    await until('source', () => running.sources.has('long-id'));
    c.send({ id, type: 'subscribe', payload: { query: q } });
    const closed = await c.closed;
    // graphql-ws's own server fails on the reason (4500); nordgraph cuts it to fit.
    if (kind === 'graphql-ws') expect(closed.code).toBe(4500);
    else expect(closed).toEqual({ code: 4409, reason: `Subscriber for ${'€'.repeat(35)}…` });
    // Still serving.
    const next = await acknowledged();
    expect(next.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('ends every running source when the socket closes', async () => {
    const c = await acknowledged();
    await ticking(c, { 1: 'c1', 2: 'c2' });
    c.ws.close();
    await until(
      'both ended',
      () => running.sources.get('c1')!.returned && running.sources.get('c2')!.returned,
    );
  });

  it("works with graphql-ws's own client", async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const values: unknown[] = [];
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe(
          { query: 'subscription { ticks(key: "client") }' },
          { next: (v) => values.push(v), error: reject, complete: resolve },
        );
      });
      await until('source', () => running.sources.has('client'));
      running.sources.get('client')!.push(42);
      running.sources.get('client')!.end();
      await done;
      expect(values).toEqual([{ data: { ticks: 42 } }]);
    } finally {
      await client.dispose();
    }
  });
});

describe('the nordgraph transport under a vanishing or mute client', () => {
  const sockets: WebSocket[] = [];
  afterAll(() => {
    for (const s of sockets) s.terminate();
  });

  async function serve(settings: WsTransportOptions) {
    const running = startTransport('nordgraph', settings);
    await new Promise<void>((resolve) => running.server.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(running.server.address() as AddressInfo).port}/graphql`;
    const ws = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(ws);
    const messages: Message[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(String(data)) as Message));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init' }));
    while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 5));
    return { running, ws, messages, closed, url };
  }

  it('ends the sources of a client that vanishes while its writes wait, with nothing left unhandled', async () => {
    const { running, ws } = await serve({});
    try {
      const subscribe = (id: string, query: string) =>
        ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
      subscribe('a', 'subscription { texts(key: "a") }');
      subscribe('b', 'subscription { ticks(key: "b") }');
      while (!(running.sources.has('a') && running.sources.has('b')))
        await new Promise((r) => setTimeout(r, 5));
      // The client stops reading; 16 MB for it fill the socket buffers past the high-water
      // mark, so what is written next (b's complete, a pong) waits for the socket.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const text = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 256; i++) running.sources.get('a')!.push(text);
      await new Promise((r) => setTimeout(r, 100));
      running.sources.get('b')!.end();
      ws.send(JSON.stringify({ type: 'ping' }));
      await new Promise((r) => setTimeout(r, 100));
      // Then it vanishes: the waiting writes fail, and must settle quietly (an unhandled
      // rejection fails this run).
      ws.terminate();
      while (!running.sources.get('a')!.returned) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 200));
      expect(running.sources.get('a')!.returned).toBe(true);
    } finally {
      await running.transport.dispose();
      await new Promise((resolve) => running.server.close(resolve));
    }
  });

  it('takes no new connection while dispose waits for a mute client', async () => {
    const { running, ws, url } = await serve({ closeGraceMs: 500 });
    // Plain HTTP answers 404 here (an upgrade request nobody takes is a plain request to Node).
    running.server.on('request', (_req, res: ServerResponse) => res.writeHead(404).end());
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const disposed = running.transport.dispose();
    const late = new WebSocket(url, 'graphql-transport-ws');
    sockets.push(late);
    const outcome = await new Promise<string>((resolve) => {
      late.once('open', () => resolve('open'));
      late.once('error', () => resolve('refused'));
      late.once('unexpected-response', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
    await disposed;
    running.server.closeAllConnections();
    await new Promise((resolve) => running.server.close(resolve));
  });

  it('cuts off, on dispose, a client that does not answer the close frame', async () => {
    const { running, ws, closed } = await serve({ closeGraceMs: 200 });
    // The client stops reading: it never sees (or answers) the server's close frame.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await running.transport.dispose();
    await new Promise((resolve) => running.server.close(resolve));
    // dispose() returned: without the grace period it would wait for ws's own close timeout
    // (30 s, past this test's timeout). The socket is gone (the client may still read the
    // 1001 frame that reached it before the cut).
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([1001, 1006]).toContain(await closed);
  });
});
