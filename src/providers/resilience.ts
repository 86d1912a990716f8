import type { BaseConfig, ProviderName } from '../config.js';
import { SlidingWindowLimiter } from './call-rate.js';
import { UpstreamError } from './errors.js';

/**
 * Upstream resilience, one set per provider (call-rate.ts for the partner's calls-per-second limit).
 * The chain, outermost first:
 *
 *   deadline (timeoutMs for the whole call, queueing and retries included)
 *   -> bulkhead (maxConcurrent in flight, maxQueue waiting; beyond that fail fast)
 *   -> circuit breaker (consecutive outages open it; fails fast while open; one probe after the
 *      cool-down, which closes it on an answer and opens it again on another outage)
 *   -> retry (safe calls only: GET, or a request marked `idempotent`; Retry-After honoured)
 *   -> rate limiter (only where configured: Connect)
 *   -> one attempt
 *
 * Written out rather than composed from cockatiel's policies (which this module used until
 * issue 7): the same chain and semantics cost one small Deadline object, one timer and two
 * promises per call, where the composed policies cost an event emitter per policy, result objects and
 * listeners, about 9% of the gateway's CPU in benchmark S3 (301 upstream calls per query).
 * test/providers/resilience.test.ts drives every branch against the sandbox over HTTP.
 */

export interface ResilienceOptions {
  /** Retries after the first attempt, for safe calls. */
  retries?: number;
  /** First backoff delay (exponential with decorrelated jitter from there). */
  retryInitialDelayMs?: number;
  /** Longest backoff delay between two attempts. */
  retryMaxDelayMs?: number;
  /**
   * A 429 whose Retry-After asks for longer than this is not retried: the call fails at once with
   * UPSTREAM_RATE_LIMITED and `retryAfterMs`, so the field fails fast instead of hanging.
   */
  maxRetryAfterMs?: number;
  /** Consecutive failed calls (5xx, reset, timeout; after their retries) that open the breaker. */
  breakerThreshold?: number;
  /** How long the breaker stays open before it lets one probe through (half-open). */
  breakerCooldownMs?: number;
  /** Calls in flight to this provider at once. */
  maxConcurrent?: number;
  /** Calls waiting for a slot; one more is refused at once. */
  maxQueue?: number;
  /** Calls per interval on our side (Connect: 100/s per client); none when absent. */
  rateLimit?: { limit: number; intervalMs: number };
}

export const RESILIENCE_DEFAULTS = {
  retries: 2,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 1_000,
  maxRetryAfterMs: 2_000,
  breakerThreshold: 5,
  breakerCooldownMs: 10_000,
  maxConcurrent: 32,
  maxQueue: 1_000,
} as const;

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Jitter added to an advised Retry-After, so a fanned-out batch does not retry in one burst. */
const RETRY_AFTER_JITTER_MS = 250;

/** A provider that is down or overloaded: what the breaker counts and what a retry may cure. */
function isOutage(err: unknown): err is UpstreamError {
  return (
    err instanceof UpstreamError && (err.code === 'UPSTREAM_UNAVAILABLE' || err.code === 'UPSTREAM_TIMEOUT')
  );
}

/** Why a call was refused before (or instead of) reaching the provider; translated in execute(). */
class Refused extends Error {
  constructor(readonly reason: 'deadline' | 'circuit-open' | 'bulkhead-full') {
    super(reason);
  }
}

/**
 * The whole call's deadline as its attempts see it: `aborted` once it has passed, and one cancel
 * hook for what is in flight (an undici request, a retry's wait; one at a time, since attempts
 * run one after another). Plays the part of an AbortSignal without the EventTarget, listener
 * bookkeeping and abort event that an AbortController costs on every upstream call.
 */
export class Deadline {
  aborted = false;
  private cancel: (() => void) | null = null;

  /** @param expiresAt when the deadline passes, on performance.now()'s clock. */
  constructor(readonly expiresAt: number) {}

