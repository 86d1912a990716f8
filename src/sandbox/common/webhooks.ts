import { randomUUID } from 'node:crypto';

export interface Delivery {
  id: string;
  provider: string;
  url: string;
  /** The exact bytes posted (signatures are computed over them). */
  body: string;
  attempts: number;
  state: 'pending' | 'delivered' | 'failed';
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
}

export interface WebhookSenderOptions {
  /** Delay before each redelivery; the last value repeats until maxAttempts. */
  retryDelaysMs?: number[];
  maxAttempts?: number;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Probability that a successful delivery is sent once more, as real providers do after a lost ack. */
  duplicateRate?: number;
}

/**
 * Outbound webhook delivery shared by the simulated providers: POSTs the body, and redelivers
 * with backoff until the receiver answers as the provider demands (Bisnode: 200; Byndle: 2xx).
 * Headers are rebuilt per attempt so a signature carries a fresh timestamp.
 */
export class WebhookSender {
  private readonly log: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private options: Required<WebhookSenderOptions>;

  constructor(options: WebhookSenderOptions = {}) {
    this.options = WebhookSender.withDefaults(options);
  }

  private static withDefaults(o: WebhookSenderOptions): Required<WebhookSenderOptions> {
    return {
      retryDelaysMs: o.retryDelaysMs ?? [250, 1_000, 5_000, 30_000],
      maxAttempts: o.maxAttempts ?? 10,
      timeoutMs: o.timeoutMs ?? 5_000,
      duplicateRate: o.duplicateRate ?? 0,
    };
  }

  configure(options: WebhookSenderOptions): void {
    this.options = WebhookSender.withDefaults({ ...this.options, ...options });
  }

  send(
    provider: string,
    url: string,
    body: string,
    headers: () => Record<string, string>,
    accept: (status: number) => boolean = (s) => s >= 200 && s < 300,
  ): Delivery {
    const delivery: Delivery = {
      id: randomUUID(),
      provider,
      url,
      body,
      attempts: 0,
      state: 'pending',
      lastStatus: null,
      lastError: null,
      createdAt: new Date().toISOString(),
    };
    this.log.push(delivery);
    this.attempt(delivery, headers, accept);
    return delivery;
  }

  private attempt(d: Delivery, headers: () => Record<string, string>, accept: (s: number) => boolean): void {
    const run = (async () => {
      d.attempts += 1;
      try {
        const res = await fetch(d.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers() },
          body: d.body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        d.lastStatus = res.status;
        d.lastError = null;
        if (accept(res.status)) {
          d.state = 'delivered';
          if (this.options.duplicateRate > 0 && Math.random() < this.options.duplicateRate) {
            this.schedule(10, () => this.duplicate(d, headers));
          }
          return;
        }
      } catch (err) {
        d.lastStatus = null;
        d.lastError = err instanceof Error ? err.name : 'Error';
      }
      if (d.attempts >= this.options.maxAttempts) {
        d.state = 'failed';
        return;
      }
      const delays = this.options.retryDelaysMs;
      const delay = delays[Math.min(d.attempts - 1, delays.length - 1)] ?? 1_000;
      this.schedule(delay, () => this.attempt(d, headers, accept));
    })();
    this.track(run);
  }

  private duplicate(d: Delivery, headers: () => Record<string, string>): void {
    const run = fetch(d.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers() },
      body: d.body,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    })
      .then((r) => r.arrayBuffer())
      .then(
        () => undefined,
        () => undefined,
      );
    this.track(run);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private schedule(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  deliveries(): Delivery[] {
    return [...this.log];
  }

  /** Resolves once nothing is in flight (scheduled retries may still follow). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.log.length = 0;
  }
}
