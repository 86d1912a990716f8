import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * `npm run sandbox:figures`: start `npm run sandbox` the way a developer does (a fresh Node
 * process with the full population) and report the time until it prints its ready line, and its
 * resident memory once ready. Three runs; the median is what the README and notes quote.
 */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function once(): Promise<{ readyMs: number; rssMb: number; persons: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('sandbox ready')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  await new Promise((r) => setTimeout(r, 500));
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  const persons = Number(/(\d+) persons/.exec(out)?.[1] ?? 0);
  return { readyMs, rssMb: rss, persons };
}

const runs = [];
for (let i = 0; i < 3; i++) runs.push(await once());
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ runs }, null, 1));
console.log(
  `sandbox start to ready (process spawn → ready line, median of 3): ${median(runs.map((r) => r.readyMs)).toFixed(0)} ms; ` +
    `RSS when ready: ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB; persons: ${runs[0]!.persons}`,
);
