import { createHash, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import {
  InvalidCursorError,
  MemoryEventLog,
  RedisEventLog,
  createEventLog,
  type RedisEventLogOptions,
} from './log.js';
import type { DomainEventInput, EventLog, StoredEvent } from './types.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

// One prefix per run, so this run never sees another run's stream or dedupe keys.
const runPrefix = `nordgraph-test:events:${process.pid}-${Date.now()}:`;
let logCounter = 0;

const event = (sourceId: string, over: Partial<DomainEventInput> = {}): DomainEventInput => ({
  provider: 'byndle',
  sourceId,
  kind: 'PERSON_CHANGED',
  occurredAt: '2025-01-02T03:04:05.000Z',
  person: { byndleId: 'b-1', market: 'NO' },
  changedFields: ['MOBILE'],
  sourceTypes: ['mobNr.changed'],
  ...over,
});

/** Resolves when `n` events have been collected, or rejects after `ms`. */
function collect(log: EventLog, n: number, ms = 10_000) {
  const seen: StoredEvent[] = [];
  let unsubscribe: () => void = () => undefined;
  const done = new Promise<StoredEvent[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tail got ${seen.length} of ${n} events`)), ms);
    unsubscribe = log.tail((e) => {
      seen.push(e);
      if (seen.length === n) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
  return { seen, done, unsubscribe: () => unsubscribe() };
}

/** For Redis: wait until the tail loop knows where it starts (events appended on another instance). */
const tailing = async (log: EventLog) => {
  if (log instanceof RedisEventLog) await log.whenTailing();
};

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Make = (options?: Partial<RedisEventLogOptions>) => EventLog;

const open: EventLog[] = [];
afterAll(async () => {
  await Promise.all(open.map((l) => l.close()));
  if (redisUrl) {
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${runPrefix}*`, COUNT: 1000 }))
        keys.push(...[batch].flat().map(String));
      for (const k of keys) await client.del(k);
    } finally {
      await client.close();
    }
  }
});

const implementations: [string, boolean, () => Make][] = [
  [
    'MemoryEventLog',
    true,
    () => () => {
      const log = new MemoryEventLog();
      open.push(log);
      return log;
    },
  ],
  [
    'RedisEventLog',
    Boolean(redisUrl),
    () => {
      // Each test gets its own stream; instances made by one factory share it.
      const prefix = `${runPrefix}${++logCounter}:`;
      return (options = {}) => {
        const log = new RedisEventLog({ url: redisUrl!, prefix, blockMs: 1_000, ...options });
        open.push(log);
        return log;
      };
    },
  ],
];

