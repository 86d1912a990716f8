import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createClient as createRedisClient } from '@keyv/redis';
import { startGatewayOn, TEST_HEADERS } from '../helpers/gateway.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { Nordgraph } from '../../src/app.js';
import { RedisEventLog } from '../../src/events/log.js';

/**
 * Two real nordgraph instances on one Redis (and one sandbox): a webhook received by A reaches a
 * subscriber on B exactly once, and a restart of A loses no acknowledged event. Each run uses
 * its own event-log key prefix, so the stream starts empty and holds only this run's events.
 */

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

const run = `${process.pid}-${Date.now()}`;
const SECRET = `two-instances-secret-${run}`;
const env = () => ({
  REDIS_URL: redisUrl!,
  CACHE_KEY_SALT: `two-instances-salt-${run}`,
  EVENTS_KEY_PREFIX: `nordgraph-test:${run}:events:`,
  BISNODE_WEBHOOK_SECRETS: SECRET,
});

const EVENTS = `subscription($after: String) {
  events(after: $after) { cursor kind provider consumerIds }
}`;
interface Ev {
  events: { cursor: string; kind: string; provider: string; consumerIds: string[] };
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Counts follow() calls on an instance's log: a subscription's stream follows it once it listens live. */
function countTails(app: Nordgraph): () => number {
  let calls = 0;
  const follow = app.eventLog.follow.bind(app.eventLog);
  app.eventLog.follow = (subscriber) => {
    calls++;
    follow(subscriber);
  };
  return () => calls;
}

interface Sub {
  items: Ev['events'][];
  errors: unknown[];
  dispose(): Promise<void>;
}
function subscribe(app: Nordgraph, variables: Record<string, unknown> = {}): Sub {
  const client: Client = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { ...TEST_HEADERS },
    retryAttempts: 0,
  });
  const items: Ev['events'][] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe<Ev['events']>(
    { query: EVENTS, variables },
    {
      next: (msg) => {
        if (msg.errors) errors.push(...msg.errors);
        if (msg.data) items.push((msg.data as unknown as Ev).events);
      },
      error: (err) => errors.push(err),
      complete: () => undefined,
    },
  );
  return {
    items,
    errors,
    async dispose() {
      stop();
      await client.dispose();
    },
  };
}

/** Subscribes and waits until the instance tails the Redis stream (live events then reach it). */
async function subscribed(app: Nordgraph, tails: () => number, variables: Record<string, unknown> = {}) {
  const before = tails();
  const sub = subscribe(app, variables);
  await waitUntil('the subscription to tail the log', () => tails() > before || sub.errors.length > 0);
  expect(sub.errors).toEqual([]);
  await (app.eventLog as RedisEventLog).whenTailing();
  return sub;
}

