import type { ChangedField } from '../common/context.js';
import { BUILDING_TYPES } from './data.js';
import { placeOf, randomAddress, randomFirstName, randomLastName, uniquePhone } from './generate.js';
import { mixSeed, Rng } from './rng.js';
import type { ByndlePersonStatus, Person, Phone, Population, Reservations } from './types.js';

const RESERVATION_KEYS: readonly (keyof Reservations)[] = ['directMail', 'phoneSale', 'humanitarian'];

function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}

function replacePhone(pop: Population, rng: Rng, person: Person, type: Phone['type']): void {
  const old = person.phones.findIndex((p) => p.type === type);
  const taken = (n: string): boolean => pop.personByPhone.has(n);
  const number = uniquePhone(rng, taken, person.market, type, placeOf(person.addresses[0]!));
  if (old >= 0) {
    pop.personByPhone.delete(person.phones[old]!.number);
    person.phones[old] = { number, type };
  } else if (type === 'mobile') {
    person.phones.unshift({ number, type });
  } else {
    person.phones.push({ number, type });
  }
  pop.personByPhone.set(number, person);
}

/**
 * Changes a person in place, the way a registry update would, keeping every index consistent.
 * The new values are drawn from (seed, seq, person), so the same change sequence replays
 * identically. `today` (ISO date) dates address moves; it defaults to the wall clock because a
 * change happens "now" as far as the webhooks are concerned.
 */
export function applyPersonChange(
  pop: Population,
  person: Person,
  fields: ChangedField[],
  seq: number,
  today: string = todayIso(),
): void {
  const rng = new Rng(mixSeed(pop.seed, seq, Number.parseInt(person.id.slice(1), 10) || 0));
  for (const field of fields) {
    switch (field) {
      case 'firstName': {
        let name = randomFirstName(rng, person.market, person.gender);
        for (let i = 0; name === person.firstName && i < 20; i++) {
          name = randomFirstName(rng, person.market, person.gender);
        }
        person.firstName = name;
        break;
      }
      case 'lastName': {
        let name = randomLastName(rng, person.market);
        for (let i = 0; name === person.lastName && i < 20; i++) name = randomLastName(rng, person.market);
        person.lastName = name;
        break;
      }
      case 'mobile':
        replacePhone(pop, rng, person, 'mobile');
        break;
      case 'landline':
        replacePhone(pop, rng, person, 'landline');
        break;
      case 'address': {
        const current = person.addresses[0];
        let next = randomAddress(rng, person.market, person.buildingType, today, null);
        for (
          let i = 0;
          current && next.street === current.street && next.postalCode === current.postalCode && i < 20;
          i++
        ) {
          next = randomAddress(rng, person.market, person.buildingType, today, null);
        }
        if (current) current.validTo = today;
        person.addresses.unshift(next);
        // The person left the household: a household shares its current address by definition.
        person.householdId = `${person.householdId}-m${seq}`;
        break;
      }
      case 'status': {
        const next: ByndlePersonStatus = person.status === 1 ? rng.pick<ByndlePersonStatus>([2, 3, 4]) : 1;
        person.status = next;
        if (next !== 5) person.deceasedDate = null;
        break;
      }
      case 'reservations': {
        const key = rng.pick(RESERVATION_KEYS);
        person.reservations = { ...person.reservations, [key]: !person.reservations[key] };
        break;
      }
      case 'buildingType': {
        let type: string = rng.pick(BUILDING_TYPES);
        for (let i = 0; type === person.buildingType && i < 20; i++) type = rng.pick(BUILDING_TYPES);
        person.buildingType = type;
        break;
      }
    }
  }
}