for (const [name, enabled, factory] of implementations) {
  describe.skipIf(!enabled)(name, () => {
    it('stores appended events and reads them back in order with their cursors', async () => {
      const log = factory()();
      expect(await log.head()).toBeNull();
      expect(await log.readAfter(null, 10)).toEqual([]);
      const r1 = await log.append([event('a'), event('b')]);
      const r2 = await log.append([
        event('c', { provider: 'bisnode', kind: 'LIFE_EVENT', details: { p: 0.5 } }),
      ]);
      expect(r1.duplicates).toBe(0);
      expect(r1.stored.map((e) => e.sourceId)).toEqual(['a', 'b']);
      const all = await log.readAfter(null, 10);
      expect(all.map((e) => e.sourceId)).toEqual(['a', 'b', 'c']);
      expect(all).toEqual([...r1.stored, ...r2.stored]);
      expect(all[2]).toMatchObject({ provider: 'bisnode', kind: 'LIFE_EVENT', details: { p: 0.5 } });
      expect(typeof all[0]!.receivedAt).toBe('string');
      expect(await log.head()).toBe(all[2]!.cursor);
      expect(await log.readAfter(null, 2)).toEqual(all.slice(0, 2));
      expect(await log.readAfter(null, 0)).toEqual([]);
    });

    it('stores a redelivered event once, across calls and within one batch', async () => {
      const log = factory()();
      const first = await log.append([event('dup-1')]);
      expect(first).toMatchObject({ duplicates: 0 });
      const again = await log.append([event('dup-1')]);
      expect(again).toEqual({ stored: [], duplicates: 1 });
      const batch = await log.append([event('dup-2'), event('dup-2'), event('dup-1'), event('dup-3')]);
      expect(batch.duplicates).toBe(2);
      expect(batch.stored.map((e) => e.sourceId)).toEqual(['dup-2', 'dup-3']);
      // The same id from another provider is another event.
      const other = await log.append([event('dup-1', { provider: 'bisnode' })]);
      expect(other.duplicates).toBe(0);
      expect((await log.readAfter(null, 100)).map((e) => `${e.provider}:${e.sourceId}`)).toEqual([
        'byndle:dup-1',
        'byndle:dup-2',
        'byndle:dup-3',
        'bisnode:dup-1',
      ]);
    });

    it('reads strictly after a cursor, and rejects a cursor it never handed out', async () => {
      const log = factory()();
      const { stored } = await log.append(['r1', 'r2', 'r3', 'r4'].map((id) => event(id)));
      expect((await log.readAfter(stored[1]!.cursor, 10)).map((e) => e.sourceId)).toEqual(['r3', 'r4']);
      expect((await log.readAfter(stored[1]!.cursor, 1)).map((e) => e.sourceId)).toEqual(['r3']);
      expect(await log.readAfter(stored[3]!.cursor, 10)).toEqual([]);
      await expect(log.readAfter('not-a-cursor', 10)).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('tails live events in log order, and stops after unsubscribe', async () => {
      const log = factory()();
      await log.append([event('before')]);
      const c = collect(log, 3);
      await tailing(log);
      await log.append([event('t1'), event('t2')]);
      await log.append([event('t3')]);
      const got = await c.done;
      expect(got.map((e) => e.sourceId)).toEqual(['t1', 't2', 't3']);
      expect(got).toEqual(await log.readAfter((await log.readAfter(null, 1))[0]!.cursor, 10));
      c.unsubscribe();
      await log.append([event('t4')]);
      await settle(200);
      expect(c.seen).toHaveLength(3);
    });

    it('delivers live events to a followed subscriber object, and none after unfollow', async () => {
      const log = factory()();
      const seen: string[] = [];
      const subscriber = { onEvent: (e: StoredEvent) => void seen.push(e.sourceId) };
      log.follow(subscriber);
      await tailing(log);
      await log.append([event('f1'), event('f2')]);
      const deadline = Date.now() + 10_000;
      while (seen.length < 2 && Date.now() < deadline) await settle(10);
      expect(seen).toEqual(['f1', 'f2']);
      log.unfollow(subscriber);
      log.unfollow(subscriber);
      await log.append([event('f3')]);
      await settle(200);
      expect(seen).toEqual(['f1', 'f2']);
    });

    it('orders many concurrent appends the same way in readAfter and in tail', async () => {
      const log = factory()();
      const n = 200;
      const c = collect(log, n);
      await tailing(log);
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          log.append([event(`c${i}`, { provider: i % 2 ? 'bisnode' : 'byndle' })]),
        ),
      );
      expect(results.every((r) => r.stored.length === 1)).toBe(true);
      const tailed = await c.done;
      const read = await log.readAfter(null, n + 10);
      expect(read).toHaveLength(n);
      expect(tailed.map((e) => e.cursor)).toEqual(read.map((e) => e.cursor));
      const cursors = read.map((e) => e.cursor);
      // Cursors are strictly increasing (memory cursors also as strings).
      for (let i = 1; i < cursors.length; i++) {
        expect(
          name === 'MemoryEventLog'
            ? cursors[i]! > cursors[i - 1]!
            : cursorLess(cursors[i - 1]!, cursors[i]!),
        ).toBe(true);
      }
      c.unsubscribe();
    });

    it('tails an event appended on the same instance right after tail(), without waiting', async () => {
      const log = factory()();
      await log.append([event('old')]);
      const c = collect(log, 1);
      await log.append([event('new')]);
      expect((await c.done).map((e) => e.sourceId)).toEqual(['new']);
      c.unsubscribe();
      // Subscribing again after everyone left (the Redis loop may still be winding down).
      const again = collect(log, 1);
      await log.append([event('newer')]);
      expect((await again.done).map((e) => e.sourceId)).toEqual(['newer']);
      again.unsubscribe();
    });

    it('keeps a listener that throws from affecting the other listeners', async () => {
      const log = factory()();
      const unsubscribeBad = log.tail(() => {
        throw new Error('listener bug');
      });
      const c = collect(log, 2);
      await tailing(log);
      await log.append([event('x1'), event('x2')]);
      expect((await c.done).map((e) => e.sourceId)).toEqual(['x1', 'x2']);
      unsubscribeBad();
      c.unsubscribe();
    });

    it('reports healthy while it can be written', async () => {
      const log = factory()();
      expect(await log.healthy()).toBe(true);
      await log.close();
      expect(await log.healthy()).toBe(false);
    });
  });
}

/** Stream ids "ms-seq" compared numerically. */
function cursorLess(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am < bm || (am === bm && as < bs);
}

