/**
 * The deterministic synthetic Nordic population. Everything is drawn from one seeded PRNG in a
 * fixed order, so the same options give the same population byte for byte. "Today" is the fixed
 * REFERENCE_DATE for the same reason.
 */
import {
  BUILDING_TYPES,
  BUSINESS_PREFIXES,
  BUSINESS_STEMS,
  EMAIL_DOMAINS,
  NAMES,
  PLACES,
  PRODUCT_CODES,
  SECTORS,
  STREETS,
  VEHICLE_COLORS,
  VEHICLE_COLOR_WEIGHTS,
  VEHICLE_MODELS,
  type Place,
  type Sector,
} from './data.js';
import {
  danishCpr,
  finnishHetu,
  norwegianNationalId,
  norwegianOrgNr,
  norwegianRegNr,
  swedishPersonnummer,
  vin,
  type BirthDate,
} from './ids.js';
import { Rng } from './rng.js';
import type {
  AccountingSnapshot,
  Address,
  Borrower,
  Business,
  BusinessRole,
  ByndlePersonStatus,
  ByndleRole,
  Customer,
  Market,
  NationalIdKind,
  PartyRef,
  Person,
  Phone,
  Population,
  PopulationOptions,
  Vehicle,
} from './types.js';

/** The population's "today": birth dates, address history and accounts end before it. */
export const REFERENCE_DATE = '2025-01-01';

export const DEFAULT_COUNTS = {
  persons: 20_000,
  businesses: 3_000,
  vehicles: 10_000,
  customers: 5_000,
  borrowers: 300,
} as const;

/** First Connect customer number; 563457 is Ola Nordmann and 563458 Kari Nordmann. */
export const FIRST_CUSTOMER_NUMBER = 563457;

// ---------------------------------------------------------------------------------------------
// Dates as whole days since 1970-01-01 (UTC), formatted only when stored.

