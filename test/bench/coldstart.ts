/**
 * Issue 7, S6: cold start, from the process spawn to the first `GET /readyz` answering 200
 * (polled every 10 ms), median of N runs (5, or 2 with --quick), RSS of the process at that moment.
 *
 * Rows, first the one the S6 target (≤ 1.5 s) is judged on:
 * 1. nordgraph as deployed: the compiled bundle (`npm run build` → `node dist/main.js`) with
 *    PROVIDERS_MODE=live against the sandbox running in another process (sandbox-child.ts), so
 *    the providers' start is not nordgraph's. /readyz includes the first token fetch of each
 *    provider, which is part of being ready.
 * 2. `node dist/main.js` in sandbox mode: the in-process sandbox and its 20,000-person population
 *    start inside the measurement.
 * 3. `npm start` as users run it after `npm ci`: npm, the esbuild build (~1 s) and row 2.
 * The build runs once before the rows (its time is reported in row 1's extra).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LIVE_TEST_API_KEYS } from '../helpers/gateway.js';
import type { RemoteSandbox } from './sandbox-child.js';
import { Child, GATEWAY_NODE_FLAGS, ROOT, mb, pinning, round, sleep, vmRss } from './procs.js';
import type { ScenarioOptions, ScenarioRow } from './types.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Live-mode configuration pointing at a sandbox in another process (the README's variables). */
function liveEnv(s: RemoteSandbox): Record<string, string> {
  const c = s.credentials;
  return {
    PROVIDERS_MODE: 'live',
    API_KEYS: LIVE_TEST_API_KEYS,
    BYNDLE_BASE_URL: s.apiUrls.byndle!,
    BYNDLE_TOKEN_URL: s.tokenUrls.byndle!,
    BYNDLE_USERNAME: c.byndle.username,
    BYNDLE_PASSWORD: c.byndle.password,
    BYNDLE_AJOURHOLD_ID: c.byndle.ajourholdId,
    BISNODE_BASE_URL: s.apiUrls.bisnode!,
    BISNODE_TOKEN_URL: s.tokenUrls.bisnode!,
    BISNODE_CLIENT_ID: c.bisnode.clientId,
    BISNODE_CLIENT_SECRET: c.bisnode.clientSecret,
    CONNECT_BASE_URL: s.apiUrls.connect!,
    CONNECT_TOKEN_URL: s.tokenUrls.connect!,
    CONNECT_CLIENT_ID: c.connect.clientId,
    CONNECT_CLIENT_SECRET: c.connect.clientSecret,
    SYMETRISK_BASE_URL: s.apiUrls.symetrisk!,
    SYMETRISK_TOKEN_URL: s.tokenUrls.symetrisk!,
    SYMETRISK_CLIENT_ID: c.symetrisk.clientId,
    SYMETRISK_CLIENT_SECRET: c.symetrisk.clientSecret,
  };
}

async function once(command: string, args: string[], env: Record<string, string>) {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'ignore'],
    // Own process group: `npm start` is npm → sh → node, and the whole group is stopped after.
    detached: true,
  });
  pinning.pin(proc.pid!, 1);
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`nordgraph exited during start (code ${proc.exitCode})`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { ms: performance.now() - started, rss: vmRss(proc.pid!) };
      if (performance.now() - started > 60_000) throw new Error('no /readyz 200 within 60 s');
      await sleep(10);
    }
  } finally {
    const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
    process.kill(-proc.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function series(
  options: ScenarioOptions,
  label: string,
  command: string,
  args: string[],
  env: Record<string, string>,
) {
  const n = options.quick ? 2 : 5;
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await once(command, args, env);
    times.push(r.ms);
    if (r.rss !== null) rss.push(r.rss);
    options.log(`  cold start ${label} ${i + 1}/${n}: ${Math.round(r.ms)} ms`);
  }
  return {
    n,
    rssMb: rss.length ? mb(median(rss)) : undefined,
    extra: {
      coldStartMedianMs: Math.round(median(times)),
      coldStartMinMs: Math.round(Math.min(...times)),
      coldStartMaxMs: Math.round(Math.max(...times)),
      runs: n,
    },
    seconds: round(median(times) / 1000, 2),
  };
}

export async function run(options: ScenarioOptions): Promise<ScenarioRow[]> {
  const buildStarted = performance.now();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const buildMs = Math.round(performance.now() - buildStarted);
  options.log(`  npm run build: ${buildMs} ms`);
  const rows: ScenarioRow[] = [];
  const production = { NODE_ENV: 'production' };

  const sandbox = await Child.start<{ type: 'ready'; sandbox: RemoteSandbox }>('sandbox-child.ts', {});
  pinning.pin(sandbox.pid, 0);
  try {
    const live = await series(options, 'live', process.execPath, [...GATEWAY_NODE_FLAGS, 'dist/main.js'], {
      ...production,
      ...liveEnv(sandbox.ready.sandbox),
    });
    rows.push({
      scenario: 'S6',
      system: 'nordgraph',
      upstreamLatencyMs: 0,
      load: 'n/a',
      rssMb: live.rssMb,
      extra: { ...live.extra, buildMs },
      notes: `Spawn of \`node dist/main.js\` (npm run build), PROVIDERS_MODE=live against the sandbox in another process, to the first /readyz 200 (first token of each provider included); median of ${live.n}; ${live.seconds} s.`,
    });
  } finally {
    await sandbox.close();
  }

  const inProcess = await series(
    options,
    'sandbox mode',
    process.execPath,
    [...GATEWAY_NODE_FLAGS, 'dist/main.js'],
    {},
  );
  rows.push({
    scenario: 'S6',
    system: 'nordgraph (sandbox mode)',
    upstreamLatencyMs: 0,
    load: 'n/a',
    rssMb: inProcess.rssMb,
    extra: inProcess.extra,
    notes: `Spawn of \`node dist/main.js\` in sandbox mode (in-process sandbox and its 20,000-person population inside the measurement) to the first /readyz 200; median of ${inProcess.n}; ${inProcess.seconds} s.`,
  });

  const npmStart = await series(options, 'npm start', 'npm', ['start', '--silent'], {});
  rows.push({
    scenario: 'S6',
    system: 'nordgraph (npm start)',
    upstreamLatencyMs: 0,
    load: 'n/a',
    // The spawned process is npm, not nordgraph: its RSS would say nothing (see the row above).
    extra: npmStart.extra,
    notes: `Spawn of \`npm start\` as users run it (npm, the esbuild build, then sandbox mode as the row above) to the first /readyz 200; median of ${npmStart.n}; ${npmStart.seconds} s.`,
  });
  return rows;
}
