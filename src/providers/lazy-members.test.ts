import { describe, expect, it } from 'vitest';
import { lazyMembers } from './lazy-members.js';

interface Set3 {
  a: { n: number };
  b: string;
  c: null;
}

describe('lazyMembers', () => {
  const make = lazyMembers<Set3>();

  it('makes each member on its first read, once, and never one that is not read', () => {
    const calls: string[] = [];
    const set = make({
      a: () => (calls.push('a'), { n: 1 }),
      b: () => (calls.push('b'), 'made'),
      c: () => (calls.push('c'), null),
    });
    expect(calls).toEqual([]);
    const first = set.a;
    expect(set.a).toBe(first);
    expect(first).toEqual({ n: 1 });
    // A member made as null is made once too, not again on every read.
    expect(set.c).toBeNull();
    expect(set.c).toBeNull();
    expect(calls).toEqual(['a', 'c']);
  });

  it('keeps the members of two sets apart', () => {
    const one = make({ a: () => ({ n: 1 }), b: () => 'one', c: () => null });
    const two = make({ a: () => ({ n: 2 }), b: () => 'two', c: () => null });
    expect([one.a.n, two.a.n, one.b, two.b]).toEqual([1, 2, 'one', 'two']);
  });

  it('lists every member, as a plain object would', () => {
    const set = make({ a: () => ({ n: 3 }), b: () => 'x', c: () => null });
    const keys: string[] = [];
    for (const k in set) keys.push(k);
    expect(keys.sort()).toEqual(['a', 'b', 'c']);
    // The set's own state is out of sight: no own string keys, nothing in JSON but its members.
    expect(Object.keys(set)).toEqual([]);
  });
});
