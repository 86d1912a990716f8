import type { Context } from 'hono';
import type { ErrorFormatter } from '../common/app.js';
import type { Address, PartyRef, Person, Population } from '../population/types.js';

export const STATUS_DESCRIPTIONS: Record<number, string> = {
  1: 'Bosatt / Aktiv',
  2: 'Utflyttet',
  3: 'Utvandret',
  4: 'Forsvunnet',
  5: 'død',
  6: 'Utgått fødselsnummer korrigret til nytt',
  7: 'Fødselsregistrert',
  8: 'Annulert tilgang',
  9: 'Uregistrert person',
};

export function statusOf(id: number): { id: number; description: string } {
  return { id, description: STATUS_DESCRIPTIONS[id] ?? 'Ukjent' };
}

/** "Bad Request" -> "BadRequest": the error code in Byndle's error body. */
export function errorCode(title: string): string {
  return title
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .replace(/(?:^|\s)(\w)/g, (_m, ch: string) => ch.toUpperCase())
    .replace(/\s+/g, '');
}

export const byndleErrorFormatter: ErrorFormatter = (status, title, detail) => ({
  body: { status, error: errorCode(title), message: detail },
  contentType: 'application/json; charset=utf-8',
});

export interface ErrorBody {
  status: number;
  error: string;
  message: string;
}

/** A typed error answer for `app.openapi` handlers (their return type must match a declared response). */
export function fail<S extends 400 | 401 | 404 | 409>(c: Context, status: S, error: string, message: string) {
  const body: ErrorBody = { status, error, message };
  return c.json(body, status);
}

const osloFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Oslo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'longOffset',
});

function osloParts(ms: number): Record<string, string> {
  return Object.fromEntries(osloFormat.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

/** Byndle writes times in Norwegian local time with the offset, e.g. 2022-03-16T12:39:07.99+01:00. */
export function osloIso(ms: number): string {
  const p = osloParts(ms);
  const offset = (p.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  const centis = String(Math.floor((ms % 1000) / 10)).padStart(2, '0');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}.${centis}${offset}`;
}

/** The token's `issued` claim format: MM/dd/yyyy HH:mm:ss (Norwegian local time). */
export function osloClaimTime(ms: number): string {
  const p = osloParts(ms);
  return `${p.month}/${p.day}/${p.year} ${p.hour}:${p.minute}:${p.second}`;
}

export function fullAddress(
  a: Pick<Address, 'street' | 'houseNumber' | 'entrance' | 'dwellingNumber' | 'postalCode' | 'city'>,
): string {
  const dwelling = a.dwellingNumber ? `, ${a.dwellingNumber}` : '';
  return `${a.street} ${a.houseNumber}${a.entrance}${dwelling}, ${a.postalCode} ${a.city}`;
}

export function addressJson(a: Address) {
  return {
    street: a.street,
    houseNumber: a.houseNumber,
    entrance: a.entrance,
    dwellingNumber: a.dwellingNumber,
    postalCode: a.postalCode,
    city: a.city,
    country: a.country,
    fullAddress: fullAddress(a),
    validFrom: a.validFrom,
    validTo: a.validTo,
  };
}

export const mobileOf = (p: Person) => p.phones.find((ph) => ph.type === 'mobile')?.number ?? null;
export const landlineOf = (p: Person) => p.phones.find((ph) => ph.type === 'landline')?.number ?? null;

export function reservationsJson(p: Person) {
  return {
    reservedDm: p.reservations.directMail,
    reservedPhoneSale: p.reservations.phoneSale,
    reservedHumOrg: p.reservations.humanitarian,
  };
}

/** Only NO persons have a byndleId; everything the person lookups serve goes through here. */
export function personJson(p: Person) {
  const a = p.addresses[0];
  return {
    byndleId: p.byndleId ?? '',
    nationalId: p.nationalId,
    firstName: p.firstName,
    middleName: p.middleName,
    lastName: p.lastName,
    gender: p.gender,
    birthDate: p.birthDate,
    deceasedDate: p.deceasedDate,
    status: statusOf(p.status),
    address: a ? addressJson(a) : null,
    mobile: mobileOf(p),
    landline: landlineOf(p),
    email: p.email,
    reservations: reservationsJson(p),
    buildingType: p.buildingType,
    maritalStatus: p.maritalStatus,
  };
}

export function partyJson(pop: Population, ref: PartyRef) {
  if (ref.kind === 'business') {
    const b = pop.businessByOrgNr.get(ref.orgNr);
    return { type: 'business' as const, orgNr: ref.orgNr, name: b?.name ?? '' };
  }
  const p = pop.personById.get(ref.personId);
  return {
    type: 'person' as const,
    byndleId: p?.market === 'NO' ? p.byndleId : null,
    firstName: p?.firstName ?? '',
    middleName: p?.middleName ?? null,
    lastName: p?.lastName ?? '',
    birthDate: p?.birthDate ?? '',
  };
}

/** Norwegian numbers may come without country code ("91234567", "0047 912 34 567"). */
export function normalisePhone(raw: string): string | null {
  const s = raw.replace(/[\s\-()]/g, '');
  if (/^\+\d{7,15}$/.test(s)) return s;
  if (/^00\d{7,15}$/.test(s)) return `+${s.slice(2)}`;
  if (/^\d{8}$/.test(s)) return `+47${s}`;
  return null;
}
