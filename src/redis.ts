import { createClient } from '@keyv/redis';

export type RedisClient = ReturnType<typeof createClient>;

/**
 * A Redis connection opened on first use, for the small stores that each keep their own
 * (idempotency, poll and reconcile cursors). Commands fail at once while Redis is away
 * (no offline queue), so callers see the outage instead of hanging; a failed connect is
 * retried by the next command.
 */
export class LazyRedis {
  private readonly client: RedisClient;
  private ready: Promise<unknown> | null = null;

  constructor(url: string) {
    this.client = createClient({ url, disableOfflineQueue: true });
    // Errors surface on the awaiting command; the listener keeps them from crashing the process.
    this.client.on('error', () => undefined);
  }

  async get(): Promise<RedisClient> {
    this.ready ??= this.client.connect().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    await this.ready;
    return this.client;
  }

  async close(): Promise<void> {
    if (this.client.isReady) await this.client.close().catch(() => this.client.destroy());
    else if (this.client.isOpen) this.client.destroy();
  }
}
