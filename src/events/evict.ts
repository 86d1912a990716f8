import type { UpstreamCache } from '../cache.js';
import type { DomainEventInput } from './types.js';

export interface PersonRefs {
  byndleId?: string | null;
  gedi?: string | null;
  nationalId?: string | null;
}

/**
 * Evicts every cached upstream answer about one person. The Byndle and Bisnode loaders index
 * their cache entries under cache.ref(nationalId | byndleId | gedi), so each known reference is
 * evicted. Returns how many entries went.
 */
export async function evictPerson(cache: UpstreamCache, person: PersonRefs): Promise<number> {
  const values = [person.byndleId, person.gedi, person.nationalId].filter((v): v is string => Boolean(v));
  const counts = await Promise.all([...new Set(values)].map((v) => cache.evictSubject(cache.ref(v))));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Eviction for a person-change event: the person's references, and for a re-identification
 * (Bisnode PERSON_REIDENTIFIED) also the gedi it replaced.
 */
export async function evictForEvent(cache: UpstreamCache, event: DomainEventInput): Promise<number> {
  const previousGedi = event.details?.previousGedi;
  const [a, b] = await Promise.all([
    evictPerson(cache, event.person ?? {}),
    typeof previousGedi === 'string' ? evictPerson(cache, { gedi: previousGedi }) : Promise.resolve(0),
  ]);
  return a + b;
}
