/**
 * Issue 7, S6: cold start. Spawns nordgraph exactly as `npm start` runs it (`tsx src/main.ts`,
 * sandbox mode, so the in-process sandbox and its 20,000-person population are part of the start)
 * and measures from the spawn to the first `GET /readyz` answering 200, polled every 10 ms.
 * Median of N runs (5, or 2 with --quick); RSS of the process at that moment.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ROOT, mb, pinning, round, sleep, vmRss } from './procs.js';
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

async function once(): Promise<{ ms: number; rss: number | null }> {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'ignore'],
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
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function run(options: ScenarioOptions): Promise<ScenarioRow[]> {
  const n = options.quick ? 2 : 5;
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await once();
    times.push(r.ms);
    if (r.rss !== null) rss.push(r.rss);
    options.log(`  cold start ${i + 1}/${n}: ${Math.round(r.ms)} ms`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [
    {
      scenario: 'S6',
      system: 'nordgraph',
      upstreamLatencyMs: 0,
      load: 'n/a',
      rssMb: rss.length ? mb(median(rss)) : undefined,
      extra: {
        coldStartMedianMs: Math.round(median(times)),
        coldStartMinMs: Math.round(Math.min(...times)),
        coldStartMaxMs: Math.round(Math.max(...times)),
        runs: n,
      },
      notes: `Spawn of \`node --import tsx src/main.ts\` (as npm start, sandbox mode incl. population) to the first /readyz 200; median of ${n}; ${round(median(times) / 1000, 2)} s.`,
    },
  ];
}
