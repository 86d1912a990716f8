import { afterAll, describe, expect, it } from 'vitest';
import { Idempotency, MemoryIdempotencyStore, RedisIdempotencyStore } from './idempotency.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

const stores = [
  ['memory', () => new MemoryIdempotencyStore()] as const,
  ...(redisUrl
    ? [
        [
          'redis',
          () => new RedisIdempotencyStore(redisUrl, `test:idem:${process.pid}:${Date.now()}:`),
        ] as const,
      ]
    : []),
];

const opened: Idempotency[] = [];
afterAll(async () => {
  await Promise.all(opened.map((i) => i.close()));
});

describe.each(stores)('idempotent writes (%s store)', (_name, make) => {
  const idem = new Idempotency(make(), { waitMs: 2_000 });
  opened.push(idem);

  it('writes once and replays the first result for a retry with the same key', async () => {
    let writes = 0;
    const write = async () => ({ n: ++writes });
    const a = await idem.run('op', 'caller', 'k-1', { x: 1 }, write);
    const b = await idem.run('op', 'caller', 'k-1', { x: 1 }, write);
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({ n: 1 });
    expect(writes).toBe(1);
  });

  it('makes concurrent retries wait for the first outcome instead of writing twice', async () => {
    let writes = 0;
    const write = async () => {
      writes += 1;
      await new Promise((r) => setTimeout(r, 100));
      return writes;
    };
    const results = await Promise.all([1, 2, 3].map(() => idem.run('op', 'caller', 'k-2', {}, write)));
    expect(results).toEqual([1, 1, 1]);
    expect(writes).toBe(1);
  });

  it('refuses a key reused with different input', async () => {
    await idem.run('op', 'caller', 'k-3', { a: 1 }, async () => 'first');
    await expect(idem.run('op', 'caller', 'k-3', { a: 2 }, async () => 'second')).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argument: 'idempotencyKey' },
    });
  });

  it('releases the key when the write fails, so a retry can write', async () => {
    await expect(
      idem.run('op', 'caller', 'k-4', {}, async () => Promise.reject(new Error('upstream down'))),
    ).rejects.toThrow('upstream down');
    expect(await idem.run('op', 'caller', 'k-4', {}, async () => 'ok')).toBe('ok');
  });

  it('keeps keys of different callers apart', async () => {
    expect(await idem.run('op', 'alice', 'k-5', {}, async () => 'a')).toBe('a');
    expect(await idem.run('op', 'bob', 'k-5', {}, async () => 'b')).toBe('b');
  });

  it('rejects a malformed key with BAD_USER_INPUT', async () => {
    await expect(idem.run('op', 'c', 'has space', {}, async () => 1)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});
