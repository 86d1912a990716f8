import { createHash } from 'node:crypto';
import { idnr } from '@navikt/fnrvalidator';
import cpr from 'danish-ssn';
import { FinnishSSN } from 'finnish-ssn';
import personnummerModule from 'personnummer';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPersonChange } from '../../src/sandbox/population/change.js';
import { generatePopulation } from '../../src/sandbox/population/generate.js';
import { BYNDLE_ROLES } from '../../src/sandbox/population/types.js';
import type { Address, PartyRef, Person, Population } from '../../src/sandbox/population/types.js';

type PersonnummerClass = typeof personnummerModule.default;
// personnummer's types declare an ES default export, but its CommonJS build sets module.exports to
// the class itself, so the default import is the class at run time and a namespace to tsc.
const Personnummer: PersonnummerClass =
  (personnummerModule as unknown as { default?: PersonnummerClass }).default ??
  (personnummerModule as unknown as PersonnummerClass);

let pop: Population;
beforeAll(() => {
  pop = generatePopulation();
});

function digest(p: Population): string {
  return createHash('sha256')
    .update(JSON.stringify([p.seed, p.persons, p.businesses, p.vehicles, p.customers, p.borrowers]))
    .digest('hex');
}

/** Written here from the Brreg rule, independent of the generator's code. */
function orgNrValid(nr: string): boolean {
  if (!/^[89]\d{8}$/.test(nr)) return false;
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  const sum = weights.reduce((s, w, i) => s + w * Number(nr[i]), 0);
  const rest = sum % 11;
  const check = rest === 0 ? 0 : 11 - rest;
  return check !== 10 && check === Number(nr[8]);
}

/** ISO 3779 check digit, written independently of the generator. */
function vinCheckValid(vin: string): boolean {
  const translit = 'A1B2C3D4E5F6G7H8J1K2L3M4N5P7R9S2T3U4V5W6X7Y8Z9';
  const value = (c: string): number => (/\d/.test(c) ? Number(c) : Number(translit[translit.indexOf(c) + 1]));
  const weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
  const sum = [...vin].reduce((s, c, i) => s + value(c) * weights[i]!, 0);
  const r = sum % 11;
  return vin[8] === (r === 10 ? 'X' : String(r));
}

/** Collects failures and asserts once: an expect() per item over 20k persons costs seconds. */
class Problems {
  readonly list: string[] = [];
  check(ok: boolean, what: string): void {
    if (!ok && this.list.length < 20) this.list.push(what);
  }
  assertNone(): void {
    expect(this.list).toEqual([]);
  }
}

function expectUnique(values: string[]): void {
  expect(new Set(values).size).toBe(values.length);
}

const resolves = (ref: PartyRef): boolean =>
  ref.kind === 'person' ? pop.personById.has(ref.personId) : pop.businessByOrgNr.has(ref.orgNr);

const sameAddress = (a: Address, b: Address): boolean =>
  a.street === b.street &&
  a.houseNumber === b.houseNumber &&
  a.entrance === b.entrance &&
  a.postalCode === b.postalCode &&
  a.city === b.city;

const riskClassFor = (score: number): string =>
  score >= 80 ? 'A' : score >= 60 ? 'B' : score >= 40 ? 'C' : score >= 20 ? 'D' : 'E';

