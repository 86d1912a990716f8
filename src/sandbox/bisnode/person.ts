import type { Address, Market, Person, Population } from '../population/types.js';
import { SOURCE_BY_MARKET, type EnrichmentVariable, type V3Person } from './schemas.js';

/** What the V3 rendering needs besides the population person: module state that overlays it. */
export interface PersonOverlay {
  /** The gedi the person is currently identified by (changes on re-identification). */
  gediOf(person: Person): string;
  /** Bumped by the enrichment control route; each bump moves the variable to another value. */
  enrichmentRevision(person: Person, variable: EnrichmentVariable): number;
  /** Last time the sandbox changed this person (control API), ISO; undefined when never. */
  updatedAt(person: Person): string | undefined;
}

const LANGUAGE: Record<Market, string> = { SE: 'sv-SE', NO: 'nb-NO', DK: 'da-DK', FI: 'fi-FI' };

/** Nicknames by preferred first name; a person without an entry has none. */
const NICKNAMES: Record<string, string[]> = {
  alexander: ['Alex'],
  andreas: ['Andy'],
  benjamin: ['Ben'],
  christina: ['Tina'],
  daniel: ['Dan', 'Danne'],
  elisabeth: ['Lisa', 'Beth'],
  elizabeth: ['Lisa', 'Beth'],
  fredrik: ['Fredde'],
  jonathan: ['Jonte'],
  katarina: ['Kattis', 'Kata'],
  kristian: ['Kris'],
  magnus: ['Mange'],
  margareta: ['Maggan'],
  mikael: ['Micke'],
  michael: ['Micke', 'Mike'],
  nikolai: ['Niko'],
  robert: ['Robban', 'Bob'],
  sebastian: ['Sebbe'],
  thomas: ['Tom', 'Tommy'],
  william: ['Wille'],
};

/** FNV-1a: a stable per-person number for the modelled enrichment variables. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function ageAt(birthDate: string, at: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - y;
  const beforeBirthday = at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age;
}

export function isMinor(person: Person, now: number): boolean {
  if (person.deceasedDate) return false;
  return ageAt(person.birthDate, new Date(now)) < 18;
}

const STATUS_REASON: Record<number, V3Person['status']['deregistrationReason']> = {
  2: 'MOVED_OUT',
  3: 'EMIGRATED',
  4: 'MISSING',
  6: 'ID_REPLACED',
  8: 'ANNULLED',
  9: 'UNREGISTERED',
};

function buildingType(raw: string): V3Person['enrichment']['buildingType'] {
  const t = raw.toLowerCase();
  if (/(leilighet|lägenhet|lejlighed|kerrostalo|apartment|flat|blokk)/.test(t)) return 'APARTMENT';
  if (/(rekkehus|radhus|rækkehus|rivitalo|townhouse|terrace|kjede|tomannsbolig)/.test(t))
    return 'TERRACED_HOUSE';
  if (/(enebolig|villa|parcelhus|omakotitalo|detached|house|småhus|gård)/.test(t)) return 'DETACHED_HOUSE';
  return 'OTHER';
}

const URBANIZATION = ['URBAN', 'SUBURBAN', 'RURAL'] as const;
const BUILDING_TYPES = ['DETACHED_HOUSE', 'TERRACED_HOUSE', 'APARTMENT', 'OTHER'] as const;

/** Household id -> persons, per population; rebuilt after any person change (moves change households). */
const households = new WeakMap<Population, Map<string, Person[]>>();

export function invalidateHouseholds(population: Population): void {
  households.delete(population);
}

export function householdMembers(population: Population, person: Person): Person[] {
  let index = households.get(population);
  if (!index) {
    index = new Map();
    for (const p of population.persons) {
      const list = index.get(p.householdId);
      if (list) list.push(p);
      else index.set(p.householdId, [p]);
    }
    households.set(population, index);
  }
  return (index.get(person.householdId) ?? []).filter((p) => p.id !== person.id && !p.protectedIdentity);
}

function enrichmentOf(
  person: Person,
  householdSize: number,
  rev: (v: EnrichmentVariable) => number,
): V3Person['enrichment'] {
  const h = hash(person.id);
  const base = buildingType(person.buildingType);
  const bIdx = (BUILDING_TYPES.indexOf(base) + rev('buildingType')) % BUILDING_TYPES.length;
  return {
    householdSize,
    buildingType: BUILDING_TYPES[bIdx] ?? base,
    incomeClass: (((h % 9) + rev('incomeClass')) % 9) + 1,
    purchasingPowerIndex: 60 + ((((h >>> 4) % 81) + rev('purchasingPowerIndex') * 7) % 81),
    urbanization: URBANIZATION[((h >>> 8) + rev('urbanization')) % URBANIZATION.length] ?? 'URBAN',
    carOwnershipProbability: ((h >>> 12) + rev('carOwnershipProbability') * 13) % 101,
  };
}

/** Norwegian dwelling numbers "H0203" are floor 02, flat 03; elsewhere the number is the flat. */
function floorAndApartment(a: Address): { floor: string | null; apartment: string | null } {
  if (!a.dwellingNumber) return { floor: null, apartment: null };
  const m = /^[HUKL](\d{2})\d{2}$/.exec(a.dwellingNumber);
  return { floor: m?.[1] ? String(Number(m[1])) : null, apartment: a.dwellingNumber };
}

