import type { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import {
  CloseCode,
  DEPRECATED_GRAPHQL_WS_PROTOCOL,
  handleProtocols,
  makeServer,
  type ServerOptions,
} from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { StringInterner } from '../flat-strings.js';

/**
 * graphql-ws on a `ws` server: graphql-ws's own `useServer` (graphql-ws/use/ws) with the same
 * protocol, keep-alive and close behaviour, but a cheaper path for each `next` message, which is
 * what 10,000 subscribers times a burst of events multiply (issue 7, S4):
 *
 * - Serialised once: an ExecutionResult shared by many subscribers (events/shared-execution.ts
 *   hands the same object to all of them) is turned into JSON once; graphql-ws then stringifies
 *   only a tiny envelope per socket, and the shared text is spliced in at send time, keyed by
 *   (socket, operation id), so two operations on one socket never mix.
 * - No promise per send while the socket keeps up: graphql-ws awaits `send`, and use/ws made a
 *   promise and a write callback for every message. Here `send` returns nothing until the
 *   socket's unsent bytes pass `highWaterMark`; from then on it waits for that write to finish,
 *   so a slow reader still pushes back on its own subscriptions (and only on them).
 * - One write per socket per turn of the event loop: the socket is corked on its first message
 *   and uncorked at the next check phase, so events delivered together leave in one writev.
 * - The upgrade request is released after connection_ack (only its headers stay in `extra`).
 * - Subscribers sending the same query text share one copy of it (internQueries).
 * NORDGRAPH_WS_TRANSPORT=graphql-ws uses graphql-ws's own adapter instead (benchmark baseline).
 */

/** What `Extra` adds here: the texts waiting to be spliced into this socket's next messages. */
export interface TransportExtra extends Extra {
  /**
   * operation id → serialised `payload` of its pending `next` message. Made on the first shared
   * result: an idle subscription's socket has none (an empty Map is ~200 bytes; issue 7, S5).
   */
  spliced: Map<string, string> | null;
}

export interface WsTransportOptions {
  /** Keep-alive ping interval (and pong wait), ms; 0 turns it off. As graphql-ws's default. */
  keepAliveMs?: number;
  /** Unsent bytes on a socket beyond which `send` waits for the write to finish. */
  highWaterMark?: number;
  isProd?: boolean;
}

/** Payload placeholder: graphql-ws stringifies `{}`, send() puts the shared text there. */
const PLACEHOLDER: ExecutionResult = Object.freeze({}) as ExecutionResult;
const PLACEHOLDER_TAIL = '"type":"next","payload":{}}';
const ID_HEAD = '{"id":';
const ACK_HEAD = '{"type":"connection_ack"';

/** The upgrade request of every acknowledged connection: nothing reads it after connection_init. */
const RELEASED_REQUEST = Object.freeze({ headers: Object.freeze({}) }) as unknown as IncomingMessage;

/** Serialised results, one per result object: shared results are serialised once for all sockets. */
const serialised = new WeakMap<object, string>();
function jsonOf(result: ExecutionResult): string {
  let text = serialised.get(result);
  if (text === undefined) {
    text = JSON.stringify(result);
    serialised.set(result, text);
  }
  return text;
}

/**
 * Query texts of recent subscribe messages. graphql-ws keeps each subscribe message (and so its
 * query text) for as long as the subscription runs; subscribers of one application send the same
 * query, so they can all keep one string instead of a copy each (issue 7, S5).
 */
const queryTexts = new StringInterner(256);
function internQueries(key: string, value: unknown): unknown {
  return key === 'query' && typeof value === 'string' ? queryTexts.get(value) : value;
}

function wrapDispose(d: { dispose: () => void | Promise<void> }): { dispose: () => Promise<void> } {
  return { dispose: async () => d.dispose() };
}

/** Leaves the result's shared text for send() and gives graphql-ws the placeholder; errors go as they are. */
function shareResult(
  extra: TransportExtra,
  id: string,
  result: ExecutionResult,
): ExecutionResult | undefined {
  if (result.errors) return undefined;
  (extra.spliced ??= new Map()).set(id, jsonOf(result));
  return PLACEHOLDER;
}

function closeReason(isProd: boolean, err: unknown): string {
  if (isProd) return 'Internal server error';
  const reason = err instanceof Error ? err.message : String(err);
  // A close reason may hold at most 123 bytes.
  return Buffer.byteLength(reason) > 123 ? 'Internal server error' : reason;
}

/** Puts a pending shared payload into graphql-ws's envelope (`{"id":…,"type":"next","payload":{}}`). */
function splice(data: string, spliced: Map<string, string> | null): string {
  if (!spliced || spliced.size === 0 || !data.endsWith(PLACEHOLDER_TAIL) || !data.startsWith(ID_HEAD))
    return data;
  // The id as graphql-ws wrote it: a JSON string between `{"id":` and `,"type"`.
  const encoded = data.slice(ID_HEAD.length, data.length - PLACEHOLDER_TAIL.length - 1);
  const id = encoded.includes('\\') ? (JSON.parse(encoded) as string) : encoded.slice(1, -1);
  const text = spliced.get(id);
  if (text === undefined) return data;
  spliced.delete(id);
  return `${data.slice(0, -3)}${text}}`;
}

/**
 * Sockets corked until the loop's next check phase. Several events reaching one socket in one
 * turn of the loop then leave in one write (writev) instead of one system call each, which is
 * what a plain broadcast gets for free and a chain of promises per subscriber does not.
 */
const corked = new Set<NetSocket>();
let uncorkScheduled = false;
function uncorkAll(): void {
  uncorkScheduled = false;
  for (const s of corked) s.uncork();
  corked.clear();
}
function corkForThisTurn(socket: WebSocket): void {
  // ws keeps the net.Socket private; cork()/uncork() nest, so ws's own cork per frame still works.
  const raw = (socket as unknown as { _socket?: NetSocket })._socket;
  if (!raw || corked.has(raw)) return;
  raw.cork();
  corked.add(raw);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}

/** One transport's settings and bookkeeping, shared by all its connections. */
interface ConnectionSettings {
  readonly highWaterMark: number;
  readonly isProd: boolean;
  /** Connections the keep-alive pings (empty without keep-alive). */
  readonly live: Set<Connection>;
  /** Connections still waiting for connection_init. */
  readonly awaitingInit: Set<Connection>;
}

/**
 * A socket's Connection, kept on the socket itself: the socket's listeners below are four
 * functions shared by every socket (`this` is the socket, as EventEmitter calls them), not four
 * closures and their scope per connection (issue 7, S5).
 */
const CONNECTION = Symbol('nordgraph.ws.connection');
type TaggedSocket = WebSocket & { [CONNECTION]?: Connection };

function onSocketMessage(this: TaggedSocket, data: Buffer): void {
  this[CONNECTION]?.received(data);
}
function onSocketPong(this: TaggedSocket): void {
  this[CONNECTION]?.ponged();
}
function onSocketError(this: TaggedSocket, err: Error): void {
  this[CONNECTION]?.failed(err);
}
function onSocketClose(this: TaggedSocket, code: number, reason: Buffer): void {
  this[CONNECTION]?.closed(code, reason);
}

/**
 * One WebSocket connection, as graphql-ws sees it twice: the socket it talks to (`protocol`,
 * `send`, `close`, `onMessage`, called as methods) and the `extra` of its context (`socket`,
 * `request`, `spliced`). One object with its methods on the prototype instead of two objects and
 * a closure per method and connection, since every idle subscription keeps its connection
 * (issue 7, S5).
 */
class Connection implements TransportExtra {
  readonly protocol: string;
  spliced: Map<string, string> | null = null;
  /**
   * The upgrade request is for connection_init (authentication reads its headers). Once the
   * connection is acknowledged it is let go: the IncomingMessage with its stream state and
   * header strings would otherwise live as long as the socket.
   */
  request: IncomingMessage;
  private acknowledged = false;
  /** connection_init arrived (graphql-ws called onConnect); until then the init wait runs. */
  initReceived = false;
  /** When the socket opened (Date.now()), for the shared connection-init wait. */
  readonly openedAt = Date.now();
  /** A ping went out and its pong has not come back yet. */
  private awaitingPong = false;
  /** graphql-ws's handler of incoming messages (onMessage), and of the socket's end (opened). */
  private onText: ((data: string) => Promise<void>) | null = null;
  onEnd: ((code?: number, reason?: string) => Promise<void>) | null = null;
  /** The socket emitted an error (it is closed once, on the first). */
  private errored = false;

  constructor(
    readonly socket: WebSocket,
    request: IncomingMessage,
    private readonly settings: ConnectionSettings,
  ) {
    this.protocol = socket.protocol;
    this.request = request;
  }

  send(data: string): void | Promise<void> {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (!this.acknowledged && data.startsWith(ACK_HEAD)) {
      this.acknowledged = true;
      // Authentication (connection_init) was the last reader of the upgrade request: from here
      // on every connection shares one empty stand-in (~350 bytes of headers less per idle
      // subscription, issue 7 S5).
      this.request = RELEASED_REQUEST;
    }
    const text = splice(data, this.spliced);
    if (socket.bufferedAmount < this.settings.highWaterMark) {
      corkForThisTurn(socket);
      socket.send(text);
      return;
    }
    return new Promise<void>((resolve, reject) =>
      socket.send(text, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    // graphql-ws calls this once per socket; a second call replaces the handler (one listener).
    if (!this.onText) this.socket.on('message', onSocketMessage);
    this.onText = cb;
  }

  /** A message from the client, to graphql-ws. */
  received(data: Buffer): void {
    const cb = this.onText;
    if (!cb) return;
    cb(String(data)).catch((err: unknown) => {
      console.error('Internal error occurred during message handling.', err);
      this.socket.close(CloseCode.InternalServerError, closeReason(this.settings.isProd, err));
    });
  }

  failed(err: Error): void {
    if (this.errored) return;
    this.errored = true;
    console.error('Internal error emitted on a WebSocket socket.', err);
    this.socket.close(CloseCode.InternalServerError, closeReason(this.settings.isProd, err));
  }

  closed(code: number, reason: Buffer): void {
    this.settings.live.delete(this);
    this.settings.awaitingInit.delete(this);
    this.spliced = null;
    if (
      !this.settings.isProd &&
      code === CloseCode.SubprotocolNotAcceptable &&
      this.socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL
    )
      console.warn('Client asked for the deprecated subprotocol of subscriptions-transport-ws.');
    const end = this.onEnd;
    this.onEnd = null;
    void end?.(code, String(reason));
  }

  /** Called every keep-alive interval: a socket that did not answer the last ping is dropped. */
  heartbeat(): void {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (this.awaitingPong) {
      socket.terminate();
      return;
    }
    this.awaitingPong = true;
    socket.ping();
  }

  ponged(): void {
    this.awaitingPong = false;
  }
}

export function useWsTransport<
  P extends Record<string, unknown> | undefined = Record<string, unknown> | undefined,
>(
  options: ServerOptions<P, TransportExtra>,
  wss: WebSocketServer,
  {
    keepAliveMs = 12_000,
    highWaterMark = 1_048_576,
    isProd = process.env.NODE_ENV === 'production',
  }: WsTransportOptions = {},
): { dispose: () => Promise<void> } {
  if (process.env.NORDGRAPH_WS_TRANSPORT === 'graphql-ws')
    // Benchmark baseline: graphql-ws's own adapter. Its Extra lacks `spliced`, which only this
    // module's onNext reads, so the options fit as they are.
    return wrapDispose(useServer(options as unknown as ServerOptions<P, Extra>, wss, keepAliveMs));
  const userOnNext = options.onNext;
  const userOnConnect = options.onConnect;
  const initWaitMs = options.connectionInitWaitTimeout ?? 3_000;
  const server = makeServer<P, TransportExtra>({
    ...options,
    // The connection-init wait is ours (one timer for all sockets, below): graphql-ws's own keeps
    // a timer and its closure for the whole life of every connection (issue 7, S5).
    connectionInitWaitTimeout: 0,
    // graphql-ws calls onConnect exactly when it takes connection_init.
    onConnect: (ctx) => {
      (ctx.extra as Connection).initReceived = true;
      awaitingInit.delete(ctx.extra as Connection);
      return userOnConnect?.(ctx);
    },
    jsonMessageReviver: options.jsonMessageReviver ?? internQueries,
    // The caller's hook first (it formats errors); a result it leaves alone and that has no
    // errors goes out as shared text.
    onNext: (ctx, id, payload, args, result) => {
      const own = userOnNext?.(ctx, id, payload, args, result);
      // Not async unless the hook is: graphql-ws awaits the answer either way.
      if (own instanceof Promise) return own.then((o) => o || shareResult(ctx.extra, id, result));
      return own || shareResult(ctx.extra, id, result);
    },
  });
  wss.options.handleProtocols = handleProtocols;

  wss.once('error', (err) => {
    console.error('Internal error emitted on the WebSocket server.', err);
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, closeReason(isProd, err));
  });

  // Keep-alive as graphql-ws's useServer (ping every keepAliveMs, terminate a socket whose pong
  // has not come by the next ping), but one timer for all sockets instead of an interval, a
  // timeout and a `once('pong')` listener per socket (issue 7, S5).
  const live = new Set<Connection>();
  const heartbeat =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const c of live) c.heartbeat();
        }, keepAliveMs)
      : null;
  // The HTTP server keeps the process alive, not this timer.
  heartbeat?.unref();
  // Connection-init wait as graphql-ws's (4408 when no connection_init came within initWaitMs),
  // with one timer while any socket is waiting. Sockets wait in the order they opened.
  const awaitingInit = new Set<Connection>();
  const settings: ConnectionSettings = { highWaterMark, isProd, live, awaitingInit };
  let initTimer: NodeJS.Timeout | null = null;
  const checkInit = () => {
    const now = Date.now();
    for (const c of awaitingInit) {
      if (now - c.openedAt < initWaitMs) break;
      awaitingInit.delete(c);
      if (!c.initReceived)
        c.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }
    if (awaitingInit.size === 0 && initTimer) {
      clearInterval(initTimer);
      initTimer = null;
    }
  };
  const awaitInit = (c: Connection) => {
    if (!(initWaitMs > 0 && Number.isFinite(initWaitMs))) return;
    awaitingInit.add(c);
    if (!initTimer) {
      initTimer = setInterval(checkInit, Math.min(250, initWaitMs));
      initTimer.unref();
    }
  };

  wss.on('connection', (socket: TaggedSocket, request: IncomingMessage) => {
    const connection = new Connection(socket, request, settings);
    socket[CONNECTION] = connection;
    connection.onEnd = server.opened(connection, connection);
    awaitInit(connection);
    if (heartbeat) {
      live.add(connection);
      socket.on('pong', onSocketPong);
    }
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  });

  return {
    dispose: async () => {
      if (heartbeat) clearInterval(heartbeat);
      if (initTimer) clearInterval(initTimer);
      awaitingInit.clear();
      live.clear();
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
