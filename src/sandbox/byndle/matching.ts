import type { Person, Population } from '../population/types.js';
import { soundex } from './soundex.js';

/** What a customer sends to be matched (ajourhold entry or person lookup). */
export interface MatchInput {
  firstName: string;
  lastName: string;
  street?: string | null;
  houseNumber?: string | null;
  postalCode?: string | null;
  /** YYYY-MM-DD */
  birthDate?: string | null;
  /** Only a tie-breaker between equally good candidates; the level comes from the table alone. */
  nationalId?: string | null;
}

/** One column condition of byndle.md's match-level table (names are required on every level). */
export type Criterion = 'street3' | 'houseNumber' | 'postal1' | 'postal2' | 'postal4' | 'birthDate';

/**
 * byndle.md's match-level table, verbatim. First and last name are "Required" on every level
 * and compared with SOUNDEX. Note that level 12 asks exactly what level 8 asks, so with "best
 * level wins" level 12 is never reported; we keep the table as published rather than guess.
 */
export const MATCH_LEVELS: readonly { level: number; requires: readonly Criterion[] }[] = [
  { level: 2, requires: ['street3', 'houseNumber', 'postal2', 'birthDate'] },
  { level: 3, requires: ['street3', 'postal2', 'birthDate'] },
  { level: 4, requires: ['street3', 'houseNumber', 'postal4'] },
  { level: 5, requires: ['street3', 'houseNumber', 'postal2'] },
  { level: 6, requires: ['postal2', 'birthDate'] },
  { level: 7, requires: ['postal1', 'birthDate'] },
  { level: 8, requires: ['birthDate'] },
  { level: 9, requires: ['street3', 'postal4'] },
  { level: 10, requires: ['street3', 'postal2'] },
  { level: 11, requires: ['postal2'] },
  { level: 12, requires: ['birthDate'] },
];

/** Levels at which Byndle maintains (updates and notifies about) the person. */
export function isMaintained(level: number | null): boolean {
  return level !== null && level >= 2 && level <= 9;
}

const norm = (s: string | null | undefined) => (s ?? '').trim().toLowerCase().replace(/\s+/g, '');

/** Input "12B" equals person 12 + entrance B; input "12" equals 12 even when the entrance is B. */
function houseNumberEqual(input: string, person: Person): boolean {
  const a = person.addresses[0];
  if (!a) return false;
  const sent = norm(input);
  if (!sent) return false;
  const full = norm(a.houseNumber + a.entrance);
  return sent === full || (/^\d+$/.test(sent) && sent === norm(a.houseNumber));
}

function prefixEqual(a: string | null | undefined, b: string, n: number): boolean {
  const x = norm(a);
  return x.length >= n && b.length >= n && x.slice(0, n) === norm(b).slice(0, n);
}

/** Which table conditions hold between the input and the person's current address and data. */
export function satisfiedCriteria(input: MatchInput, person: Person): Set<Criterion> {
  const out = new Set<Criterion>();
  const a = person.addresses[0];
  if (a) {
    // "First three letters must match": fewer than three letters on either side never match.
    if (prefixEqual(input.street, a.street, 3)) out.add('street3');
    if (input.houseNumber && houseNumberEqual(input.houseNumber, person)) out.add('houseNumber');
    if (prefixEqual(input.postalCode, a.postalCode, 1)) out.add('postal1');
    if (prefixEqual(input.postalCode, a.postalCode, 2)) out.add('postal2');
    if (norm(input.postalCode).length === a.postalCode.length && norm(input.postalCode) === a.postalCode)
      out.add('postal4');
  }
  if (input.birthDate && input.birthDate.trim() === person.birthDate) out.add('birthDate');
  return out;
}

export function namesMatch(input: MatchInput, person: Person): boolean {
  const f = soundex(input.firstName);
  const l = soundex(input.lastName);
  return f !== '' && l !== '' && f === soundex(person.firstName) && l === soundex(person.lastName);
}

/** Whether one level's requirements hold (names included). */
export function levelHolds(level: number, input: MatchInput, person: Person): boolean {
  const rule = MATCH_LEVELS.find((r) => r.level === level);
  if (!rule || !namesMatch(input, person)) return false;
  const got = satisfiedCriteria(input, person);
  return rule.requires.every((c) => got.has(c));
}

/** The best (lowest) level whose requirements all hold, or null. */
export function matchLevel(input: MatchInput, person: Person): number | null {
  if (!namesMatch(input, person)) return null;
  const got = satisfiedCriteria(input, person);
  for (const rule of MATCH_LEVELS) if (rule.requires.every((c) => got.has(c))) return rule.level;
  return null;
}

/**
 * NO persons bucketed by the Soundex of their last name, built once per population (a reset
 * swaps the population, and with it the index). Last-name changes move the person between
 * buckets through `reindexLastName`.
 */
const indexes = new WeakMap<Population, Map<string, Person[]>>();

function index(pop: Population): Map<string, Person[]> {
  let idx = indexes.get(pop);
  if (!idx) {
    idx = new Map();
    for (const p of pop.persons) {
      if (p.market !== 'NO') continue;
      const key = soundex(p.lastName);
      const bucket = idx.get(key);
      if (bucket) bucket.push(p);
      else idx.set(key, [p]);
    }
    indexes.set(pop, idx);
  }
  return idx;
}

export function reindexLastName(pop: Population, person: Person, oldLastName: string): void {
  const idx = indexes.get(pop);
  if (!idx || person.market !== 'NO') return;
  const oldKey = soundex(oldLastName);
  const newKey = soundex(person.lastName);
  if (oldKey === newKey) return;
  const bucket = idx.get(oldKey);
  if (bucket) {
    const i = bucket.indexOf(person);
    if (i >= 0) bucket.splice(i, 1);
  }
  const target = idx.get(newKey);
  if (target) target.push(person);
  else idx.set(newKey, [person]);
}

export interface Match {
  person: Person;
  level: number;
}

/**
 * Best candidate among NO persons. Ties on level go to the candidate whose national id equals the
 * one sent, then to the earliest in the population, so the answer is deterministic.
 */
export function findBestMatch(pop: Population, input: MatchInput): Match | null {
  const key = soundex(input.lastName);
  if (!key) return null;
  let best: Match | null = null;
  for (const person of index(pop).get(key) ?? []) {
    const level = matchLevel(input, person);
    if (level === null) continue;
    if (
      !best ||
      level < best.level ||
      (level === best.level &&
        input.nationalId &&
        person.nationalId === input.nationalId &&
        best.person.nationalId !== input.nationalId)
    ) {
      best = { person, level };
    }
  }
  return best;
}