/** A Bisnode delivery of one CONSUMER_IDENTIFIED, signed as Bisnode signs. */
function delivery(consumerId: string, id = randomUUID()): string {
  return JSON.stringify([
    {
      type: 'CONSUMER_IDENTIFIED',
      id,
      timestamp: new Date().toISOString(),
      consumerId,
      market: 'SE',
      gedi: `gedi-${consumerId}`,
      source: 'SPAR',
    },
  ]);
}
async function post(
  app: Nordgraph,
  body: string,
): Promise<{ status: number; stored: number; duplicates: number }> {
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${new URL(app.url).origin}/webhooks/bisnode`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ci-signature-timestamp': ts,
      'ci-signature-sha256': createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex'),
    },
    body,
  });
  const json = (await res.json().catch(() => ({}))) as { stored?: number; duplicates?: number };
  return { status: res.status, stored: json.stored ?? -1, duplicates: json.duplicates ?? -1 };
}

describe.skipIf(!redisUrl)('two nordgraph instances on one Redis', () => {
  let sandbox: Sandbox;
  let a: Nordgraph | null = null;
  let b: Nordgraph;
  let a2: Nordgraph | null = null;
  let bTails: () => number;
  const consumer = (n: number) => `C-${run}-${n}`;
  /** Cursors of every event acknowledged so far, in log order. */
  const acknowledged: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    a = await startGatewayOn(sandbox, env());
    b = await startGatewayOn(sandbox, env());
    expect(a.eventLog).toBeInstanceOf(RedisEventLog);
    expect(b.eventLog).toBeInstanceOf(RedisEventLog);
    bTails = countTails(b);
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await a2?.close();
    await b?.close();
    await sandbox?.close();
    // This run's keys only (its own prefix): the stream, dedupe keys and cursors.
    const redis = createRedisClient({ url: redisUrl! });
    await redis.connect();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${env().EVENTS_KEY_PREFIX}*`, COUNT: 1000 }))
      keys.push(...batch);
    if (keys.length > 0) await redis.del(keys);
    await redis.close();
  });

  it("delivers a webhook received by A to B's subscriber exactly once, redeliveries included", async () => {
    const sub = await subscribed(b, bTails);
    try {
      const body = delivery(consumer(1));
      expect(await post(a!, body)).toEqual({ status: 200, stored: 1, duplicates: 0 });
      await waitUntil('B to receive the event', () => sub.items.length >= 1 || sub.errors.length > 0);
      expect(sub.errors).toEqual([]);
      expect(sub.items[0]).toMatchObject({
        kind: 'CONSUMER_IDENTIFIED',
        provider: 'BISNODE',
        consumerIds: [consumer(1)],
      });
      // The provider redelivers, to A and to B: both acknowledge, neither publishes again.
      expect(await post(a!, body)).toEqual({ status: 200, stored: 0, duplicates: 1 });
      expect(await post(b, body)).toEqual({ status: 200, stored: 0, duplicates: 1 });
      // A later event proves the stream moved on; the first still arrived once only.
      expect((await post(a!, delivery(consumer(2)))).stored).toBe(1);
      await waitUntil('B to receive the second event', () => sub.items.length >= 2);
      await new Promise((r) => setTimeout(r, 500));
      expect(sub.items.map((e) => e.consumerIds[0])).toEqual([consumer(1), consumer(2)]);
      acknowledged.push(...sub.items.map((e) => e.cursor));
    } finally {
      await sub.dispose();
    }
  });

  it('loses no acknowledged event when A is closed and restarted on the same Redis', async () => {
    // Acknowledged by A just before it goes away.
    const beforeRestart = [3, 4].map((n) => delivery(consumer(n)));
    for (const body of beforeRestart) expect((await post(a!, body)).stored).toBe(1);
    const onA = await a!.eventLog.readAfter(acknowledged.at(-1)!, 100);
    expect(onA.map((e) => e.consumerIds?.[0])).toEqual([consumer(3), consumer(4)]);
    acknowledged.push(...onA.map((e) => e.cursor));
    await a!.close();
    a = null;

    // While A is down, B acknowledges one more.
    expect((await post(b, delivery(consumer(5)))).stored).toBe(1);

    a2 = await startGatewayOn(sandbox, env());
    const a2Tails = countTails(a2);
    // Resume from the first event's cursor: everything after it, in order, then live events.
    const sub = await subscribed(a2, a2Tails, { after: acknowledged[0] });
    try {
      expect((await post(a2, delivery(consumer(6)))).stored).toBe(1);
      await waitUntil('A′ to replay and go live', () => sub.items.length >= 5 || sub.errors.length > 0);
      await new Promise((r) => setTimeout(r, 500));
      expect(sub.errors).toEqual([]);
      expect(sub.items.map((e) => e.consumerIds[0])).toEqual([2, 3, 4, 5, 6].map(consumer));
      expect(sub.items.slice(0, 3).map((e) => e.cursor)).toEqual(acknowledged.slice(1));
      // A redelivery of an event A acknowledged before its restart is still a duplicate on A′.
      expect(await post(a2, beforeRestart[0]!)).toEqual({ status: 200, stored: 0, duplicates: 1 });
      expect(await a2.eventLog.readAfter(null, 100)).toHaveLength(6);
    } finally {
      await sub.dispose();
    }
  });
});
