import { closed, open } from './load.js';
import { round, type Child } from './procs.js';
import {
  startAggregator,
  startApolloFloor,
  startBenchSandbox,
  startNordgraphChild,
  stallsOf,
} from './http.js';

/**
 * Focused driver for issue 7's latency target: S1 in the open model (fixed arrival rate, latency
 * from the scheduled send) at 10 ms upstream, nordgraph (cache off) and the hand-written
 * aggregator side by side, rounds alternating so drift on the shared machine hits both, and
 * nordgraph's GC pauses during each round (gateway-child `stats`).
 *   npx tsx test/bench/open-latency.ts [seconds=8] [rate=200] [rounds=2]
 * BENCH_GATEWAY_FLAGS="--flag ..." adds V8/node flags to nordgraph's process (A/B of GC settings).
 */
const seconds = Number(process.argv[2] ?? 8);
const rate = Number(process.argv[3] ?? 200);
const rounds = Number(process.argv[4] ?? 2);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 10);

const { sandbox, sb, ctl, subjects } = await startBenchSandbox();
try {
  const ng = await startNordgraphChild(sb, subjects, { cache: false });
  const agg = await startAggregator(sb, subjects);
  try {
    await ctl.latency(latencyMs);
    const systems = [
      { sys: ng.system, child: ng.child as Child<{ type: 'ready' }> | null },
      { sys: agg, child: null },
      // BENCH_FLOOR=1: Apollo Server alone (S1 from memory) as a third row.
      ...(process.env.BENCH_FLOOR === '1'
        ? [{ sys: await startApolloFloor(sb, subjects), child: null }]
        : []),
    ];
    // BENCH_QUERY='{ __typename }': send this document to nordgraph instead of S1 (bisecting costs).
    const custom = process.env.BENCH_QUERY;
    const requestOf = (sys: typeof ng.system) => (i: number) => {
      const spec = sys.request('S1', i);
      return custom && sys === ng.system ? { ...spec, body: JSON.stringify({ query: custom }) } : spec;
    };
    // BENCH_PRELOAD_SECONDS=n: first what precedes this run in `npm run bench`, for nordgraph and the
    // aggregator alike: S3 closed at 0 ms upstream, then S1 closed at 10 ms, n seconds each.
    const preload = Number(process.env.BENCH_PRELOAD_SECONDS ?? 0);
    if (preload > 0) {
      await ctl.latency(0);
      for (const { sys } of systems) await closed(sys.origin, (i) => sys.request('S3', i), 2, preload);
      await ctl.latency(latencyMs);
      for (const { sys } of systems) await closed(sys.origin, (i) => sys.request('S1', i), 16, preload);
    }
    for (const { sys } of systems) await open(sys.origin, requestOf(sys), rate, 2);
    for (let round_ = 0; round_ < rounds; round_++) {
      for (const { sys, child } of systems) {
        const before = child ? await child.ask('stats') : null;
        await sandbox.ask('stats');
        // PROFILE=/tmp/dir: a V8 profile of nordgraph's first measured round (BENCH_PROFILE_KIND=heap
        // and BENCH_HEAP_MINOR=0 for what outlives a scavenge, see gateway-child.ts).
        const profile =
          child && process.env.PROFILE && round_ === 0
            ? `${process.env.PROFILE}/nordgraph-open.${process.env.BENCH_PROFILE_KIND === 'heap' ? 'heapprofile' : 'cpuprofile'}`
            : null;
        if (profile) await child!.ask('profile-start');
        // SNAPSHOT=/tmp/file.heapsnapshot: a heap snapshot of nordgraph half-way through its first round.
        const snap = child && process.env.SNAPSHOT && round_ === 0 ? process.env.SNAPSHOT : null;
        const snapped = snap
          ? new Promise((r) => setTimeout(r, (seconds * 1000) / 2)).then(() =>
              child!.ask('heap-snapshot', { path: snap }),
            )
          : null;
        const r = await open(sys.origin, requestOf(sys), rate, seconds);
        await snapped;
        if (profile) await child!.ask('profile-stop', { path: profile });
        const stats = child ? await child.ask('stats') : null;
        const up = stallsOf(await sandbox.ask('stats'), 'sandbox');
        console.log(
          `${sys.name.padEnd(26)} S1 @${latencyMs}ms ${rate}/s: p50 ${r.p50Ms} p99 ${r.p99Ms} max ${r.maxMs} ms, errors ${r.errors}` +
            (stats
              ? `; ${stallsOf(stats, '').text}; child clock ${String(before?.uptimeMs)}–${String(stats.uptimeMs)} ms`
              : '') +
            `; sandbox ${up.text}`,
        );
      }
    }
    await ctl.latency(0);
  } finally {
    await ng.system.close();
    await agg.close();
  }
} finally {
  await sandbox.close();
}
console.log(`(${round(seconds)} s per round)`);
process.exit(0);
