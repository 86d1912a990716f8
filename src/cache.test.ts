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