describe('MemoryEventLog specifics', () => {
  it('rejects appends while failWrites is on (the intake answers 503), and recovers', async () => {
    const log = new MemoryEventLog();
    log.failWrites(true);
    await expect(log.append([event('f1')])).rejects.toThrow(/failing/);
    expect(await log.healthy()).toBe(false);
    log.failWrites(false);
    // The failed event was not remembered as seen: its redelivery is stored.
    expect((await log.append([event('f1')])).stored).toHaveLength(1);
    expect(await log.healthy()).toBe(true);
  });

  it('forgets a sourceId after the dedupe window', async () => {
    const log = new MemoryEventLog({ dedupeTtlMs: 50 });
    await log.append([event('ttl')]);
    expect((await log.append([event('ttl')])).duplicates).toBe(1);
    await settle(80);
    expect((await log.append([event('ttl')])).stored).toHaveLength(1);
  });

  it('keeps only the newest maxEvents for readAfter, with cursors still in order', async () => {
    const log = new MemoryEventLog({ maxEvents: 3 });
    for (let i = 0; i < 10; i++) await log.append([event(`m${i}`)]);
    const all = await log.readAfter(null, 100);
    expect(all.map((e) => e.sourceId)).toEqual(['m7', 'm8', 'm9']);
    expect((await log.readAfter(all[0]!.cursor, 100)).map((e) => e.sourceId)).toEqual(['m8', 'm9']);
    // A cursor older than what is kept resumes at the oldest kept event.
    expect((await log.readAfter('0000000000000001', 100)).map((e) => e.sourceId)).toEqual(['m7', 'm8', 'm9']);
    expect(await log.head()).toBe(all[2]!.cursor);
  });

  it('delivers an event appended from inside a listener after the current one, to every listener', async () => {
    const log = new MemoryEventLog();
    const a: string[] = [];
    const b: string[] = [];
    log.tail((e) => {
      a.push(e.sourceId);
      if (e.sourceId === 'outer') void log.append([event('inner')]);
    });
    log.tail((e) => b.push(e.sourceId));
    await log.append([event('outer')]);
    await settle(10);
    expect(a).toEqual(['outer', 'inner']);
    expect(b).toEqual(['outer', 'inner']);
  });

  it('createEventLog gives memory without a Redis URL', async () => {
    const log = createEventLog({});
    expect(log).toBeInstanceOf(MemoryEventLog);
    await log.close();
  });
});

describe('RedisEventLog without a reachable Redis', () => {
  it('rejects an append when Redis cannot be reached, and is unhealthy', async () => {
    const log = new RedisEventLog({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300 });
    open.push(log);
    await expect(log.append([event('down')])).rejects.toThrow();
    expect(await log.healthy()).toBe(false);
  });
});

describe.skipIf(!redisUrl)('RedisEventLog across instances', () => {
  const twoOnOneStream = () => {
    const prefix = `${runPrefix}${++logCounter}:`;
    const make = () => {
      const log = new RedisEventLog({ url: redisUrl!, prefix, blockMs: 1_000 });
      open.push(log);
      return log;
    };
    return { prefix, make };
  };

  it('delivers an event appended on A exactly once to B and exactly once to A', async () => {
    const { make } = twoOnOneStream();
    const a = make();
    const b = make();
    const onA: StoredEvent[] = [];
    const onB: StoredEvent[] = [];
    a.tail((e) => onA.push(e));
    b.tail((e) => onB.push(e));
    // A second listener on B shares B's one connection and also gets each event once.
    const onB2: StoredEvent[] = [];
    b.tail((e) => onB2.push(e));
    await Promise.all([a.whenTailing(), b.whenTailing()]);
    const { stored } = await a.append([event('x-1'), event('x-2')]);
    // A redelivery that lands on B is a duplicate: dedupe is shared.
    expect(await b.append([event('x-1')])).toEqual({ stored: [], duplicates: 1 });
    await settle(1_500); // longer than one XREAD block, so a double delivery would show
    expect(onA).toEqual(stored);
    expect(onB).toEqual(stored);
    expect(onB2).toEqual(stored);
  });

  it('reads every acknowledged event after a restart of the instance that took them', async () => {
    const { make } = twoOnOneStream();
    const a = make();
    const acknowledged: StoredEvent[] = [];
    for (let i = 0; i < 20; i++) acknowledged.push(...(await a.append([event(`r-${i}`)])).stored);
    await a.close();
    const a2 = make();
    expect(await a2.readAfter(null, 100)).toEqual(acknowledged);
    // Its dedupe memory survived the restart too.
    expect(await a2.append([event('r-3')])).toEqual({ stored: [], duplicates: 1 });
    expect(await a2.head()).toBe(acknowledged.at(-1)!.cursor);
  });

  it('keys dedupe by provider and a hash of the source id under the prefix', async () => {
    const { prefix, make } = twoOnOneStream();
    const log = make();
    const sourceId = `secret-${randomUUID()}`;
    await log.append([event(sourceId)]);
    const client = createClient({ url: redisUrl! });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
        keys.push(...[batch].flat().map(String));
      expect(keys.sort()).toEqual([`${prefix}dedupe:byndle:${sha256Hex(sourceId)}`, `${prefix}stream`]);
      const ttl = await client.pTTL(`${prefix}dedupe:byndle:${sha256Hex(sourceId)}`);
      expect(ttl).toBeGreaterThan(71 * 3_600_000);
      expect(ttl).toBeLessThanOrEqual(72 * 3_600_000);
    } finally {
      await client.close();
    }
  });

  it('createEventLog gives Redis with a URL', async () => {
    const log = createEventLog({ redisUrl, prefix: `${runPrefix}factory:` });
    open.push(log);
    expect(log).toBeInstanceOf(RedisEventLog);
    expect(await log.healthy()).toBe(true);
  });
});

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
