/**
 * Validation of GraphQL arguments beyond their scalar types: personal numbers, organisation numbers,
 * phone numbers, vehicle identifiers and Bisnode consumer ids.
 *
 * Every validator returns a discriminated result. A failure carries only a sentence describing the
 * expected form, never the input: the input may be a personal number, and failures end up in GraphQL
 * errors and logs.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export type Invalid = { ok: false; expected: string };
export type Valid<Extra extends object = Record<never, never>> = { ok: true; value: string } & Extra;
export type ValidationResult<Extra extends object = Record<never, never>> = Valid<Extra> | Invalid;

export type Market = 'NO' | 'SE' | 'DK' | 'FI';
export type NationalIdKind = 'FNR' | 'DNR' | 'PERSONNUMMER' | 'SAMORDNINGSNUMMER' | 'CPR' | 'HETU';

/** ISO date (YYYY-MM-DD) or null when the number does not determine the birth date with certainty. */
type BirthDate = { birthDate: string | null };

export type NorwegianIdResult = ValidationResult<
  BirthDate & {
    kind: 'FNR' | 'DNR';
    /**
     * 'legacy' when the first check digit satisfies the pre-2032 rule (remainder 0), '2032' when it
     * is only valid under the new scheme (remainder 1-3).
     */
    checkScheme: 'legacy' | '2032';
  }
>;
export type SwedishIdResult = ValidationResult<BirthDate & { kind: 'PERSONNUMMER' | 'SAMORDNINGSNUMMER' }>;
export type DanishIdResult = ValidationResult<BirthDate & { kind: 'CPR' }>;
export type FinnishIdResult = ValidationResult<BirthDate & { kind: 'HETU' }>;
export type NationalIdResult = ValidationResult<BirthDate & { market: Market; kind: NationalIdKind }>;

export const EXPECTED = {
  norwegianPersonId:
    'an 11-digit Norwegian fødselsnummer or D-number with a valid birth date and valid mod-11 check digits',
  norwegianOrgNumber: 'a 9-digit Norwegian organisation number with a valid mod-11 check digit',
  swedishPersonId:
    'a Swedish personnummer or samordningsnummer as YYYYMMDDNNNC, YYYYMMDD-NNNC, YYMMDD-NNNC or YYMMDD+NNNC ' +
    'with a valid birth date and Luhn check digit',
  danishPersonId: 'a Danish CPR number as DDMMYY-SSSS or 10 digits with a valid birth date',
  finnishPersonId:
    'a Finnish henkilötunnus as DDMMYYCZZZQ with a valid birth date, century sign, ' +
    'individual number 002-899 and check character',
  phoneE164:
    "an E.164 phone number: '+' and 8-15 digits, the first not 0 (exactly 8 digits after +47 for Norway); " +
    'spaces and dashes are allowed',
  vehicleRegistration: 'a Norwegian registration number: 1-2 letters followed by 4-5 digits, e.g. AB 12345',
  vin: 'a 17-character vehicle identification number of digits and letters other than I, O and Q',
  consumerId: 'a consumerId of 1-250 characters from a-z, A-Z, 0-9, @, - and _, not starting with _',
} as const;

// Formatted identifiers are short; bounding the length first keeps the work per argument trivial
// whatever a client sends.
const MAX_FORMATTED_LENGTH = 64;

const invalid = (expected: string): Invalid => ({ ok: false, expected });

/** The digit values of an all-ASCII-digit string (callers check the shape first). */
function digitsOf(s: string): number[] {
  // A plain loop: Array.from(s, fn) walks the string's iterator, ~1 µs per national id (issue 7).
  const d = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) d[i] = s.charCodeAt(i) - 48;
  return d;
}