describe('generatePopulation', () => {
  it('gives byte-identical output for the same seed and different output for another seed', () => {
    const again = generatePopulation();
    expect(digest(again)).toBe(digest(pop));
    const counts = { persons: 500, businesses: 100, vehicles: 50, customers: 40, borrowers: 5 };
    expect(digest(generatePopulation({ seed: 7, ...counts }))).toBe(
      digest(generatePopulation({ seed: 7, ...counts })),
    );
    expect(digest(generatePopulation({ seed: 7, ...counts }))).not.toBe(
      digest(generatePopulation({ seed: 8, ...counts })),
    );
  });

  it('has the default counts and market mix', () => {
    expect(pop.persons).toHaveLength(20_000);
    expect(pop.businesses).toHaveLength(3_000);
    expect(pop.vehicles).toHaveLength(10_000);
    expect(pop.customers).toHaveLength(5_000);
    expect(pop.borrowers).toHaveLength(300);
    const share = (m: string): number => pop.persons.filter((p) => p.market === m).length / 20_000;
    expect(share('NO')).toBeGreaterThan(0.36);
    expect(share('NO')).toBeLessThan(0.44);
    expect(share('SE')).toBeGreaterThan(0.26);
    expect(share('SE')).toBeLessThan(0.34);
    expect(share('DK')).toBeGreaterThan(0.12);
    expect(share('FI')).toBeGreaterThan(0.12);
  });

  it('honours small counts', () => {
    const p = generatePopulation({ persons: 50, businesses: 10, vehicles: 5, customers: 3, borrowers: 2 });
    expect([
      p.persons.length,
      p.businesses.length,
      p.vehicles.length,
      p.customers.length,
      p.borrowers.length,
    ]).toEqual([50, 10, 5, 3, 2]);
  });

  it('issues national ids that independent validators accept', () => {
    const pr = new Problems();
    for (const p of pop.persons) {
      const id = p.nationalId;
      switch (p.nationalIdKind) {
        case 'FNR':
        case 'DNR': {
          const r = idnr(id);
          pr.check(
            r.status === 'valid' && r.type === (p.nationalIdKind === 'DNR' ? 'dnr' : 'fnr'),
            `${id} ${JSON.stringify(r)}`,
          );
          break;
        }
        case 'PNR':
          pr.check(/^\d{12}$/.test(id) && Personnummer.valid(id), `PNR ${id}`);
          break;
        case 'CPR':
          // danish-ssn builds the date with a 19yy year first, so 29 Feb 2000 (1900 was no leap
          // year) comes back as 1 March: a validator bug, so only the century is compared there.
          pr.check(
            cpr.isValid(id) &&
              (p.birthDate === '2000-02-29'
                ? cpr(id).date.getUTCFullYear() === 2000
                : cpr(id).date.toISOString().slice(0, 10) === p.birthDate),
            `CPR ${id}`,
          );
          break;
        case 'HETU':
          pr.check(
            FinnishSSN.validate(id) &&
              FinnishSSN.parse(id).dateOfBirth.getFullYear() === Number(p.birthDate.slice(0, 4)),
            `HETU ${id}`,
          );
          break;
      }
    }
    pr.assertNone();
  });

  it('uses validators that reject a corrupted id of every kind', () => {
    // A control for the test above: each validator must fail a number with one digit changed.
    const first = (kind: string): string => pop.persons.find((p) => p.nationalIdKind === kind)!.nationalId;
    const corrupt = (id: string): string =>
      id.slice(0, -2) + String((Number(id.at(-2)) + 1) % 10) + id.at(-1);
    expect(idnr(corrupt(first('FNR'))).status).toBe('invalid');
    expect(idnr(corrupt(first('DNR'))).status).toBe('invalid');
    expect(Personnummer.valid(corrupt(first('PNR')))).toBe(false);
    expect(cpr.isValid(corrupt(first('CPR')))).toBe(false);
    expect(FinnishSSN.validate(corrupt(first('HETU')))).toBe(false);
  });

  it('encodes birth date and gender in the national ids', () => {
    const pr = new Problems();
    for (const p of pop.persons) {
      const [y, m, d] = p.birthDate.split('-') as [string, string, string];
      const male = p.gender === 'MALE';
      const id = p.nationalId;
      switch (p.nationalIdKind) {
        case 'FNR':
          pr.check(id.slice(0, 6) === `${d}${m}${y.slice(2)}`, `date ${id}`);
          pr.check((Number(id[8]) % 2 === 1) === male, `gender ${id}`);
          break;
        case 'DNR':
          pr.check(Number(id.slice(0, 2)) === Number(d) + 40, `dnr ${id}`);
          pr.check((Number(id[8]) % 2 === 1) === male, `gender ${id}`);
          break;
        case 'PNR':
          pr.check(id.slice(0, 8) === `${y}${m}${d}`, `date ${id}`);
          pr.check((Number(id[10]) % 2 === 1) === male, `gender ${id}`);
          break;
        case 'CPR':
          pr.check(id.slice(0, 6) === `${d}${m}${y.slice(2)}`, `date ${id}`);
          pr.check((Number(id[9]) % 2 === 1) === male, `gender ${id}`);
          break;
        case 'HETU':
          pr.check(id.slice(0, 6) === `${d}${m}${y.slice(2)}`, `date ${id}`);
          pr.check(id[6] === (Number(y) >= 2000 ? 'A' : '-'), `century ${id}`);
          pr.check(FinnishSSN.parse(id).sex === (male ? 'male' : 'female'), `gender ${id}`);
          break;
      }
    }
    pr.assertNone();
    const no = pop.persons.filter((p) => p.market === 'NO');
    const dnr = no.filter((p) => p.nationalIdKind === 'DNR').length / no.length;
    expect(dnr).toBeGreaterThan(0.015);
    expect(dnr).toBeLessThan(0.05);
  });

  it('keeps ids, phones, org numbers, reg numbers and VINs unique and well formed', () => {
    expectUnique(pop.persons.map((p) => p.id));
    expectUnique(pop.persons.map((p) => p.nationalId));
    expectUnique(pop.persons.map((p) => p.gedi));
    expectUnique(pop.persons.flatMap((p) => (p.byndleId ? [p.byndleId] : [])));
    expectUnique(pop.persons.flatMap((p) => p.phones.map((ph) => ph.number)));
    expectUnique(pop.persons.flatMap((p) => (p.email ? [p.email] : [])));
    expectUnique(pop.businesses.map((b) => b.orgNr));
    expectUnique(pop.businesses.map((b) => b.name));
    expectUnique(pop.vehicles.map((v) => v.regNr));
    expectUnique(pop.vehicles.map((v) => v.vin));
    expectUnique(pop.customers.map((c) => String(c.customerNumber)));
    const pr = new Problems();
    for (const p of pop.persons) {
      pr.check(/^p\d{6}$/.test(p.id), p.id);
      pr.check(/^gedi-\d{9}$/.test(p.gedi), p.gedi);
      pr.check(p.market === 'NO' ? /^BY[0-9A-F]{8}$/.test(p.byndleId ?? '') : p.byndleId === null, p.id);
    }
    pr.assertNone();
  });

  it('writes phone numbers in E.164 with the market prefix', () => {
    const patterns = {
      NO: { mobile: /^\+47[49]\d{7}$/, landline: /^\+47[2-7]\d{7}$/ },
      SE: { mobile: /^\+467[0236]\d{7}$/, landline: /^\+46[1-9]\d{8}$/ },
      DK: { mobile: /^\+45[2-9]\d{7}$/, landline: /^\+45[2-9]\d{7}$/ },
      FI: { mobile: /^\+358(40|44|45|50)\d{7}$/, landline: /^\+358[1-9]\d{7,8}$/ },
    };
    const pr = new Problems();
    for (const p of pop.persons) {
      for (const ph of p.phones) pr.check(patterns[p.market][ph.type].test(ph.number), ph.number);
    }
    for (const c of pop.customers) {
      for (const ph of c.phones) pr.check(/^\+\d{8,15}$/.test(ph.phoneNumber), ph.phoneNumber);
    }
    pr.assertNone();
    expect(pop.persons.some((p) => p.phones.some((ph) => ph.type === 'landline'))).toBe(true);
  });

  it('gives plausible person attributes in plausible proportions', () => {
    const n = pop.persons.length;
    const frac = (f: (p: Person) => boolean): number => pop.persons.filter(f).length / n;
    for (const key of ['directMail', 'phoneSale', 'humanitarian'] as const) {
      expect(frac((p) => p.reservations[key])).toBeGreaterThan(0.13);
      expect(frac((p) => p.reservations[key])).toBeLessThan(0.27);
    }
    expect(frac((p) => p.status === 1)).toBeGreaterThan(0.85);
    expect(new Set(pop.persons.map((p) => p.status)).size).toBe(9);
    expect(frac((p) => p.protectedIdentity)).toBeGreaterThan(0.003);
    expect(frac((p) => p.protectedIdentity)).toBeLessThan(0.02);
    expect(frac((p) => p.birthDate > '2008-12-31')).toBeGreaterThan(0.05);
    expect(frac((p) => p.properties.length > 0)).toBeGreaterThan(0.03);
    expect(new Set(pop.persons.map((p) => p.maritalStatus)).size).toBe(4);
    expect(new Set(pop.persons.map((p) => p.buildingType)).size).toBeGreaterThanOrEqual(4);
    const pr = new Problems();
    for (const p of pop.persons) {
      pr.check((p.deceasedDate !== null) === (p.status === 5), `deceased ${p.id}`);
      if (p.deceasedDate) pr.check(p.deceasedDate > p.birthDate, `deceased before birth ${p.id}`);
      pr.check(p.addresses.length >= 1 && p.addresses.length <= 3, `address count ${p.id}`);
      pr.check(p.addresses[0]?.validTo === null, `current address ${p.id}`);
      for (let i = 1; i < p.addresses.length; i++) {
        pr.check(p.addresses[i]!.validTo === p.addresses[i - 1]!.validFrom, `history ${p.id}`);
        pr.check(p.addresses[i]!.validFrom < p.addresses[i]!.validTo!, `history order ${p.id}`);
      }
      for (const a of p.addresses) {
        pr.check(a.country === p.market, `country ${p.id}`);
        pr.check(
          (p.market === 'NO' || p.market === 'DK' ? /^\d{4}$/ : /^\d{5}$/).test(a.postalCode),
          a.postalCode,
        );
        pr.check(a.validFrom >= p.birthDate, `moved before birth ${p.id}`);
      }
      for (const prop of p.properties) pr.check(/^\d{4}-\d+\/\d+$/.test(prop) && p.market === 'NO', prop);
      if (p.birthDate > '2007-01-01') pr.check(p.maritalStatus === 'UNMARRIED', `married minor ${p.id}`);
    }
    pr.assertNone();
    expect(pop.persons.some((p) => /[æøå]/.test(p.firstName + p.lastName))).toBe(true);
    expect(pop.persons.some((p) => /[äö]/.test(p.firstName + p.lastName))).toBe(true);
  });

  it('puts household members at one current address, often with one family name', () => {
    const households = new Map<string, Person[]>();
    for (const p of pop.persons) {
      const list = households.get(p.householdId);
      if (list) list.push(p);
      else households.set(p.householdId, [p]);
    }
    const multi = [...households.values()].filter((h) => h.length > 1);
    expect(multi.length).toBeGreaterThan(2000);
    let shared = 0;
    const pr = new Problems();
    for (const members of multi) {
      pr.check(members.length <= 4, `size ${members[0]!.householdId}`);
      const home = members[0]!.addresses[0]!;
      for (const m of members) {
        pr.check(sameAddress(m.addresses[0]!, home), `address ${m.id}`);
        pr.check(m.buildingType === members[0]!.buildingType, `building ${m.id}`);
      }
      if (members.every((m) => m.lastName === members[0]!.lastName)) shared++;
    }
    pr.assertNone();
    expect(shared / multi.length).toBeGreaterThan(0.3);
  });

  it('fills every index consistently with the arrays', () => {
    expect(pop.personById.size).toBe(pop.persons.length);
    expect(pop.personByNationalId.size).toBe(pop.persons.length);
    expect(pop.personByGedi.size).toBe(pop.persons.length);
    expect(pop.personByByndleId.size).toBe(pop.persons.filter((p) => p.market === 'NO').length);
    expect(pop.personByPhone.size).toBe(pop.persons.reduce((n, p) => n + p.phones.length, 0));
    expect(pop.businessByOrgNr.size).toBe(pop.businesses.length);
    expect(pop.vehicleByRegNr.size).toBe(pop.vehicles.length);
    expect(pop.vehicleByVin.size).toBe(pop.vehicles.length);
    expect(pop.customerByNumber.size).toBe(pop.customers.length);
    expect(pop.borrowerByOrgNr.size).toBe(pop.borrowers.length);
    const pr = new Problems();
    for (const p of pop.persons) {
      pr.check(pop.personById.get(p.id) === p, p.id);
      pr.check(pop.personByNationalId.get(p.nationalId) === p, p.id);
      pr.check(pop.personByGedi.get(p.gedi) === p, p.id);
      if (p.byndleId) pr.check(pop.personByByndleId.get(p.byndleId) === p, p.id);
      for (const ph of p.phones) pr.check(pop.personByPhone.get(ph.number) === p, ph.number);
    }
    for (const b of pop.businesses) pr.check(pop.businessByOrgNr.get(b.orgNr) === b, b.orgNr);
    for (const v of pop.vehicles) {
      pr.check(pop.vehicleByRegNr.get(v.regNr) === v && pop.vehicleByVin.get(v.vin) === v, v.regNr);
    }
    for (const c of pop.customers)
      pr.check(pop.customerByNumber.get(c.customerNumber) === c, `${c.customerNumber}`);
    for (const b of pop.borrowers) pr.check(pop.borrowerByOrgNr.get(b.orgNr) === b, b.orgNr);
    pr.assertNone();
  });

  it('gives businesses valid org numbers, forms, NACE codes and resolvable roles', () => {
    const forms = new Set(['AS', 'ASA', 'ENK', 'ANS', 'DA', 'NUF', 'SA', 'STI']);
    const roleNames = new Set<string>(BYNDLE_ROLES);
    expect(pop.businesses.filter((b) => !orgNrValid(b.orgNr)).map((b) => b.orgNr)).toEqual([]);
    let personHeld = 0;
    let total = 0;
    const pr = new Problems();
    for (const b of pop.businesses) {
      pr.check(forms.has(b.form), b.form);
      pr.check(/^\d{2}\.\d{3}$/.test(b.industryCode), b.industryCode);
      pr.check(b.address.country === 'NO' && /^\d{4}$/.test(b.address.postalCode), b.orgNr);
      pr.check(b.roles.length >= 1, `no roles ${b.orgNr}`);
      for (const r of b.roles) {
        pr.check(roleNames.has(r.role), r.role);
        pr.check(resolves(r.holder), `holder ${b.orgNr}`);
        pr.check(r.since >= b.registeredDate, `since ${b.orgNr}`);
        if (r.holder.kind === 'business') pr.check(r.holder.orgNr !== b.orgNr, `self ${b.orgNr}`);
        else pr.check(pop.personById.get(r.holder.personId)?.market === 'NO', `foreign ${b.orgNr}`);
        total++;
        if (r.holder.kind === 'person') personHeld++;
      }
    }
    pr.assertNone();
    expect(personHeld / total).toBeGreaterThan(0.8);
    const small = pop.businesses.filter((b) => b.roles.length <= 6).length;
    expect(small / pop.businesses.length).toBeGreaterThan(0.9);
    const byForm = (form: string): number => pop.businesses.filter((b) => b.form === form).length;
    for (const form of forms) expect(byForm(form)).toBeGreaterThan(0);
    expect(
      pop.businesses.some((b) => b.roles.some((r) => r.role === 'Revisor' && r.holder.kind === 'business')),
    ).toBe(true);
  });

  it('has at least 20 businesses with 50 or more roles and repeated holders', () => {
    const large = pop.businesses.filter((b) => b.roles.length >= 50);
    expect(large.length).toBeGreaterThanOrEqual(20);
    for (const b of large) {
      expect(b.roles.length).toBeLessThanOrEqual(120);
      const holders = b.roles.map((r) => (r.holder.kind === 'person' ? r.holder.personId : r.holder.orgNr));
      expect(new Set(holders).size).toBeLessThan(holders.length);
      expectUnique(b.roles.map((r, i) => `${r.role}|${holders[i]}`));
    }
  });

  it('gives vehicles valid plates and VINs and owners in Norway', () => {
    const pr = new Problems();
    for (const v of pop.vehicles) {
      pr.check(/^[A-Z]{2}\d{5}$/.test(v.regNr), v.regNr);
      pr.check(v.regNr.startsWith('E') === (v.fuel === 'Electric'), `${v.regNr} ${v.fuel}`);
      pr.check(/^[A-HJ-NPR-Z0-9]{17}$/.test(v.vin) && vinCheckValid(v.vin), v.vin);
      pr.check(v.year >= 2000 && v.year <= 2024, `${v.regNr} ${v.year}`);
      pr.check(v.firstRegistered.slice(0, 4) >= String(v.year), `${v.regNr} ${v.firstRegistered}`);
      pr.check(resolves(v.owner), `owner ${v.regNr}`);
      if (v.owner.kind === 'person') pr.check(pop.personById.get(v.owner.personId)?.market === 'NO', v.regNr);
    }
    pr.assertNone();
    expect(pop.vehicles.some((v) => v.owner.kind === 'business')).toBe(true);
    expect(pop.vehicles.some((v) => v.regNr.startsWith('EL'))).toBe(true);
  });

  it('makes customers 563457 and 563458 Ola and Kari Nordmann, linked to population persons', () => {
    const ola = pop.customerByNumber.get(563457)!;
    const kari = pop.customerByNumber.get(563458)!;
    expect([ola.firstName, ola.lastName]).toEqual(['Ola', 'Nordmann']);
    expect([kari.firstName, kari.lastName]).toEqual(['Kari', 'Nordmann']);
    const olaP = pop.personById.get(ola.personId!)!;
    const kariP = pop.personById.get(kari.personId!)!;
    expect([olaP.firstName, olaP.lastName, olaP.market, olaP.nationalIdKind]).toEqual([
      'Ola',
      'Nordmann',
      'NO',
      'FNR',
    ]);
    expect([kariP.firstName, kariP.lastName]).toEqual(['Kari', 'Nordmann']);
    expect(olaP.householdId).toBe(kariP.householdId);
    expect(ola.credentials).toEqual([
      { credential: olaP.email, credentialType: 'A' },
      { credential: olaP.phones[0]!.number, credentialType: 'B' },
    ]);
    expect(ola.products.length).toBeGreaterThan(0);
  });

  it('copies person customers from their persons and numbers customers from 563457', () => {
    let companies = 0;
    const pr = new Problems();
    pop.customers.forEach((c, i) => {
      const n = c.customerNumber;
      pr.check(n === 563457 + i, `number ${n}`);
      pr.check(c.products.length > 0 && c.attachedUsers.length > 0, `products ${n}`);
      if (c.personId === null) {
        companies++;
        pr.check(!!c.companyName && c.lastName === null, `company ${n}`);
        return;
      }
      const p = pop.personById.get(c.personId);
      if (!p) return pr.check(false, `person ${n}`);
      pr.check(p.market === 'NO', `market ${n}`);
      pr.check(
        c.firstName === p.firstName && c.middleName === p.middleName && c.lastName === p.lastName,
        `name ${n}`,
      );
      const a = p.addresses[0]!;
      pr.check(
        c.street === a.street &&
          String(c.streetNumber) === a.houseNumber &&
          c.entrance === a.entrance &&
          c.postalCode === a.postalCode &&
          c.postalPlace === a.city,
        `address ${n}`,
      );
      pr.check(
        c.phones.map((ph) => ph.phoneNumber).join() === p.phones.map((ph) => ph.number).join(),
        `phones ${n}`,
      );
      pr.check(c.emails.join() === (p.email ?? ''), `emails ${n}`);
      for (const cr of c.credentials) {
        if (cr.credentialType === 'A') pr.check(cr.credential === p.email, `cred A ${n}`);
        if (cr.credentialType === 'B') pr.check(pop.personByPhone.get(cr.credential) === p, `cred B ${n}`);
      }
    });
    pr.assertNone();
    expect(companies).toBeGreaterThan(50);
    expect(companies / pop.customers.length).toBeLessThan(0.1);
    expectUnique(pop.customers.flatMap((c) => (c.personId ? [c.personId] : [])));
  });

  it('gives borrowers 12-100 month-end snapshots, newest first, and consistent risk', () => {
    const pr = new Problems();
    for (const b of pop.borrowers) {
      pr.check(pop.businessByOrgNr.has(b.orgNr), `business ${b.orgNr}`);
      pr.check(b.accounting.length >= 12 && b.accounting.length <= 100, `count ${b.orgNr}`);
      pr.check(b.accounting[0]?.snapshotDate === '2024-12-31', `newest ${b.orgNr}`);
      for (let i = 0; i < b.accounting.length; i++) {
        const s = b.accounting[i]!;
        const next = new Date(`${s.snapshotDate}T00:00:00Z`);
        next.setUTCDate(next.getUTCDate() + 1);
        pr.check(next.getUTCDate() === 1, `month end ${s.snapshotDate}`);
        pr.check(
          s.snapshotDate.slice(0, 7) === `${s.year}-${String(s.month).padStart(2, '0')}`,
          s.snapshotDate,
        );
        if (i > 0) {
          const prev = b.accounting[i - 1]!;
          pr.check(
            prev.year * 12 + prev.month - (s.year * 12 + s.month) === 1,
            `consecutive ${s.snapshotDate}`,
          );
        }
        pr.check(s.equity + s.shortTermDebt + s.longTermDebt === s.totalAssets, `balance ${b.orgNr}`);
        pr.check(s.revenue > 0 && s.cash > 0 && s.cash < s.totalAssets, `amounts ${b.orgNr}`);
      }
      pr.check(b.creditScore >= 0 && b.creditScore <= 100, `score ${b.orgNr}`);
      pr.check(b.riskClass === riskClassFor(b.creditScore), `risk ${b.orgNr}`);
      pr.check(b.probabilityOfDefault > 0 && b.probabilityOfDefault < 1, `pd ${b.orgNr}`);
    }
    pr.assertNone();
    const sorted = [...pop.borrowers].sort((a, b) => a.creditScore - b.creditScore);
    expect(sorted[0]!.probabilityOfDefault).toBeGreaterThanOrEqual(sorted.at(-1)!.probabilityOfDefault);
    expect(new Set(pop.borrowers.map((b) => b.riskClass)).size).toBeGreaterThanOrEqual(4);
    expect(pop.businesses.some((b) => !pop.borrowerByOrgNr.has(b.orgNr))).toBe(true);
  });
});

