import type { CredentialMatchModel, CustomerModel } from '../../domain.js';
import type { CheckedCredential, CustomerInfo, SearchCustomerRequest } from './schemas.js';

/** Connect customer → domain Customer. The id is opaque but stable: `connect:<customerNumber>`. */
export function toCustomerModel(c: CustomerInfo): CustomerModel {
  return {
    id: `connect:${c.customerNumber}`,
    customerNumber: c.customerNumber,
    firstName: c.name.firstName,
    middleName: c.name.middleName,
    lastName: c.name.lastName,
    companyName: c.name.companyName,
    departmentName: c.name.departmentName,
    phoneNumbers: c.phoneNumbers.map((p) => ({ phoneNumber: p.phoneNumber, type: p.phoneNumberType })),
    emails: c.emails,
    invoiceEmailAddress: c.invoiceEmailAddress,
    attachedUserIds: c.attachedUsers.map((u) => u.userId),
  };
}

export function toCredentialMatchModel(c: CheckedCredential): CredentialMatchModel {
  return { credential: c.credential, credentialType: c.credentialType, customerNumber: c.customerNumber };
}

export type CredentialType = 'A' | 'B' | 'D';

/**
 * A credential in the one form we send to Connect, so that different spellings of the same
 * email or mobile number share one loader key, one cache entry and one slot in a batch:
 * emails (A) lower-cased; mobiles (B) as E.164 (spaces and dashes dropped, `00` → `+`, a bare
 * 8-digit number read as Norwegian, as Connect does); external ids (D) as `AID:<id>`.
 * Null when the value is none of these.
 */
export function normalizeCredential(raw: string): { value: string; type: CredentialType } | null {
  const s = raw.trim();
  if (s.length === 0 || s.length > 255) return null;
  if (/^AID:.+/i.test(s)) return { value: `AID:${s.slice(4)}`, type: 'D' };
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)) return { value: s.toLowerCase(), type: 'A' };
  const compact = s.replace(/[\s-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(compact)) return { value: compact, type: 'B' };
  if (/^00[1-9]\d{6,14}$/.test(compact)) return { value: `+${compact.slice(2)}`, type: 'B' };
  if (/^[2-9]\d{7}$/.test(compact)) return { value: `+47${compact}`, type: 'B' };
  return null;
}

export const CREDENTIAL_EXPECTED =
  'emails, E.164 mobile numbers or external ids of the form AID:<id>, each at most 255 characters';

/** Connect's field limits on search criteria (SearchCustomerRequest in the contract). */
const SEARCH_MAX_LENGTH: Partial<Record<keyof SearchCustomerRequest, number>> = {
  productCode: 12,
  companyName: 40,
  departmentName: 40,
  firstName: 30,
  middleName: 30,
  lastName: 30,
  streetAddress: 40,
  entrance: 12,
  postalCode: 10,
  postalPlace: 30,
  countryCode: 3,
  phoneNumber: 20,
  email: 255,
};

export type SearchInput = { [K in keyof SearchCustomerRequest]?: SearchCustomerRequest[K] | null };

export type SearchCheck =
  | { ok: true; request: SearchCustomerRequest }
  /** `field` is the input field to blame, `expected` says what would make the search acceptable. */
  | { ok: false; field: string; expected: string; missing: string[] };

/**
 * Builds the search body and checks Connect's documented requirements before any call:
 * (companyName or lastName) AND streetAddress AND (postalCode or postalPlace), or phoneNumber,
 * or email. Empty strings count as not set (Connect's rule), so they are not sent at all.
 */
export function checkSearchInput(input: SearchInput): SearchCheck {
  const request: SearchCustomerRequest = {};
  for (const [key, raw] of Object.entries(input) as [keyof SearchCustomerRequest, unknown][]) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw) || raw < 0) {
        return { ok: false, field: key, expected: 'a whole number of 0 or more', missing: [] };
      }
      (request as Record<string, unknown>)[key] = raw;
      continue;
    }
    const value = String(raw).trim();
    if (value === '') continue;
    const max = SEARCH_MAX_LENGTH[key];
    if (max !== undefined && value.length > max) {
      return { ok: false, field: key, expected: `at most ${max} characters`, missing: [] };
    }
    (request as Record<string, unknown>)[key] = value;
  }

  if (request.phoneNumber !== undefined) {
    const compact = request.phoneNumber.replace(/[\s-]/g, '');
    if (!/^\+[1-9]\d{6,14}$/.test(compact)) {
      return {
        ok: false,
        field: 'phoneNumber',
        expected: "an E.164 phone number: '+' and 7-15 digits",
        missing: [],
      };
    }
    request.phoneNumber = compact;
  }
  if (request.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(request.email)) {
    return { ok: false, field: 'email', expected: 'an email address', missing: [] };
  }

  if (request.phoneNumber !== undefined || request.email !== undefined) return { ok: true, request };

  const missing: string[] = [];
  if (request.companyName === undefined && request.lastName === undefined)
    missing.push('companyName or lastName');
  if (request.streetAddress === undefined) missing.push('streetAddress');
  if (request.postalCode === undefined && request.postalPlace === undefined)
    missing.push('postalCode or postalPlace');
  if (missing.length === 0) return { ok: true, request };
  return {
    ok: false,
    field: 'input',
    expected:
      'phoneNumber, or email, or a name and address search with (companyName or lastName), streetAddress ' +
      `and (postalCode or postalPlace); missing: ${missing.join('; ')}`,
    missing,
  };
}
