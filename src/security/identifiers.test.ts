// danish-ssn reads local date fields off UTC dates; pin the zone so the cross-check is about CPR rules.
process.env.TZ = 'UTC';

import { createRequire } from 'node:module';
import { idnr } from '@navikt/fnrvalidator';
import { FinnishSSN } from 'finnish-ssn';
import type PersonnummerModule from 'personnummer';
import { describe, expect, it } from 'vitest';
import {
  EXPECTED,
  maskNationalId,
  subjectRef,
  validateConsumerId,
  validateDanishPersonId,
  validateFinnishPersonId,
  validateNationalId,
  validateNorwegianOrgNumber,
  validateNorwegianPersonId,
  validatePhoneE164,
  validateSwedishPersonId,
  validateVehicleRegistration,
  validateVin,
  type ValidationResult,
} from './identifiers.js';

// danish-ssn ships no types; this is the slice of its API the cross-check uses.
type DanishSsn = {
  (cpr: string): { valid: boolean; date: Date };
  validate(cpr: string): string | null;
};
const require = createRequire(import.meta.url);
const danishSsn = require('danish-ssn') as DanishSsn;
// personnummer's CommonJS build exports the class itself, while its typings declare an ES default
// export, which NodeNext then types as `{ default: class }`; require matches the runtime.
const Personnummer = require('personnummer') as typeof PersonnummerModule.default;

// ---------------------------------------------------------------------------------------------
// Independent reference implementations, written from the published rules rather than the module.
// ---------------------------------------------------------------------------------------------

/** mulberry32: seeded so a failing random case reproduces. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

function randomDate(r: (n: number) => number, fromYear: number, toYear: number) {
  const y = fromYear + r(toYear - fromYear + 1);
  const m = 1 + r(12);
  const d = 1 + r(daysIn(y, m));
  return { y, m, d, iso: `${pad(y, 4)}-${pad(m)}-${pad(d)}` };
}

/** Norwegian check digits for 9 digits with the first check digit chosen at `remainder` (0 = old rule). */
function fnrCheckDigits(first9: string, remainder = 0): string | null {
  const n = [...first9].map(Number);
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const s1 = w1.reduce((acc, w, i) => acc + w * n[i]!, 0);
  let k1 = 11 + remainder - (s1 % 11);
  if (k1 > 10) k1 -= 11;
  if (k1 === 10) return null;
  const s2 = w2.reduce((acc, w, i) => acc + w * (i < 9 ? n[i]! : k1), 0);
  const k2 = (11 - (s2 % 11)) % 11;
  return k2 === 10 ? null : `${k1}${k2}`;
}

/** An individual number consistent with Skatteetaten's pre-2032 century table. */
function fnrIndividual(r: (n: number) => number, year: number): number {
  if (year < 1900) return 500 + r(250);
  if (year < 2000) return year >= 1940 && r(4) === 0 ? 900 + r(100) : r(500);
  return 500 + r(500);
}

/** A number with this date part and the first individual number from `individual` that has check digits. */
function fnrFrom(first6: string, individual: number, remainder = 0): string {
  for (let i = individual; i < 1000; i++) {
    const k = fnrCheckDigits(first6 + pad(i, 3), remainder);
    if (k) return first6 + pad(i, 3) + k;
  }
  throw new Error('no individual number with valid check digits');
}

function generateFnr(r: (n: number) => number, opts: { dnr?: boolean; remainder?: number } = {}) {
  for (;;) {
    const b = randomDate(r, 1854, 2039);
    const day = b.d + (opts.dnr ? 40 : 0);
    const first9 = `${pad(day)}${pad(b.m)}${pad(b.y % 100)}${pad(fnrIndividual(r, b.y), 3)}`;
    const k = fnrCheckDigits(first9, opts.remainder ?? 0);
    if (k) return { fnr: first9 + k, birth: b };
  }
}

function luhnDigit(nine: string): number {
  const sum = [...nine].reduce((acc, c, i) => {
    const v = Number(c) * (i % 2 === 0 ? 2 : 1);
    return acc + (v > 9 ? v - 9 : v);
  }, 0);
  return (10 - (sum % 10)) % 10;
}

const HETU_CHARS = '0123456789ABCDEFHJKLMNPRSTUVWXY';
function hetu(d: number, m: number, y: number, sign: string, individual: number): string {
  const base = `${pad(d)}${pad(m)}${pad(y % 100)}`;
  return `${base}${sign}${pad(individual, 3)}${HETU_CHARS[Number(base + pad(individual, 3)) % 31]}`;
}

