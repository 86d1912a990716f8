/**
 * Identity number generators for the synthetic population. Each one produces numbers that a real
 * validator accepts (check digits, century markers, gender parity), so the sandbox never serves an
 * id that the gateway or a provider would reject as malformed.
 */

/** A source of uniform integers in [0, n). The generators take one so they stay deterministic. */
export type RandInt = (n: number) => number;

export interface BirthDate {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function yymmdd(b: BirthDate): { dd: string; mm: string; yy: string } {
  return { dd: pad(b.day, 2), mm: pad(b.month, 2), yy: pad(b.year % 100, 2) };
}

// ---------------------------------------------------------------------------------------------
// Norway: fødselsnummer and D-number

const FNR_K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const FNR_K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/** The two mod-11 control digits for the first 9 digits, or null when either would be 10. */
export function fnrControlDigits(first9: string): string | null {
  let s1 = 0;
  for (let i = 0; i < 9; i++) s1 += (first9.charCodeAt(i) - 48) * FNR_K1[i]!;
  let k1 = 11 - (s1 % 11);
  if (k1 === 11) k1 = 0;
  if (k1 === 10) return null;
  let s2 = 0;
  for (let i = 0; i < 9; i++) s2 += (first9.charCodeAt(i) - 48) * FNR_K2[i]!;
  s2 += k1 * 2;
  let k2 = 11 - (s2 % 11);
  if (k2 === 11) k2 = 0;
  if (k2 === 10) return null;
  return `${k1}${k2}`;
}

/**
 * Individual number range (inclusive) for a birth year, per Folkeregisteret: 000-499 for
 * 1900-1999, 900-999 also for 1940-1999, 500-999 for 2000-2039, 500-749 for 1854-1899.
 */
function noIndividualRange(year: number, rand: RandInt): [number, number] {
  if (year >= 2000) return [500, 999];
  if (year < 1900) return [500, 749];
  if (year >= 1940 && rand(10) === 0) return [900, 999];
  return [0, 499];
}

/**
 * A Norwegian fødselsnummer (DDMMYYIIIKK), or a D-number (day + 40) when `dNumber` is true.
 * The third individual digit is odd for men and even for women.
 */
export function norwegianNationalId(b: BirthDate, male: boolean, rand: RandInt, dNumber = false): string {
  const { dd, mm, yy } = yymmdd(b);
  const day = dNumber ? pad(b.day + 40, 2) : dd;
  for (;;) {
    const [lo, hi] = noIndividualRange(b.year, rand);
    let ind = lo + rand(hi - lo + 1);
    if (ind % 2 !== (male ? 1 : 0)) ind = ind === hi ? ind - 1 : ind + 1;
    const first9 = day + mm + yy + pad(ind, 3);
    const k = fnrControlDigits(first9);
    if (k) return first9 + k;
  }
}

// ---------------------------------------------------------------------------------------------
// Sweden: personnummer, Bisnode's 12-digit YYYYMMDDNNNC

/** Luhn check digit over a digit string (the Swedish personnummer uses YYMMDDNNN). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** 12-digit Swedish personnummer; the third birth-number digit is odd for men. */
export function swedishPersonnummer(b: BirthDate, male: boolean, rand: RandInt): string {
  const { dd, mm, yy } = yymmdd(b);
  // Birth number 000 is never issued (and validators reject it).
  let n = 1 + rand(999);
  if (n % 2 !== (male ? 1 : 0)) n = n === 999 ? 998 : n + 1;
  const nnn = pad(n, 3);
  const c = luhnCheckDigit(yy + mm + dd + nnn);
  return `${b.year}${mm}${dd}${nnn}${c}`;
}

// ---------------------------------------------------------------------------------------------
// Denmark: CPR DDMMYYSSSS

const CPR_WEIGHTS = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

export function cprMod11Valid(cpr: string): boolean {
  let s = 0;
  for (let i = 0; i < 10; i++) s += (cpr.charCodeAt(i) - 48) * CPR_WEIGHTS[i]!;
  return s % 11 === 0;
}

/**
 * Seventh digits that the CPR office uses for a birth year: 0-3 for 1900-1999; 4 and 9 for
 * 1937-1999 and 2000-2036; 5-8 for 2000-2057 and 1858-1899.
 */
function cprCenturyDigits(year: number): number[] {
  const yy = year % 100;
  if (year >= 1900 && year <= 1999) return yy >= 37 ? [0, 1, 2, 3, 4, 9] : [0, 1, 2, 3];
  if (year >= 2000 && year <= 2036) return [4, 9, 5, 6, 7, 8];
  if (year >= 2037 && year <= 2057) return [5, 6, 7, 8];
  if (year >= 1858 && year <= 1899) return [5, 6, 7, 8];
  throw new RangeError(`no CPR century digit for ${year}`);
}

/**
 * Danish CPR satisfying the classic mod-11 rule (still accepted by every validator, although the
 * CPR office stopped guaranteeing it in 2007). The last digit is odd for men.
 */
export function danishCpr(b: BirthDate, male: boolean, rand: RandInt): string {
  const { dd, mm, yy } = yymmdd(b);
  const sevenths = cprCenturyDigits(b.year);
  const prefix = dd + mm + yy;
  let s6 = 0;
  for (let i = 0; i < 6; i++) s6 += (prefix.charCodeAt(i) - 48) * CPR_WEIGHTS[i]!;
  for (;;) {
    const seventh = sevenths[rand(sevenths.length)]!;
    const mid = rand(100);
    const s9 = s6 + seventh * 4 + Math.floor(mid / 10) * 3 + (mid % 10) * 2;
    const last = (11 - (s9 % 11)) % 11;
    if (last === 10 || last % 2 !== (male ? 1 : 0)) continue;
    return `${prefix}${seventh}${pad(mid, 2)}${last}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Finland: henkilötunnus DDMMYYCZZZQ

const HETU_CHECK = '0123456789ABCDEFHJKLMNPRSTUVWXY';

export function hetuCheckChar(ddmmyy: string, zzz: string): string {
  return HETU_CHECK[Number(ddmmyy + zzz) % 31]!;
}

/** Finnish HETU with "-" for the 1900s and "A" for the 2000s; ZZZ 002-899, odd for men. */
export function finnishHetu(b: BirthDate, male: boolean, rand: RandInt): string {
  const { dd, mm, yy } = yymmdd(b);
  const sign = b.year >= 2000 ? 'A' : b.year >= 1900 ? '-' : '+';
  let z = 2 + rand(898);
  if (z % 2 !== (male ? 1 : 0)) z = z === 899 ? 898 : z + 1;
  const zzz = pad(z, 3);
  return `${dd}${mm}${yy}${sign}${zzz}${hetuCheckChar(dd + mm + yy, zzz)}`;
}

// ---------------------------------------------------------------------------------------------
// Norwegian organisation numbers

const ORG_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2];

/** Mod-11 control digit for the first 8 digits, or null when it would be 10 (unused numbers). */
export function orgNrControlDigit(first8: string): number | null {
  let s = 0;
  for (let i = 0; i < 8; i++) s += (first8.charCodeAt(i) - 48) * ORG_WEIGHTS[i]!;
  const k = 11 - (s % 11);
  if (k === 11) return 0;
  return k === 10 ? null : k;
}

/** 9-digit organisation number starting with 8 or 9. */
export function norwegianOrgNr(rand: RandInt): string {
  for (;;) {
    const first8 = `${8 + rand(2)}${pad(rand(10_000_000), 7)}`;
    const k = orgNrControlDigit(first8);
    if (k !== null) return first8 + k;
  }
}

// ---------------------------------------------------------------------------------------------
// Vehicles

const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const VIN_YEAR = 'ABCDEFGHJKLMNPRSTVWXY123456789';

// ISO 3779 transliteration: letters to the digits they weigh as.
const VIN_LETTER_VALUE: Record<string, number> = {
  A: 1,
  B: 2,
  C: 3,
  D: 4,
  E: 5,
  F: 6,
  G: 7,
  H: 8,
  J: 1,
  K: 2,
  L: 3,
  M: 4,
  N: 5,
  P: 7,
  R: 9,
  S: 2,
  T: 3,
  U: 4,
  V: 5,
  W: 6,
  X: 7,
  Y: 8,
  Z: 9,
};

function vinValue(c: string): number {
  return c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : (VIN_LETTER_VALUE[c] ?? 0);
}

/** ISO 3779 / North American check digit for position 9 ("X" for 10). */
export function vinCheckDigit(vin: string): string {
  let s = 0;
  for (let i = 0; i < 17; i++) s += vinValue(vin[i]!) * VIN_WEIGHTS[i]!;
  const r = s % 11;
  return r === 10 ? 'X' : String(r);
}

/** A 17-character VIN for a manufacturer code (WMI) and model year, with a valid check digit. */
export function vin(wmi: string, year: number, rand: RandInt): string {
  let vds = '';
  for (let i = 0; i < 5; i++) vds += VIN_CHARS[rand(VIN_CHARS.length)];
  const yearChar = VIN_YEAR[(((year - 1980) % 30) + 30) % 30]!;
  const plant = VIN_CHARS[rand(VIN_CHARS.length)]!;
  const serial = pad(rand(1_000_000), 6);
  const draft = `${wmi}${vds}0${yearChar}${plant}${serial}`;
  return `${draft.slice(0, 8)}${vinCheckDigit(draft)}${draft.slice(9)}`;
}

// Letters seen on Norwegian plates; E* series are reserved for electric cars.
const PLATE_LETTERS = 'ABCDFHJKLNPRSTUVXYZ';
const ELECTRIC_PREFIXES = ['EL', 'EK', 'EV', 'EB', 'EC', 'ED', 'EE', 'EF', 'EH', 'EJ'];

/** Norwegian registration number without the space, e.g. "EL12345" or "AB12345". */
export function norwegianRegNr(electric: boolean, rand: RandInt): string {
  const digits = pad(10_000 + rand(90_000), 5);
  if (electric) {
    // Mostly the well-known EL/EK/EV series.
    const p =
      rand(10) < 8 ? ['EL', 'EK', 'EV'][rand(3)]! : ELECTRIC_PREFIXES[rand(ELECTRIC_PREFIXES.length)]!;
    return p + digits;
  }
  return PLATE_LETTERS[rand(PLATE_LETTERS.length)]! + PLATE_LETTERS[rand(PLATE_LETTERS.length)]! + digits;
}
