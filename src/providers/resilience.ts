import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IBackoff,
  type IBackoffFactory,
  type IDefaultPolicyContext,
  type IPolicy,
  type IRetryBackoffContext,
} from 'cockatiel';
import pThrottle from 'p-throttle';
import type { BaseConfig, ProviderName } from '../config.js';
import { UpstreamError } from './errors.js';

/**
 * Upstream resilience, one set of policies per provider (cockatiel, plus p-throttle for the
 * partner's calls-per-second limit). The chain, outermost first:
 *
 *   deadline (timeoutMs for the whole call, queueing and retries included)
 *   -> bulkhead (maxConcurrent in flight, maxQueue waiting; beyond that fail fast)
 *   -> circuit breaker (counts failed calls, fails fast while open, probes after the cool-down)
 *   -> retry (safe calls only: GET, or a request marked `idempotent`)
 *   -> rate limiter (only where configured: Connect)
 *   -> one attempt
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

/** Backoff that follows Retry-After when the provider gave one, else exponential with jitter. */
function retryAfterBackoff(exp: IBackoffFactory<unknown>): IBackoffFactory<IRetryBackoffContext<unknown>> {
  return {
    next(context): IBackoff<IRetryBackoffContext<unknown>> {
      const step = exp.next(context);
      const err = 'error' in context.result ? context.result.error : undefined;
      const advised = err instanceof UpstreamError ? err.retryAfterMs : null;
      const duration =
        advised !== null ? advised + Math.floor(Math.random() * RETRY_AFTER_JITTER_MS) : step.duration;
      return { duration, ...retryAfterBackoff(step) };
    },
  };
}

type Run = <T>(signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * The whole-call deadline: rejects with TaskCancelledError after `ms` and aborts the signal given
 * to `fn` (which cancels the undici request), whether `fn` honours the signal or not. Same
 * behaviour as cockatiel's aggressive timeout without abortOnReturn, at about a third of its cost
 * per call (cockatiel derives a second AbortController, an event emitter and a listener per call:
 * ~12 of the ~22 µs the four policies took per upstream call, the largest policy cost in S3).
 */
function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort();
      reject(new TaskCancelledError(`Operation timed out after ${ms}ms`));
    }, ms);
    fn(controller.signal).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        // Passed on unchanged (translate() and the callers match on the very error thrown).
        reject(err as Error);
      },
    );
  });
}

export class ProviderResilience {
  private readonly breaker;
  private readonly safe: IPolicy<IDefaultPolicyContext, unknown>;
  private readonly unsafe: IPolicy<IDefaultPolicyContext, unknown>;
  private readonly bulkheadPolicy;
  private readonly limited: Run;

  constructor(
    private readonly provider: ProviderName,
    private readonly timeoutMs: number,
    options: ResilienceOptions = {},
  ) {
    const o = { ...RESILIENCE_DEFAULTS, ...options };
    // The deadline is withDeadline() around these policies (see execute): a finished call's signal
    // is never aborted (that built a DOMException per call, ~4 % of CPU in the S1 profile).
    this.bulkheadPolicy = bulkhead(o.maxConcurrent, o.maxQueue);
    this.breaker = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: o.breakerCooldownMs,
      breaker: new ConsecutiveBreaker(o.breakerThreshold),
    });
    const retryable = (err: Error) =>
      err instanceof UpstreamError &&
      (err.code === 'UPSTREAM_UNAVAILABLE' ||
        // A 504/408 answered by the provider; our own deadline is never retried (no time left).
        (err.code === 'UPSTREAM_TIMEOUT' && err.status !== null) ||
        (err.code === 'UPSTREAM_RATE_LIMITED' && (err.retryAfterMs ?? 0) <= o.maxRetryAfterMs));
    const retryPolicy = retry(handleWhen(retryable), {
      maxAttempts: o.retries,
      backoff: retryAfterBackoff(
        new ExponentialBackoff({ initialDelay: o.retryInitialDelayMs, maxDelay: o.retryMaxDelayMs }),
      ),
    });
    // The breaker sits outside the retry: it counts failed calls, not attempts, and an open
    // circuit is not retried.
    this.safe = wrap(this.bulkheadPolicy, this.breaker, retryPolicy);
    this.unsafe = wrap(this.bulkheadPolicy, this.breaker);

    if (o.rateLimit) {
      // strict: at most `limit` calls in ANY interval (a sliding window), not per fixed window,
      // since the partner's window opens at our first call, not on a boundary we can see.
      const throttle = pThrottle({
        limit: o.rateLimit.limit,
        interval: o.rateLimit.intervalMs,
        strict: true,
      });
      const gate = throttle(() => undefined);
      this.limited = async (signal, fn) => {
        await gate();
        // The deadline may have passed while queued: then the slot is spent, but no call is made.
        if (signal.aborted) throw new TaskCancelledError();
        return fn(signal);
      };
    } else {
      this.limited = (signal, fn) => fn(signal);
    }
  }

  /**
   * Runs one upstream call under the provider's policies. `safe` calls (reads) are retried;
   * others are attempted exactly once. Policy failures come out as UpstreamError.
   */
  async execute<T>(
    safe: boolean,
    endpoint: string,
    attempt: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const policy = safe ? this.safe : this.unsafe;
    try {
      return (await withDeadline(this.timeoutMs, (deadline) =>
        policy.execute(({ signal }) => this.limited(signal, attempt), deadline),
      )) as T;
    } catch (err) {
      throw this.translate(err, endpoint);
    }
  }

  /** The breaker's state, for metrics and readiness. */
  state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Calls in flight and waiting (bulkhead), for metrics. */
  load(): { active: number; queued: number } {
    const o = this.bulkheadPolicy;
    const capacity = (o as unknown as { capacity: number }).capacity;
    const queueCapacity = (o as unknown as { queueCapacity: number }).queueCapacity;
    return { active: capacity - o.executionSlots, queued: queueCapacity - o.queueSlots };
  }

  private translate(err: unknown, endpoint: string): unknown {
    if (err instanceof UpstreamError) return err;
    if (err instanceof BrokenCircuitError) {
      return new UpstreamError(
        this.provider,
        'UPSTREAM_CIRCUIT_OPEN',
        null,
        `${this.provider} ${endpoint} not called: the circuit is open after repeated failures`,
        endpoint,
      );
    }
    if (err instanceof BulkheadRejectedError) {
      return new UpstreamError(
        this.provider,
        'UPSTREAM_UNAVAILABLE',
        null,
        `${this.provider} ${endpoint} not called: too many calls to ${this.provider} in flight`,
        endpoint,
      );
    }
    if (err instanceof TaskCancelledError) {
      return new UpstreamError(
        this.provider,
        'UPSTREAM_TIMEOUT',
        null,
        `${this.provider} ${endpoint} did not answer within ${this.timeoutMs} ms`,
        endpoint,
      );
    }
    return err;
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