function weightedSum(digits: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += (digits[i] ?? 0) * (weights[i] ?? 0);
  return sum;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Norway: fødselsnummer and D-number
// ---------------------------------------------------------------------------------------------

const FNR_K1_WEIGHTS = [3, 7, 6, 1, 8, 9, 4, 5, 2] as const;
const FNR_K2_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;

/**
 * The pre-2032 century table (Skatteetaten): which century a two-digit year belongs to, given the
 * individual number. Null where the old allocation rules leave the combination unused.
 */
function legacyCentury(individual: number, yy: number): number | null {
  if (individual <= 499) return 1900;
  if (individual <= 749 && yy >= 54) return 1800;
  if (yy <= 39) return 2000;
  if (individual >= 900) return 1900;
  return null;
}

/**
 * Norwegian fødselsnummer or D-number (day + 40). H-numbers and synthetic test numbers (month + 40 /
 * + 80) are rejected: they are not identities a provider can look up.
 *
 * Check digits follow Skatteetaten's rule for numbers issued from 1 January 2032, which systems must
 * already accept alongside the old one:
 * https://skatteetaten.github.io/folkeregisteret-api-dokumentasjon/nytt-fodselsnummer-fra-2032/
 * (source: github.com/Skatteetaten/folkeregisteret-api-dokumentasjon, src/om-tjenestene/nyttfnr2032.md).
 * There k1 = {11,12,13,14} - (S1 mod 11) with S1 the k1-weighted sum of the first nine digits,
 * discarded when it would be 10; equivalently (S1 + k1) mod 11 ∈ {0,1,2,3}. The old rule is the case
 * remainder 0. k2 is unchanged: 11 - (S2 mod 11), S2 weighted over ten digits including k1, 11 → 0,
 * 10 invalid.
 *
 * The same page says the individual number no longer indicates the century, and new numbers are
 * issued to people born before 2032 too. So the individual number / century table is not a validity
 * rule here: it only decides `birthDate`, which is null when the number is valid only under the new
 * check rule or the table has no century for it. The date itself must exist in some century; 2000 +
 * YY is the most permissive choice (29 February exists in 2000 but not 1900).
 */
export function validateNorwegianPersonId(input: string): NorwegianIdResult {
  const expected = EXPECTED.norwegianPersonId;
  const s = input.trim();
  if (!/^\d{11}$/.test(s)) return invalid(expected);
  const d = digitsOf(s);

  const k1Remainder = (weightedSum(d, FNR_K1_WEIGHTS) + (d[9] ?? 0)) % 11;
  if (k1Remainder > 3) return invalid(expected);
  // A computed k2 of 10 never equals a digit, which is what "discarded" means.
  const k2 = (11 - (weightedSum(d, FNR_K2_WEIGHTS) % 11)) % 11;
  if (k2 !== d[10]) return invalid(expected);

  let day = Number(s.slice(0, 2));
  const month = Number(s.slice(2, 4));
  const yy = Number(s.slice(4, 6));
  const individual = Number(s.slice(6, 9));
  const kind = day > 40 ? 'DNR' : 'FNR';
  if (kind === 'DNR') day -= 40;
  if (!isValidDate(2000 + yy, month, day)) return invalid(expected);

  const checkScheme = k1Remainder === 0 ? 'legacy' : '2032';
  const century = checkScheme === 'legacy' ? legacyCentury(individual, yy) : null;
  const birthDate =
    century !== null && isValidDate(century + yy, month, day) ? isoDate(century + yy, month, day) : null;
  return { ok: true, value: s, kind, checkScheme, birthDate };
}

const ORGNR_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;

/** Norwegian organisation number (Brønnøysundregistrene), printed grouped as "923 609 016". */
export function validateNorwegianOrgNumber(input: string): ValidationResult {
  const expected = EXPECTED.norwegianOrgNumber;
  if (input.length > MAX_FORMATTED_LENGTH) return invalid(expected);
  const s = input.replace(/\s+/g, '');
  if (!/^\d{9}$/.test(s)) return invalid(expected);
  const d = digitsOf(s);
  // A computed check digit of 10 never equals a digit: such prefixes are never issued.
  const check = (11 - (weightedSum(d, ORGNR_WEIGHTS) % 11)) % 11;
  if (check !== d[8]) return invalid(expected);
  return { ok: true, value: s };
}

// ---------------------------------------------------------------------------------------------
// Sweden: personnummer and samordningsnummer
// ---------------------------------------------------------------------------------------------

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    // Weights 2,1,2,1,... from the left, as Skatteverket specifies for the 10-digit form.
    let v = (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 2 : 1);
    if (v > 9) v -= 9;
    sum += v;
  }
  return sum % 10 === 0;
}

/**
 * Swedish personnummer or samordningsnummer (day + 60), normalised to the 12-digit YYYYMMDDNNNC form
 * Bisnode uses as legalId.
 *
 * In the 10-digit forms the separator carries the century: '-' means the person turns at most 99 in
 * the current calendar year, '+' that they are 100 or older (Skatteverket switches the sign in the
 * year of the 100th birthday, not on the day). `now` is injectable so that rule is testable.
 * A 10-digit form without separator is not accepted: its century would be a guess.
 */
