import { z } from 'zod';

/**
 * Fault injection per provider, set through the control API. Rates are probabilities (0-1)
 * drawn from a seeded generator so a run with the same faults and requests fails the same way.
 * `times` limits a fault to the next N matching requests (e.g. "one 429, then succeed").
 */
export const faultConfigSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(120_000).default(0),
    errorRate: z.number().min(0).max(1).default(0),
    errorStatus: z.number().int().min(400).max(599).default(503),
    rateLimitRate: z.number().min(0).max(1).default(0),
    retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
    resetRate: z.number().min(0).max(1).default(0),
    malformedJsonRate: z.number().min(0).max(1).default(0),
    /** Only requests whose path contains this string are affected; empty means all. */
    pathIncludes: z.string().default(''),
    /** Apply to at most this many matching requests, then clear; 0 means no limit. */
    times: z.number().int().min(0).default(0),
  })
  .strict();

export type FaultConfig = z.infer<typeof faultConfigSchema>;

export type FaultAction =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'error'; latencyMs: number; status: number }
  | { kind: 'rateLimit'; latencyMs: number; retryAfterSeconds: number }
  | { kind: 'reset'; latencyMs: number }
  | { kind: 'malformedJson'; latencyMs: number };

/** mulberry32: tiny, fast, good enough for fault dice. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  private config: FaultConfig | null = null;
  private remaining = 0;
  private dice: () => number;

  constructor(private readonly seed = 7) {
    this.dice = rng(seed);
  }

  set(config: FaultConfig): void {
    this.config = config;
    this.remaining = config.times;
  }

  get(): FaultConfig | null {
    return this.config;
  }

  clear(): void {
    this.config = null;
    this.remaining = 0;
    this.dice = rng(this.seed);
  }

  /** Decide what happens to one request. */
  draw(path: string): FaultAction {
    const c = this.config;
    if (!c || (c.pathIncludes && !path.includes(c.pathIncludes))) return { kind: 'none', latencyMs: 0 };
    if (c.times > 0) {
      if (this.remaining <= 0) return { kind: 'none', latencyMs: 0 };
      this.remaining -= 1;
      if (this.remaining === 0) this.config = null;
    }
    const latencyMs = c.latencyMs;
    if (c.resetRate > 0 && this.dice() < c.resetRate) return { kind: 'reset', latencyMs };
    if (c.rateLimitRate > 0 && this.dice() < c.rateLimitRate)
      return { kind: 'rateLimit', latencyMs, retryAfterSeconds: c.retryAfterSeconds };
    if (c.errorRate > 0 && this.dice() < c.errorRate)
      return { kind: 'error', latencyMs, status: c.errorStatus };
    if (c.malformedJsonRate > 0 && this.dice() < c.malformedJsonRate)
      return { kind: 'malformedJson', latencyMs };
    return { kind: 'none', latencyMs };
  }
}
