import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { EXPLORER_ASSET_PREFIX } from '../explorer.js';
import { clientAddress } from '../security/client-address.js';

/**
 * One access-log line per HTTP request, at info, when the response is finished (or the client
 * went away): method, route pattern, status, duration, operation name, request id and client
 * address (X-Forwarded-For only as far as TRUST_PROXY allows). Never the
 * raw path, the query string, the body or GraphQL variables: those are where personal numbers
 * travel.
 */

export interface AccessRecord {
  requestId: string;
  /** Set by the metrics plugin once the GraphQL operation is known (already cardinality-safe). */
  operation?: string;
  /** `success` or the first error code. */
  outcome?: string;
}

const byRequest = new WeakMap<IncomingMessage, AccessRecord>();
/**
 * Carried on the GraphQL context under a symbol: Apollo hands plugins a shallow copy of the
 * context (so a WeakMap keyed by the object would miss), and copies enumerable symbol keys too.
 */
const ACCESS = Symbol('nordgraph.access');
type Linked = { [ACCESS]?: AccessRecord };

/** Caller-chosen request ids are kept only when they are short tokens without a run of 6+ digits. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DIGIT_RUN = /\d{6,}/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && SAFE_REQUEST_ID.test(v) && !DIGIT_RUN.test(v) ? v : randomUUID();
}

/** The route a path belongs to, from a closed set (the label for logs; never the raw path). */
export function routePattern(pathname: string): string {
  const p = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (p === '/graphql' || p === '/healthz' || p === '/readyz' || p === '/metrics') return p;
  if (p === '/webhooks/byndle' || p === '/webhooks/bisnode') return p;
  if (p.startsWith('/webhooks/')) return '/webhooks/*';
  if (p.startsWith(EXPLORER_ASSET_PREFIX)) return `${EXPLORER_ASSET_PREFIX}*`;
  return 'unmatched';
}

/** Starts the access record of one request; the line is written when the response ends. */
export function startAccessLog(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  /** TRUST_PROXY: proxies whose X-Forwarded-For names the client (security/client-address.ts). */
  trustProxy = 0,
): AccessRecord {
  const started = performance.now();
  const route = routePattern(new URL(req.url ?? '/', 'http://localhost').pathname);
  const record: AccessRecord = { requestId: requestIdFrom(req.headers['x-request-id']) };
  byRequest.set(req, record);
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // Built only when written (LOG_LEVEL above info: no access lines).
    if (!log.isLevelEnabled('info')) return;
    log.info(
      {
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        operation: record.operation,
        outcome: record.outcome,
        requestId: record.requestId,
        client: clientAddress(req, trustProxy),
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      'request',
    );
  };
  res.once('finish', write);
  res.once('close', write);
  return record;
}

export function accessRecord(req: IncomingMessage): AccessRecord | undefined {
  return byRequest.get(req);
}

/** Ties a GraphQL context to its request's access record (so plugins can name the operation). */
export function linkContext<T extends object>(context: T, req: IncomingMessage): T {
  const record = byRequest.get(req);
  if (record) (context as Linked)[ACCESS] = record;
  return context;
}

/** Called by the metrics plugin: names the operation in the access line of its request. */
export function noteOperation(context: unknown, operation: string, outcome: string): void {
  if (typeof context !== 'object' || context === null) return;
  const record = (context as Linked)[ACCESS];
  if (record) {
    record.operation = operation;
    record.outcome = outcome;
  }
}