export function validateSwedishPersonId(input: string, now: Date = new Date()): SwedishIdResult {
  const expected = EXPECTED.swedishPersonId;
  const s = input.trim();
  const long = /^(\d{4})(\d{2})(\d{2})-?(\d{3})(\d)$/.exec(s);
  const short = long ? null : /^(\d{2})(\d{2})(\d{2})([-+])(\d{3})(\d)$/.exec(s);

  let year: number;
  let mm: string;
  let dd: string;
  let serial: string;
  let check: string;
  if (long) {
    [, , mm = '', dd = '', serial = '', check = ''] = long;
    year = Number(long[1]);
    // Personnummer exist since 1947, for people then alive; other centuries are typos.
    if (year < 1800 || year > 2099) return invalid(expected);
  } else if (short) {
    [, , mm = '', dd = '', , serial = '', check = ''] = short;
    const yy = Number(short[1]);
    const base = now.getUTCFullYear() - (short[4] === '+' ? 100 : 0);
    year = base - ((base - yy + 100) % 100);
  } else {
    return invalid(expected);
  }

  // Serial 000 is never issued.
  if (serial === '000') return invalid(expected);
  const month = Number(mm);
  let day = Number(dd);
  const kind = day > 60 ? 'SAMORDNINGSNUMMER' : 'PERSONNUMMER';
  if (kind === 'SAMORDNINGSNUMMER') day -= 60;
  if (!isValidDate(year, month, day)) return invalid(expected);
  const yy = String(year % 100).padStart(2, '0');
  if (!luhnValid(`${yy}${mm}${dd}${serial}${check}`)) return invalid(expected);

  return {
    ok: true,
    value: `${year}${mm}${dd}${serial}${check}`,
    kind,
    birthDate: isoDate(year, month, day),
  };
}

// ---------------------------------------------------------------------------------------------
// Denmark: CPR
// ---------------------------------------------------------------------------------------------

/** The CPR office's table: century from the 7th digit and the two-digit year. */
function cprCentury(seventh: number, yy: number): number {
  if (seventh <= 3) return 1900;
  if (seventh === 4 || seventh === 9) return yy <= 36 ? 2000 : 1900;
  return yy <= 57 ? 2000 : 1800;
}

/**
 * Danish CPR number. The mod-11 check is deliberately not applied: CPR has issued numbers that fail
 * it since October 2007 and asks users not to validate with it.
 */
export function validateDanishPersonId(input: string): DanishIdResult {
  const expected = EXPECTED.danishPersonId;
  const m = /^(\d{2})(\d{2})(\d{2})-?(\d{4})$/.exec(input.trim());
  if (!m) return invalid(expected);
  const [, dd = '', mm = '', yy = '', sequence = ''] = m;
  const year = cprCentury(Number(sequence[0]), Number(yy)) + Number(yy);
  const month = Number(mm);
  const day = Number(dd);
  if (!isValidDate(year, month, day)) return invalid(expected);
  return { ok: true, value: `${dd}${mm}${yy}${sequence}`, kind: 'CPR', birthDate: isoDate(year, month, day) };
}

// ---------------------------------------------------------------------------------------------
// Finland: henkilötunnus (HETU)
// ---------------------------------------------------------------------------------------------

const HETU_CHECK_CHARS = '0123456789ABCDEFHJKLMNPRSTUVWXY';

// The extra 1900s/2000s signs (Y-U, B-F) exist since 2023 to avoid running out of numbers.
function hetuCentury(sign: string): number {
  if (sign === '+') return 1800;
  if ('-YXWVU'.includes(sign)) return 1900;
  return 2000;
}

/**
 * Finnish henkilötunnus. Individual numbers 900-999 are temporary (not personal identities) and
 * 000-001 are never issued, so only 002-899 is accepted.
 */