  /** Sets (or with null, clears) what to cancel when the deadline passes. */
  onAbort(cancel: (() => void) | null): void {
    this.cancel = cancel;
  }

  /** @internal Called by the deadline's timer. */
  abort(): void {
    this.aborted = true;
    const cancel = this.cancel;
    this.cancel = null;
    cancel?.();
  }
}

/** Waits `ms`, or less if the deadline passes first. */
function wait(ms: number, deadline: Deadline): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    deadline.onAbort(() => {
      clearTimeout(timer);
      resolve();
    });
  }).then(() => deadline.onAbort(null));
}

type Run = <T>(deadline: Deadline, fn: (deadline: Deadline) => Promise<T>) => Promise<T>;

export class ProviderResilience {
  private readonly o: Required<Omit<ResilienceOptions, 'rateLimit'>>;
  private readonly limited: Run | null;
  // Circuit breaker.
  private breaker: BreakerState = 'closed';
  private consecutiveOutages = 0;
  private openedAt = 0;
  // Bulkhead: calls holding a slot, and the waiters a finishing call hands its slot to (FIFO).
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly provider: ProviderName,
    private readonly timeoutMs: number,
    options: ResilienceOptions = {},
  ) {
    const { rateLimit, ...rest } = options;
    this.o = { ...RESILIENCE_DEFAULTS, ...rest };
    if (rateLimit) {
      const limiter = new SlidingWindowLimiter(rateLimit.limit, rateLimit.intervalMs);
      this.limited = async (deadline, fn) => {
        // A call that could not start before its deadline books no start: under overload, calls
        // timing out in the queue must not push the schedule of every later call further out.
        const delay = limiter.reserve(deadline.expiresAt - performance.now());
        if (delay === Number.POSITIVE_INFINITY) throw new Refused('deadline');
        if (delay > 0) await wait(delay, deadline);
        if (deadline.aborted) throw new Refused('deadline');
        return fn(deadline);
      };
    } else {
      this.limited = null;
    }
  }

  /**
   * Runs `attempt` (once, or with retries when `safe`) under the chain above. Failures arrive as
   * UpstreamError: the attempt's own, or UPSTREAM_TIMEOUT (deadline), UPSTREAM_CIRCUIT_OPEN,
   * UPSTREAM_UNAVAILABLE (bulkhead full). When the deadline passes, the attempt in flight is
   * cancelled through its Deadline hook and the call rejects at once, whether the attempt honours
   * the cancellation or not.
   */
  execute<T>(safe: boolean, endpoint: string, attempt: (deadline: Deadline) => Promise<T>): Promise<T> {
    const deadline = new Deadline(performance.now() + this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        deadline.abort();
        reject(this.translate(new Refused('deadline'), endpoint));
      }, this.timeoutMs);
      this.run(safe, deadline, attempt).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(this.translate(err, endpoint));
        },
      );
    });
  }

  /** Bulkhead, breaker and retries in one async function (each extra async layer costs a promise per call). */
  private async run<T>(safe: boolean, deadline: Deadline, attempt: (d: Deadline) => Promise<T>): Promise<T> {
    // Bulkhead.
    if (this.active < this.o.maxConcurrent) {
      this.active++;
    } else if (this.waiting.length < this.o.maxQueue) {
      // The finishing call hands this one its slot: `active` already counts it when the wait ends.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      throw new Refused('bulkhead-full');
    }
    try {
      if (deadline.aborted) throw new Refused('deadline');
      // Circuit breaker: fail fast while open; the first call after the cool-down is the probe.
      let probe = false;
      if (this.breaker !== 'closed') {
        if (this.breaker === 'half-open' || Date.now() - this.openedAt < this.o.breakerCooldownMs) {
          throw new Refused('circuit-open');
        }
        this.breaker = 'half-open';
        probe = true;
      }
      try {
        // Retries (safe calls only), exponential with decorrelated jitter unless the provider
        // said when to come back.
        let backoff = this.o.retryInitialDelayMs;
        for (let retry = 0; ; retry++) {
          try {
            const value = await (this.limited ? this.limited(deadline, attempt) : attempt(deadline));
            this.consecutiveOutages = 0;
            if (probe) this.breaker = 'closed';
            return value;
          } catch (err) {
            if (!safe || retry >= this.o.retries || deadline.aborted || !this.retryable(err)) throw err;
            const first = this.o.retryInitialDelayMs;
            backoff = Math.min(this.o.retryMaxDelayMs, first + Math.random() * (backoff * 3 - first));
            await wait(
              err.retryAfterMs !== null
                ? err.retryAfterMs + Math.floor(Math.random() * RETRY_AFTER_JITTER_MS)
                : backoff,
              deadline,
            );
            if (deadline.aborted) throw err;
          }
        }
      } catch (err) {
        if (isOutage(err)) {
          if (probe || ++this.consecutiveOutages >= this.o.breakerThreshold) {
            this.breaker = 'open';
            this.openedAt = Date.now();
            this.consecutiveOutages = 0;
          }
        } else if (probe) {
          // The provider answered (a 4xx, say): it is up again. A probe that never reached it (our
          // own rate limit outlasted the deadline) proves nothing: the next call probes again.
          this.breaker = err instanceof Refused ? 'open' : 'closed';
        }
        throw err;
      }
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private retryable(err: unknown): err is UpstreamError {
    return (
      err instanceof UpstreamError &&
      (err.code === 'UPSTREAM_UNAVAILABLE' ||
        (err.code === 'UPSTREAM_TIMEOUT' && err.status !== null) ||
        (err.code === 'UPSTREAM_RATE_LIMITED' && (err.retryAfterMs ?? 0) <= this.o.maxRetryAfterMs))
    );
  }

  /** 'open' while calls fail fast (until a call after the cool-down becomes the probe). */
  state(): BreakerState {
    return this.breaker;
  }

  /** Calls holding a slot, and calls queued for one. */
  load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  private translate(err: unknown, endpoint: string): unknown {
    if (!(err instanceof Refused)) return err;
    switch (err.reason) {
      case 'circuit-open':
        return new UpstreamError(
          this.provider,
          'UPSTREAM_CIRCUIT_OPEN',
          null,
          `${this.provider} ${endpoint} not called: the circuit is open after repeated failures`,
          endpoint,
        );
      case 'bulkhead-full':
        return new UpstreamError(
          this.provider,
          'UPSTREAM_UNAVAILABLE',
          null,
          `${this.provider} ${endpoint} not called: too many calls to ${this.provider} in flight`,
          endpoint,
        );
      default:
        return new UpstreamError(
          this.provider,
          'UPSTREAM_TIMEOUT',
          null,
          `${this.provider} ${endpoint} did not answer within ${this.timeoutMs} ms`,
          endpoint,
        );
    }
  }
}

/** The provider deps that come from configuration (the rest keep the defaults above). */
export function resilienceDeps(
  config: Pick<
    BaseConfig,
    'NODE_ENV' | 'UPSTREAM_BREAKER_THRESHOLD' | 'UPSTREAM_BREAKER_COOLDOWN_MS' | 'CONNECT_CALLS_PER_SECOND'
  >,
): { resilience: Omit<ResilienceOptions, 'rateLimit'>; connectCallsPerSecond: number } {
  return {
    resilience: {
      breakerThreshold:
        config.UPSTREAM_BREAKER_THRESHOLD ??
        (config.NODE_ENV === 'test' ? Number.MAX_SAFE_INTEGER : RESILIENCE_DEFAULTS.breakerThreshold),
      breakerCooldownMs: config.UPSTREAM_BREAKER_COOLDOWN_MS,
    },
    connectCallsPerSecond: config.CONNECT_CALLS_PER_SECOND,
  };
}
