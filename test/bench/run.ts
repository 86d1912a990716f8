/**
 * `npm run bench [-- --quick]`: every benchmark scenario of issue 7 in one run, never part of
 * `npm test`. HTTP S1-S3 with the aggregator and Hive baselines (http.ts), S4/S5 subscriptions
 * with the bare-ws baseline (ws.ts, when present), S6 cold start (coldstart.ts).
 * Writes bench-results/latest.json (every row) and bench-results/latest.md (table + ratios).
 * Env: BENCH_ONLY=http,ws,coldstart (comma list) runs a subset.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BENCH_DIR, ROOT, pinning, round } from './procs.js';
import type { ScenarioOptions, ScenarioRow } from './types.js';

const quick = process.argv.includes('--quick');
const only = (process.env.BENCH_ONLY ?? 'http,ws,coldstart').split(',').map((s) => s.trim());
const log = (line: string) => console.log(line);
const options: ScenarioOptions = { quick, log };

interface Module {
  run(o: ScenarioOptions): Promise<ScenarioRow[]>;
}

const started = performance.now();
const loadAtStart = loadavg()[0]!;
const rows: ScenarioRow[] = [];
const skipped: string[] = [];

async function section(name: string, file: string): Promise<void> {
  if (!only.includes(name)) return;
  if (!existsSync(`${BENCH_DIR}${file}`)) {
    skipped.push(`${name}: ${file} not there yet`);
    log(`${name}: skipped (${file} not there yet)`);
    return;
  }
  log(`== ${name}`);
  try {
    const mod = (await import(`./${file.replace(/\.ts$/, '.js')}`)) as Module;
    rows.push(...(await mod.run(options)));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    skipped.push(`${name}: failed: ${reason}`);
    log(`${name}: FAILED: ${reason}`);
  }
}

await section('http', 'http.ts');
await section('ws', 'ws.ts');
await section('coldstart', 'coldstart.ts');

// ------------------------------------------------------------------------------ ratios

const find = (scenario: string, system: string, latency: number, load: string, rate?: number) =>
  rows.find(
    (r) =>
      r.scenario === scenario &&
      r.system === system &&
      r.upstreamLatencyMs === latency &&
      r.load === load &&
      (rate === undefined || r.extra?.targetRps === rate),
  );
const ratio = (a?: number, b?: number) => (a && b ? round(a / b, 2) : null);

interface Ratio {
  name: string;
  value: number | null;
  target: string;
  met: boolean | null;
  detail?: string;
}
const ratios: Ratio[] = [];
for (const s of ['S1', 'S3']) {
  const ng = find(s, 'nordgraph', 0, 'closed')?.throughputRps;
  const v = ratio(ng, find(s, 'aggregator (hand-written)', 0, 'closed')?.throughputRps);
  ratios.push({
    name: `${s} throughput nordgraph / aggregator @0 ms`,
    value: v,
    target: '≥ 0.8',
    met: v === null ? null : v >= 0.8,
  });
}
for (const s of ['S1', 'S3']) {
  const ng = find(s, 'nordgraph', 0, 'closed')?.throughputRps;
  const hive = find(s, 'hive-gateway', 0, 'closed');
  const v = ratio(ng, hive?.throughputRps);
  ratios.push({
    name: `${s} throughput nordgraph / Hive Gateway @0 ms`,
    value: v,
    target: '≥ 3',
    met: v === null ? null : v >= 3,
    detail:
      hive && hive.upstreamCallsPerQuery !== find(s, 'nordgraph', 0, 'closed')?.upstreamCallsPerQuery
        ? `Hive makes ${hive.upstreamCallsPerQuery} upstream calls per query, nordgraph ${find(s, 'nordgraph', 0, 'closed')?.upstreamCallsPerQuery}`
        : undefined,
  });
}
{
  // The target: median over side-by-side rounds (http.ts alternatingLatency) of nordgraph's p99
  // minus the aggregator's in the same round; the single runs follow for comparison.
  const byRound = (system: string) =>
    rows.filter((r) => r.system === system && r.extra?.round !== undefined && r.scenario === 'S1');
  const ngRounds = byRound('nordgraph (alternating)');
  const aggRounds = byRound('aggregator (hand-written) (alternating)');
  const added = ngRounds
    .map((n) => {
      const a = aggRounds.find((x) => x.extra?.round === n.extra?.round);
      return n.p99Ms !== undefined && a?.p99Ms !== undefined ? round(n.p99Ms - a.p99Ms, 2) : null;
    })
    .filter((v): v is number => v !== null);
  const sorted = [...added].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : null;
  const failed = [...ngRounds, ...aggRounds].some((r) => Number(r.extra?.errors ?? 0) > 0);
  ratios.push({
    name: 'S1 added p99 at 200 req/s, 10 ms upstream: nordgraph − aggregator (ms), median of side-by-side rounds',
    value: median,
    target: '≤ 2 ms (no errors)',
    met: median === null ? null : median <= 2 && !failed,
    detail: added.length
      ? `rounds: ${added.map((v) => `${v > 0 ? '+' : ''}${v}`).join(', ')} ms; nordgraph p99 ${ngRounds.map((r) => r.p99Ms).join(' / ')}, aggregator p99 ${aggRounds.map((r) => r.p99Ms).join(' / ')} ms`
      : undefined,
  });
}
for (const rate of [200, 50]) {
  const ng = find('S1', 'nordgraph', 10, 'open', rate);
  const agg = find('S1', 'aggregator (hand-written)', 10, 'open', rate);
  const direct = find('S1', 'sandbox direct (1 call)', 10, 'open', 200);
  const v = ng?.p99Ms !== undefined && agg?.p99Ms !== undefined ? round(ng.p99Ms - agg.p99Ms, 2) : null;
  // A latency of failed answers says nothing: any error fails the target.
  const failed = Number(ng?.extra?.errors ?? 0) > 0;
  ratios.push({
    name: `S1 added p99 at ${rate} req/s, 10 ms upstream: nordgraph − aggregator (ms), one run each, minutes apart`,
    value: v,
    target: rate === 200 ? '(single-run figure)' : '≤ 2 ms (no errors)',
    met: v === null || rate === 200 ? null : v <= 2 && !failed,
    detail:
      ng && agg
        ? `nordgraph p50/p99 ${ng.p50Ms}/${ng.p99Ms} ms (errors ${ng.extra?.errors}), aggregator ${agg.p50Ms}/${agg.p99Ms} ms (errors ${agg.extra?.errors})` +
          (direct
            ? `; one call straight to the sandbox at 200/s: ${direct.p50Ms}/${direct.p99Ms} ms (S1 is 3 calls in 3 rounds)`
            : '')
        : undefined,
  });
}
for (const s of ['S2', 'S3']) {
  const r = find(s, 'nordgraph', 0, 'closed');
  ratios.push({
    name: `${s} upstream calls per query = structural minimum (nordgraph)`,
    value: r?.upstreamCallsPerQuery ?? null,
    target: `= ${r?.structuralMinimum ?? '?'}`,
    met: r ? r.upstreamCallsPerQuery === r.structuralMinimum : null,
  });
}
{
  const cold = rows.find((r) => r.scenario === 'S6');
  const ms = cold?.extra?.coldStartMedianMs;
  ratios.push({
    name: 'S6 cold start to /readyz (median, ms)',
    value: typeof ms === 'number' ? ms : null,
    target: '≤ 1500',
    met: typeof ms === 'number' ? ms <= 1500 : null,
  });
}

{
  const ng = rows.find((r) => r.scenario === 'S4' && r.system === 'nordgraph');
  const v = ng?.extra?.p99VsBareWs;
  const all = ng?.extra?.missing === 0 && ng?.extra?.duplicates === 0;
  ratios.push({
    name: 'S4 webhook-to-delivery p99, nordgraph / bare ws (10,000 subscribers), every event delivered once',
    value: typeof v === 'number' ? v : null,
    target: '≤ 1.5, none missing',
    met: typeof v === 'number' ? v <= 1.5 && all : null,
    detail: ng
      ? `delivered ${ng.extra?.delivered}/${ng.extra?.expected}, duplicates ${ng.extra?.duplicates}`
      : undefined,
  });
  const idle = rows.find((r) => r.scenario === 'S5' && r.system === 'nordgraph')?.extra
    ?.rssPerIdleSubscriptionKb;
  const bare = rows.find((r) => r.scenario === 'S5' && r.system === 'bare ws')?.extra
    ?.rssPerIdleSubscriptionKb;
  ratios.push({
    name: 'S5 RSS per idle subscription (KB)',
    value: typeof idle === 'number' ? idle : null,
    target: '≤ 8',
    met: typeof idle === 'number' ? idle <= 8 : null,
    detail: typeof bare === 'number' ? `bare ws ${bare} KB in the same run` : undefined,
  });
}

// ------------------------------------------------------------------------------ output

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  memoryGb: round(totalmem() / 2 ** 30, 1),
  node: process.version,
  pinning: pinning.describe(),
  // Other work on the machine during the run (1-minute load average): noise in every figure.
  loadAverage: `${round(loadAtStart, 1)} at start, ${round(loadavg()[0]!, 1)} at end`,
};
const seconds = round((performance.now() - started) / 1000, 1);
const result = { date: new Date().toISOString(), quick, seconds, machine, ratios, skipped, rows };

const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v).replace(/\|/g, '\\|'));
const extraText = (e?: Record<string, number | string>) =>
  e
    ? Object.entries(e)
        .filter(([k]) => !['requests', 'maxMs'].includes(k) && !k.startsWith('top'))
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';

const md: string[] = [
  `# nordgraph benchmark${quick ? ' (--quick smoke run: short, not for comparison)' : ''}`,
  '',
  `${result.date} · ${machine.cpus} × ${machine.cpu} · ${machine.memoryGb} GB · Node ${machine.node} · ${machine.pinning} · load average ${machine.loadAverage} · ${seconds} s`,
  '',
  'Command: `npm run bench` (`-- --quick` for a short smoke run). Upstream: the sandbox in its own process, latency added per call by its fault control. nordgraph runs with its upstream cache off so every system makes the same upstream calls (rows "nordgraph (cache on)" show the deployed setting). Closed = autocannon (fixed connections); open = fixed arrival rate, latency from the scheduled send time.',
  '',
  '## Targets',
  '',
  '| Ratio | Value | Target | Met | Detail |',
  '| --- | --- | --- | --- | --- |',
  ...ratios.map(
    (r) =>
      `| ${cell(r.name)} | ${cell(r.value ?? 'n/a')} | ${cell(r.target)} | ${r.met === null ? 'n/a' : r.met ? 'yes' : 'no'} | ${cell(r.detail)} |`,
  ),
  '',
  '## Rows',
  '',
  '| Scenario | System | Upstream ms | Load | Throughput req/s | p50 ms | p99 ms | Calls/query (minimum) | RSS MB | Extra | Notes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${cell(r.system)} | ${r.upstreamLatencyMs} | ${r.load} | ${cell(r.throughputRps)} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${r.upstreamCallsPerQuery === undefined ? '' : `${r.upstreamCallsPerQuery} (${r.structuralMinimum ?? '?'})`} | ${cell(r.rssMb)} | ${cell(extraText(r.extra))} | ${cell(r.notes)} |`,
  ),
];
const prof = rows.find((r) => r.system === 'nordgraph (cpu profile)');
if (prof?.extra) {
  md.push('', '## Where nordgraph spends its time (S1 @0 ms, self time)', '', 'Functions:', '');
  for (const [k, v] of Object.entries(prof.extra)) if (k.startsWith('top')) md.push(`- ${v}`);
  md.push('', 'Owners (npm package or repository file):', '');
  for (const [k, v] of Object.entries(prof.extra)) if (k.startsWith('owner')) md.push(`- ${v}`);
}
if (skipped.length) md.push('', '## Skipped or failed', '', ...skipped.map((s) => `- ${s}`));
md.push('');

mkdirSync(`${ROOT}bench-results`, { recursive: true });
/** Written as Prettier would, so `prettier --check .` passes on committed results. */
async function formatted(text: string, parser: 'json' | 'markdown'): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config =
      (await prettier.resolveConfig(`${ROOT}bench-results/latest.${parser === 'json' ? 'json' : 'md'}`)) ??
      {};
    return await prettier.format(text, { ...config, parser });
  } catch {
    return text;
  }
}
writeFileSync(
  `${ROOT}bench-results/latest.json`,
  await formatted(`${JSON.stringify(result, null, 2)}\n`, 'json'),
);
writeFileSync(`${ROOT}bench-results/latest.md`, await formatted(md.join('\n'), 'markdown'));
log(md.join('\n'));
log(`wrote bench-results/latest.json and bench-results/latest.md (${seconds} s)`);
// Undici pools or timers left by a scenario must not keep the process alive.
process.exit(0);