export function validateFinnishPersonId(input: string): FinnishIdResult {
  const expected = EXPECTED.finnishPersonId;
  const s = input.trim().toUpperCase();
  const m = /^(\d{2})(\d{2})(\d{2})([-+A-FU-Y])(\d{3})([0-9A-Y])$/.exec(s);
  if (!m) return invalid(expected);
  const [, dd = '', mm = '', yy = '', sign = '', individual = '', check = ''] = m;
  const n = Number(individual);
  if (n < 2 || n > 899) return invalid(expected);
  const year = hetuCentury(sign) + Number(yy);
  const month = Number(mm);
  const day = Number(dd);
  if (!isValidDate(year, month, day)) return invalid(expected);
  if (HETU_CHECK_CHARS[Number(`${dd}${mm}${yy}${individual}`) % 31] !== check) return invalid(expected);
  return { ok: true, value: s, kind: 'HETU', birthDate: isoDate(year, month, day) };
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

export function validateNationalId(market: Market, input: string, now: Date = new Date()): NationalIdResult {
  const r = (() => {
    switch (market) {
      case 'NO':
        return validateNorwegianPersonId(input);
      case 'SE':
        return validateSwedishPersonId(input, now);
      case 'DK':
        return validateDanishPersonId(input);
      case 'FI':
        return validateFinnishPersonId(input);
    }
  })();
  if (!r.ok) return r;
  return { ok: true, value: r.value, market, kind: r.kind, birthDate: r.birthDate };
}

// ---------------------------------------------------------------------------------------------
// Phone, vehicle, Bisnode consumer id
// ---------------------------------------------------------------------------------------------

/**
 * E.164 phone number. Spaces and dashes are formatting and are stripped; anything else (brackets, a
 * trunk "(0)", a missing '+') is rejected rather than guessed at.
 */
export function validatePhoneE164(input: string): ValidationResult {
  const expected = EXPECTED.phoneE164;
  if (input.length > MAX_FORMATTED_LENGTH) return invalid(expected);
  const s = input.replace(/[\s-]+/g, '');
  if (!/^\+[1-9]\d{7,14}$/.test(s)) return invalid(expected);
  // +47 is Norway's alone, and Norwegian numbers are always 8 digits.
  if (s.startsWith('+47') && s.length !== 11) return invalid(expected);
  return { ok: true, value: s };
}

/** Norwegian registration plate (standard series), normalised to uppercase without spaces. */
export function validateVehicleRegistration(input: string): ValidationResult {
  const expected = EXPECTED.vehicleRegistration;
  if (input.length > MAX_FORMATTED_LENGTH) return invalid(expected);
  const s = input.replace(/[\s-]+/g, '').toUpperCase();
  if (!/^[A-Z]{1,2}\d{4,5}$/.test(s)) return invalid(expected);
  return { ok: true, value: s };
}

/**
 * Vehicle identification number (ISO 3779). The position-9 check digit is only mandatory in North
 * America, so European VINs cannot be held to it.
 */
export function validateVin(input: string): ValidationResult {
  const expected = EXPECTED.vin;
  const s = input.trim().toUpperCase();
  if (!/^[A-HJ-NPR-Z0-9]{17}$/.test(s)) return invalid(expected);
  return { ok: true, value: s };
}

/**
 * Bisnode consumerId, the pattern from Bisnode's API contract. Not trimmed or case-folded: it is an
 * opaque key that must reach Bisnode exactly as the client holds it.
 */
export function validateConsumerId(input: string): ValidationResult {
  const expected = EXPECTED.consumerId;
  if (input.length < 1 || input.length > 250 || !/^(?!_)[a-zA-Z0-9@\-_]+$/.test(input))
    return invalid(expected);
  return { ok: true, value: input };
}

// ---------------------------------------------------------------------------------------------
// Display and pseudonymisation
// ---------------------------------------------------------------------------------------------

/**
 * Mask a (normalised) national id for display: the first 6 characters stay, the rest become '*'.
 * Values of 6 characters or fewer are masked entirely, since keeping 6 would reveal all of them.
 */
export function maskNationalId(value: string): string {
  const keep = value.length > 6 ? 6 : 0;
  return value.slice(0, keep) + '*'.repeat(value.length - keep);
}

/**
 * Stable pseudonymous reference to a data subject for logs, audit records and cache keys:
 * HMAC-SHA256 keyed with `salt`, base64url, first 22 characters (132 bits). Keyed, because national
 * ids have so few possible values that a plain hash is reversed by enumeration. Pass the normalised
 * value so that different spellings of one id map to one reference.
 */
export function subjectRef(value: string, salt: string | Buffer): string {
  if (salt.length === 0) throw new Error('subjectRef needs a non-empty salt');
  // The HMAC key object is made once per salt (its setup dominates for such short inputs);
  // references themselves are not memoised, so no national id is kept in memory for them.
  const key = typeof salt === 'string' ? keyOf(salt) : createSecretKey(salt);
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url').slice(0, 22);
}

const SALT_KEYS = new Map<string, KeyObject>();
function keyOf(salt: string): KeyObject {
  let key = SALT_KEYS.get(salt);
  if (!key) {
    key = createSecretKey(Buffer.from(salt, 'utf8'));
    SALT_KEYS.set(salt, key);
  }
  return key;
}