function toAddress(a: Address): V3Person['addresses'][number] {
  return {
    type: 'POSTAL',
    subType: 'DOMICILE',
    current: a.validTo === null,
    careOf: null,
    streetName: a.street,
    streetNumber: a.houseNumber || null,
    entrance: a.entrance || null,
    ...floorAndApartment(a),
    postalCode: a.postalCode,
    city: a.city,
    country: a.country,
    validFromDate: a.validFrom,
    validFromDatePrecision: 'DAY',
    validToDate: a.validTo,
    validToDatePrecision: a.validTo ? 'DAY' : null,
  };
}

function shorten(full: string): string {
  return full.length <= 36 ? full : full.slice(0, 36).trimEnd();
}

/** Default "last updated" of a person nobody changed: its newest register fact. */
function registerUpdated(person: Person): string {
  const dates = [person.birthDate, ...person.addresses.map((a) => a.validFrom)];
  if (person.deceasedDate) dates.push(person.deceasedDate);
  const newest = dates.sort().at(-1) ?? person.birthDate;
  return `${newest}T00:00:00.000Z`;
}

export function toV3Person(
  person: Person,
  population: Population,
  overlay: PersonOverlay,
  now: number,
): V3Person {
  const hidden = person.protectedIdentity;
  const members = householdMembers(population, person);
  const updated = overlay.updatedAt(person) ?? registerUpdated(person);
  const age = ageAt(person.birthDate, person.deceasedDate ? new Date(person.deceasedDate) : new Date(now));
  const fullName = [person.firstName, person.middleName, person.lastName].filter(Boolean).join(' ');
  return {
    status: {
      active: person.status === 1 || person.status === 7,
      protected: person.protectedIdentity,
      deceased: person.status === 5 || person.deceasedDate !== null,
      deregistered: STATUS_REASON[person.status] !== undefined,
      deregistrationReason: STATUS_REASON[person.status] ?? null,
    },
    relationships: { householdMembers: hidden ? [] : members.map((m) => overlay.gediOf(m)) },
    relocationEvents: hidden
      ? []
      : person.addresses.slice(0, -1).map((a) => ({
          type: 'DOMESTIC' as const,
          relocationDate: a.validFrom,
          relocationDatePrecision: 'DAY' as const,
          country: a.country,
        })),
    addresses: hidden ? [] : person.addresses.map(toAddress),
    birthPlace: hidden ? null : { country: person.market, city: null },
    phoneNumbers: hidden
      ? []
      : person.phones.map((p) => ({
          number: p.number,
          type: p.type === 'mobile' ? ('MOBILE' as const) : ('LANDLINE' as const),
          telemarketingRestriction: person.reservations.phoneSale,
        })),
    enrichment: enrichmentOf(person, members.length + 1, (v) => overlay.enrichmentRevision(person, v)),
    customEnrichment: {},
    metadata: {
      updatedTimestamp: updated,
      sources: [{ updatedTimestamp: updated, name: SOURCE_BY_MARKET[person.market], market: person.market }],
    },
    languageTag: LANGUAGE[person.market],
    directMarketingRestriction: person.reservations.directMail,
    charityMarketingRestriction: person.reservations.humanitarian,
    // The registers carry no online reservation; Bisnode derives it from the direct-mail one.
    onlineMarketingRestriction: person.reservations.directMail,
    sex: person.gender,
    gender: person.gender,
    minor: isMinor(person, now) ? 'YES' : 'NO',
    citizenship: [person.market],
    legalId: {
      identityNumber: person.nationalId,
      temporary: person.nationalIdKind === 'DNR',
      validityPeriod: {
        startDate: person.birthDate,
        startDatePrecision: 'DAY',
        endDate: null,
        endDatePrecision: null,
      },
      history: [],
    },
    estimatedAge: age,
    firstNames: [person.firstName],
    possibleNicknames: NICKNAMES[person.firstName.toLowerCase()] ?? [],
    preferredFirstName: person.firstName,
    additionalName: person.middleName,
    familyName: person.lastName,
    honorificPrefix: null,
    honorificSuffix: null,
    shortenedFullName: shorten(fullName),
    baseNameCode: null,
    birthDate: person.birthDate,
    birthDatePrecision: 'DAY',
    deceasedDate: person.deceasedDate,
    deceasedDatePrecision: person.deceasedDate ? 'DAY' : null,
    maritalStatus: person.maritalStatus,
    diplomaticImmunity: false,
    futureLegalAuthorization: false,
    identificationClaim: false,
  };
}

/** Top-level fields whose values differ: the jsonPointers of PERSON_CHANGED. */
export function changedPointers(
  before: V3Person,
  after: V3Person,
): { person: string[]; enrichment: string[] } {
  const person: string[] = [];
  for (const key of Object.keys(after) as (keyof V3Person)[]) {
    if (key === 'metadata' || key === 'enrichment') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) person.push(`/${key}`);
  }
  const enrichment: string[] = [];
  for (const key of Object.keys(after.enrichment) as (keyof V3Person['enrichment'])[]) {
    if (before.enrichment[key] !== after.enrichment[key]) enrichment.push(key);
  }
  return { person, enrichment };
}
