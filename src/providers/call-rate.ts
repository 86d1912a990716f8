/**
 * Our side of a provider's call-rate limit (Connect: 100 calls/s per client): at most `limit`
 * calls start in any window of `intervalMs`, a sliding log. A call starts at once while fewer than
 * `limit` started in the last interval; otherwise it waits until the oldest of the last `limit`
 * starts leaves the window. Start times are handed out in call order (FIFO) and never go back.
 *
 * Written here rather than taken from p-throttle, which nordgraph used before: its strict mode
 * spaces calls by at least ceil(interval / limit) whole milliseconds once its window has filled,
 * so no setting let it pass more than 1,000 calls/s (with CONNECT_CALLS_PER_SECOND=10000 the
 * benchmark's person card was capped near 600 req/s, and a short stall became a queue), and it
 * shifted an array as long as the limit on every call. Here the last `limit` start times sit in a
 * ring buffer: O(1) per call, no timer and no promise for a call that may start now.
 */
export class SlidingWindowLimiter {
  /** Start times (ms, `now`'s clock) of the last `limit` calls; `head` is the oldest once full. */
  private readonly starts: Float64Array;
  private head = 0;
  private size = 0;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limit: number,
    readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    if (!(intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.starts = new Float64Array(limit);
  }

  /**
   * Reserves the next start for one call and returns how long (ms) it must wait first: 0 when it
   * may start now. When that wait would be longer than `maxWaitMs` (the call's deadline would pass
   * first), nothing is booked and the answer is Infinity. A booking stands even if the caller then
   * gives up (a conservative count).
   */
  reserve(maxWaitMs = Number.POSITIVE_INFINITY): number {
    const now = this.now();
    const full = this.size === this.limit;
    // When full, the start `limit` calls back must have left the window before this one begins.
    const at = Math.max(now, this.last, full ? this.starts[this.head]! + this.intervalMs : now);
    if (at - now > maxWaitMs) return Number.POSITIVE_INFINITY;
    if (full) {
      this.starts[this.head] = at;
      this.head = (this.head + 1) % this.limit;
    } else {
      this.starts[(this.head + this.size) % this.limit] = at;
      this.size++;
    }
    this.last = at;
    return at - now;
  }
}
