import { beforeAll, describe, expect, it } from 'vitest';
import { generatePopulation } from '../../src/sandbox/population/generate.js';
import type { Person, Population } from '../../src/sandbox/population/types.js';
import { soundex } from '../../src/sandbox/byndle/soundex.js';
import { findBestMatch, levelHolds, matchLevel, type MatchInput } from '../../src/sandbox/byndle/matching.js';

describe('Byndle SOUNDEX', () => {
  it('codes names as American Soundex', () => {
    expect(soundex('Robert')).toBe('R163');
    expect(soundex('Rupert')).toBe('R163');
    expect(soundex('Tymczak')).toBe('T522');
    expect(soundex('Pfister')).toBe('P236');
    expect(soundex('Ashcraft')).toBe('A261');
    expect(soundex('Lee')).toBe('L000');
  });

  it('gives Hansen and Hanssen the same code', () => {
    expect(soundex('Hansen')).toBe('H525');
    expect(soundex('Hanssen')).toBe('H525');
  });

  it('folds Nordic letters before coding', () => {
    expect(soundex('Øyvind')).toBe(soundex('Oyvind'));
    expect(soundex('Åse')).toBe(soundex('Aase'));
    expect(soundex('Bjørnstad')).toBe(soundex('Bjornstad'));
    expect(soundex('Sæther')).toBe(soundex('Saether'));
    expect(soundex('')).toBe('');
  });
});

describe('Byndle match levels', () => {
  let pop: Population;
  let p: Person;
  let exact: MatchInput;
  // Values that fail each condition on purpose.
  let wrongStreet: string;
  let wrongHouse: string;
  let pc2only: string;
  let pc1only: string;
  let wrongPostal: string;
  let wrongBirth: string;

  beforeAll(() => {
    pop = generatePopulation({ persons: 3000, businesses: 50, vehicles: 50, customers: 10, borrowers: 5 });
    const found = pop.persons.find(
      (x) =>
        x.market === 'NO' &&
        x.addresses[0] &&
        x.addresses[0].street.length >= 3 &&
        /^\d+$/.test(x.addresses[0].houseNumber),
    );
    if (!found) throw new Error('population has no NO person with an address');
    p = found;
    const a = p.addresses[0]!;
    exact = {
      firstName: p.firstName,
      lastName: p.lastName,
      street: a.street,
      houseNumber: a.houseNumber + a.entrance,
      postalCode: a.postalCode,
      birthDate: p.birthDate,
    };
    const pc = a.postalCode;
    const bump = (d: string) => String((Number(d) + 5) % 10);
    wrongStreet = a.street.toLowerCase().startsWith('xq') ? 'Zqzveien' : 'Xqzveien';
    wrongHouse = String(Number(a.houseNumber) + 1000);
    pc2only = pc.slice(0, 2) + bump(pc[2]!) + pc[3];
    pc1only = pc[0]! + bump(pc[1]!) + pc.slice(2);
    wrongPostal = bump(pc[0]!) + pc.slice(1);
    const [y, m, d] = p.birthDate.split('-');
    wrongBirth = `${Number(y) - 1}-${m}-${d}`;
  });

  const level = (over: Partial<MatchInput>) => matchLevel({ ...exact, ...over }, p);

  it('level 2: names, street, house number, 2 postal digits and birth date', () => {
    expect(level({})).toBe(2);
    expect(level({ postalCode: pc2only })).toBe(2);
  });
  it('level 3: like 2 without the house number', () => {
    expect(level({ houseNumber: wrongHouse })).toBe(3);
  });
  it('level 4: street, house number and all 4 postal digits, no birth date', () => {
    expect(level({ birthDate: wrongBirth })).toBe(4);
    expect(level({ birthDate: null })).toBe(4);
  });
  it('level 5: street, house number and 2 postal digits, no birth date', () => {
    expect(level({ birthDate: wrongBirth, postalCode: pc2only })).toBe(5);
  });
  it('level 6: 2 postal digits and birth date, street not needed', () => {
    expect(level({ street: wrongStreet, postalCode: pc2only })).toBe(6);
  });
  it('level 7: 1 postal digit and birth date', () => {
    expect(level({ street: wrongStreet, postalCode: pc1only })).toBe(7);
  });
  it('level 8: birth date alone with the names', () => {
    expect(level({ street: wrongStreet, postalCode: wrongPostal })).toBe(8);
  });
  it('level 9: street and all 4 postal digits, no house number or birth date', () => {
    expect(level({ birthDate: wrongBirth, houseNumber: wrongHouse })).toBe(9);
  });
  it('level 10: street and 2 postal digits', () => {
    expect(level({ birthDate: wrongBirth, houseNumber: wrongHouse, postalCode: pc2only })).toBe(10);
  });
  it('level 11: 2 postal digits with the names only', () => {
    expect(level({ birthDate: wrongBirth, street: wrongStreet, postalCode: pc2only })).toBe(11);
  });
  it('level 12: names and birth date hold, but the published table makes level 8 win first', () => {
    const input = { ...exact, street: wrongStreet, postalCode: wrongPostal };
    expect(levelHolds(12, input, p)).toBe(true);
    expect(levelHolds(12, { ...input, birthDate: wrongBirth }, p)).toBe(false);
    expect(matchLevel(input, p)).toBe(8);
  });
  it('no level when only the names agree', () => {
    expect(level({ birthDate: wrongBirth, street: wrongStreet, postalCode: wrongPostal })).toBeNull();
  });
  it('no level when the last name sounds different', () => {
    expect(level({ lastName: 'Qqqqq' })).toBeNull();
  });
  it('compares the street on its first three letters, case-insensitive', () => {
    const a = p.addresses[0]!;
    expect(level({ street: a.street.slice(0, 3).toUpperCase() + 'zzz' })).toBe(2);
  });
  it('matches a misspelled last name that SOUNDEX still recognises', () => {
    // Doubling a letter never changes the Soundex code ("Hansen" -> "Hanssen").
    const misspelled = p.lastName + p.lastName.slice(-1);
    expect(soundex(misspelled)).toBe(soundex(p.lastName));
    expect(level({ lastName: misspelled })).toBe(2);
    const best = findBestMatch(pop, { ...exact, lastName: misspelled });
    expect(best?.person.id).toBe(p.id);
    expect(best?.level).toBe(2);
  });
  it('finds the best candidate in the population', () => {
    const best = findBestMatch(pop, { ...exact, houseNumber: wrongHouse });
    expect(best?.level).toBe(3);
    expect(best?.person.id).toBe(p.id);
  });
});
