import type { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import {
  execute,
  getOperationAST,
  GraphQLError,
  parse,
  subscribe,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import {
  areGraphQLErrors,
  CloseCode,
  DEPRECATED_GRAPHQL_WS_PROTOCOL,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  handleProtocols,
  MessageType,
  parseMessage,
  stringifyMessage,
  type Context,
  type FormattedExecutionResult,
  type OperationResult,
  type ServerOptions,
  type SubscribePayload,
} from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { StringInterner } from '../flat-strings.js';
import { endSource, pullFrom, type PullSink } from './pull.js';

/**
 * The server side of graphql-ws's protocol (graphql-transport-ws) on a `ws` server. Messages are
 * parsed, checked and written with graphql-ws's own functions (parseMessage, stringifyMessage,
 * handleProtocols, its close codes); the hooks are graphql-ws's ServerOptions, called as its
 * makeServer calls them. What differs is what a connection and a running subscription keep, and
 * what each `next` costs, which 10,000 subscribers times a burst of events and 5,000 idle
 * subscriptions multiply (issue 7, S4 and S5):
 *
 * - No suspended async function per subscription. graphql-ws's makeServer runs each subscription
 *   inside the `onMessage` call of its subscribe message (a `for await` loop), so every idle
 *   subscription kept that frame, its raw message text, three emit closures, the await's
 *   closures and promises (~1.3 KB measured). Here a subscription is an Operation object that
 *   its source calls back with the next result (events/pull.ts): no promise while it waits.
 * - Per connection: one Connection object that is the socket graphql-ws's hooks see, their
 *   `ctx` and its `extra`; its four socket listeners are functions shared by all sockets.
 *   connection_init's params (credentials included) are let go once `onConnect` has read them,
 *   and the upgrade request once the connection is acknowledged (only its headers stay).
 * - Serialised once: an ExecutionResult shared by many subscribers (events/shared-execution.ts
 *   hands the same object to all of them) is turned into JSON once and written into each
 *   subscriber's `next` envelope.
 * - No promise per send while the socket keeps up: the next result is pulled when the send is
 *   done, and a send waits for its write only once the socket's unsent bytes pass
 *   `highWaterMark`, so a slow reader still pushes back on its own subscriptions (only on them).
 * - One write per socket per turn of the event loop: the socket is corked on its first message
 *   and uncorked at the next check phase, so events delivered together leave in one writev.
 * - Keep-alive and the connection-init wait are one timer each for all sockets.
 * - Subscribers sending the same query text share one copy of it (internQueries).
 *
 * NORDGRAPH_WS_TRANSPORT=graphql-ws uses graphql-ws's own adapter instead (benchmark baseline).
 */

/** What the hooks find in `ctx.extra`: graphql-ws's own Extra for `ws` (socket, upgrade request). */
export type TransportExtra = Extra;

/** The hooks and settings of graphql-ws's ServerOptions this transport runs. */
export type TransportOptions<P extends Record<string, unknown> | undefined> = Pick<
  ServerOptions<P, TransportExtra>,
  | 'schema'
  | 'context'
  | 'execute'
  | 'subscribe'
  | 'connectionInitWaitTimeout'
  | 'onConnect'
  | 'onSubscribe'
  | 'onOperation'
  | 'onNext'
  | 'jsonMessageReviver'
>;

export interface WsTransportOptions {
  /** Keep-alive ping interval (and pong wait), ms; 0 turns it off. As graphql-ws's default. */
  keepAliveMs?: number;
  /** Unsent bytes on a socket beyond which `send` waits for the write to finish. */
  highWaterMark?: number;
  /** On dispose: how long a client may take to answer the close frame before its socket is cut. */
  closeGraceMs?: number;
  isProd?: boolean;
}

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
 * Query texts of recent subscribe messages. A subscription keeps its subscribe payload (and so
 * its query text) for as long as it runs; subscribers of one application send the same query, so
 * they can all keep one string instead of a copy each (issue 7, S5). Only the payload's `query`
 * is kept here, never variables.
 */
const queryTexts = new StringInterner(256);

/** A close reason cut to fit a close frame (123 bytes of UTF-8), marked with an ellipsis. */
function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  // 120 bytes, whole characters only, then '…' (3 bytes).
  let cut = reason.slice(0, 120);
  while (Buffer.byteLength(cut) > 120 || /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** The reason a 4500 close gives: the error's message outside production (close() fits it). */
function closeReason(isProd: boolean, err: unknown): string {
  if (isProd) return 'Internal server error';
  return err instanceof Error ? err.message : String(err);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof Object(value)[Symbol.asyncIterator] === 'function';
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

/** One transport's hooks, settings and bookkeeping, shared by all its connections. */
interface Shared<P extends Record<string, unknown> | undefined> {
  readonly options: TransportOptions<P>;
  readonly reviver: ((key: string, value: unknown) => unknown) | undefined;
  readonly highWaterMark: number;
  readonly isProd: boolean;
  /** Every open connection (ws's own client tracking is off: it kept a closure per socket). */
  readonly open: Set<Connection<P>>;
  /** Connections the keep-alive pings (all of them, unless keep-alive is off). */
  readonly live: Set<Connection<P>>;
  /** Connections still waiting for connection_init. */
  readonly awaitingInit: Set<Connection<P>>;
  /** Set by dispose(): called when the last open connection has closed. */
  whenAllClosed: (() => void) | null;
}

/**
 * A socket's Connection, kept on the socket itself: the socket's listeners below are four
 * functions shared by every socket (`this` is the socket, as EventEmitter calls them), not four
 * closures and their scope per connection (issue 7, S5).
 */
const CONNECTION = Symbol('nordgraph.ws.connection');
type AnyConnection = Connection<Record<string, unknown> | undefined>;
type TaggedSocket = WebSocket & { [CONNECTION]?: AnyConnection };

function onSocketMessage(this: TaggedSocket, data: Buffer): void {
  this[CONNECTION]?.received(String(data));
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
 * One WebSocket connection: graphql-ws's `ctx` of its hooks (Context) and that context's `extra`
 * (socket, request) in one object, with its methods on the prototype.
 */
class Connection<P extends Record<string, unknown> | undefined>
  implements Context<P, TransportExtra>, TransportExtra
{
  connectionInitReceived = false;
  acknowledged = false;
  /** connection_init's payload, while onConnect runs (it holds credentials: not kept after). */
  connectionParams: Readonly<P> | undefined = undefined;
  /**
   * The upgrade request is for connection_init (authentication reads its headers). Once the
   * connection is acknowledged it is let go: the IncomingMessage with its stream state and
   * header strings would otherwise live as long as the socket.
   */
  request: IncomingMessage;
  /** When the socket opened (Date.now()), for the shared connection-init wait. */
  readonly openedAt = Date.now();
  /** A ping went out and its pong has not come back yet. */
  private awaitingPong = false;
  /** The socket emitted an error (it is closed once, on the first). */
  private errored = false;
  /**
   * Running operations by id: the first in a field of its own, any more in a Map made when a
   * second one starts (most clients run one subscription per socket; an empty Map is ~200 B).
   */
  private first: Operation<P> | null = null;
  private more: Map<string, Operation<P>> | null = null;

  constructor(
    readonly socket: WebSocket,
    request: IncomingMessage,
    private readonly shared: Shared<P>,
  ) {
    this.request = request;
  }

  /** Context.extra: this object is its own extra (socket, request). */
  get extra(): TransportExtra {
    return this;
  }

  /** Context.subscriptions, made when read (nothing here reads it per message). */
  get subscriptions(): Record<string, AsyncGenerator<unknown> | AsyncIterable<unknown> | null> {
    const all: Record<string, AsyncGenerator<unknown> | AsyncIterable<unknown> | null> = Object.create(null);
    for (const op of this.operations()) {
      const iterator = op.iterator;
      all[op.id] = iterator && { [Symbol.asyncIterator]: () => iterator };
    }
    return all;
  }

  private operations(): Operation<P>[] {
    const ops = this.first ? [this.first] : [];
    if (this.more) ops.push(...this.more.values());
    return ops;
  }
  private operation(id: string): Operation<P> | undefined {
    return this.first?.id === id ? this.first : this.more?.get(id);
  }
  private add(op: Operation<P>): void {
    if (!this.first) this.first = op;
    else (this.more ??= new Map()).set(op.id, op);
  }
  /** Removes the operation if it is still the one running under its id. */
  remove(op: Operation<P>): boolean {
    if (this.first === op) {
      this.first = null;
      return true;
    }
    if (this.more?.get(op.id) !== op) return false;
    this.more.delete(op.id);
    if (this.more.size === 0) this.more = null;
    return true;
  }
  isRunning(op: Operation<P>): boolean {
    return this.first === op || this.more?.get(op.id) === op;
  }

  /**
   * Writes a message. Returns a promise only while the socket's unsent bytes are above the
   * high-water mark: then the caller waits for this write before its next one. The promise never
   * rejects: a failed write ends the socket, and its close handler ends its operations.
   */
  send(text: string): void | Promise<void> {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount < this.shared.highWaterMark) {
      corkForThisTurn(socket);
      socket.send(text);
      return;
    }
    return new Promise<void>((resolve) => socket.send(text, () => resolve()));
  }

  /** Closes the socket; a reason longer than a close frame allows (123 bytes) is cut short. */
  close(code: number, reason: string): void {
    this.socket.close(code, fitCloseReason(reason));
  }

  /** Closes the socket with 4500 after an error in a hook or in the transport itself. */
  internalError(err: unknown): void {
    console.error('Internal error occurred during message handling.', err);
    this.close(CloseCode.InternalServerError, closeReason(this.shared.isProd, err));
  }

  /** A message from the client: anything thrown on the way closes this socket (4500), never the process. */
  received(data: string): void {
    try {
      this.handle(data);
    } catch (err) {
      this.internalError(err);
    }
  }

  private handle(data: string): void {
    let message;
    try {
      message = parseMessage(data, this.shared.reviver);
    } catch {
      this.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        this.init(message.payload).catch((err: unknown) => this.internalError(err));
        return;
      case MessageType.Ping:
        this.send(
          stringifyMessage(
            message.payload
              ? { type: MessageType.Pong, payload: message.payload }
              : { type: MessageType.Pong },
          ),
        );
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (!this.acknowledged) {
          this.close(CloseCode.Unauthorized, 'Unauthorized');
          return;
        }
        const id = message.id;
        // Subscribers of one application send the same query text: they keep one copy of it.
        const payload = { ...message.payload, query: queryTexts.get(message.payload.query) };
        if (this.operation(id)) {
          this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
          return;
        }
        const op = new Operation(this, id, payload);
        this.add(op);
        op.start().catch((err: unknown) => {
          this.remove(op);
          this.internalError(err);
        });
        return;
      }
      case MessageType.Complete: {
        const op = this.operation(message.id);
        if (op && this.remove(op)) op.stop();
        return;
      }
      default:
        // parseMessage lets only the protocol's types through; a server-bound type
        // (connection_ack, next, error) has no business coming from a client.
        this.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  /** connection_init: onConnect decides; then connection_ack (with its payload, if it gave one). */
  private async init(payload: unknown): Promise<void> {
    if (this.connectionInitReceived) {
      this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      return;
    }
    this.connectionInitReceived = true;
    this.shared.awaitingInit.delete(this);
    if (payload !== null && typeof payload === 'object' && !Array.isArray(payload))
      this.connectionParams = payload as Readonly<P>;
    let permitted: Record<string, unknown> | boolean | void;
    try {
      permitted = await this.shared.options.onConnect?.(this);
    } finally {
      this.connectionParams = undefined;
    }
    if (permitted === false) {
      this.close(CloseCode.Forbidden, 'Forbidden');
      return;
    }
    this.acknowledged = true;
    // Authentication was the last reader of the upgrade request: from here on every connection
    // shares one empty stand-in (~350 bytes of headers less per idle subscription, issue 7 S5).
    this.request = RELEASED_REQUEST;
    await this.send(
      stringifyMessage(
        typeof permitted === 'object' && permitted !== null && !Array.isArray(permitted)
          ? { type: MessageType.ConnectionAck, payload: permitted }
          : { type: MessageType.ConnectionAck },
      ),
    );
  }

  /** The socket emitted an error: closed with 4500, once. */
  failed(err: Error): void {
    if (this.errored) return;
    this.errored = true;
    console.error('Internal error emitted on a WebSocket socket.', err);
    this.close(CloseCode.InternalServerError, closeReason(this.shared.isProd, err));
  }

  /** The socket closed: every running operation is stopped (its source ends at once). */
  closed(code: number, _reason: Buffer): void {
    this.shared.open.delete(this);
    if (this.shared.open.size === 0) this.shared.whenAllClosed?.();
    this.shared.live.delete(this);
    this.shared.awaitingInit.delete(this);
    if (
      !this.shared.isProd &&
      code === CloseCode.SubprotocolNotAcceptable &&
      this.socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL
    )
      console.warn('Client asked for the deprecated subprotocol of subscriptions-transport-ws.');
    const ops = this.operations();
    this.first = null;
    this.more = null;
    // stop() catches what a source's return() throws: one failing source does not keep the others.
    for (const op of ops) op.stop();
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

  get options(): TransportOptions<P> {
    return this.shared.options;
  }
}

/**
 * One operation of a connection (a subscribe message), from its hooks to its last message. A
 * subscription pulls one result at a time from its source and writes it before pulling the next,
 * as graphql-ws's `for await` loop does, but as the source's sink (events/pull.ts) instead of a
 * suspended async function and its awaits: a waiting subscription holds no promise or closure.
 */
class Operation<P extends Record<string, unknown> | undefined> implements PullSink<ExecutionResult> {
  /** The running subscription's source (null until it is made, and for queries and mutations). */
  iterator: AsyncIterator<ExecutionResult> | null = null;
  private args: ExecutionArgs | null = null;

  constructor(
    private readonly connection: Connection<P>,
    readonly id: string,
    private readonly payload: SubscribePayload,
  ) {}

  /** The subscribe message's hooks, then its execution. Rejects on a failing hook (4500). */
  async start(): Promise<void> {
    const c = this.connection;
    const options = c.options;
    const found = await options.onSubscribe?.(c, this.id, this.payload);
    // Completed by the client (or its socket closed) while a hook ran: nothing more to do.
    if (!c.isRunning(this)) return;
    let args: ExecutionArgs;
    if (found) {
      if (areGraphQLErrors(found)) return this.error(found);
      if (Array.isArray(found))
        throw new Error(
          'Invalid return value from onSubscribe hook, expected an array of GraphQLError objects',
        );
      args = found as ExecutionArgs;
    } else {
      const schema = options.schema;
      if (!schema) throw new Error('The GraphQL schema is not provided');
      const partial = {
        operationName: this.payload.operationName,
        document: parse(this.payload.query),
        variableValues: this.payload.variables,
      };
      args = {
        ...partial,
        schema: typeof schema === 'function' ? await schema(c, this.id, this.payload, partial) : schema,
      };
      const invalid = validate(args.schema as GraphQLSchema, args.document);
      if (invalid.length > 0) return this.error(invalid);
    }
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return this.error([new GraphQLError('Unable to identify operation')]);
    if (!('contextValue' in args)) {
      const context = options.context;
      args.contextValue =
        typeof context === 'function' ? await context(c, this.id, this.payload, args) : context;
      if (!c.isRunning(this)) return;
    }
    let result: Awaited<OperationResult> =
      operation.operation === 'subscription'
        ? await (options.subscribe ?? subscribe)(args)
        : await (options.execute ?? execute)(args);
    const replaced = await options.onOperation?.(c, this.id, this.payload, args, result);
    if (replaced) result = await replaced;
    if (isAsyncIterable(result)) {
      const iterator = result[Symbol.asyncIterator]();
      if (!c.isRunning(this)) {
        endSource(iterator);
        return;
      }
      this.iterator = iterator;
      this.args = args;
      this.pull();
      return;
    }
    if (c.isRunning(this)) await this.next(result, args);
    this.complete();
  }

  /** Client `complete` or socket closed: the source ends now (its listener goes at once). */
  stop(): void {
    const iterator = this.iterator;
    this.iterator = null;
    this.args = null;
    if (iterator) endSource(iterator);
  }

  /** Asks the source for its next result: this operation is the sink (events/pull.ts). */
  private pull(): void {
    if (this.iterator) pullFrom(this.iterator, this);
  }

  /**
   * The source's next result (PullSink): written, then the next one pulled. Called by the source
   * (the event log's delivery, for nordgraph's own): what fails here ends this operation only.
   */
  pushed(r: IteratorResult<ExecutionResult>): void {
    const args = this.args;
    if (!args || !this.connection.isRunning(this)) return;
    let sent: void | Promise<void>;
    try {
      if (r.done) {
        this.iterator = null;
        this.args = null;
        this.complete();
        return;
      }
      sent = this.next(r.value, args);
    } catch (err) {
      this.abort(err);
      return;
    }
    if (sent)
      sent.then(
        () => this.pull(),
        (err: unknown) => this.abort(err),
      );
    else this.pull();
  }

  /** The source failed (PullSink): an `error` message with its message, and the operation ends. */
  failed(err: unknown): void {
    if (!this.connection.isRunning(this)) return;
    this.iterator = null;
    this.args = null;
    this.error(asGraphQLErrors(err));
  }

  /**
   * Writing a result failed (the onNext hook threw, a result would not serialise): as graphql-ws's
   * loop does, this operation gets an `error` message and its source is ended; the connection and
   * its other operations go on.
   */
  private abort(err: unknown): void {
    if (!this.connection.isRunning(this)) return;
    console.error('Internal error while sending a subscription result.', err);
    this.stop();
    this.error(asGraphQLErrors(err));
  }

  /** A `next` message: the onNext hook's answer, or the result (a shared one serialised once). */
  private next(result: ExecutionResult, args: ExecutionArgs): void | Promise<void> {
    const c = this.connection;
    const own = c.options.onNext?.(c, this.id, this.payload, args, result);
    if (own instanceof Promise) return own.then((o) => this.sendNext(result, o));
    return this.sendNext(result, own);
  }

  private sendNext(result: ExecutionResult, own: FormattedExecutionResult | void): void | Promise<void> {
    if (own)
      return this.connection.send(stringifyMessage({ id: this.id, type: MessageType.Next, payload: own }));
    if (result.errors) {
      const { errors, ...rest } = result;
      return this.connection.send(
        stringifyMessage({
          id: this.id,
          type: MessageType.Next,
          payload: { ...rest, errors: errors.map((e) => e.toJSON()) },
        }),
      );
    }
    return this.connection.send(
      `{"id":${JSON.stringify(this.id)},"type":"next","payload":${jsonOf(result)}}`,
    );
  }

  /** An `error` message (the operation ends without `complete`), if it still runs. */
  private error(errors: readonly GraphQLError[]): void | Promise<void> {
    if (!this.connection.remove(this)) return;
    return this.connection.send(
      stringifyMessage({ id: this.id, type: MessageType.Error, payload: errors.map((e) => e.toJSON()) }),
    );
  }

  /** `complete`, unless the client completed it (or the socket closed) first. */
  private complete(): void {
    if (this.connection.remove(this))
      void this.connection.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }
}

/** What an operation's `error` message carries for a failure: its message, as graphql-ws sends it. */
function asGraphQLErrors(err: unknown): GraphQLError[] {
  const original = err instanceof Error ? err : new Error(String(err));
  return [new GraphQLError(original.message, { originalError: original })];
}

/**
 * False with NORDGRAPH_WS_TRANSPORT=graphql-ws (graphql-ws's own server, the benchmark baseline):
 * its adapter needs ws's client tracking (`wss.clients`), which this transport does without.
 */
export function ownTransport(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NORDGRAPH_WS_TRANSPORT !== 'graphql-ws';
}

export function useWsTransport<
  P extends Record<string, unknown> | undefined = Record<string, unknown> | undefined,
>(
  options: TransportOptions<P>,
  wss: WebSocketServer,
  {
    keepAliveMs = 12_000,
    highWaterMark = 1_048_576,
    isProd = process.env.NODE_ENV === 'production',
    closeGraceMs = 10_000,
  }: WsTransportOptions = {},
): { dispose: () => Promise<void> } {
  if (!ownTransport()) {
    // Benchmark baseline: graphql-ws's own server and adapter, with the same hooks.
    const server = useServer(options, wss, keepAliveMs);
    return { dispose: async () => server.dispose() };
  }
  const initWaitMs = options.connectionInitWaitTimeout ?? 3_000;
  wss.options.handleProtocols = handleProtocols;

  // Keep-alive as graphql-ws's useServer (ping every keepAliveMs, terminate a socket whose pong
  // has not come by the next ping), but one timer for all sockets instead of an interval, a
  // timeout and a `once('pong')` listener per socket (issue 7, S5).
  const open = new Set<Connection<P>>();
  const live = new Set<Connection<P>>();
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
  const awaitingInit = new Set<Connection<P>>();
  const shared: Shared<P> = {
    options,
    reviver: options.jsonMessageReviver,
    highWaterMark,
    isProd,
    open,
    live,
    awaitingInit,
    whenAllClosed: null,
  };
  let initTimer: NodeJS.Timeout | null = null;
  const checkInit = () => {
    const now = Date.now();
    for (const c of awaitingInit) {
      if (now - c.openedAt < initWaitMs) break;
      awaitingInit.delete(c);
      if (!c.connectionInitReceived)
        c.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }
    if (awaitingInit.size === 0 && initTimer) {
      clearInterval(initTimer);
      initTimer = null;
    }
  };
  const awaitInit = (c: Connection<P>) => {
    if (!(initWaitMs > 0 && Number.isFinite(initWaitMs))) return;
    awaitingInit.add(c);
    if (!initTimer) {
      initTimer = setInterval(checkInit, Math.min(250, initWaitMs));
      initTimer.unref();
    }
  };

  const onError = (err: Error) => {
    console.error('Internal error emitted on the WebSocket server.', err);
    for (const c of open) c.close(CloseCode.InternalServerError, closeReason(isProd, err));
  };
  wss.once('error', onError);

  const onConnection = (socket: TaggedSocket, request: IncomingMessage) => {
    const connection = new Connection<P>(socket, request, shared);
    socket[CONNECTION] = connection as unknown as AnyConnection;
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    open.add(connection);
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      connection.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    awaitInit(connection);
    if (heartbeat) {
      live.add(connection);
      socket.on('pong', onSocketPong);
    }
    socket.on('message', onSocketMessage);
  };
  wss.on('connection', onConnection);

  return {
    dispose: async () => {
      if (heartbeat) clearInterval(heartbeat);
      if (initTimer) clearInterval(initTimer);
      awaitingInit.clear();
      live.clear();
      // No new upgrades from here on (ws answers any handshake still under way with 503); its
      // 'close' comes once its own tracked clients (if it tracks them) have gone too.
      const wssClosed = new Promise<void>((resolve) => wss.close(() => resolve()));
      wss.off('connection', onConnection);
      // As ws's close() with its client tracking: done when every client's socket has closed. A
      // client that does not answer the close frame within closeGraceMs is cut off (ws itself
      // would wait 30 s), so a shutdown's HTTP drain is not held up by it.
      const allClosed =
        open.size === 0 ? Promise.resolve() : new Promise<void>((r) => (shared.whenAllClosed = r));
      for (const c of open) c.close(1001, 'Going away');
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([allClosed, new Promise<void>((r) => (grace = setTimeout(r, closeGraceMs)))]);
      clearTimeout(grace);
      for (const c of open) c.socket.terminate();
      await allClosed;
      await wssClosed;
      wss.off('error', onError);
    },
  };
}
