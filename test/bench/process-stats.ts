import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';

/** GC pauses since the last read: count, total and longest (ms), how many over 10 ms, how many major. */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  over10ms: number;
  major: number;
}

/** Event-loop delay since the last read, ms (includes the monitor's 10 ms sampling interval). */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/**
 * A benchmark child's own stall counters (gateway-child.ts, sandbox-child.ts): GC pauses from a
 * PerformanceObserver and event-loop delay from monitorEventLoopDelay, both reset by each read,
 * so the parent reads one measured round at a time and can tell which process stalled.
 */
export function processStats(): () => { gc: GcPauses; loopDelay: LoopDelay; uptimeMs: number } {
  const empty = (): GcPauses => ({ count: 0, totalMs: 0, maxMs: 0, over10ms: 0, major: 0 });
  let gc = empty();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      // detail.kind: 1 minor (scavenge), 2 major (mark-compact), 4 incremental marking, 8 weak callbacks.
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 2) gc.major++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, Math.round(e.duration * 100) / 100);
      if (e.duration > 10) gc.over10ms++;
    }
  }).observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return () => {
    const loopDelay = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) };
    loop.reset();
    const read = { ...gc, totalMs: Math.round(gc.totalMs) };
    gc = empty();
    // uptimeMs: the clock of --trace-gc lines (ms since the isolate started), to pick out a round's GCs.
    return { gc: read, loopDelay, uptimeMs: Math.round(performance.now()) };
  };
}
