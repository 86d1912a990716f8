import type { Market, Person, Population } from '../population/types.js';
import { isMinor } from './person.js';
import type { ConsumerData } from './schemas.js';

/**
 * Person identification, shared by `_find` and consumer identification. The strictness is ours
 * (the document only says "provide as much data as possible"); it is written down in the
 * ConsumerDataDto description of the OpenAPI document:
 * - `legalId` decides alone (exact, trimmed; SE in 12 digits).
 * - Otherwise every group that is given must agree with the person, and the given groups must
 *   form a sufficient combination: name+birth, name+address, name+phone, birth+address, phone.
 * - A phone-only match never returns a person reserved against telemarketing.
 * - Protected identities and minors are never found; more than one candidate is no match.
 */

type AddressFields =
  'streetName' | 'streetNumber' | 'entrance' | 'floor' | 'apartment' | 'postalCode' | 'city';
type ParsedAddress = Partial<Record<AddressFields, string>>;

const COUNTRY_CODE: Record<Market, string> = { SE: '46', NO: '47', DK: '45', FI: '358' };

export function fold(s: string): string {
  return s
    .toLowerCase()
    .replace(/ø/g, 'o')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function nameTokens(s: string | null | undefined, max = Infinity): string[] {
  if (!s) return [];
  return fold(s)
    .split(/[^\p{L}']+/u)
    .filter(Boolean)
    .slice(0, max);
}

const digits = (s: string) => s.replace(/\D/g, '');

/** "Storgatan 22B", "Vestergade 12, 2. th, 8000 Aarhus C", "Storgatan 22 B lgh 1102, 411 14 Göteborg". */
export function parseFullAddress(full: string): ParsedAddress {
  const out: ParsedAddress = {};
  const parts = full
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  let first = parts.shift() ?? '';
  // A postal code and city may trail the street part when no comma separates them.
  const trailing = /^(.*\d\s*[A-Za-z]?)\s+(\d{3}\s?\d{1,2}|\d{4})\s+(\D.*)$/.exec(first);
  if (trailing?.[1] && trailing[2] && trailing[3]) {
    first = trailing[1];
    parts.push(`${trailing[2]} ${trailing[3]}`);
  }
  const street = /^(.*?\D)\s*(\d+)\s*([A-Za-z])?(?:\s+(.*))?$/.exec(first);
  if (street?.[1] && street[2]) {
    out.streetName = street[1].trim();
    out.streetNumber = street[2];
    if (street[3]) out.entrance = street[3].toUpperCase();
    const rest = street[4] ?? '';
    const apt = /(?:lgh|leil|lejl|apt|as)\.?\s*(\w+)/i.exec(rest);
    if (apt?.[1]) out.apartment = apt[1];
    const floor = /(\d+)\.?\s*(?:tr|etg|etasje|sal|krs)\b/i.exec(rest);
    if (floor?.[1]) out.floor = floor[1];
  } else if (first) {
    out.streetName = first;
  }
  for (const part of parts) {
    const pc = /^(?:[A-Z]{2}-)?(\d{3}\s?\d{1,2}|\d{4})(?:\s+(.+))?$/i.exec(part);
    const floorSide = /^(\d+)\.?\s*(th|tv|mf)?$/i.exec(part);
    if (pc?.[1] && (pc[2] || out.postalCode === undefined) && !floorSide) {
      out.postalCode = digits(pc[1]);
      if (pc[2]) out.city = pc[2].trim();
    } else if (floorSide?.[1]) {
      out.floor = floorSide[1];
      if (floorSide[2]) out.apartment = floorSide[2].toLowerCase();
    } else if (!out.city) {
      out.city = part;
    }
  }
  return out;
}

const ADDRESS_FIELDS: AddressFields[] = [
  'streetName',
  'streetNumber',
  'entrance',
  'floor',
  'apartment',
  'postalCode',
  'city',
];

/** Fills null/absent address fields from fullAddress; an empty string stays empty (unparsed). */
export function expandQuery(q: ConsumerData): ConsumerData {
  if (!q.fullAddress) return q;
  const parsed = parseFullAddress(q.fullAddress);
  const out: ConsumerData = { ...q };
  for (const f of ADDRESS_FIELDS) {
    if (out[f] === null || out[f] === undefined) {
      const v = parsed[f];
      if (v !== undefined) out[f] = v;
    }
  }
  return out;
}

/** E.164 candidates for what a client typed, read in the market when it is national. */
export function normalizePhone(raw: string, market: Market): string | null {
  const trimmed = raw.trim();
  if (!trimmed) return null;
  let d = digits(trimmed);
  if (!d) return null;
  if (trimmed.startsWith('+')) return `+${d}`;
  if (d.startsWith('00')) return `+${d.slice(2)}`;
  const cc = COUNTRY_CODE[market];
  if (d.startsWith('0')) d = d.slice(1);
  else if (d.startsWith(cc) && d.length > cc.length + 7) return `+${d}`;
  return `+${cc}${d}`;
}

const given = (v: string | null | undefined): v is string => typeof v === 'string' && v.trim() !== '';

export function isEmptyQuery(q: ConsumerData): boolean {
  return !Object.values(q).some((v) =>
    typeof v === 'number' ? true : given(v as string | null | undefined),
  );
}

export type MatchOutcome =
  { kind: 'found'; person: Person; by: 'legalId' | 'search' } | { kind: 'none'; reason: string };

export function findPerson(
  population: Population,
  market: Market,
  raw: ConsumerData,
  now: number,
): MatchOutcome {
  const searchable = (p: Person) => p.market === market && !p.protectedIdentity && !isMinor(p, now);

  if (given(raw.legalId)) {
    const p = population.personByNationalId.get(raw.legalId.trim());
    return p && searchable(p)
      ? { kind: 'found', person: p, by: 'legalId' }
      : { kind: 'none', reason: 'legalId' };
  }

  const q = expandQuery(raw);
  const firsts = nameTokens(q.firstName, 3);
  const families = nameTokens(q.familyName, 3);
  const phone = given(q.phoneNumber) ? normalizePhone(q.phoneNumber, market) : null;
  const postal = given(q.postalCode) ? digits(q.postalCode) : null;
  const hasName = firsts.length > 0 && families.length > 0;
  const hasBirth = given(q.dateOfBirth) || typeof q.yearOfBirth === 'number';
  const hasAddress = given(q.streetName) && (postal !== null || given(q.city));
  const hasPhone = phone !== null;
  const sufficient =
    (hasName && (hasBirth || hasAddress || hasPhone)) || (hasBirth && hasAddress) || hasPhone;
  if (!sufficient) return { kind: 'none', reason: 'insufficient data' };
  const phoneOnly = hasPhone && !hasName && !hasBirth && !hasAddress;

  const agrees = (p: Person): boolean => {
    if (firsts.length > 0) {
      const own = [...nameTokens(p.firstName), ...nameTokens(p.middleName)];
      if (!firsts.some((t) => own.includes(t))) return false;
    }
    if (families.length > 0) {
      const own = [...nameTokens(p.lastName), ...nameTokens(p.middleName)];
      if (!families.some((t) => own.includes(t))) return false;
    }
    if (given(q.dateOfBirth) && p.birthDate !== q.dateOfBirth) return false;
    if (typeof q.yearOfBirth === 'number' && Number(p.birthDate.slice(0, 4)) !== q.yearOfBirth) return false;
    if (q.gender && q.gender !== 'OTHER' && p.gender !== q.gender) return false;
    if (phone && !p.phones.some((ph) => ph.number === phone)) return false;
    const anyAddressPart = given(q.streetName) || postal !== null || given(q.city) || given(q.streetNumber);
    if (anyAddressPart) {
      const ok = p.addresses.some(
        (a) =>
          (!given(q.streetName) || fold(a.street) === fold(q.streetName)) &&
          (!given(q.streetNumber) || a.houseNumber.trim() === q.streetNumber.trim()) &&
          (!given(q.entrance) || fold(a.entrance) === fold(q.entrance)) &&
          (postal === null || digits(a.postalCode) === postal) &&
          (!given(q.city) || fold(a.city) === fold(q.city)),
      );
      if (!ok) return false;
    }
    return true;
  };

  let found: Person | undefined;
  for (const p of population.persons) {
    if (!searchable(p) || !agrees(p)) continue;
    if (found) return { kind: 'none', reason: 'ambiguous' };
    found = p;
  }
  if (!found) return { kind: 'none', reason: 'no match' };
  if (phoneOnly && found.reservations.phoneSale) return { kind: 'none', reason: 'telemarketing restriction' };
  return { kind: 'found', person: found, by: 'search' };
}
