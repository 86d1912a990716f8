import {
  createSourceEventStream,
  execute,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import type { GatewayContext } from '../context.js';
import { auditIfMade } from '../context-layers.js';
import { flatString, StringInterner } from '../flat-strings.js';
import { COUNT_OPEN, type OpenCounter, type SelfCounting } from '../observability/open-count.js';
import { endSource, nextByPull, PULL, pullFrom, type Pullable, type PullSink } from './pull.js';

/**
 * Subscription execution shared between subscribers (issue 7, S4: webhook-to-delivery for 10,000
 * subscribers). Two parts, both plugged into graphql-ws's `useServer` (see server.ts):
 *
 * 1. `DocumentCache` / `onSubscribe`: each subscribe message's query text is parsed and validated
 *    once, then served from an LRU. Subscribers with the same text share one DocumentNode, which
 *    is what lets part 2 recognise them as the same operation.
 * 2. `sharedSubscribe`: like graphql-js `subscribe`, the source stream (the resolver's
 *    `subscribe`: filters, resume cursor, replay) stays per subscriber, with its own context. But
 *    mapping an event to its ExecutionResult is memoised per (event object, document,
 *    operation name, variables, caller): the event log hands the same StoredEvent object to every
 *    tail listener, so N subscribers with the same query on one event cost one execution, not N.
 *    Different variables or callers never share. The context of whichever subscriber executes
 *    first serves the others of the same key; the fields of event types read the event itself
 *    and process-wide state (ctx.eventPersons), and the caller is part of the key for anything
 *    that could depend on who asks.
 */

/** Set NORDGRAPH_SHARED_EXECUTION=off to run graphql-ws's own parse/validate/subscribe (benchmark baseline). */
export const sharedExecutionEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.NORDGRAPH_SHARED_EXECUTION !== 'off';

/** TEST/METRICS: executions of a subscription event (shared ones count once). */
export const sharedExecutionStats = { executions: 0, shared: 0 };

type Parsed = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/** Plain parse + validate with the standard rules (the server passes its own, with request limits). */
export const parseAndValidate =
  (schema: GraphQLSchema) =>
  (query: string): Parsed => {
    try {
      const document = parse(query);
      const errors = validate(schema, document);
      return errors.length > 0 ? { errors } : { document };
    } catch (err) {
      if (err instanceof GraphQLError) return { errors: [err] };
      throw err;
    }
  };

/**
 * Parsed-and-validated documents by query text: an LRU (the least recently used is dropped)
 * around a check that depends on the text alone (parse, validation rules, static limits). Hits
 * return the same DocumentNode object. Usable for HTTP operations too.
 */
export class DocumentCache<P extends Parsed = Parsed> {
  private readonly entries = new Map<string, P>();
  /** TEST/METRICS: checks run (cache misses). */
  checks = 0;
  constructor(
    private readonly check: (query: string) => P,
    private readonly maxEntries = 1_000,
    /** Longer query texts are checked every time and not kept. */
    private readonly maxQueryLength = 100_000,
  ) {}

  get(query: string): P {
    const hit = this.entries.get(query);
    if (hit) {
      this.entries.delete(query);
      this.entries.set(query, hit);
      return hit;
    }
    this.checks++;
    const parsed = this.check(query);
    if (query.length <= this.maxQueryLength) {
      this.entries.set(query, parsed);
      if (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    return parsed;
  }
}

/** ExecutionResults per event object, then per document, then per (operation, variables, caller). */
type PerEvent = WeakMap<DocumentNode, Map<string, Promise<ExecutionResult>>>;

/**
 * Recent events' results. Subscribers usually take an event within moments of each other; a
 * subscriber far behind (or replaying old events) just executes again, which is correct, only
 * slower. Bounded so a long-lived log does not keep results alive.
 */
const MAX_EVENTS = 1_024;
const memo = new Map<object, PerEvent>();

function perEvent(event: object): PerEvent {
  let entry = memo.get(event);
  if (!entry) {
    entry = new WeakMap();
    memo.set(event, entry);
    if (memo.size > MAX_EVENTS) {
      const oldest = memo.keys().next().value;
      if (oldest !== undefined) memo.delete(oldest);
    }
  }
  return entry;
}

/** Share keys kept by subscriptions: subscribers of one operation and caller keep one string. */
const shareKeys = new StringInterner(1_024);

function shareKey(args: ExecutionArgs): string {
  const ctx = args.contextValue as Partial<GatewayContext> | undefined;
  const key = JSON.stringify([
    args.operationName ?? null,
    args.variableValues ?? null,
    ctx?.callerKey ?? null,
    ctx?.connectUserToken ?? null,
  ]);
  // An end user's own token is not kept beyond its subscriptions.
  return ctx?.connectUserToken ? flatString(key) : shareKeys.get(key);
}

/** A module-level function, not a closure per call: this runs once per event and operation. */
function executeOnce(args: ExecutionArgs, event: unknown): Promise<ExecutionResult> {
  sharedExecutionStats.executions++;
  // Subscriptions have no @defer/@stream here, so execute gives a result (or its promise).
  return Promise.resolve(
    execute({ ...args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>,
  ).then((result) => {
    // What this execution read is audited now, before any subscriber sees it: the executing
    // subscriber may complete before its own `next` goes out, while the others still get it.
    void auditIfMade(args.contextValue)?.flush();
    return result;
  });
}

function executeShared(args: ExecutionArgs, key: string, event: unknown): Promise<ExecutionResult> {
  if (typeof event !== 'object' || event === null) return executeOnce(args, event);
  const byDocument = perEvent(event);
  let byKey = byDocument.get(args.document);
  if (!byKey) byDocument.set(args.document, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) {
    sharedExecutionStats.shared++;
    return hit;
  }
  const result = executeOnce(args, event);
  byKey.set(key, result);
  return result;
}

/**
 * graphql-ws `subscribe`: graphql-js's createSourceEventStream per subscriber (its own filters,
 * cursor and context), then each source event mapped through the shared execution above. A
 * plain iterator object rather than an async generator, so that `return()` (client completes or
 * disconnects) reaches the source at once even while a `next()` waits for an event, and the
 * subscription's tail listener is removed right away (as graphql-js's own mapping does).
 */
export async function sharedSubscribe(
  args: ExecutionArgs,
): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  // Constant for the subscription: computed once, not per event.
  return new SharedResults(source[Symbol.asyncIterator](), args, shareKey(args));
}

const DONE: IteratorResult<ExecutionResult> = Object.freeze({ value: undefined, done: true });

/**
 * The per-subscriber mapping of source events to shared results. Pulled by the transport through
 * `[PULL]` (events/pull.ts), it pulls its source the same way: while a subscription waits for an
 * event, the event stream holds this object and this object holds the transport's operation,
 * with no promise, closure or suspended frame between them (memory per idle subscription, issue
 * 7 S5). `next()` is there for any other consumer.
 */
class SharedResults
  implements AsyncGenerator<ExecutionResult>, SelfCounting, Pullable<ExecutionResult>, PullSink<unknown>
{
  /** The open-subscriptions gauge (metrics.trackSubscription), until this subscription ends. */
  private counter: OpenCounter | null = null;
  /** Who waits for the next result (one pull at a time). */
  private sink: PullSink<ExecutionResult> | null = null;
  /** return() or throw() was called: an event already on its way is not executed any more. */
  private finished = false;

  constructor(
    private readonly iterator: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly key: string,
  ) {}

  /** Counted as open from now until it ends, however it ends (open-count.ts). */
  [COUNT_OPEN](counter: OpenCounter): void {
    if (this.counter) return;
    this.counter = counter;
    counter.opened();
  }
  private ended(): void {
    const counter = this.counter;
    this.counter = null;
    counter?.closed();
  }

  [PULL](sink: PullSink<ExecutionResult>): void {
    this.sink = sink;
    pullFrom(this.iterator, this);
  }

  /** The source's next event (PullSink): executed (shared), then handed on. */
  pushed(r: IteratorResult<unknown>): void {
    const sink = this.sink;
    this.sink = null;
    if (!sink) return;
    if (r.done || this.finished) {
      this.ended();
      sink.pushed(DONE);
      return;
    }
    let result: Promise<ExecutionResult>;
    try {
      result = executeShared(this.args, this.key, r.value);
    } catch (err) {
      // Called from the event log's delivery to every subscriber: one failure stays here.
      this.executionFailed(sink, err);
      return;
    }
    result.then(
      (value) => (this.finished ? sink.pushed(DONE) : sink.pushed({ value, done: false })),
      (err: unknown) => this.executionFailed(sink, err),
    );
  }

  /**
   * Executing an event failed (not the source): the subscription ends here, its source (the
   * log's tail listener) and its place in the open-subscriptions gauge with it.
   */
  private executionFailed(sink: PullSink<ExecutionResult>, err: unknown): void {
    this.finished = true;
    this.ended();
    endSource(this.iterator);
    sink.failed(err);
  }

  /** The source failed (PullSink). */
  failed(err: unknown): void {
    const sink = this.sink;
    this.sink = null;
    this.ended();
    sink?.failed(err);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    return nextByPull(this);
  }
  return(): Promise<IteratorResult<ExecutionResult>> {
    this.finished = true;
    this.ended();
    return Promise.resolve(this.iterator.return?.()).then(() => DONE);
  }
  throw(err: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.finished = true;
    this.ended();
    return Promise.resolve(this.iterator.return?.()).then(() => Promise.reject(err));
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}
