import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './call-rate.js';

/** Start times a limiter hands out for calls arriving at `arrivals` (ms, a fake clock). */
function schedule(limiter: (now: () => number) => SlidingWindowLimiter, arrivals: number[]): number[] {
  let t = 0;
  const l = limiter(() => t);
  return arrivals.map((a) => {
    t = a;
    return a + l.reserve();
  });
}

/** Most starts within any half-open window [s, s + interval). */
function mostInWindow(starts: number[], interval: number): number {
  const s = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[i]! - s[j]! >= interval) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('SlidingWindowLimiter', () => {
  it('lets `limit` calls start at once and the next when the oldest leaves the window', () => {
    const starts = schedule((now) => new SlidingWindowLimiter(3, 1_000, now), [0, 0, 0, 0, 10, 500]);
    expect(starts).toEqual([0, 0, 0, 1_000, 1_000, 1_000]);
  });

  it('never starts more than `limit` calls in any window, for bursty arrivals', () => {
    // Deterministic pseudo-random bursts: groups of up to 40 calls, 0–300 ms apart.
    let seed = 7;
    const rand = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const arrivals: number[] = [];
    for (let t = 0; arrivals.length < 3_000; t += Math.floor(rand() * 300)) {
      for (let n = Math.floor(rand() * 40); n > 0; n--) arrivals.push(t);
    }
    const starts = schedule((now) => new SlidingWindowLimiter(100, 1_100, now), arrivals);
    expect(mostInWindow(starts, 1_100)).toBe(100);
    // FIFO: start times follow arrival order and never go back.
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(starts[i - 1]!);
    // Nobody starts before arriving.
    starts.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(arrivals[i]!));
  });

  it('passes a sustained rate below its limit without delay, above 1,000 calls/s too', () => {
    // 4,000 calls/s for 10 s against 10,000 per 1.25 s (8,000/s): none waits. (p-throttle's strict
    // mode, used before, spaced calls 1 ms apart once its window had filled: 1,000 calls/s at most.)
    const arrivals = Array.from({ length: 40_000 }, (_, i) => i * 0.25);
    const starts = schedule((now) => new SlidingWindowLimiter(10_000, 1_250, now), arrivals);
    expect(starts.filter((s, i) => s > arrivals[i]!)).toEqual([]);
  });

  it('holds a sustained rate above its limit to the limit, no lower', () => {
    // 300 calls/s offered for 10 s against 100 per second: 100 start in every second.
    const arrivals = Array.from({ length: 3_000 }, (_, i) => Math.floor(i / 0.3));
    const starts = schedule((now) => new SlidingWindowLimiter(100, 1_000, now), arrivals);
    const last = starts.at(-1)!;
    // 3,000 calls at 100 per second: the last starts in the 30th second, not later.
    expect(last).toBeGreaterThanOrEqual(29_000);
    expect(last).toBeLessThan(30_000);
    expect(mostInWindow(starts, 1_000)).toBe(100);
  });

  it('books nothing for a call that would have to wait past its deadline', () => {
    let t = 0;
    const l = new SlidingWindowLimiter(2, 1_000, () => t);
    expect([l.reserve(), l.reserve()]).toEqual([0, 0]);
    // Overload: calls that give up (deadline 300 ms away) must not push later calls further out.
    for (let i = 0; i < 50; i++) expect(l.reserve(300)).toBe(Number.POSITIVE_INFINITY);
    t = 800;
    expect(l.reserve(300)).toBe(200);
    t = 1_000;
    expect(l.reserve()).toBe(0);
    // The third start was at 1,000: the next free start is 2,000.
    expect(l.reserve(999)).toBe(Number.POSITIVE_INFINITY);
    expect(l.reserve(1_000)).toBe(1_000);
  });

  it('refuses a limit it cannot keep', () => {
    expect(() => new SlidingWindowLimiter(0, 1_000)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(1.5, 1_000)).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter(10, 0)).toThrow(RangeError);
  });
});
