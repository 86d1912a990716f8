import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamCache } from './cache.js';

const SALT = 'cache-test-salt-0123456789';

describe('the memory upstream cache', () => {
  const caches: UpstreamCache[] = [];
  const make = (maxEntries?: number) => {
    const c = new UpstreamCache({ keySalt: SALT, maxEntries });
    caches.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });

  it('hands back the stored value itself, frozen throughout, so no request can change what another reads', async () => {
    const cache = make();
    const value = { person: { names: ['Kari', 'Nordmann'], address: { city: 'Oslo' } } };
    const key = cache.key('personExtended', 'nationalId', '01017012345');
    await cache.set(key, value, 'personExtended');
    const hit = await cache.get<typeof value>(key);
    expect(hit).toBe(value);
    expect(Object.isFrozen(hit!.person.names)).toBe(true);
    expect(Object.isFrozen(hit!.person.address)).toBe(true);
    expect(() => hit!.person.names.push('x')).toThrow(TypeError);
    expect(() => {
      (hit!.person.address as { city: string }).city = 'Bergen';
    }).toThrow(TypeError);
    expect((await cache.get<typeof value>(key))!.person.address.city).toBe('Oslo');
  });

  it('tells a cached null from a miss, and reads through once', async () => {
    const cache = make();
    let loads = 0;
    const key = cache.key('person', 'nobody');
    const load = () => {
      loads += 1;
      return Promise.resolve(null);
    };
    expect(await cache.through(key, 'person', load)).toBeNull();
    expect(await cache.through(key, 'person', load)).toBeNull();
    expect(loads).toBe(1);
    expect(await cache.get(cache.key('person', 'someone else'))).toBeUndefined();
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const cache = make(100);
    const keys = Array.from({ length: 150 }, (_, i) => cache.key('vehicle', `AB${i}`));
    for (const [i, k] of keys.entries()) await cache.set(k, { i }, 'vehicle');
    expect(await cache.get(keys[0]!)).toBeUndefined();
    expect(await cache.get(keys[49]!)).toBeUndefined();
    expect(await cache.get<{ i: number }>(keys[50]!)).toEqual({ i: 50 });
    expect(await cache.get<{ i: number }>(keys[149]!)).toEqual({ i: 149 });
  });

  it('evicts every entry about a subject, and drops them with their subject index when the LRU drops that', async () => {
    const cache = make(100);
    const subject = cache.ref('01017012345');
    const a = cache.key('personExtended', 'nationalId', '01017012345');
    const b = cache.key('phones', 'nationalId', '01017012345');
    await cache.set(a, { p: 'a' }, 'personExtended', [subject]);
    await cache.set(b, { p: 'b' }, 'phones', [subject]);
    expect(await cache.evictSubject(subject)).toBe(2);
    expect(await cache.get(a)).toBeUndefined();
    expect(await cache.get(b)).toBeUndefined();

    // The entry stays in use, its index does not: when the index is dropped the entry goes too,
    // or a later eviction of the subject (an erasure request) would miss it.
    await cache.set(a, { p: 'a' }, 'personExtended', [subject]);
    for (let i = 0; i < 150; i++) {
      await cache.get(a);
      await cache.set(cache.key('vehicle', `CD${i}`), { i }, 'vehicle');
    }
    expect(await cache.get(a)).toBeUndefined();
  });

  it('lists every answer stored at once about one subject, so an eviction misses none', async () => {
    const cache = make();
    const subject = cache.ref('01017012345');
    const keys = Array.from({ length: 5 }, (_, i) => cache.key('personExtended', `k${i}`));
    await Promise.all(keys.map((k, i) => cache.set(k, { i }, 'personExtended', [subject])));
    expect(await cache.evictSubject(subject)).toBe(5);
    for (const k of keys) expect(await cache.get(k)).toBeUndefined();
  });

  it('keeps an answer just stored when storing it pushes out an older index that lists it', async () => {
    const cache = make(100);
    const subject = cache.ref('01017012345');
    const a = cache.key('personExtended', 'nationalId', '01017012345');
    await cache.set(a, { p: 1 }, 'personExtended', [subject]);
    // 99 more entries: `a` (the oldest) is pushed out, its subject's index is now the oldest.
    for (let i = 0; i < 99; i++) await cache.set(cache.key('vehicle', `EF${i}`), { i }, 'vehicle');
    expect(await cache.get(a)).toBeUndefined();
    // Storing `a` again pushes out that index, which still lists `a`: `a` stays, listed anew.
    await cache.set(a, { p: 2 }, 'personExtended', [subject]);
    expect(await cache.get(a)).toEqual({ p: 2 });
    expect(await cache.evictSubject(subject)).toBe(1);
    expect(await cache.get(a)).toBeUndefined();
  });

  it('stores values holding byte arrays (left unfrozen) without failing the read-through', async () => {
    const cache = make();
    const key = cache.key('vehicle', 'bytes');
    const value = await cache.through(key, 'vehicle', () => Promise.resolve({ raw: Buffer.from('ab') }));
    expect(Object.isFrozen(value)).toBe(true);
    expect((await cache.get<{ raw: Buffer }>(key))!.raw.toString()).toBe('ab');
  });
});

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

describe.runIf(redisUrl)('the Redis upstream cache (REDIS_URL)', () => {
  const caches: UpstreamCache[] = [];
  // A namespace of this run's own: two caches on it are two gateway instances sharing one Redis.
  const namespace = `test:cache:${process.pid}:${Date.now()}`;
  const instance = () => {
    const c = new UpstreamCache({ keySalt: SALT, redisUrl, namespace });
    caches.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });

  it('lists answers two instances store at once about one person, so an erasure on either misses none', async () => {
    const [a, b] = [instance(), instance()];
    // Twenty people, each looked up on both instances at the same moment.
    const people = Array.from({ length: 20 }, (_, i) => `0101701${String(i).padStart(4, '0')}`);
    await Promise.all(
      people.flatMap((id) => [
        a.set(a.key('personExtended', id), { on: 'a' }, 'personExtended', [a.ref(id)]),
        b.set(b.key('phones', id), { on: 'b' }, 'phones', [b.ref(id)]),
      ]),
    );
    for (const [i, id] of people.entries()) {
      const evicting = i % 2 === 0 ? a : b;
      expect(await evicting.evictSubject(evicting.ref(id))).toBe(2);
      expect(await a.get(a.key('personExtended', id))).toBeUndefined();
      expect(await b.get(b.key('phones', id))).toBeUndefined();
    }
  });

  it('stores an answer about nobody in particular without an index, and reads it on the other instance', async () => {
    const [a, b] = [instance(), instance()];
    const key = a.key('vehicle', 'AB12345');
    await a.set(key, { plate: 'AB12345' }, 'vehicle');
    expect(await b.get(key)).toEqual({ plate: 'AB12345' });
    expect(await b.evictSubject(b.ref('AB12345'))).toBe(0);
    expect(await b.get(key)).toEqual({ plate: 'AB12345' });
  });
});
