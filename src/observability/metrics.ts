import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProviderHttpOptions } from '../providers/http.js';
import type { IntakeCounters } from '../events/intake.js';
import { noteOperation } from './http-log.js';
import { COUNT_OPEN, isSelfCounting, type OpenCounter } from './open-count.js';

/**
 * Prometheus metrics for one gateway instance (its own registry, so two gateways in one process,
 * as in tests, do not mix their numbers).
 *
 * Label values are chosen from closed sets or route patterns: an operation name is a label only
 * when it looks like a plain identifier and the cap of distinct names is not reached; endpoints
 * are the providers' route patterns. A value that could carry personal data (a long run of
 * digits) is replaced, so no national id, phone number or score can become a label.
 */

/** Distinct operation names kept as labels; the rest are counted as `other`. */
export const MAX_OPERATION_NAMES = 200;

/** Latency buckets in seconds, from a cache hit to a timed-out provider. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Six digits in a row may be a birth date, a national id or a phone number: never a label. */
const DIGIT_RUN = /\d{6,}/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,47}$/;

export type OperationOutcome = 'success' | string;

export interface Metrics {
  registry: Registry;
  /** Apollo Server plugin: one count and one latency observation per HTTP operation. */
  apolloPlugin(): ApolloServerPlugin;
  /** The operation name safe to use as a label or log field. */
  operationLabel(name: string | null | undefined, parsed: boolean): string;
  /** ProviderHttp `onCall` hook. */
  onUpstreamCall: NonNullable<ProviderHttpOptions['onCall']>;
  /** UpstreamCache hit/miss hook. */
  onCacheLookup(kind: string, hit: boolean): void;
  /** Wraps a graphql-ws operation result so that open subscriptions are counted until they end. */
  trackSubscription<T>(result: T): T;
  /** Reads webhook intake counters at every scrape. */
  observeWebhookIntake(counters: () => IntakeCounters): void;
  /** Reads circuit-breaker states (per provider) at every scrape. */
  observeBreakers(states: () => Record<string, string | null | undefined>): void;
  /** Audit trail hook (security/audit.ts): one count per request batch written or failed. */
  onAuditWrite(outcome: 'ok' | 'error'): void;
  /** Serves the text exposition format. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Breaker states as a one-hot gauge: `state` is one of these, value 1 for the current one. */
export const BREAKER_STATES = ['closed', 'half_open', 'open'] as const;

function normaliseBreakerState(state: string): (typeof BREAKER_STATES)[number] | null {
  const s = state.toLowerCase().replace(/[-\s]/g, '_');
  if (s === 'halfopen') return 'half_open';
  return (BREAKER_STATES as readonly string[]).includes(s) ? (s as (typeof BREAKER_STATES)[number]) : null;
}

/** A provider endpoint label: the route pattern, or `other` if it looks like it holds data. */
export function endpointLabel(endpoint: string): string {
  return endpoint.length <= 120 && !DIGIT_RUN.test(endpoint) ? endpoint : 'other';
}

export function createMetrics(options: { prefix?: string; defaultMetrics?: boolean } = {}): Metrics {
  const prefix = options.prefix ?? 'nordgraph_';
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const operations = new Counter({
    name: `${prefix}graphql_operations_total`,
    help: 'GraphQL operations over HTTP by operation name, type and outcome (success or the first error code).',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const operationSeconds = new Histogram({
    name: `${prefix}graphql_operation_duration_seconds`,
    help: 'GraphQL operation latency over HTTP, from request start to response.',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const upstream = new Counter({
    name: `${prefix}upstream_requests_total`,
    help: 'Upstream provider calls by provider, endpoint (route pattern), method and HTTP status (`none` when no answer arrived).',
    labelNames: ['provider', 'endpoint', 'method', 'status'] as const,
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: `${prefix}upstream_request_duration_seconds`,
    help: 'Upstream provider call latency by provider and endpoint (route pattern).',
    labelNames: ['provider', 'endpoint'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const upstreamChildren = new Map<
    string,
    { count: { inc(): void }; seconds: { observe(value: number): void } }
  >();
  const cache = new Counter({
    name: `${prefix}cache_lookups_total`,
    help: 'Upstream answer cache lookups by kind and result (hit or miss).',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: `${prefix}subscriptions_open`,
    help: 'GraphQL subscriptions currently running over graphql-ws.',
    registers: [registry],
  });
  // Handed to self-counting subscription iterators (open-count.ts): one object per gateway.
  const subscriptionCounter: OpenCounter = {
    opened: () => subscriptions.inc(),
    closed: () => subscriptions.dec(),
  };

  const auditWrites = new Counter({
    name: `${prefix}audit_writes_total`,
    help: 'Audit trail writes (one per request or subscription event that read personal data) by outcome (ok or error).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Both series exist from the start, so an alert on `outcome="error"` has a zero to compare with.
  for (const outcome of ['ok', 'error'] as const) auditWrites.inc({ outcome }, 0);

  const webhookSources: (() => IntakeCounters)[] = [];
  // Intake keeps its own running totals; at each scrape the counters advance by what changed.
  const seenRequests = new Map<string, number>();
  const seenEvents = new Map<string, number>();
  new Counter({
    name: `${prefix}webhook_requests_total`,
    help: 'Webhook deliveries received, by provider and outcome (stored, duplicate, empty, unauthorized, invalid, ...).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
    collect() {
      advance(this, seenRequests, (c) =>
        Object.entries(c.requests).flatMap(([provider, outcomes]) =>
          Object.entries(outcomes).map(([outcome, n]) => ({ labels: { provider, outcome }, n: n ?? 0 })),
        ),
      );
    },
  });
  new Counter({
    name: `${prefix}webhook_events_total`,
    help: 'Domain events carried by webhooks, by provider and result (stored or duplicate).',
    labelNames: ['provider', 'result'] as const,
    registers: [registry],
    collect() {
      advance(this, seenEvents, (c) =>
        Object.entries(c.events).flatMap(([provider, e]) => [
          { labels: { provider, result: 'stored' }, n: e.stored },
          { labels: { provider, result: 'duplicate' }, n: e.duplicates },
        ]),
      );
    },
  });
  function advance<L extends string>(
    counter: Counter<L>,
    seen: Map<string, number>,
    rows: (c: IntakeCounters) => { labels: Record<L, string>; n: number }[],
  ): void {
    const totals = new Map<string, { labels: Record<L, string>; n: number }>();
    for (const source of webhookSources) {
      for (const row of rows(source())) {
        const key = JSON.stringify(row.labels);
        const t = totals.get(key);
        totals.set(key, { labels: row.labels, n: (t?.n ?? 0) + row.n });
      }
    }
    for (const [key, { labels, n }] of totals) {
      const delta = n - (seen.get(key) ?? 0);
      if (delta > 0) counter.inc(labels as Partial<Record<L, string>>, delta);
      seen.set(key, n);
    }
  }

  const breakerSources: (() => Record<string, string | null | undefined>)[] = [];
  new Gauge({
    name: `${prefix}circuit_breaker_state`,
    help: `Circuit breaker per provider: 1 for the current state (${BREAKER_STATES.join(', ')}), 0 for the others.`,
    labelNames: ['provider', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const source of breakerSources) {
        for (const [provider, raw] of Object.entries(source())) {
          // No breaker on this provider (yet): no series rather than a made-up state.
          const state = raw ? normaliseBreakerState(raw) : null;
          if (!state) continue;
          for (const s of BREAKER_STATES) this.set({ provider, state: s }, s === state ? 1 : 0);
        }
      }
    },
  });

  const operationNames = new Set<string>();
  function operationLabel(name: string | null | undefined, parsed: boolean): string {
    if (!parsed) return 'unknown';
    if (!name) return 'anonymous';
    if (!IDENTIFIER.test(name) || DIGIT_RUN.test(name)) return 'other';
    if (operationNames.has(name)) return name;
    if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    operationNames.add(name);
    return name;
  }

  function outcomeOf(errors: readonly { extensions?: Record<string, unknown> }[] | undefined): string {
    if (!errors || errors.length === 0) return 'success';
    const code = errors[0]?.extensions?.code;
    return typeof code === 'string' && ERROR_CODE.test(code) ? code : 'INTERNAL_SERVER_ERROR';
  }

  return {
    registry,
    operationLabel,
    apolloPlugin() {
      return {
        async requestDidStart() {
          const started = performance.now();
          return {
            async willSendResponse(rc) {
              const parsed = rc.document !== undefined;
              // Resolved operation; for a document that parsed but failed validation, its definition.
              const op =
                rc.operation ?? (rc.document ? getOperationAST(rc.document, rc.request.operationName) : null);
              const operation = operationLabel(rc.operationName ?? op?.name?.value, parsed);
              const type = op?.operation ?? 'unknown';
              const body = rc.response.body;
              const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
              const outcome = outcomeOf(errors);
              const labels = { operation, type, outcome };
              operations.inc(labels);
              operationSeconds.observe(labels, (performance.now() - started) / 1000);
              // Lets the HTTP access log name the operation (see http-log.ts).
              noteOperation(rc.contextValue, operation, outcome);
            },
          };
        },
      };
    },
    onUpstreamCall(call) {
      // Label children bound once per (provider, endpoint, method, status): the labels are
      // validated and built on the first call only (every upstream call passes here).
      const id = `${call.provider} ${call.method} ${call.endpoint} ${call.status ?? 'none'}`;
      let bound = upstreamChildren.get(id);
      if (!bound) {
        const endpoint = endpointLabel(call.endpoint);
        bound = {
          count: upstream.labels({
            provider: call.provider,
            endpoint,
            method: call.method,
            status: call.status === null ? 'none' : String(call.status),
          }),
          seconds: upstreamSeconds.labels({ provider: call.provider, endpoint }),
        };
        // Bounded: endpoints are route patterns and statuses a few dozen; past the cap (a bug
        // elsewhere) calls are still counted, just without a cached child.
        if (upstreamChildren.size < 5_000) upstreamChildren.set(id, bound);
      }
      bound.count.inc();
      bound.seconds.observe(call.ms / 1000);
    },
    onCacheLookup(kind, hit) {
      cache.inc({ kind: DIGIT_RUN.test(kind) ? 'other' : kind, result: hit ? 'hit' : 'miss' });
    },
    trackSubscription<T>(result: T): T {
      const it = result as unknown as AsyncIterableIterator<unknown> | null;
      if (!it || typeof it !== 'object' || typeof it[Symbol.asyncIterator] !== 'function') return result;
      // No wrapper (and nothing per subscription) for iterators that count themselves.
      if (isSelfCounting(it)) {
        it[COUNT_OPEN](subscriptionCounter);
        return result;
      }
      subscriptions.inc();
      let open = true;
      const end = () => {
        if (open) {
          open = false;
          subscriptions.dec();
        }
      };
      // A plain delegating iterator rather than an async generator: graphql-ws calls return() while
      // next() is pending (client gone), and a generator would queue that return behind the next event.
      const wrapped: AsyncIterableIterator<unknown> = {
        async next() {
          try {
            const r = await it.next();
            if (r.done) end();
            return r;
          } catch (err) {
            end();
            throw err;
          }
        },
        async return(value?: unknown) {
          end();
          return it.return ? it.return(value) : { done: true, value };
        },
        async throw(err?: unknown) {
          end();
          if (it.throw) return it.throw(err);
          throw err;
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return wrapped as unknown as T;
    },
    onAuditWrite(outcome) {
      auditWrites.inc({ outcome });
    },
    observeWebhookIntake(counters) {
      webhookSources.push(counters);
    },
    observeBreakers(states) {
      breakerSources.push(states);
    },
    async handle(_req, res) {
      try {
        const text = await registry.metrics();
        res.writeHead(200, {
          'content-type': registry.contentType,
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      } catch {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed\n');
      }
    },
  };
}
