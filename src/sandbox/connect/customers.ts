import { createHash } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import type { Customer, Population } from '../population/types.js';
import type {
  ChangeCustomerInfoRequest,
  CustomerInfo,
  SearchCustomerRequest,
  CheckedCredential,
} from './schemas.js';

export const MAX_SEARCH_HITS = 5;
export const TOO_MANY_HITS_MESSAGE = 'Number of customers in response are limited to 5 customers';

/** A stable UUID-shaped id per user id, so the same user always has the same uniqueId. */
export function uniqueIdFor(userId: string): string {
  const h = createHash('sha256').update(`connect-user:${userId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function toCustomerInfo(c: Customer): z.infer<typeof CustomerInfo> {
  return {
    customerNumber: c.customerNumber,
    name: {
      firstName: c.firstName,
      middleName: c.middleName,
      lastName: c.lastName,
      companyName: c.companyName,
      departmentName: c.departmentName,
    },
    phoneNumbers: c.phones.map((p) => ({ phoneNumber: p.phoneNumber, phoneNumberType: p.phoneNumberType })),
    emails: [...c.emails],
    invoiceEmailAddress: c.invoiceEmailAddress,
    attachedUsers: c.attachedUsers.map((userId) => ({ userId, uniqueId: uniqueIdFor(userId) })),
  };
}

const blankToNull = (s: string | null | undefined): string | null => {
  const t = s?.trim();
  return t ? t : null;
};

/** Replace-all semantics of POST /v1/customer/info; mutates the population's customer in place. */
export function replaceCustomerInfo(c: Customer, body: z.infer<typeof ChangeCustomerInfoRequest>): void {
  const name = body.name ?? {};
  c.firstName = blankToNull(name.firstName);
  c.middleName = blankToNull(name.middleName);
  c.lastName = blankToNull(name.lastName);
  c.companyName = blankToNull(name.companyName);
  c.departmentName = blankToNull(name.departmentName);
  // Connect requires lastName or companyName; a missing name becomes "-" (document wording).
  if (c.lastName === null && c.companyName === null) c.lastName = '-';
  c.phones = (body.phoneNumbers ?? []).map((p) => ({
    phoneNumber: p.phoneNumber,
    phoneNumberType: p.phoneNumberType,
  }));
  c.emails = [...(body.emails ?? [])];
  c.invoiceEmailAddress = body.invoiceEmailAddress ?? null;
}

const norm = (s: string | null | undefined): string =>
  (s ?? '').normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('nb');

const isSet = (s: string | undefined): s is string => s !== undefined && s.trim() !== '';

export type SearchBody = z.infer<typeof SearchCustomerRequest>;

/** The requirement rules, exactly as documented; null when the request may run. */
export function searchRequirementError(b: SearchBody): string | null {
  const nameOrAddress = (isSet(b.companyName) || isSet(b.lastName)) && isSet(b.streetAddress) && postalSet(b);
  if (nameOrAddress || isSet(b.phoneNumber) || isSet(b.email)) return null;
  return (
    'Searching by name or address requires (companyName or lastName) and streetAddress and ' +
    '(postalCode or postalPlace); otherwise phoneNumber or email must be set'
  );
}

function postalSet(b: SearchBody): boolean {
  return typeof b.postalCode === 'number' || isSet(b.postalCode) || isSet(b.postalPlace);
}

function postalCodeOf(v: string | number): string {
  return typeof v === 'number' ? String(v).padStart(4, '0') : v.trim();
}

/** "Grubbegata 6A" → street "Grubbegata", number 6, entrance "A". */
function splitStreet(s: string): { street: string; number?: number; entrance?: string } {
  const m = /^(.*\S)\s+(\d+)\s*([A-Za-zÆØÅæøå]?)$/.exec(s.trim());
  if (!m?.[1] || !m[2]) return { street: s };
  return { street: m[1], number: Number(m[2]), ...(m[3] ? { entrance: m[3] } : {}) };
}

export function searchCustomers(pop: Population, b: SearchBody): Customer[] {
  const tests: ((c: Customer) => boolean)[] = [];
  const eq = (value: string | undefined, field: (c: Customer) => string | null) => {
    if (!isSet(value)) return;
    const want = norm(value);
    tests.push((c) => norm(field(c)) === want);
  };

  if (isSet(b.productCode)) {
    const want = norm(b.productCode);
    tests.push((c) => c.products.some((p) => norm(p) === want));
  }
  eq(b.companyName, (c) => c.companyName);
  eq(b.departmentName, (c) => c.departmentName);
  eq(b.firstName, (c) => c.firstName);
  eq(b.middleName, (c) => c.middleName);
  eq(b.lastName, (c) => c.lastName);

  let streetNumber = b.streetNumber;
  let entrance = b.entrance;
  if (isSet(b.streetAddress)) {
    const split = splitStreet(b.streetAddress);
    // Only read the number out of the street when the caller did not send it separately.
    const useSplit = split.number !== undefined && streetNumber === undefined;
    eq(useSplit ? split.street : b.streetAddress, (c) => c.street);
    if (useSplit) {
      streetNumber = split.number;
      if (!isSet(entrance) && split.entrance) entrance = split.entrance;
    }
  }
  if (streetNumber !== undefined) tests.push((c) => c.streetNumber === streetNumber);
  eq(entrance, (c) => c.entrance);
  if (b.postalCode !== undefined && (typeof b.postalCode === 'number' || isSet(b.postalCode))) {
    const want = postalCodeOf(b.postalCode);
    tests.push((c) => c.postalCode === want);
  }
  eq(b.postalPlace, (c) => c.postalPlace);
  eq(b.countryCode, (c) => c.countryCode);
  if (isSet(b.phoneNumber)) {
    const want = b.phoneNumber.trim();
    tests.push((c) => c.phones.some((p) => p.phoneNumber === want));
  }
  if (isSet(b.email)) {
    const want = norm(b.email);
    tests.push((c) => c.emails.some((e) => norm(e) === want));
  }
  return pop.customers.filter((c) => tests.every((t) => t(c)));
}

type Checked = z.infer<typeof CheckedCredential>;

/** Normalises a credential to the form it is stored in; null when it is none of A, B or D. */
export function normalizeCredential(raw: string): { value: string; type: 'A' | 'B' | 'D' } | null {
  const s = raw.trim();
  if (/^AID:.+/i.test(s)) return { value: `AID:${s.slice(4)}`, type: 'D' };
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)) return { value: s.toLowerCase(), type: 'A' };
  const digits = s.replace(/[\s-]/g, '');
  if (/^\+[1-9][0-9]{6,14}$/.test(digits)) return { value: digits, type: 'B' };
  if (/^00[1-9][0-9]{6,14}$/.test(digits)) return { value: `+${digits.slice(2)}`, type: 'B' };
  // A bare 8-digit number is Norwegian, as the real service is a Norwegian one.
  if (/^[2-9][0-9]{7}$/.test(digits)) return { value: `+47${digits}`, type: 'B' };
  return null;
}

// Credentials are login data, which customer-info updates never touch, so one index per population holds.
const credentialIndexes = new WeakMap<Population, Map<string, number[]>>();

function credentialIndex(pop: Population): Map<string, number[]> {
  const cached = credentialIndexes.get(pop);
  if (cached) return cached;
  const index = new Map<string, number[]>();
  for (const c of pop.customers) {
    for (const cred of c.credentials) {
      const n = normalizeCredential(cred.credential);
      const key = `${cred.credentialType}:${n ? n.value : cred.credential}`;
      const list = index.get(key);
      if (list) {
        if (!list.includes(c.customerNumber)) list.push(c.customerNumber);
      } else index.set(key, [c.customerNumber]);
    }
  }
  credentialIndexes.set(pop, index);
  return index;
}

export function checkCredentials(pop: Population, credentials: string[]): Checked[] {
  const index = credentialIndex(pop);
  const out: Checked[] = [];
  const seen = new Set<string>();
  for (const raw of credentials) {
    const n = normalizeCredential(raw);
    if (!n) continue;
    const key = `${n.type}:${n.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const customerNumber of index.get(key) ?? []) {
      out.push({ credential: raw, credentialType: n.type, customerNumber });
    }
  }
  return out;
}
