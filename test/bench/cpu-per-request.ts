import { readFileSync } from 'node:fs';
import { closed } from './load.js';
import { round } from './procs.js';
import { startAggregator, startApolloFloor, startBenchSandbox, startNordgraphChild } from './http.js';

/**
 * Focused driver for issue 7's per-request CPU: S1 and S3 closed-model runs at 0 ms upstream
 * against nordgraph (cache off) and the hand-written aggregator, each pinned alone on CPU 1, and
 * the server process's own CPU time per request (utime + stime from /proc, so the load generator
 * and the sandbox stay out of it). Throughput alone is noisy on a shared 2-core machine; CPU per
 * request is what the optimisations change.
 *   [PROFILE=/tmp/dir] npx tsx test/bench/cpu-per-request.ts [seconds=8] [only=nordgraph,aggregator]
 * `only` may also name apollo-floor: Apollo Server alone answering S1 from memory (S1 only).
 * CPU_CACHE=1 runs nordgraph with its upstream cache on (as deployed): after the first round over
 * the subjects no upstream call is made, so what remains is nordgraph's own cost per request.
 */
const seconds = Number(process.argv[2] ?? 8);
const only = (process.argv[3] ?? 'nordgraph,aggregator').split(',');
const CONNECTIONS = { S1: 16, S2: 4, S3: 2 } as const;
/** CPU_SCENARIOS=S1,S2,S3: which scenarios, in order (default S1,S3). */
const scenarios = (process.env.CPU_SCENARIOS ?? 'S1,S3').split(',') as (keyof typeof CONNECTIONS)[];

function cpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const { sandbox, sb, ctl, subjects } = await startBenchSandbox();
try {
  await ctl.latency(0);
  for (const name of only) {
    // BENCH_GATEWAY_FLAGS="--flag …": extra node/V8 flags for nordgraph (see startNordgraphChild).
    const started =
      name === 'nordgraph'
        ? await startNordgraphChild(sb, subjects, { cache: process.env.CPU_CACHE === '1' })
        : null;
    const sys = started
      ? started.system
      : name === 'apollo-floor'
        ? await startApolloFloor(sb, subjects)
        : await startAggregator(sb, subjects);
    try {
      for (const s of scenarios) {
        if (!sys.scenarios.includes(s)) continue;
        const next = (i: number) => sys.request(s, i);
        await closed(sys.origin, next, CONNECTIONS[s], 2);
        // PROFILE=/tmp/dir: a V8 CPU profile of nordgraph's measured phase per scenario.
        const profile =
          started && process.env.PROFILE ? `${process.env.PROFILE}/nordgraph-${s}.cpuprofile` : null;
        if (profile) await started!.child.ask('profile-start');
        const c0 = cpuMs(sys.pid);
        const sb0 = cpuMs(sandbox.pid);
        const gen0 = cpuMs(process.pid);
        const r = await closed(sys.origin, next, CONNECTIONS[s], s === 'S1' ? seconds : seconds * 1.5);
        const used = cpuMs(sys.pid) - c0;
        // CPU 0's two tenants: the sandbox and this process (the load generator).
        const sbUsed = cpuMs(sandbox.pid) - sb0;
        const genUsed = cpuMs(process.pid) - gen0;
        if (profile) await started!.child.ask('profile-stop', { path: profile });
        console.log(
          `${sys.name.padEnd(26)} ${s}: ${r.throughputRps} req/s, p99 ${r.p99Ms} ms, errors ${r.errors}, CPU ${round(used / r.requests, 3)} ms/request (${r.requests} requests); sandbox ${round(sbUsed / r.requests, 3)}, load generator ${round(genUsed / r.requests, 3)} ms/request`,
        );
      }
    } finally {
      await sys.close();
    }
  }
} finally {
  await sandbox.close();
}