describe('applyPersonChange', () => {
  it('changes every field deterministically and keeps the indexes consistent', () => {
    const runs = [1, 2].map(() => {
      const p = generatePopulation({
        persons: 300,
        businesses: 20,
        vehicles: 10,
        customers: 10,
        borrowers: 2,
      });
      const person = p.persons.find((x) => x.market === 'NO' && x.phones.some((ph) => ph.type === 'mobile'))!;
      const before = structuredClone(person);
      applyPersonChange(
        p,
        person,
        ['firstName', 'lastName', 'mobile', 'landline', 'address', 'status', 'reservations', 'buildingType'],
        1,
        '2025-02-03',
      );
      return { p, person, before };
    });
    const [{ p, person, before }, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(JSON.stringify(second.person)).toBe(JSON.stringify(person));

    expect(person.firstName).not.toBe(before.firstName);
    expect(person.lastName).not.toBe(before.lastName);
    const oldMobile = before.phones.find((ph) => ph.type === 'mobile')!.number;
    const newMobile = person.phones.find((ph) => ph.type === 'mobile')!.number;
    expect(newMobile).not.toBe(oldMobile);
    expect(newMobile).toMatch(/^\+47[49]\d{7}$/);
    expect(p.personByPhone.has(oldMobile)).toBe(false);
    expect(p.personByPhone.get(newMobile)).toBe(person);
    const landline = person.phones.find((ph) => ph.type === 'landline')!;
    expect(p.personByPhone.get(landline.number)).toBe(person);
    expect(person.addresses).toHaveLength(before.addresses.length + 1);
    expect(person.addresses[0]!.validFrom).toBe('2025-02-03');
    expect(person.addresses[0]!.validTo).toBeNull();
    expect(person.addresses[1]!.validTo).toBe('2025-02-03');
    expect(sameAddress(person.addresses[0]!, before.addresses[0]!)).toBe(false);
    expect(person.householdId).not.toBe(before.householdId);
    expect(person.status).not.toBe(before.status);
    const flipped = (['directMail', 'phoneSale', 'humanitarian'] as const).filter(
      (k) => person.reservations[k] !== before.reservations[k],
    );
    expect(flipped).toHaveLength(1);
    expect(person.buildingType).not.toBe(before.buildingType);

    // Indexes still match the arrays.
    expect(p.personByPhone.size).toBe(p.persons.reduce((n, x) => n + x.phones.length, 0));
    expect(p.persons.every((x) => x.phones.every((ph) => p.personByPhone.get(ph.number) === x))).toBe(true);
    expect(p.personById.get(person.id)).toBe(person);
    expect(p.personByNationalId.get(person.nationalId)).toBe(person);
  });

  it('gives a different change for another sequence number', () => {
    const mobiles = [1, 2].map((seq) => {
      const p = generatePopulation({ persons: 100, businesses: 5, vehicles: 0, customers: 0, borrowers: 0 });
      const person = p.persons[0]!;
      applyPersonChange(p, person, ['mobile'], seq, '2025-02-03');
      return person.phones[0]!.number;
    });
    expect(mobiles[0]).not.toBe(mobiles[1]);
  });
});
