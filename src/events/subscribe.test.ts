import { describe, expect, it } from 'vitest';
import { eventMatcher } from './subscribe.js';
import type { StoredEvent } from './types.js';

const ref = (v: string) => `ref:${v}`;
const event = (over: Partial<StoredEvent>): StoredEvent =>
  ({ cursor: '1', kind: 'PERSON_CHANGED', provider: 'byndle', ...over }) as StoredEvent;

describe('eventMatcher', () => {
  it('gives subscribers with the same subject-free filter one shared matcher', () => {
    const a = eventMatcher({ kinds: ['PERSON_CHANGED'], providers: ['byndle'] }, ref);
    const b = eventMatcher({ kinds: ['PERSON_CHANGED'], providers: ['byndle'] }, ref);
    expect(b).toBe(a);
    expect(a(event({}))).toBe(true);
    expect(a(event({ provider: 'bisnode' }))).toBe(false);
    const other = eventMatcher({ kinds: ['PERSON_CHANGED'], providers: ['bisnode'] }, ref);
    expect(other).not.toBe(a);
    expect(other(event({ provider: 'bisnode' }))).toBe(true);
  });

  it('keeps a matcher of its own for every filter that names a subject', () => {
    const person = { byndleId: ref('b-1') };
    const a = eventMatcher({ person }, ref);
    const b = eventMatcher({ person }, ref);
    expect(b).not.toBe(a);
    expect(a(event({ person: { byndleId: 'b-1' } } as Partial<StoredEvent>))).toBe(true);
    expect(a(event({ person: { byndleId: 'b-2' } } as Partial<StoredEvent>))).toBe(false);
    expect(eventMatcher({ externalId: 'x' }, ref)).not.toBe(eventMatcher({ externalId: 'x' }, ref));
  });
});
