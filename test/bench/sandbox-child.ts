import { startSandbox } from '../../src/sandbox/index.js';
import { processStats } from './process-stats.js';

/**
 * The sandbox in a process of its own for the HTTP benchmarks (test/bench/http.ts): every system
 * under test (nordgraph, the hand-written aggregator, Hive Gateway) calls the same upstream, and
 * the upstream's CPU is neither in the gateway's process nor on the gateway's core.
 *   child → parent  { type: 'ready', sandbox: RemoteSandbox }
 *   parent → child  { type: 'close' }
 *   parent → child  { type: 'stats', id } → { type: 'stats', id, gc, loopDelay, uptimeMs }: GC pauses
 *                   and event-loop delay since the last stats call (process-stats.ts), so a slow
 *                   round can be put down to the upstream stalling rather than the system under test
 * Connect's partner rate limit (100/s, 2000/min) is lifted: it would cap every system at the same
 * ~100 person cards per second and measure the limit, not the systems.
 */

/** What another process needs to call this sandbox (JSON-safe part of `Sandbox`). */
export interface RemoteSandbox {
  urls: Record<string, string>;
  apiUrls: Record<string, string>;
  tokenUrls: Record<string, string>;
  controlUrl: string;
  credentials: Awaited<ReturnType<typeof startSandbox>>['credentials'];
}

const sandbox = await startSandbox({ connectRateLimit: { perSecond: 1_000_000, perMinute: 60_000_000 } });

const remote: RemoteSandbox = {
  urls: sandbox.urls,
  apiUrls: sandbox.apiUrls,
  tokenUrls: sandbox.tokenUrls,
  controlUrl: sandbox.controlUrl,
  credentials: sandbox.credentials,
};

const readStats = processStats();

process.on('message', (raw: { type: string; id?: number }) => {
  if (raw.type === 'stats') process.send?.({ type: 'stats', id: raw.id, ...readStats() });
  else if (raw.type === 'close') void sandbox.close().finally(() => process.exit(0));
});
process.on('disconnect', () => {
  void sandbox.close().finally(() => process.exit(0));
});
process.send?.({ type: 'ready', sandbox: remote });
