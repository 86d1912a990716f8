/**
 * Process plumbing shared by the HTTP benchmarks: forking TypeScript children with an IPC
 * channel, pinning processes to CPUs, reading RSS from /proc.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleChild } from './bundle.js';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Node flags `npm start` gives the gateway (package.json "start": `node <flags> dist/main.js`):
 * every benchmark starts nordgraph with them, so it runs as deployed.
 */
export const GATEWAY_NODE_FLAGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: { start: string } };
  const m = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+dist\/main\.js/.exec(pkg.scripts.start);
  if (!m) throw new Error('package.json "start" does not run `node [flags] dist/main.js`');
  return m[1]!.trim().split(/\s+/).filter(Boolean);
})();

/** Extra node/V8 flags from an environment variable (space-separated), e.g. BENCH_GATEWAY_FLAGS. */
export function envFlags(name: string): string[] {
  return (process.env[name] ?? '').split(/\s+/).filter(Boolean);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
export const mb = (bytes: number) => round(bytes / 1_048_576, 1);

/** VmRSS of a process, bytes; null once it is gone. */
export function vmRss(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 250 ms until stopped; returns the peak. */
export function rssSampler(pid: number): { stop(): number | null } {
  let peak: number | null = vmRss(pid);
  const timer = setInterval(() => {
    const r = vmRss(pid);
    if (r !== null && (peak === null || r > peak)) peak = r;
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * CPU pinning: with taskset and at least 2 CPUs, the load generator (this process) and the sandbox
 * share CPU 0 and the server under test gets CPU 1 to itself. Returns a description for the output.
 */
export const pinning = {
  available: availableParallelism() >= 2 && existsSync('/usr/bin/taskset'),
  describe(): string {
    return this.available
      ? 'taskset: load generator + sandbox on CPU 0, server under test alone on CPU 1'
      : `not pinned (${availableParallelism()} CPU(s)${existsSync('/usr/bin/taskset') ? '' : ', no taskset'})`;
  },
  /** Pins every thread of a process (-a) to one CPU; no-op without taskset. */
  pin(pid: number, cpu: number): void {
    if (!this.available) return;
    try {
      execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    } catch {
      // A process that just exited, or a kernel that refuses: the run goes on unpinned.
    }
  },
};

/** A TypeScript child process speaking `{type:'ready'}` / `{type:'stats'|'memory', id}` / `{type:'close'}`. */
export class Child<R extends { type: 'ready' }> {
  private nextId = 1;
  private readonly pending = new Map<number, (m: Record<string, unknown>) => void>();

  private constructor(
    readonly proc: ChildProcess,
    readonly ready: R,
  ) {
    proc.on('message', (m: { id?: number }) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m as Record<string, unknown>);
      this.pending.delete(m.id);
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /**
   * Forks a benchmark script under tsx, or with `bundled` as an esbuild bundle (bundle.ts): how
   * `npm start` runs nordgraph, without tsx's require hook and keepNames wrappers in the
   * measurement. BENCH_RUNTIME=tsx runs bundled scripts under tsx too (profiles then name the
   * source files).
   */
  static async start<R extends { type: 'ready' }>(
    script: string,
    env: Record<string, string>,
    execArgv: string[] = [],
    options: { bundled?: boolean; sourcemap?: boolean } = {},
  ): Promise<Child<R>> {
    const bundle =
      options.bundled && process.env.BENCH_RUNTIME !== 'tsx'
        ? await bundleChild(ROOT, `${BENCH_DIR}${script}`, { sourcemap: options.sourcemap })
        : null;
    const proc = fork(bundle?.path ?? `${BENCH_DIR}${script}`, [], {
      cwd: ROOT,
      execArgv: [...(bundle ? [] : ['--import', 'tsx']), ...execArgv],
      stdio: ['ignore', process.env.BENCH_CHILD_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    proc.once('exit', () => bundle?.dispose());
    const ready = await new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s`)), 60_000);
      proc.once('exit', (code) => reject(new Error(`${script} exited during start (code ${code})`)));
      proc.on('message', (m: { type: string }) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m as R);
      });
    });
    return new Child(proc, ready);
  }

  ask(type: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.proc.send({ ...extra, type, id });
    });
  }

  /** Asks the child to close and waits for it to exit (killed after 15 s). */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ type: 'close' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
