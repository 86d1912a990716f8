import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNordgraph } from '../../src/app.js';

/**
 * nordgraph + sandbox in a process of its own, for benchmarks: the load generator runs in the
 * parent, so this process's RSS is the gateway's (plus the in-process sandbox, which stays idle
 * during subscription runs). Started by test/bench/*.ts with an IPC channel:
 *   child → parent  { type: 'ready', url, wsUrl, origin, pid }
 *   parent → child  { type: 'memory', id }  → { type: 'memory', id, rss, heapUsed, external, listeners }
 *                   (runs a full GC first when started with --expose-gc)
 *   parent → child  { type: 'stats', id }   → { type: 'stats', id, rss, listeners, loopDelay }
 *                   (no GC; loopDelay: event-loop delay since the last stats call, ms)
 *   parent → child  { type: 'close' }       → closes nordgraph and exits
 * Extra env (e.g. REDIS_URL) passes through to loadConfig.
 */

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'production',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  // Background polls would add upstream work and events of their own to the measurement.
  SYMETRISK_POLL_INTERVAL_MS: '0',
});
const app = await startNordgraph(config, createLogger(config.LOG_LEVEL));
const origin = new URL(app.url).origin;

interface Command {
  type: 'memory' | 'stats' | 'close';
  id?: number;
}

/** Tail listeners on the event log: one per live subscription (memory log only; null otherwise). */
function listeners(): number | null {
  // The fan-out is private to the log; reading it here keeps the benchmark out of src/.
  const fanOut = (app.eventLog as unknown as { fanOut?: { size?: number } }).fanOut;
  return typeof fanOut?.size === 'number' ? fanOut.size : null;
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

const send = (message: Record<string, unknown>) => process.send?.(message);

process.on('message', (raw: Command) => {
  if (raw.type === 'memory') {
    // Two passes: the first can leave finalisers whose memory only the second frees.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    send({
      type: 'memory',
      id: raw.id,
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      listeners: listeners(),
    });
  } else if (raw.type === 'stats') {
    const loopDelay = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) };
    loop.reset();
    send({ type: 'stats', id: raw.id, rss: process.memoryUsage.rss(), listeners: listeners(), loopDelay });
  } else if (raw.type === 'close') {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});
// The parent went away without saying close: do not linger.
process.on('disconnect', () => {
  app.close().finally(() => process.exit(0));
});

send({ type: 'ready', url: app.url, wsUrl: app.wsUrl, origin, pid: process.pid });
