import { getHeapSpaceStatistics } from 'node:v8';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNordgraph } from '../../src/app.js';
import { UpstreamCache } from '../../src/cache.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { processStats } from './process-stats.js';

/**
 * nordgraph + sandbox in a process of its own, for benchmarks: the load generator runs in the
 * parent, so this process's RSS is the gateway's (plus the in-process sandbox, which stays idle
 * during subscription runs). Started by test/bench/*.ts with an IPC channel:
 *   child → parent  { type: 'ready', url, wsUrl, origin, pid }
 *   parent → child  { type: 'memory', id }  → { type: 'memory', id, rss, heapUsed, external, listeners }
 *                   (runs a full GC first when started with --expose-gc)
 *   parent → child  { type: 'stats', id }   → { type: 'stats', id, rss, listeners, loopDelay, gc }
 *                   (no GC; loopDelay: event-loop delay since the last stats call, ms; gc: pauses since then)
 *   parent → child  { type: 'close' }       → closes nordgraph and exits
 *   parent → child  { type: 'profile-start', id } → { type: 'profile', id }: starts a V8 CPU
 *                   profile (inspector), so start-up and warm-up stay out of it
 *   parent → child  { type: 'profile-stop', id, path } → { type: 'profile', id }: writes it to path
 *                   (BENCH_PROFILE_KIND=heap: a sampling allocation profile instead; with
 *                   BENCH_HEAP_MINOR=0 only objects that outlive a scavenge)
 *   parent → child  { type: 'heap-snapshot', id, path } → { type: 'heap-snapshot', id }: writes a
 *                   heap snapshot (after a full GC) to path
 * Extra env (e.g. REDIS_URL) passes through to loadConfig.
 * Benchmark-only switches (test/bench/http.ts):
 *   BENCH_REMOTE_SANDBOX=<JSON of sandbox-child.ts's RemoteSandbox>: call a sandbox running in
 *     another process instead of starting one in this one (its CPU stays out of this process).
 *   BENCH_NO_UPSTREAM_CACHE=1: every upstream answer is fetched again on every request (the
 *     per-request DataLoaders still deduplicate), so nordgraph makes the same calls per query as
 *     the hand-written aggregator and the counters show the structural minimum.
 */

if (process.env.BENCH_NO_UPSTREAM_CACHE === '1') {
  // Patched here, not configurable in src/: a gateway without its cache is a benchmark device only.
  UpstreamCache.prototype.get = () => Promise.resolve(undefined);
  UpstreamCache.prototype.set = () => Promise.resolve();
  UpstreamCache.prototype.through = function <T>(_key: string, _kind: unknown, load: () => Promise<T>) {
    return load();
  };
}

function remoteSandbox(json: string): Sandbox {
  // startNordgraph reads only urls, apiUrls, tokenUrls and credentials of a sandbox it is given
  // (and never closes it); the in-process `context` does not exist across processes.
  return {
    ...(JSON.parse(json) as Omit<Sandbox, 'context' | 'close'>),
    close: () => Promise.resolve(),
  } as Sandbox;
}

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'production',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  // Background polls would add upstream work and events of their own to the measurement.
  SYMETRISK_POLL_INTERVAL_MS: '0',
});
const app = await startNordgraph(
  config,
  createLogger(config.LOG_LEVEL),
  process.env.BENCH_REMOTE_SANDBOX ? { sandbox: remoteSandbox(process.env.BENCH_REMOTE_SANDBOX) } : {},
);
const origin = new URL(app.url).origin;

interface Command {
  type: 'memory' | 'stats' | 'close' | 'profile-start' | 'profile-stop' | 'heap-snapshot';
  id?: number;
  path?: string;
}

let profiler: Session | null = null;
/** BENCH_PROFILE_KIND=heap: a sampling allocation profile (.heapprofile) instead of a CPU profile. */
const heapProfile = process.env.BENCH_PROFILE_KIND === 'heap';
async function profile(raw: Command): Promise<void> {
  if (raw.type === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    if (heapProfile) {
      await profiler.post('HeapProfiler.enable');
      await profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 16_384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_MINOR !== '0',
      });
    } else {
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
  } else if (profiler && raw.path) {
    const result = heapProfile
      ? (await profiler.post('HeapProfiler.stopSampling')).profile
      : (await profiler.post('Profiler.stop')).profile;
    writeFileSync(raw.path, JSON.stringify(result));
    profiler.disconnect();
    profiler = null;
  }
  process.send?.({ type: 'profile', id: raw.id });
}

/** Tail listeners on the event log: one per live subscription (memory log only; null otherwise). */
function listeners(): number | null {
  // The fan-out is private to the log; reading it here keeps the benchmark out of src/.
  const fanOut = (app.eventLog as unknown as { fanOut?: { size?: number } }).fanOut;
  return typeof fanOut?.size === 'number' ? fanOut.size : null;
}

const readStats = processStats();

const send = (message: Record<string, unknown>) => process.send?.(message);

process.on('message', (raw: Command) => {
  if (raw.type === 'profile-start' || raw.type === 'profile-stop') {
    void profile(raw);
  } else if (raw.type === 'heap-snapshot' && raw.path) {
    // A heap snapshot (full GC first) written to raw.path, for retainer analysis.
    const session = new Session();
    session.connect();
    const chunks: string[] = [];
    session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
    void session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }).then(() => {
      writeFileSync(raw.path!, chunks.join(''));
      session.disconnect();
      send({ type: 'heap-snapshot', id: raw.id });
    });
  } else if (raw.type === 'memory') {
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
      heapTotal: m.heapTotal,
      external: m.external,
      // Committed size per V8 space: a young generation grown during a burst of connections is
      // RSS that is not per subscription.
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_size])),
      listeners: listeners(),
    });
  } else if (raw.type === 'stats') {
    send({
      type: 'stats',
      id: raw.id,
      rss: process.memoryUsage.rss(),
      listeners: listeners(),
      ...readStats(),
    });
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