const DAY_MS = 86_400_000;
export const dayOf = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / DAY_MS;
/** Days since the epoch to [year, month 1-12, day]; Hinnant's civil_from_days, no Date object. */
function civil(day: number): [number, number, number] {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
// Hot path (about 100k calls per population). Cached, so equal dates share one string: fewer
// allocations and a smaller heap, which is most of the generator's cost.
const isoCache: string[] = [];
const ISO_CACHE_FROM = -25_567; // 1900-01-01
export function isoOfDay(day: number): string {
  const slot = day - ISO_CACHE_FROM;
  const hit = isoCache[slot];
  if (hit !== undefined) return hit;
  const [y, m, d] = civil(day);
  const iso = `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
  if (slot >= 0 && slot < 60_000) isoCache[slot] = iso;
  return iso;
}
export const dayOfIso = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const REF_DAY = dayOfIso(REFERENCE_DATE);
/** Born on or before this ISO date: 18 or older on REFERENCE_DATE (plain string comparison). */
const ADULT_BORN_BY = '2007-01-01';
const isAdult = (p: Person): boolean => p.birthDate <= ADULT_BORN_BY;
const YEAR = 365.25;

function birthDateOf(day: number): BirthDate {
  const [year, month, d] = civil(day);
  return { year, month, day: d };
}

const ageAt = (birthDay: number, day: number): number => Math.floor((day - birthDay) / YEAR);

// ---------------------------------------------------------------------------------------------
// Building blocks shared with change.ts

const placeIndex = new Map<string, Place>();
for (const market of Object.keys(PLACES) as Market[]) {
  for (const place of PLACES[market]) placeIndex.set(`${market}:${place.postalCode}`, place);
}

/** The place (landline area, municipality) of an address; a fallback when it is unknown. */
export function placeOf(address: Address): Place {
  return placeIndex.get(`${address.country}:${address.postalCode}`) ?? PLACES[address.country][0]!;
}

export function randomAddress(
  rng: Rng,
  market: Market,
  buildingType: string,
  validFrom: string,
  validTo: string | null,
): Address {
  const place = rng.pick(PLACES[market]);
  const apartment = buildingType === 'Leilighet';
  return {
    street: rng.pick(STREETS[market]),
    houseNumber: String(1 + Math.floor(rng.next() ** 2 * 120)),
    entrance: rng.chance(0.15) ? rng.pick(['A', 'B', 'C', 'D']) : '',
    dwellingNumber:
      market === 'NO' && apartment ? `H0${rng.range(1, 6)}${String(rng.range(1, 8)).padStart(2, '0')}` : '',
    postalCode: place.postalCode,
    city: place.city,
    country: market,
    validFrom,
    validTo,
  };
}

const digits = (rng: Rng, n: number): string => String(rng.int(10 ** n)).padStart(n, '0');

const DK_MOBILE = [
  '2',
  '30',
  '31',
  '40',
  '41',
  '42',
  '50',
  '51',
  '52',
  '53',
  '60',
  '61',
  '71',
  '81',
  '91',
  '93',
];

/** A candidate E.164 number; callers check it is unused. */
export function phoneCandidate(rng: Rng, market: Market, type: Phone['type'], place: Place): string {
  switch (market) {
    case 'NO':
      return type === 'mobile'
        ? `+47${rng.chance(0.5) ? '4' : '9'}${digits(rng, 7)}`
        : `+47${place.area}${digits(rng, 8 - place.area.length)}`;
    case 'SE':
      return type === 'mobile'
        ? `+467${rng.pick(['0', '2', '3', '6'])}${digits(rng, 7)}`
        : `+46${place.area}${digits(rng, 9 - place.area.length)}`;
    case 'DK': {
      const prefix = type === 'mobile' ? rng.pick(DK_MOBILE) : place.area;
      return `+45${prefix}${digits(rng, 8 - prefix.length)}`;
    }
    case 'FI':
      return type === 'mobile'
        ? `+358${rng.pick(['40', '40', '40', '50', '44', '45'])}${digits(rng, 7)}`
        : `+358${place.area}${digits(rng, 7)}`;
  }
}

/** A phone number no person in the population has, drawn until free. */
export function uniquePhone(
  rng: Rng,
  taken: (n: string) => boolean,
  market: Market,
  type: Phone['type'],
  place: Place,
): string {
  for (;;) {
    const n = phoneCandidate(rng, market, type, place);
    if (!taken(n)) return n;
  }
}

export function randomFirstName(rng: Rng, market: Market, gender: Person['gender']): string {
  return rng.pick(gender === 'MALE' ? NAMES[market].male : NAMES[market].female);
}

export function randomLastName(rng: Rng, market: Market): string {
  return rng.pick(NAMES[market].last);
}

const ASCII: Record<string, string> = {
  æ: 'ae',
  ø: 'o',
  å: 'a',
  ä: 'a',
  ö: 'o',
  é: 'e',
  ü: 'u',
};
const emailLocalCache = new Map<string, string>();
/** Lower-case ASCII form of a name for e-mail addresses ("Ødegård" -> "odegard"). */
export function emailLocal(name: string): string {
  let local = emailLocalCache.get(name);
  if (local === undefined) {
    local = name
      .toLowerCase()
      .replace(/[æøåäöéü]/g, (c) => ASCII[c] ?? c)
      .replace(/[^a-z0-9]+/g, '');
    // Names come from short lists, so the cache stays small.
    if (emailLocalCache.size < 10_000) emailLocalCache.set(name, local);
  }
  return local;
}

// ---------------------------------------------------------------------------------------------

const MARKETS: readonly Market[] = ['NO', 'SE', 'DK', 'FI'];
const MARKET_WEIGHTS = [40, 30, 15, 15];
const BUILDING_SINGLE = [20, 55, 15, 8, 2];
const BUILDING_FAMILY = [45, 25, 17, 10, 3];
// Status 1 dominates; the rest are rare but present so every Byndle status can be tested.
const STATUS_VALUES: readonly ByndlePersonStatus[] = [1, 2, 3, 4, 5, 6, 8, 9];
const STATUS_WEIGHTS = [935, 12, 12, 3, 25, 4, 3, 6];
const FORMS = ['AS', 'ASA', 'ENK', 'ANS', 'DA', 'NUF', 'SA', 'STI'] as const;
const FORM_WEIGHTS = [60, 2, 15, 5, 4, 5, 4, 5];
const DEPARTMENTS = ['Økonomi', 'Innkjøp', 'Salg', 'IT-avdelingen', 'Regnskap', 'Kundeservice'];

interface Gen {
  rng: Rng;
  pop: Population;
  usedIds: Set<string>;
  usedEmails: Set<string>;
}

/** What members of one household share. */
interface Household {
  market: Market;
  householdId: string;
  /** Current address shared by the household; copied per person. */
  home: Address;
  homeFrom: number;
  buildingType: string;
}

// Object spread in the per-person hot path was a third of the generator's time, so these are
// always written out as full literals with a fixed shape.
interface Member {
  gender: Person['gender'];
  birthDay: number;
  /** Fixed first name, or null to draw one. */
  firstName: string | null;
  lastName: string;
  maritalStatus: Person['maritalStatus'];
  /** Makes this member the one with the household landline. */
  landline: boolean;
  properties: string[];
  /** Never a D-number (for the fixed test persons). */
  fnrOnly: boolean;
}

function nationalIdFor(
  g: Gen,
  market: Market,
  birthDay: number,
  male: boolean,
  fnrOnly: boolean,
): [string, NationalIdKind] {
  const b = birthDateOf(birthDay);
  const dnr = market === 'NO' && ageAt(birthDay, REF_DAY) >= 18 && g.rng.chance(0.035) && !fnrOnly;
  for (;;) {
    let id: string;
    let kind: NationalIdKind;
    switch (market) {
      case 'NO':
        id = norwegianNationalId(b, male, g.rng.int, dnr);
        kind = dnr ? 'DNR' : 'FNR';
        break;
      case 'SE':
        id = swedishPersonnummer(b, male, g.rng.int);
        kind = 'PNR';
        break;
      case 'DK':
        id = danishCpr(b, male, g.rng.int);
        kind = 'CPR';
        break;
      case 'FI':
        id = finnishHetu(b, male, g.rng.int);
        kind = 'HETU';
        break;
    }
    if (!g.usedIds.has(id)) {
      g.usedIds.add(id);
      return [id, kind];
    }
  }
}

function uniqueEmail(g: Gen, first: string, last: string, market: Market): string {
  const base = `${emailLocal(first)}.${emailLocal(last)}`;
  const domain = g.rng.pick(EMAIL_DOMAINS[market]);
  let candidate = g.rng.chance(0.3) ? `${base}${g.rng.range(1, 99)}@${domain}` : `${base}@${domain}`;
  while (g.usedEmails.has(candidate)) candidate = `${base}${g.rng.range(1, 9999)}@${domain}`;
  g.usedEmails.add(candidate);
  return candidate;
}

function byndleIdFor(g: Gen): string {
  for (;;) {
    const id = `BY${(g.rng.int(0x1_0000_0000) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
    if (!g.pop.personByByndleId.has(id)) return id;
  }
}

function addPerson(g: Gen, person: Person): void {
  const { pop } = g;
  pop.persons.push(person);
  pop.personById.set(person.id, person);
  pop.personByNationalId.set(person.nationalId, person);
  pop.personByGedi.set(person.gedi, person);
  if (person.byndleId) pop.personByByndleId.set(person.byndleId, person);
  for (const phone of person.phones) pop.personByPhone.set(phone.number, person);
}

function makePerson(g: Gen, h: Household, s: Member): Person {
  const { rng, pop } = g;
  const index = pop.persons.length + 1;
  const male = s.gender === 'MALE';
  const [nationalId, nationalIdKind] = nationalIdFor(g, h.market, s.birthDay, male, s.fnrOnly);
  const age = ageAt(s.birthDay, REF_DAY);

  let status: ByndlePersonStatus = STATUS_VALUES[rng.weighted(STATUS_WEIGHTS)]!;
  if (status !== 1 && age < 18) status = 1;
  if (s.birthDay > REF_DAY - 200 && rng.chance(0.5)) status = 7;
  const deceasedDate =
    status === 5 ? isoOfDay(rng.range(Math.max(s.birthDay + 400, REF_DAY - 3000), REF_DAY - 1)) : null;
  const alive = status !== 5;

  // Address history: the household home, then up to two earlier homes before it.
  const currentFrom = Math.max(h.homeFrom, s.birthDay);
  const home = h.home;
  const addresses: Address[] = [
    {
      street: home.street,
      houseNumber: home.houseNumber,
      entrance: home.entrance,
      dwellingNumber: home.dwellingNumber,
      postalCode: home.postalCode,
      city: home.city,
      country: home.country,
      validFrom: isoOfDay(currentFrom),
      validTo: null,
    },
  ];
  const earlier = rng.int(3);
  let to = currentFrom;
  for (let i = 0; i < earlier; i++) {
    const from = to - rng.range(200, 3500);
    if (from <= s.birthDay) break;
    addresses.push(
      randomAddress(
        rng,
        h.market,
        BUILDING_TYPES[rng.weighted(BUILDING_SINGLE)]!,
        isoOfDay(from),
        isoOfDay(to),
      ),
    );
    to = from;
  }

  const firstName = s.firstName ?? randomFirstName(rng, h.market, s.gender);
  let middleName: string | null = null;
  if (rng.chance(0.12)) {
    middleName = h.market === 'NO' ? randomLastName(rng, 'NO') : randomFirstName(rng, h.market, s.gender);
    if (middleName === firstName || middleName === s.lastName) middleName = null;
  }

  const place = placeOf(h.home);
  const taken = (n: string): boolean => pop.personByPhone.has(n);
  const phones: Phone[] = [];
  const hasMobile = alive ? (age >= 18 ? rng.chance(0.92) : age >= 10 && rng.chance(0.75)) : rng.chance(0.1);
  if (hasMobile) phones.push({ number: uniquePhone(rng, taken, h.market, 'mobile', place), type: 'mobile' });
  if (s.landline && alive)
    phones.push({ number: uniquePhone(rng, taken, h.market, 'landline', place), type: 'landline' });

  const hasEmail = age >= 18 ? rng.chance(0.75) : age >= 13 && rng.chance(0.3);

  const person: Person = {
    id: `p${String(index).padStart(6, '0')}`,
    market: h.market,
    nationalId,
    nationalIdKind,
    // index * 104729 mod 10^9 is a bijection (104729 is prime), so gedis never collide.
    gedi: `gedi-${String((((pop.seed * 7_919 + index * 104_729) % 1e9) + 1e9) % 1e9).padStart(9, '0')}`,
    byndleId: h.market === 'NO' ? byndleIdFor(g) : null,
    firstName,
    middleName,
    lastName: s.lastName,
    gender: s.gender,
    birthDate: isoOfDay(s.birthDay),
    deceasedDate,
    status,
    addresses,
    phones,
    email: hasEmail ? uniqueEmail(g, firstName, s.lastName, h.market) : null,
    reservations: {
      directMail: rng.chance(0.2),
      phoneSale: rng.chance(0.22),
      humanitarian: rng.chance(0.17),
    },
    householdId: h.householdId,
    buildingType: h.buildingType,
    maritalStatus: age < 18 ? 'UNMARRIED' : s.maritalStatus,
    protectedIdentity: rng.chance(0.01),
    properties: s.properties,
  };
  addPerson(g, person);
  return person;
}

function propertyId(rng: Rng, kommune: string): string {
  return `${kommune}-${rng.range(1, 320)}/${rng.range(1, 900)}`;
}

function adultBirthDay(rng: Rng): number {
  const age = 18 + Math.floor(rng.next() ** 1.25 * 75);
  return REF_DAY - Math.floor(age * YEAR) - rng.int(365);
}

function singleMaritalStatus(rng: Rng, birthDay: number): Person['maritalStatus'] {
  const age = ageAt(birthDay, REF_DAY);
  if (age < 30) return 'UNMARRIED';
  const i = rng.weighted(age > 60 ? [35, 35, 30] : [55, 45, 0]);
  return (['UNMARRIED', 'DIVORCED', 'WIDOWED'] as const)[i]!;
}

/** Ola and Kari Nordmann: the sandbox test users' persons, fixed so docs can name them. */
function addNordmanns(g: Gen): void {
  const home: Address = {
    street: 'Storgata',
    houseNumber: '10',
    entrance: '',
    dwellingNumber: 'H0201',
    postalCode: '0182',
    city: 'Oslo',
    country: 'NO',
    validFrom: '2012-08-01',
    validTo: null,
  };
  const household: Household = {
    market: 'NO',
    householdId: 'h000001',
    home,
    homeFrom: dayOfIso('2012-08-01'),
    buildingType: 'Leilighet',
  };
  const member = (gender: Person['gender'], firstName: string, birth: string): Member => ({
    gender,
    birthDay: dayOfIso(birth),
    firstName,
    lastName: 'Nordmann',
    maritalStatus: 'MARRIED',
    landline: false,
    properties: ['0301-208/91'],
    fnrOnly: true,
  });
  const fixed = (p: Person, mobile: string, email: string): void => {
    g.pop.personByPhone.delete(p.phones[0]?.number ?? '');
    g.usedEmails.delete(p.email ?? '');
    p.phones = [{ number: mobile, type: 'mobile' }];
    p.email = email;
    p.status = 1;
    p.deceasedDate = null;
    p.protectedIdentity = false;
    p.middleName = null;
    p.reservations = { directMail: false, phoneSale: false, humanitarian: false };
    g.pop.personByPhone.set(mobile, p);
    g.usedEmails.add(email);
  };
  const ola = makePerson(g, household, member('MALE', 'Ola', '1980-05-15'));
  fixed(ola, '+4791234567', 'ola.nordmann@example.no');
  const kari = makePerson(g, household, member('FEMALE', 'Kari', '1982-03-08'));
  fixed(kari, '+4798765432', 'kari.nordmann@example.no');
}

function generatePersons(g: Gen, count: number): void {
  const { rng } = g;
  addNordmanns(g);
  let household = 1;
  while (g.pop.persons.length < count) {
    const market = MARKETS[rng.weighted(MARKET_WEIGHTS)]!;
    const remaining = count - g.pop.persons.length;
    const size = Math.min(remaining, 1 + rng.weighted([38, 27, 20, 15]));
    const buildingType = BUILDING_TYPES[rng.weighted(size === 1 ? BUILDING_SINGLE : BUILDING_FAMILY)]!;
    const householdId = `h${String(++household).padStart(6, '0')}`;
    const familyName = randomLastName(rng, market);
    const headBirth = adultBirthDay(rng);
    const earliest = Math.max(headBirth + Math.floor(18 * YEAR), REF_DAY - 9000);
    const homeFrom = rng.range(Math.min(earliest, REF_DAY - 30), REF_DAY - 30);
    const home = randomAddress(rng, market, buildingType, '', null);
    const kommune = placeOf(home).kommune;
    const owned =
      market === 'NO' && buildingType !== 'Leilighet' && rng.chance(0.7) ? [propertyId(rng, kommune)] : [];
    const landlineAt = rng.chance(0.15) ? 0 : -1;
    const headGender = rng.chance(0.5) ? 'MALE' : 'FEMALE';
    const couple = size >= 2;
    const married = couple && rng.chance(0.6);
    const hh: Household = { market, householdId, home, homeFrom, buildingType };

    makePerson(g, hh, {
      gender: headGender,
      birthDay: headBirth,
      lastName: familyName,
      maritalStatus: couple ? (married ? 'MARRIED' : 'UNMARRIED') : singleMaritalStatus(rng, headBirth),
      landline: landlineAt === 0,
      properties: owned,
      firstName: null,
      fnrOnly: false,
    });
    if (couple) {
      // A partner too young to be an adult is made older than the head instead.
      let partnerBirth = headBirth + rng.range(-2500, 2500);
      if (partnerBirth > REF_DAY - Math.floor(18 * YEAR) - 1) partnerBirth = headBirth - rng.range(0, 2500);
      makePerson(g, hh, {
        gender: rng.chance(0.93) ? (headGender === 'MALE' ? 'FEMALE' : 'MALE') : headGender,
        birthDay: partnerBirth,
        lastName: rng.chance(0.6) ? familyName : randomLastName(rng, market),
        maritalStatus: married ? 'MARRIED' : 'UNMARRIED',
        landline: false,
        properties: owned.length && rng.chance(0.7) ? [...owned] : [],
        firstName: null,
        fnrOnly: false,
      });
    }
    for (let m = 2; m < size; m++) {
      // A minor child when the head's age allows one born after 2008, else an adult child.
      const lo = Math.max(headBirth + Math.floor(20 * YEAR), dayOf(2009, 1, 1));
      const hi = Math.min(headBirth + Math.floor(45 * YEAR), REF_DAY - 1);
      const birthDay =
        lo <= hi ? rng.range(lo, hi) : Math.min(headBirth + rng.range(7000, 14000), REF_DAY - 6600);
      makePerson(g, hh, {
        gender: rng.chance(0.51) ? 'MALE' : 'FEMALE',
        birthDay,
        lastName: rng.chance(0.85) ? familyName : randomLastName(rng, market),
        maritalStatus: 'UNMARRIED',
        landline: false,
        properties: [],
        firstName: null,
        fnrOnly: false,
      });
    }
  }
  // A few Norwegians also own a cabin elsewhere.
  for (const p of g.pop.persons) {
    if (p.market === 'NO' && p.status === 1 && p.maritalStatus !== 'UNMARRIED' && rng.chance(0.08)) {
      p.properties = [...p.properties, propertyId(rng, rng.pick(PLACES.NO).kommune)];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Businesses

function businessBase(rng: Rng): string {
  const prefix = rng.pick(BUSINESS_PREFIXES);
  return rng.chance(0.55) ? prefix + rng.pick(BUSINESS_STEMS) : prefix;
}

function businessName(rng: Rng, form: string, sector: Sector, owner: Person | undefined): string {
  const base = businessBase(rng);
  switch (form) {
    case 'ENK':
      return owner ? `${owner.firstName} ${owner.lastName} ${sector.word}` : `${base} ${sector.word}`;
    case 'STI':
      return `Stiftelsen ${base} ${sector.word}`;
    case 'NUF':
      return `${base} ${sector.word} AB NUF`;
    default:
      return `${base} ${sector.word} ${form}`;
  }
}

interface RoleCtx {
  rng: Rng;
  holders: readonly Person[];
  firms: readonly Business[];
}

function personRef(rc: RoleCtx): PartyRef {
  return { kind: 'person', personId: rc.rng.pick(rc.holders).id };
}

function firmRef(rc: RoleCtx, self: string): PartyRef | null {
  if (rc.firms.length === 0) return null;
  const firm = rc.rng.pick(rc.firms);
  return firm.orgNr === self ? null : { kind: 'business', orgNr: firm.orgNr };
}

function smallRoles(rc: RoleCtx, b: Business, owner: Person | undefined): [ByndleRole, PartyRef][] {
  const { rng } = rc;
  const out: [ByndleRole, PartyRef][] = [];
  const add = (role: ByndleRole, ref: PartyRef | null): void => {
    if (ref) out.push([role, ref]);
  };
  const many = (role: ByndleRole, lo: number, hi: number): void => {
    for (let i = rng.range(lo, hi); i > 0; i--) add(role, personRef(rc));
  };
  switch (b.form) {
    case 'ENK':
      add('Innehaver', owner ? { kind: 'person', personId: owner.id } : personRef(rc));
      if (rng.chance(0.4)) add('Regnskapsfører', firmRef(rc, b.orgNr));
      break;
    case 'ANS':
      many('Deltaker med solidarisk ansvar (fullt ansvarlig)', 2, 3);
      if (rng.chance(0.4)) add('Daglig leder/administrerende direktør', personRef(rc));
      break;
    case 'DA':
      many('Deltaker med proratisk ansvar (delt ansvar)', 2, 3);
      if (rng.chance(0.3)) add('Kontaktperson', personRef(rc));
      break;
    case 'NUF':
      add('Norsk representant for utenlandsk enhet', personRef(rc));
      if (rng.chance(0.5)) add('Daglig leder/administrerende direktør', personRef(rc));
      if (rng.chance(0.3)) add('Kontaktperson', personRef(rc));
      break;
    case 'SA':
    case 'STI':
      add('Styrets leder', personRef(rc));
      many('Styremedlem', 1, 2);
      if (rng.chance(0.5)) add('Daglig leder/administrerende direktør', personRef(rc));
      if (b.form === 'SA' && rng.chance(0.3)) add('Forretningsfører', firmRef(rc, b.orgNr));
      add('Revisor', firmRef(rc, b.orgNr));
      break;
    case 'ASA':
      add('Daglig leder/administrerende direktør', personRef(rc));
      add('Styrets leder', personRef(rc));
      add('Nestleder', personRef(rc));
      many('Styremedlem', 2, 3);
      add('Revisor', firmRef(rc, b.orgNr));
      break;
    default: {
      // AS: often the one owner is both manager and chair.
      const manager = personRef(rc);
      add('Daglig leder/administrerende direktør', manager);
      add('Styrets leder', rng.chance(0.4) ? manager : personRef(rc));
      many('Styremedlem', 0, 2);
      if (rng.chance(0.25)) add('Varamedlem', personRef(rc));
      if (rng.chance(0.6)) add('Revisor', firmRef(rc, b.orgNr));
      if (rng.chance(0.4)) add('Regnskapsfører', firmRef(rc, b.orgNr));
      if (b.industryCode === '50.201' && rng.chance(0.5)) add('Bestyrende reder', personRef(rc));
    }
  }
  return out;
}

/** 50-120 roles with repeated holders: large groups that force the gateway to batch lookups. */
function largeRoles(rc: RoleCtx, b: Business): [ByndleRole, PartyRef][] {
  const { rng } = rc;
  const target = rng.range(50, 120);
  const out: [ByndleRole, PartyRef][] = [];
  const seen = new Set<string>();
  const people: PartyRef[] = [];
  const key = (r: ByndleRole, ref: PartyRef): string =>
    `${r}|${ref.kind === 'person' ? ref.personId : ref.orgNr}`;
  const add = (role: ByndleRole, ref: PartyRef | null): void => {
    if (!ref || seen.has(key(role, ref))) return;
    seen.add(key(role, ref));
    out.push([role, ref]);
    if (ref.kind === 'person' && !people.includes(ref)) people.push(ref);
  };
  const manager = personRef(rc);
  const chair = personRef(rc);
  const deputy = personRef(rc);
  add('Daglig leder/administrerende direktør', manager);
  add('Styrets leder', chair);
  add('Nestleder', deputy);
  add('Styremedlem', manager);
  add('Kontaktperson', chair);
  add('Revisor', firmRef(rc, b.orgNr));
  add('Regnskapsfører', firmRef(rc, b.orgNr));
  add('Forretningsfører', personRef(rc));
  add('Observatør', personRef(rc));
  const fill: ByndleRole[] = ['Styremedlem', 'Varamedlem', 'Kontaktperson', 'Observatør'];
  let guard = 0;
  while (out.length < target && guard++ < 1000) {
    const role = fill[rng.weighted([5, 3, 2, 1])]!;
    add(role, rng.chance(0.2) ? rng.pick(people) : personRef(rc));
  }
  return out;
}

function generateBusinesses(g: Gen, count: number): void {
  const { rng, pop } = g;
  const holders = pop.persons.filter(
    (p) => p.market === 'NO' && p.status === 1 && !p.protectedIdentity && isAdult(p),
  );
  const regnskap = SECTORS.find((s) => s.word === 'Regnskap')!;
  const revisjon = SECTORS.find((s) => s.word === 'Revisjon')!;
  const largeCount = Math.min(30, Math.ceil(count / 100));
  const largeStep = Math.max(1, Math.floor(count / Math.max(1, largeCount)));
  const usedNames = new Set<string>();
  const owners = new Map<string, Person>();
  const large = new Set<string>();

  for (let i = 0; i < count; i++) {
    const isLarge = i % largeStep === 3 % largeStep && large.size < largeCount;
    let form: string = isLarge ? (i % 3 === 0 ? 'ASA' : 'AS') : FORMS[rng.weighted(FORM_WEIGHTS)]!;
    const sector = i % 40 === 7 ? regnskap : i % 40 === 23 ? revisjon : rng.pick(SECTORS);
    if (sector === regnskap || sector === revisjon) form = 'AS';
    let orgNr = norwegianOrgNr(rng.int);
    while (pop.businessByOrgNr.has(orgNr)) orgNr = norwegianOrgNr(rng.int);
    const owner = form === 'ENK' && holders.length ? rng.pick(holders) : undefined;
    let name = businessName(rng, form, sector, owner);
    for (let t = 0; usedNames.has(name) && t < 20; t++) name = businessName(rng, form, sector, owner);
    if (usedNames.has(name)) name = `${name} ${rng.pick(PLACES.NO).city}`;
    for (let n = 2; usedNames.has(name); n++) name = `${name.replace(/ \d+$/, '')} ${n}`;
    usedNames.add(name);

    const registered = REF_DAY - 30 - Math.floor(rng.next() ** 1.6 * 60 * YEAR);
    let employees: number;
    if (form === 'ENK') employees = rng.int(3);
    else if (form === 'ASA') employees = 80 + Math.floor(rng.next() ** 2 * 8000);
    else if (isLarge) employees = 200 + rng.int(3000);
    else employees = Math.floor(rng.next() ** 2 * sector.size * 2);
    const registeredDate = isoOfDay(registered);
    const business: Business = {
      orgNr,
      name,
      form,
      address: randomAddress(rng, 'NO', 'Næringsbygg', registeredDate, null),
      registeredDate,
      industryCode: sector.nace,
      employees,
      roles: [],
    };
    pop.businesses.push(business);
    pop.businessByOrgNr.set(orgNr, business);
    if (owner) owners.set(orgNr, owner);
    if (isLarge) large.add(orgNr);
  }

  const firms = pop.businesses.filter(
    (b) => b.industryCode === regnskap.nace || b.industryCode === revisjon.nace,
  );
  const rc: RoleCtx = { rng, holders, firms };
  if (holders.length === 0) return;
  for (const b of pop.businesses) {
    const list = large.has(b.orgNr) ? largeRoles(rc, b) : smallRoles(rc, b, owners.get(b.orgNr));
    const from = dayOfIso(b.registeredDate);
    b.roles = list.map(([role, holder]): BusinessRole => ({
      role,
      holder,
      since: isoOfDay(rng.range(from, REF_DAY - 1)),
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// Vehicles

function generateVehicles(g: Gen, count: number): void {
  const { rng, pop } = g;
  const owners = pop.persons.filter((p) => p.market === 'NO' && p.status !== 5 && isAdult(p));
  const modelWeights = VEHICLE_MODELS.map((m) => m.weight);
  for (let i = 0; i < count; i++) {
    const m = VEHICLE_MODELS[rng.weighted(modelWeights)]!;
    const year = rng.range(m.from, m.to);
    const fuel = rng.pick(m.fuels);
    let regNr = norwegianRegNr(fuel === 'Electric', rng.int);
    while (pop.vehicleByRegNr.has(regNr)) regNr = norwegianRegNr(fuel === 'Electric', rng.int);
    let v = vin(m.wmi, year, rng.int);
    while (pop.vehicleByVin.has(v)) v = vin(m.wmi, year, rng.int);
    // Mostly new in Norway; some imported used a few years later.
    const firstYear = rng.chance(0.85) ? year : Math.min(2024, year + rng.range(1, 5));
    const firstRegistered = Math.min(dayOf(firstYear, 1, 1) + rng.int(365), REF_DAY - 1);
    let owner: PartyRef;
    if ((rng.chance(0.18) || owners.length === 0) && pop.businesses.length > 0) {
      owner = { kind: 'business', orgNr: rng.pick(pop.businesses).orgNr };
    } else if (owners.length > 0) {
      owner = { kind: 'person', personId: rng.pick(owners).id };
    } else {
      return;
    }
    const vehicle: Vehicle = {
      regNr,
      vin: v,
      make: m.make,
      model: m.model,
      year,
      color: VEHICLE_COLORS[rng.weighted(VEHICLE_COLOR_WEIGHTS)]!,
      fuel,
      firstRegistered: isoOfDay(firstRegistered),
      owner,
    };
    pop.vehicles.push(vehicle);
    pop.vehicleByRegNr.set(regNr, vehicle);
    pop.vehicleByVin.set(v, vehicle);
  }
}

// ---------------------------------------------------------------------------------------------
// Connect customers

function pickProducts(rng: Rng): string[] {
  const n = 1 + rng.weighted([60, 30, 10]);
  const out: string[] = [];
  while (out.length < n) {
    const code = rng.pick(PRODUCT_CODES);
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

function personCustomer(rng: Rng, customerNumber: number, p: Person): Customer {
  const a = p.addresses[0]!;
  const mobile = p.phones.find((ph) => ph.type === 'mobile');
  const credentials: Customer['credentials'] = [];
  if (p.email) credentials.push({ credential: p.email, credentialType: 'A' });
  if (mobile) credentials.push({ credential: mobile.number, credentialType: 'B' });
  return {
    customerNumber,
    personId: p.id,
    firstName: p.firstName,
    middleName: p.middleName,
    lastName: p.lastName,
    companyName: null,
    departmentName: null,
    street: a.street,
    streetNumber: Number.parseInt(a.houseNumber, 10),
    entrance: a.entrance,
    postalCode: a.postalCode,
    postalPlace: a.city,
    countryCode: a.country,
    phones: p.phones.map((ph) => ({
      phoneNumber: ph.number,
      phoneNumberType: ph.type === 'mobile' ? ('mobile' as const) : ('home' as const),
    })),
    emails: p.email ? [p.email] : [],
    invoiceEmailAddress: p.email && rng.chance(0.3) ? p.email : null,
    attachedUsers: [`user-${customerNumber}`],
    products: pickProducts(rng),
    credentials,
  };
}

function companyCustomer(
  g: Gen,
  customerNumber: number,
  b: Business,
  usedCompanyPhones: Set<string>,
): Customer {
  const { rng, pop } = g;
  const a = b.address;
  const domain = `${emailLocal(b.name.replace(/ (AS|ASA|ANS|DA|SA|NUF)$/, ''))}.no`;
  const phone = uniquePhone(
    rng,
    (n) => pop.personByPhone.has(n) || usedCompanyPhones.has(n),
    'NO',
    'landline',
    placeOf(a),
  );
  usedCompanyPhones.add(phone);
  const email = `post@${domain}`;
  return {
    customerNumber,
    personId: null,
    firstName: null,
    middleName: null,
    lastName: null,
    companyName: b.name,
    departmentName: rng.chance(0.3) ? rng.pick(DEPARTMENTS) : null,
    street: a.street,
    streetNumber: Number.parseInt(a.houseNumber, 10),
    entrance: a.entrance,
    postalCode: a.postalCode,
    postalPlace: a.city,
    countryCode: 'NO',
    phones: [{ phoneNumber: phone, phoneNumberType: 'home' }],
    emails: [email],
    invoiceEmailAddress: rng.chance(0.6) ? `faktura@${domain}` : null,
    attachedUsers: [`user-${customerNumber}`],
    products: pickProducts(rng),
    credentials: [{ credential: email, credentialType: 'A' }],
  };
}

function generateCustomers(g: Gen, count: number): void {
  const { rng, pop } = g;
  if (count <= 0) return;
  const pool = pop.persons.filter(
    (p) => p.market === 'NO' && p.status !== 5 && !p.protectedIdentity && isAdult(p),
  );
  const usedCompanyPhones = new Set<string>();
  const used = new Set<string>();
  let next = 0;
  const push = (c: Customer): void => {
    pop.customers.push(c);
    pop.customerByNumber.set(c.customerNumber, c);
  };
  for (const id of ['p000001', 'p000002']) {
    const p = pop.personById.get(id);
    if (!p || pop.customers.length >= count) continue;
    used.add(id);
    const c = personCustomer(rng, FIRST_CUSTOMER_NUMBER + pop.customers.length, p);
    c.products = ['CO27409'];
    c.invoiceEmailAddress = p.email;
    push(c);
  }
  // Connect's search answers at most 5 customers (more is a 403). One company with all six
  // departments as separate customers, in the last slots, makes that case reachable by a
  // companyName + street + postal place search; departmentName then narrows it to one.
  const departmentCustomers =
    count >= 2 * DEPARTMENTS.length && pop.businesses.length > 0 ? DEPARTMENTS.length : 0;
  while (pop.customers.length < count - departmentCustomers) {
    const number = FIRST_CUSTOMER_NUMBER + pop.customers.length;
    // Partial Fisher-Yates over the pool: a random person not yet a customer.
    let person: Person | undefined;
    if (!rng.chance(0.04)) {
      while (next < pool.length && !person) {
        const j = next + rng.int(pool.length - next);
        [pool[next], pool[j]] = [pool[j]!, pool[next]!];
        const candidate = pool[next++]!;
        if (!used.has(candidate.id)) person = candidate;
      }
    }
    if (person) {
      used.add(person.id);
      push(personCustomer(rng, number, person));
    } else if (pop.businesses.length > 0) {
      push(companyCustomer(g, number, rng.pick(pop.businesses), usedCompanyPhones));
    } else {
      break;
    }
  }
  if (departmentCustomers > 0) {
    const b = pop.businesses[0]!;
    for (const department of DEPARTMENTS) {
      const c = companyCustomer(g, FIRST_CUSTOMER_NUMBER + pop.customers.length, b, usedCompanyPhones);
      c.departmentName = department;
      push(c);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Symetrisk borrowers

export function riskClassOf(score: number): Borrower['riskClass'] {
  return score >= 80 ? 'A' : score >= 60 ? 'B' : score >= 40 ? 'C' : score >= 20 ? 'D' : 'E';
}

export function probabilityOfDefaultOf(score: number): number {
  return Math.round(0.25 * Math.exp(-score / 20) * 10_000) / 10_000;
}

function accounts(
  rng: Rng,
  b: Business,
): { snapshots: AccountingSnapshot[]; margin: number; equityRatio: number } {
  const n = rng.range(12, 100);
  const annual = Math.max(1, b.employees) * rng.range(800_000, 2_500_000);
  const margin = -0.08 + rng.next() * 0.28;
  const equityRatio = -0.1 + rng.next() * 0.6;
  const growth = (-0.05 + rng.next() * 0.2) / 12;
  const assetsFactor = 0.6 + rng.next() * 0.6;
  const snapshots: AccountingSnapshot[] = [];
  const newest = 2024 * 12 + 11; // December 2024, the month before REFERENCE_DATE
  for (let k = 0; k < n; k++) {
    const ym = newest - k;
    const year = Math.floor(ym / 12);
    const month = (ym % 12) + 1;
    const trend = (1 + growth) ** -k;
    const season = 1 + 0.15 * Math.sin((2 * Math.PI * (month - 3)) / 12);
    const revenue = Math.round((annual / 12) * trend * season * (0.9 + rng.next() * 0.2));
    const operatingResult = Math.round(revenue * (margin + (rng.next() - 0.5) * 0.06));
    const totalAssets = Math.round(annual * assetsFactor * trend * (0.97 + rng.next() * 0.06));
    const equity = Math.round(totalAssets * (equityRatio + (rng.next() - 0.5) * 0.04));
    const debt = totalAssets - equity;
    const longTermDebt = Math.round(debt * 0.55);
    const interest = Math.round((Math.max(0, longTermDebt) * 0.05) / 12);
    const beforeTax = operatingResult - interest;
    snapshots.push({
      snapshotDate: isoOfDay(dayOf(year, month + 1, 0)),
      year,
      month,
      revenue,
      operatingResult,
      netResult: beforeTax > 0 ? Math.round(beforeTax * 0.78) : beforeTax,
      totalAssets,
      equity,
      cash: Math.round(totalAssets * (0.05 + rng.next() * 0.15)),
      shortTermDebt: debt - longTermDebt,
      longTermDebt,
    });
  }
  return { snapshots, margin, equityRatio };
}

function generateBorrowers(g: Gen, count: number): void {
  const { rng, pop } = g;
  // Never every business: callers need a non-borrower to test "not a customer" answers.
  const candidates = pop.businesses.filter((b) => b.form !== 'ENK' && b.form !== 'STI');
  const n = Math.min(count, candidates.length, pop.businesses.length - 1);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(candidates.length - i);
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    const b = candidates[i]!;
    const { snapshots, margin, equityRatio } = accounts(rng, b);
    const raw = 50 + margin * 150 + (equityRatio - 0.2) * 80 + (rng.next() - 0.5) * 20;
    const creditScore = Math.max(0, Math.min(100, Math.round(raw)));
    const borrower: Borrower = {
      orgNr: b.orgNr,
      accounting: snapshots,
      creditScore,
      riskClass: riskClassOf(creditScore),
      probabilityOfDefault: probabilityOfDefaultOf(creditScore),
    };
    pop.borrowers.push(borrower);
    pop.borrowerByOrgNr.set(b.orgNr, borrower);
  }
}

// ---------------------------------------------------------------------------------------------

export function emptyPopulation(seed: number): Population {
  return {
    seed,
    persons: [],
    businesses: [],
    vehicles: [],
    customers: [],
    borrowers: [],
    personById: new Map(),
    personByNationalId: new Map(),
    personByGedi: new Map(),
    personByByndleId: new Map(),
    personByPhone: new Map(),
    businessByOrgNr: new Map(),
    vehicleByRegNr: new Map(),
    vehicleByVin: new Map(),
    customerByNumber: new Map(),
    borrowerByOrgNr: new Map(),
  };
}

export function generatePopulation(options: PopulationOptions = {}): Population {
  const seed = options.seed ?? 1;
  const pop = emptyPopulation(seed);
  // Each section has its own stream, so changing one count leaves the other sections' draws alone.
  const usedIds = new Set<string>();
  const usedEmails = new Set<string>();
  const gen = (salt: number): Gen => ({ rng: new Rng(seed * 31 + salt), pop, usedIds, usedEmails });
  generatePersons(gen(1), Math.max(2, options.persons ?? DEFAULT_COUNTS.persons));
  generateBusinesses(gen(2), options.businesses ?? DEFAULT_COUNTS.businesses);
  generateVehicles(gen(3), options.vehicles ?? DEFAULT_COUNTS.vehicles);
  generateCustomers(gen(4), options.customers ?? DEFAULT_COUNTS.customers);
  generateBorrowers(gen(5), options.borrowers ?? DEFAULT_COUNTS.borrowers);
  return pop;
}