function expectOk<E extends object>(r: ValidationResult<E>): Extract<ValidationResult<E>, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got: ${r.expected}`);
  return r as Extract<ValidationResult<E>, { ok: true }>;
}

function mutateDigit(r: (n: number) => number, s: string, from = 0): string {
  const positions = [...s].map((c, i) => i).filter((i) => i >= from && /\d/.test(s[i]!));
  const i = positions[r(positions.length)]!;
  const c = String((Number(s[i]) + 1 + r(9)) % 10);
  return s.slice(0, i) + c + s.slice(i + 1);
}

// ---------------------------------------------------------------------------------------------

describe('Norwegian fødselsnummer / D-number', () => {
  it('accepts the Skatteetaten 2032 examples, legacy and new scheme', () => {
    // From Skatteetaten's "Nytt fødselsnummer fra 2032" page.
    const a = expectOk(validateNorwegianPersonId('02013299997'));
    expect(a).toMatchObject({ kind: 'FNR', checkScheme: 'legacy', birthDate: '2032-01-02' });
    const b = expectOk(validateNorwegianPersonId('30108299920'));
    expect(b).toMatchObject({ kind: 'FNR', checkScheme: 'legacy', birthDate: '1982-10-30' });
    // Remainder 1: the old rule rejects this one, the 2032 rule accepts it.
    const c = expectOk(validateNorwegianPersonId('30108299939'));
    expect(c).toMatchObject({ kind: 'FNR', checkScheme: '2032', birthDate: null });
    expect(fnrCheckDigits('301082999', 0)).toBe('20');
    expect(fnrCheckDigits('301082999', 1)).toBe('39');
  });

  it('accepts remainders 0-3 for k1 and nothing else', () => {
    const first9 = '301082999';
    const accepted = Array.from({ length: 100 }, (_, i) => first9 + pad(i)).filter(
      (s) => validateNorwegianPersonId(s).ok,
    );
    const expected = [0, 1, 2, 3].flatMap((rem) => fnrCheckDigits(first9, rem) ?? []);
    expect(accepted.map((s) => s.slice(9))).toEqual(expected.sort());
    expect(accepted.length).toBeGreaterThan(1);
    expect(accepted.length).toBeLessThanOrEqual(4);
  });

  it('rejects a wrong second check digit even when k1 is within the 2032 remainders', () => {
    const k = fnrCheckDigits('301082999', 1)!;
    const wrongK2 = `301082999${k[0]}${(Number(k[1]) + 1) % 10}`;
    expect(validateNorwegianPersonId(wrongK2)).toEqual({ ok: false, expected: EXPECTED.norwegianPersonId });
  });

  it('rejects wrong check digits, wrong length, non-digits', () => {
    expect(validateNorwegianPersonId('30108299921').ok).toBe(false);
    expect(validateNorwegianPersonId('3010829992').ok).toBe(false);
    expect(validateNorwegianPersonId('301082999200').ok).toBe(false);
    expect(validateNorwegianPersonId('3010829992a').ok).toBe(false);
    expect(validateNorwegianPersonId('').ok).toBe(false);
  });

  it('rejects impossible dates even with valid check digits', () => {
    expect(validateNorwegianPersonId(fnrFrom('310289', 123)).ok).toBe(false);
    expect(validateNorwegianPersonId(fnrFrom('011389', 123)).ok).toBe(false);
    expect(validateNorwegianPersonId(fnrFrom('000189', 123)).ok).toBe(false);
    // 29 February: 2004 is a leap year, 2003 is not.
    expect(expectOk(validateNorwegianPersonId(fnrFrom('290204', 512))).birthDate).toBe('2004-02-29');
    expect(validateNorwegianPersonId(fnrFrom('290203', 512)).ok).toBe(false);
  });

  it('recognises D-numbers (day + 40) and rejects H-numbers (month + 40)', () => {
    expect(validateNorwegianPersonId(fnrFrom('410190', 123))).toMatchObject({
      ok: true,
      kind: 'DNR',
      birthDate: '1990-01-01',
    });
    expect(validateNorwegianPersonId(fnrFrom('720190', 123)).ok).toBe(false); // day 32
    expect(validateNorwegianPersonId(fnrFrom('014190', 123)).ok).toBe(false);
  });

  it('does not reject on the individual-number / century table, but gives no birth date then', () => {
    // 800 with year 85 was unused before 2032 (no century); from 2032 individual numbers do not
    // indicate the century, so the number is valid with an unknown birth year.
    const r = expectOk(validateNorwegianPersonId(fnrFrom('010185', 800)));
    expect(r).toMatchObject({ kind: 'FNR', checkScheme: 'legacy', birthDate: null });
  });

  it('never echoes the input in a failure', () => {
    const r = validateNorwegianPersonId('30108299921');
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('301082');
  });

  it('agrees with @navikt/fnrvalidator (which implements the 2032 rule) on random numbers', () => {
    const r = rng(1);
    for (let i = 0; i < 400; i++) {
      const { fnr, birth } = generateFnr(r, { dnr: i % 4 === 0, remainder: i % 3 === 0 ? 1 + r(3) : 0 });
      const ours = expectOk(validateNorwegianPersonId(fnr));
      const theirs = idnr(fnr);
      expect(theirs.status, fnr).toBe('valid');
      expect(ours.kind).toBe(i % 4 === 0 ? 'DNR' : 'FNR');
      if (ours.checkScheme === 'legacy') expect(ours.birthDate).toBe(birth.iso);
      else expect(ours.birthDate).toBeNull();

      // Mutations: both must agree, except that navikt also accepts H-/synthetic numbers (month+40/+80).
      const mutated = mutateDigit(r, fnr);
      const nav = idnr(mutated);
      if (nav.status === 'valid' && (nav.type === 'fnr' || nav.type === 'dnr')) {
        expect(validateNorwegianPersonId(mutated).ok, mutated).toBe(true);
      } else {
        expect(validateNorwegianPersonId(mutated).ok, mutated).toBe(false);
      }
    }
  });

  it('agrees with @navikt/fnrvalidator on every check-digit pair of random prefixes', () => {
    const r = rng(2);
    let accepted = 0;
    for (let i = 0; i < 200; i++) {
      const { fnr } = generateFnr(r, { dnr: i % 5 === 0 });
      for (let k = 0; k < 100; k++) {
        const candidate = fnr.slice(0, 9) + pad(k);
        const ours = validateNorwegianPersonId(candidate).ok;
        expect(ours, candidate).toBe(idnr(candidate).status === 'valid');
        if (ours) accepted++;
      }
    }
    // Up to four valid k1 per prefix instead of one.
    expect(accepted).toBeGreaterThan(200 * 2);
  });
});

describe('Norwegian organisation number', () => {
  it('accepts valid numbers, with or without grouping', () => {
    expect(validateNorwegianOrgNumber('923609016')).toEqual({ ok: true, value: '923609016' });
    expect(validateNorwegianOrgNumber('923 609 016')).toEqual({ ok: true, value: '923609016' });
    // Weighted sum 3 → check digit 8; weighted sum 0 → 11 → check digit 0.
    expect(validateNorwegianOrgNumber('100000008').ok).toBe(true);
    expect(validateNorwegianOrgNumber('100000000').ok).toBe(false);
    expect(validateNorwegianOrgNumber('000000000').ok).toBe(true);
  });

  it('rejects wrong check digits, impossible check digit 10 and wrong length', () => {
    expect(validateNorwegianOrgNumber('923609017')).toEqual({
      ok: false,
      expected: EXPECTED.norwegianOrgNumber,
    });
    // A prefix whose check digit would be 10 has no valid number at all.
    const w = [3, 2, 7, 6, 5, 4, 3, 2];
    const tenCase = Array.from({ length: 100000 }, (_, i) => pad(i, 8)).find(
      (p) => 11 - ([...p].reduce((a, c, i) => a + Number(c) * w[i]!, 0) % 11) === 10,
    )!;
    for (let d = 0; d <= 9; d++) expect(validateNorwegianOrgNumber(`${tenCase}${d}`).ok).toBe(false);
    expect(validateNorwegianOrgNumber('92360901').ok).toBe(false);
    expect(validateNorwegianOrgNumber('9236090160').ok).toBe(false);
    expect(validateNorwegianOrgNumber('NO923609016').ok).toBe(false);
  });
});

describe('Swedish personnummer', () => {
  const now = new Date('2025-06-15T12:00:00Z');

  it('accepts the public test number in all four forms, normalised to 12 digits', () => {
    for (const form of ['198112189876', '19811218-9876', '811218-9876']) {
      expect(validateSwedishPersonId(form, now)).toEqual({
        ok: true,
        value: '198112189876',
        kind: 'PERSONNUMMER',
        birthDate: '1981-12-18',
      });
    }
    // '+' means 100 or older: the same digits then belong to 1881.
    expect(expectOk(validateSwedishPersonId('811218+9876', now)).value).toBe('188112189876');
  });

  it("places the '-' and '+' century by the year of the 100th birthday", () => {
    // Born 1925: turns 100 in 2025, so from 1 January 2025 the sign is '+'.
    const nine = '250101123';
    const pnr = `${nine}${luhnDigit(nine)}`;
    const dash = `${pnr.slice(0, 6)}-${pnr.slice(6)}`;
    const plus = `${pnr.slice(0, 6)}+${pnr.slice(6)}`;
    expect(expectOk(validateSwedishPersonId(dash, now)).birthDate).toBe('2025-01-01');
    expect(expectOk(validateSwedishPersonId(plus, now)).birthDate).toBe('1925-01-01');
    // In 2024 the person born 1925 is still '-'; '+' then means 1825.
    const lastYear = new Date('2024-12-31T12:00:00Z');
    expect(expectOk(validateSwedishPersonId(dash, lastYear)).birthDate).toBe('1925-01-01');
    expect(expectOk(validateSwedishPersonId(plus, lastYear)).birthDate).toBe('1825-01-01');
  });

  it('accepts samordningsnummer (day + 60)', () => {
    const nine = '811278987';
    const r = expectOk(validateSwedishPersonId(`19${nine}${luhnDigit(nine)}`, now));
    expect(r).toMatchObject({
      kind: 'SAMORDNINGSNUMMER',
      birthDate: '1981-12-18',
      value: `19${nine}${luhnDigit(nine)}`,
    });
  });

  it('rejects a wrong Luhn digit, impossible dates, serial 000 and unsupported forms', () => {
    expect(validateSwedishPersonId('198112189875', now)).toEqual({
      ok: false,
      expected: EXPECTED.swedishPersonId,
    });
    const feb31 = '810231123';
    expect(validateSwedishPersonId(`19${feb31}${luhnDigit(feb31)}`, now).ok).toBe(false);
    const serial0 = '811218000';
    expect(validateSwedishPersonId(`19${serial0}${luhnDigit(serial0)}`, now).ok).toBe(false);
    expect(validateSwedishPersonId('8112189876', now).ok).toBe(false); // century would be a guess
    expect(validateSwedishPersonId('19811218+9876', now).ok).toBe(false);
    expect(validateSwedishPersonId('29811218-9876', now).ok).toBe(false);
  });

  it('agrees with the personnummer package on random numbers', () => {
    const r = rng(3);
    const current = new Date();
    const year = current.getUTCFullYear();
    for (let i = 0; i < 400; i++) {
      const b = randomDate(r, 1900, year - 1);
      const samordning = i % 5 === 0;
      const nine = `${pad(b.y % 100)}${pad(b.m)}${pad(b.d + (samordning ? 60 : 0))}${pad(1 + r(999), 3)}`;
      const ten = `${nine}${luhnDigit(nine)}`;
      const twelve = `${Math.floor(b.y / 100)}${ten}`;
      const sep = year - b.y >= 100 ? '+' : '-';
      const forms = [
        twelve,
        `${twelve.slice(0, 8)}-${twelve.slice(8)}`,
        `${ten.slice(0, 6)}${sep}${ten.slice(6)}`,
      ];
      for (const form of forms) {
        const ours = expectOk(validateSwedishPersonId(form, current));
        expect(Personnummer.valid(form), form).toBe(true);
        expect(ours.value).toBe(Personnummer.parse(form).format(true));
        expect(ours.birthDate).toBe(b.iso);
        expect(ours.kind).toBe(samordning ? 'SAMORDNINGSNUMMER' : 'PERSONNUMMER');
      }
      // Mutations outside the century digits (the package accepts any century).
      const mutated = mutateDigit(r, twelve, 2);
      expect(validateSwedishPersonId(mutated, current).ok, mutated).toBe(Personnummer.valid(mutated));
    }
  });
});

describe('Danish CPR', () => {
  it('accepts both forms, normalised to 10 digits, with the century from the 7th digit', () => {
    expect(validateDanishPersonId('070761-4285')).toEqual({
      ok: true,
      value: '0707614285',
      kind: 'CPR',
      birthDate: '1961-07-07',
    });
    expect(expectOk(validateDanishPersonId('0101304000')).birthDate).toBe('2030-01-01');
    expect(expectOk(validateDanishPersonId('0101404000')).birthDate).toBe('1940-01-01');
    expect(expectOk(validateDanishPersonId('0101575000')).birthDate).toBe('2057-01-01');
    expect(expectOk(validateDanishPersonId('0101585000')).birthDate).toBe('1858-01-01');
    expect(expectOk(validateDanishPersonId('0101309000')).birthDate).toBe('2030-01-01');
    expect(expectOk(validateDanishPersonId('0101303000')).birthDate).toBe('1930-01-01');
  });

  it('does not require mod 11 (numbers issued since 2007 may fail it)', () => {
    const nine = '010165123';
    const good = danishSsn.validate(`${nine}0`)!;
    const notMod11 = `${nine}${(Number(good[9]) + 1) % 10}`;
    expect(danishSsn(notMod11).valid).toBe(false);
    expect(validateDanishPersonId(notMod11).ok).toBe(true);
  });

  it('rejects impossible dates and wrong shapes', () => {
    expect(validateDanishPersonId('310289-1234')).toEqual({ ok: false, expected: EXPECTED.danishPersonId });
    // 29.02.00 with 7th digit 0-3 is 1900, not a leap year; with 4 it is 2000, a leap year.
    expect(validateDanishPersonId('290200-1234').ok).toBe(false);
    expect(validateDanishPersonId('290200-4234').ok).toBe(true);
    expect(validateDanishPersonId('011389-1234').ok).toBe(false);
    expect(validateDanishPersonId('0102891234X').ok).toBe(false);
    expect(validateDanishPersonId('010289 1234').ok).toBe(false);
  });

  it('agrees with danish-ssn on mod-11 numbers and their birth dates', () => {
    const r = rng(4);
    const digit7For = (y: number): number => {
      if (y < 1900) return 5 + r(4);
      if (y < 2000) return y >= 1937 && r(2) === 0 ? [4, 9][r(2)]! : r(4);
      return y <= 2036 && r(2) === 0 ? [4, 9][r(2)]! : 5 + r(4);
    };
    let checked = 0;
    while (checked < 300) {
      const b = randomDate(r, 1858, 2057);
      const nine = `${pad(b.d)}${pad(b.m)}${pad(b.y % 100)}${digit7For(b.y)}${pad(r(100))}`;
      const cpr = danishSsn.validate(`${nine}0`);
      if (!cpr) continue;
      checked++;
      const ours = expectOk(validateDanishPersonId(`${cpr.slice(0, 6)}-${cpr.slice(6)}`));
      expect(ours.value).toBe(cpr);
      expect(ours.birthDate).toBe(b.iso);
      expect(danishSsn(cpr).date.toISOString().slice(0, 10)).toBe(b.iso);
    }
  });
});

describe('Finnish HETU', () => {
  it('accepts the public examples, including the 2023 century signs, normalised uppercase', () => {
    expect(validateFinnishPersonId('131052-308T')).toEqual({
      ok: true,
      value: '131052-308T',
      kind: 'HETU',
      birthDate: '1952-10-13',
    });
    expect(validateFinnishPersonId('131052-308t')).toMatchObject({ ok: true, value: '131052-308T' });
    expect(expectOk(validateFinnishPersonId(hetu(1, 5, 1894, '+', 123))).birthDate).toBe('1894-05-01');
    for (const sign of 'YXWVU') {
      expect(expectOk(validateFinnishPersonId(hetu(1, 5, 1994, sign, 123))).birthDate).toBe('1994-05-01');
    }
    for (const sign of 'ABCDEF') {
      expect(expectOk(validateFinnishPersonId(hetu(1, 5, 2004, sign, 123))).birthDate).toBe('2004-05-01');
    }
  });

  it('rejects wrong check characters, bad individual numbers, bad signs and dates', () => {
    expect(validateFinnishPersonId('131052-308U')).toEqual({ ok: false, expected: EXPECTED.finnishPersonId });
    expect(validateFinnishPersonId(hetu(13, 10, 1952, '-', 1)).ok).toBe(false);
    expect(validateFinnishPersonId(hetu(13, 10, 1952, '-', 900)).ok).toBe(false);
    expect(validateFinnishPersonId(hetu(13, 10, 1952, '-', 2)).ok).toBe(true);
    expect(validateFinnishPersonId(hetu(13, 10, 1952, '-', 899)).ok).toBe(true);
    expect(validateFinnishPersonId(hetu(13, 10, 1952, 'G', 308)).ok).toBe(false);
    expect(validateFinnishPersonId(hetu(31, 2, 1952, '-', 308)).ok).toBe(false);
    expect(validateFinnishPersonId(hetu(29, 2, 1900, '-', 308)).ok).toBe(false);
    expect(validateFinnishPersonId(hetu(29, 2, 2000, 'A', 308)).ok).toBe(true);
  });

  it('agrees with finnish-ssn on random numbers', () => {
    const r = rng(5);
    for (let i = 0; i < 400; i++) {
      // Within finnish-ssn's supported ranges ('+' only for 1850-1899, A-F only for 2000-2029).
      const b = randomDate(r, 1850, 2029);
      const signs = b.y < 1900 ? '+' : b.y < 2000 ? '-YXWVU' : 'ABCDEF';
      const id = hetu(b.d, b.m, b.y, signs[r(signs.length)]!, 2 + r(898));
      const ours = expectOk(validateFinnishPersonId(id));
      expect(FinnishSSN.validate(id), id).toBe(true);
      expect(ours.birthDate).toBe(b.iso);
      const wrongCheck = id.slice(0, 10) + HETU_CHARS[(HETU_CHARS.indexOf(id[10]!) + 1 + r(30)) % 31];
      expect(validateFinnishPersonId(wrongCheck).ok).toBe(false);
      expect(FinnishSSN.validate(wrongCheck)).toBe(false);
    }
  });
});

describe('validateNationalId', () => {
  it('dispatches by market and tags the result', () => {
    expect(validateNationalId('NO', '30108299939')).toMatchObject({ ok: true, market: 'NO', kind: 'FNR' });
    expect(validateNationalId('SE', '198112189876')).toMatchObject({
      ok: true,
      market: 'SE',
      kind: 'PERSONNUMMER',
    });
    expect(validateNationalId('DK', '070761-4285')).toMatchObject({
      ok: true,
      market: 'DK',
      value: '0707614285',
    });
    expect(validateNationalId('FI', '131052-308T')).toMatchObject({ ok: true, market: 'FI', kind: 'HETU' });
    // A valid number of another market is not accepted.
    expect(validateNationalId('NO', '198112189876')).toEqual({
      ok: false,
      expected: EXPECTED.norwegianPersonId,
    });
    expect(validateNationalId('FI', '0707614285')).toEqual({ ok: false, expected: EXPECTED.finnishPersonId });
  });
});

describe('E.164 phone numbers', () => {
  it('accepts plain and formatted numbers, stripping spaces and dashes', () => {
    expect(validatePhoneE164('+4791234567')).toEqual({ ok: true, value: '+4791234567' });
    expect(validatePhoneE164('+47 912 34 567')).toEqual({ ok: true, value: '+4791234567' });
    expect(validatePhoneE164('+47-912-34-567')).toEqual({ ok: true, value: '+4791234567' });
    expect(validatePhoneE164(' +46 70 123 45 67 ')).toEqual({ ok: true, value: '+46701234567' });
    expect(validatePhoneE164('+12345678')).toEqual({ ok: true, value: '+12345678' });
    expect(validatePhoneE164('+123456789012345')).toEqual({ ok: true, value: '+123456789012345' });
  });

  it('rejects wrong shapes', () => {
    expect(validatePhoneE164('4791234567')).toEqual({ ok: false, expected: EXPECTED.phoneE164 });
    expect(validatePhoneE164('+1234567').ok).toBe(false); // 7 digits
    expect(validatePhoneE164('+1234567890123456').ok).toBe(false); // 16 digits
    expect(validatePhoneE164('+04791234567').ok).toBe(false);
    expect(validatePhoneE164('+47 (0) 912 34 567').ok).toBe(false);
    expect(validatePhoneE164('+47912345a7').ok).toBe(false);
    expect(validatePhoneE164('').ok).toBe(false);
  });

  it('requires exactly 8 national digits for Norway', () => {
    expect(validatePhoneE164('+47 9123 456').ok).toBe(false);
    expect(validatePhoneE164('+47 912 34 5678').ok).toBe(false);
    expect(validatePhoneE164('+47 4000 0000').ok).toBe(true);
  });
});

describe('vehicle identifiers', () => {
  it('accepts and normalises Norwegian registration numbers', () => {
    expect(validateVehicleRegistration('EL12345')).toEqual({ ok: true, value: 'EL12345' });
    expect(validateVehicleRegistration('AB 12345')).toEqual({ ok: true, value: 'AB12345' });
    expect(validateVehicleRegistration('ab 12345')).toEqual({ ok: true, value: 'AB12345' });
    expect(validateVehicleRegistration('A 1234')).toEqual({ ok: true, value: 'A1234' });
    expect(validateVehicleRegistration('AB1234')).toEqual({ ok: true, value: 'AB1234' });
  });

  it('rejects other shapes', () => {
    expect(validateVehicleRegistration('ABC12345')).toEqual({
      ok: false,
      expected: EXPECTED.vehicleRegistration,
    });
    expect(validateVehicleRegistration('AB123').ok).toBe(false);
    expect(validateVehicleRegistration('AB123456').ok).toBe(false);
    expect(validateVehicleRegistration('12345').ok).toBe(false);
    expect(validateVehicleRegistration('ØL12345').ok).toBe(false);
  });

  it('accepts 17-character VINs without I, O, Q', () => {
    expect(validateVin('WVWZZZ1JZXW000001')).toEqual({ ok: true, value: 'WVWZZZ1JZXW000001' });
    expect(validateVin('5yjsa1e2xhf000001')).toEqual({ ok: true, value: '5YJSA1E2XHF000001' });
  });

  it('rejects VINs with I, O or Q or the wrong length', () => {
    expect(validateVin('WVWZZZ1JZXW00000I')).toEqual({ ok: false, expected: EXPECTED.vin });
    expect(validateVin('WVWZZZ1JZXW00000O').ok).toBe(false);
    expect(validateVin('WVWZZZ1JZXW00000Q').ok).toBe(false);
    expect(validateVin('WVWZZZ1JZXW00000').ok).toBe(false);
    expect(validateVin('WVWZZZ1JZXW0000001').ok).toBe(false);
  });
});

describe('Bisnode consumerId', () => {
  it('accepts the allowed alphabet up to 250 characters', () => {
    expect(validateConsumerId('cust-42@shop_no')).toEqual({ ok: true, value: 'cust-42@shop_no' });
    expect(validateConsumerId('a'.repeat(250)).ok).toBe(true);
    expect(validateConsumerId('-x').ok).toBe(true);
  });

  it('rejects a leading underscore, other characters, empty and too long', () => {
    expect(validateConsumerId('_cust')).toEqual({ ok: false, expected: EXPECTED.consumerId });
    expect(validateConsumerId('').ok).toBe(false);
    expect(validateConsumerId('a'.repeat(251)).ok).toBe(false);
    expect(validateConsumerId('cust 42').ok).toBe(false);
    expect(validateConsumerId('cust.42').ok).toBe(false);
    expect(validateConsumerId('cust42\n').ok).toBe(false);
  });
});

describe('masking and pseudonymous references', () => {
  it('keeps the first six characters', () => {
    expect(maskNationalId('01019012345')).toBe('010190*****');
    expect(maskNationalId('131052-308T')).toBe('131052*****');
    expect(maskNationalId('0707614285')).toBe('070761****');
    expect(maskNationalId('123456')).toBe('******');
    expect(maskNationalId('')).toBe('');
  });

  it('subjectRef is stable, salted, 22 base64url characters', () => {
    const a = subjectRef('01019012345', 'test-salt');
    expect(a).toBe('7FWSQT1gSiPWf5G7Obhsq8'); // pinned: a change here breaks every stored reference
    expect(subjectRef('01019012345', 'test-salt')).toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(subjectRef('01019012345', 'other-salt')).not.toBe(a);
    expect(subjectRef('01019012346', 'test-salt')).not.toBe(a);
    expect(subjectRef('01019012345', Buffer.from('test-salt'))).toBe(a);
    expect(() => subjectRef('01019012345', '')).toThrow();
  });
});
