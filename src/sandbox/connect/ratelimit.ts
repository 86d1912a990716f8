export interface RateLimits {
  perSecond: number;
  perMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perSecond: 100, perMinute: 2000 };

export interface RateDecision {
  allowed: boolean;
  /** Calls left before the tighter of the two windows is exhausted. */
  remaining: number;
  /** Whole seconds until the binding window resets (X-RateLimit-Reset). */
  resetSeconds: number;
  /** When denied: whole seconds until a call can succeed again (Retry-After). */
  retryAfterSeconds: number;
}

interface Windows {
  secondStart: number;
  secondCount: number;
  minuteStart: number;
  minuteCount: number;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;

/**
 * Two fixed windows per client (1 s and 60 s). A window opens with the client's first call
 * rather than on the wall-clock boundary: a test that makes N calls in a row then sees the N+1th
 * refused, whatever the clock says. Refused calls do not count.
 */
export class RateLimiter {
  private readonly windows = new Map<string, Windows>();
  limits: RateLimits;

  constructor(
    private readonly defaults: RateLimits,
    private readonly now: () => number,
  ) {
    this.limits = { ...defaults };
  }

  consume(key: string): RateDecision {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w) {
      w = { secondStart: now, secondCount: 0, minuteStart: now, minuteCount: 0 };
      this.windows.set(key, w);
    }
    if (now - w.secondStart >= SECOND_MS) {
      w.secondStart = now;
      w.secondCount = 0;
    }
    if (now - w.minuteStart >= MINUTE_MS) {
      w.minuteStart = now;
      w.minuteCount = 0;
    }
    const secondResetMs = w.secondStart + SECOND_MS - now;
    const minuteResetMs = w.minuteStart + MINUTE_MS - now;
    const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

    const secondFull = w.secondCount >= this.limits.perSecond;
    const minuteFull = w.minuteCount >= this.limits.perMinute;
    if (secondFull || minuteFull) {
      const waitMs = Math.max(secondFull ? secondResetMs : 0, minuteFull ? minuteResetMs : 0);
      return { allowed: false, remaining: 0, resetSeconds: secs(waitMs), retryAfterSeconds: secs(waitMs) };
    }
    w.secondCount += 1;
    w.minuteCount += 1;
    const secondLeft = this.limits.perSecond - w.secondCount;
    const minuteLeft = this.limits.perMinute - w.minuteCount;
    // On a tie the minute window binds: the count stays put after the second window resets.
    const minuteBinds = minuteLeft <= secondLeft;
    return {
      allowed: true,
      remaining: Math.min(secondLeft, minuteLeft),
      resetSeconds: secs(minuteBinds ? minuteResetMs : secondResetMs),
      retryAfterSeconds: 0,
    };
  }

  /** New limits start from fresh windows, so a test that lowers them gets exactly that many calls. */
  setLimits(limits: Partial<RateLimits>): void {
    this.limits = { ...this.limits, ...limits };
    this.windows.clear();
  }

  reset(): void {
    this.windows.clear();
    this.limits = { ...this.defaults };
  }
}
