/**
 * The two load models of the HTTP benchmarks.
 *   closed: autocannon, N connections each sending its next request when the last answered
 *           (throughput; latency under saturation).
 *   open:   requests at a fixed arrival rate whatever the server does, latency measured from each
 *           request's *scheduled* send time, so a stall delays (and counts against) every request
 *           scheduled during it: no coordinated omission.
 * Every answer is checked: not 200, or a body with a GraphQL `"errors"` member, counts as an error.
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { performance } from 'node:perf_hooks';
import { round } from './procs.js';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  throughputRps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Open model only: rate asked for. */
  targetRps?: number;
  /** Status and start of the first failed answer, to say why (no personal data: sandbox only). */
  firstError?: string;
}

const isError = (status: number, body: string) => status !== 200 || body.includes('"errors"');
const describeError = (status: number, body: string) => `${status} ${body.slice(0, 160)}`;

/** Closed model for `seconds`; `next(i)` gives the i-th request (rotating subjects). */
export async function closed(
  origin: string,
  next: (i: number) => RequestSpec,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  let i = 0;
  let errors = 0;
  let firstError: string | undefined;
  const first = next(0);
  const result = await autocannon({
    url: origin,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: first.method,
        path: first.path,
        headers: { ...first.headers },
        body: first.body,
        setupRequest: (req) => {
          const spec = next(i++);
          // A fresh headers object: autocannon writes content-length into the one it is given.
          return {
            ...req,
            method: spec.method,
            path: spec.path,
            headers: { ...spec.headers },
            body: spec.body,
          };
        },
        onResponse: (status, body) => {
          if (!isError(status, body)) return;
          errors += 1;
          firstError ??= describeError(status, body);
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    errors: errors + result.errors + result.timeouts,
    throughputRps: round(result.requests.total / result.duration, 1),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    ...(firstError ? { firstError } : {}),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Open model: `rate` requests per second for `seconds`. */
export async function open(
  origin: string,
  next: (i: number) => RequestSpec,
  rate: number,
  seconds: number,
): Promise<LoadResult> {
  // Enough sockets that the client never queues: a queued request would hide server latency.
  const pool = new Pool(origin, { connections: 1024, pipelining: 1 });
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies = new Float64Array(total);
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now() + 20;
  const interval = 1000 / rate;
  const inflight: Promise<void>[] = [];

  const send = async (k: number, scheduled: number) => {
    const spec = next(k);
    try {
      const res = await pool.request({
        method: spec.method,
        path: spec.path,
        headers: spec.headers,
        body: spec.body,
      });
      const body = await res.body.text();
      if (isError(res.statusCode, body)) {
        errors += 1;
        firstError ??= describeError(res.statusCode, body);
      }
    } catch (err) {
      errors += 1;
      firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : 'request failed';
    }
    latencies[done++] = performance.now() - scheduled;
  };

  let k = 0;
  await new Promise<void>((resolve) => {
    // A 1 ms tick sends everything whose time has come; a late tick sends late, and the lateness
    // is in the measured latency (it is measured from the schedule, not from the send).
    const tick = () => {
      const now = performance.now();
      while (k < total && start + k * interval <= now) {
        inflight.push(send(k, start + k * interval));
        k += 1;
      }
      if (k < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 20);
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  const sorted = latencies.slice(0, done).sort();
  return {
    requests: done,
    errors,
    targetRps: rate,
    throughputRps: round(done / elapsed, 1),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    ...(firstError ? { firstError } : {}),
  };
}
