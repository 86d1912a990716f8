import { z } from 'zod';
import type { CustomerModel } from '../../domain.js';
import { validatePhoneE164 } from '../../security/identifiers.js';
import { toCustomerModel } from './mapping.js';
import type { ChangeCustomerInfoRequest, CustomerInfo } from './schemas.js';

/**
 * The partial update of a user's own customer record, and its merge into Connect's replace-all
 * write. Connect's POST /v1/customer/info stores EVERY field as sent and nulls the rest, so a
 * caller that only wants to change a name would wipe emails and phones if we passed its change
 * through. Here: absent = keep, null = clear, a value = replace; the merged whole record is what
 * goes upstream.
 */

/** Name parts, in Connect's order. */
export const NAME_FIELDS = ['firstName', 'middleName', 'lastName', 'companyName', 'departmentName'] as const;
export type NameField = (typeof NAME_FIELDS)[number];

/** Connect's limits on name parts (the same as its search criteria, see partner-customer.md). */
export const NAME_MAX_LENGTH: Record<NameField, number> = {
  firstName: 30,
  middleName: 30,
  lastName: 30,
  companyName: 40,
  departmentName: 40,
};
export const EMAIL_MAX_LENGTH = 255;
export const INVOICE_EMAIL_MAX_LENGTH = 60;
export const PHONE_MAX_LENGTH = 20;
/**
 * Our own bound on list sizes: the contract names none, and a customer record with more than 20
 * phone numbers or emails is a mistake or abuse rather than a customer.
 */
export const LIST_MAX = 20;

export type PhoneType = 'home' | 'mobile';

/** What the caller asked to change. A key that is absent means "keep"; null means "clear". */
export type CustomerChangeInput = {
  [K in NameField]?: string | null;
} & {
  phoneNumbers?: { phoneNumber: string; type: string }[] | null;
  emails?: string[] | null;
  invoiceEmailAddress?: string | null;
};

/** A checked change: only fields the caller sent, normalised; null means clear. */
export interface CustomerChange {
  name: Partial<Record<NameField, string | null>>;
  phoneNumbers?: { phoneNumber: string; phoneNumberType: PhoneType }[];
  emails?: string[];
  invoiceEmailAddress?: string | null;
}

/**
 * `field` is the input path to blame (`emails[1]`, `phoneNumbers[0].type`), `index` the list
 * position where there is one. `stored` marks a value the caller did not send: the stored record
 * already breaks Connect's rules, and the caller must send a corrected value for that field.
 */
export type ChangeProblem = { field: string; expected: string; index?: number; stored?: boolean };

const emailSchema = z.email();
const isEmail = (s: string) => emailSchema.safeParse(s).success;

const has = <K extends string>(o: object, key: K): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** Blank text clears, as Connect itself stores a blank name part as null. */
const blankToNull = (s: string | null | undefined): string | null => {
  const t = s?.trim();
  return t ? t : null;
};

function checkName(field: NameField, value: string | null): ChangeProblem | null {
  if (value !== null && value.length > NAME_MAX_LENGTH[field])
    return { field, expected: `at most ${NAME_MAX_LENGTH[field]} characters` };
  return null;
}

function checkEmail(field: string, value: string, max: number, index?: number): ChangeProblem | null {
  if (value.length > max || !isEmail(value))
    return { field, expected: `a valid email address of at most ${max} characters`, index };
  return null;
}

/** Checks and normalises the caller's change (only what it sent). The first problem, or the change. */
export function checkCustomerChange(
  input: CustomerChangeInput,
): { ok: true; change: CustomerChange } | ({ ok: false } & ChangeProblem) {
  const change: CustomerChange = { name: {} };
  for (const field of NAME_FIELDS) {
    if (!has(input, field)) continue;
    const value = blankToNull(input[field]);
    const problem = checkName(field, value);
    if (problem) return { ok: false, ...problem };
    change.name[field] = value;
  }

  if (has(input, 'phoneNumbers')) {
    const phones = input.phoneNumbers ?? [];
    if (phones.length > LIST_MAX)
      return { ok: false, field: 'phoneNumbers', expected: `at most ${LIST_MAX} phone numbers` };
    const out: { phoneNumber: string; phoneNumberType: PhoneType }[] = [];
    for (const [index, p] of phones.entries()) {
      const number = validatePhoneE164(p.phoneNumber.trim());
      if (!number.ok || number.value.length > PHONE_MAX_LENGTH)
        return {
          ok: false,
          field: `phoneNumbers[${index}].phoneNumber`,
          expected: 'an E.164 phone number',
          index,
        };
      if (p.type !== 'home' && p.type !== 'mobile')
        return { ok: false, field: `phoneNumbers[${index}].type`, expected: '`home` or `mobile`', index };
      out.push({ phoneNumber: number.value, phoneNumberType: p.type });
    }
    change.phoneNumbers = out;
  }

  if (has(input, 'emails')) {
    const emails = (input.emails ?? []).map((e) => e.trim());
    if (emails.length > LIST_MAX)
      return { ok: false, field: 'emails', expected: `at most ${LIST_MAX} email addresses` };
    for (const [index, email] of emails.entries()) {
      const problem = checkEmail(`emails[${index}]`, email, EMAIL_MAX_LENGTH, index);
      if (problem) return { ok: false, ...problem };
    }
    change.emails = emails;
  }

  if (has(input, 'invoiceEmailAddress')) {
    const invoice = blankToNull(input.invoiceEmailAddress);
    if (invoice !== null) {
      const problem = checkEmail('invoiceEmailAddress', invoice, INVOICE_EMAIL_MAX_LENGTH);
      if (problem) return { ok: false, ...problem };
    }
    change.invoiceEmailAddress = invoice;
  }
  return { ok: true, change };
}

/** The stored record as a write body: what Connect would keep if we wrote it back unchanged. */
export function currentBody(current: CustomerInfo): ChangeCustomerInfoRequest {
  return {
    // Field by field: the record is the provider's body as read (unknown properties included,
    // see providers/contract.ts), and a write sends back only what the contract names.
    name: {
      firstName: current.name.firstName,
      middleName: current.name.middleName,
      lastName: current.name.lastName,
      companyName: current.name.companyName,
      departmentName: current.name.departmentName,
    },
    phoneNumbers: current.phoneNumbers.map((p) => ({
      phoneNumber: p.phoneNumber,
      phoneNumberType: p.phoneNumberType,
    })),
    emails: [...current.emails],
    invoiceEmailAddress: current.invoiceEmailAddress,
  };
}

/**
 * The whole record to write: the stored record with the change laid over it. Unchanged fields
 * are sent exactly as Connect gave them (not re-normalised), so the write does not alter what
 * the caller did not touch.
 */
export function mergeCustomerChange(
  current: CustomerInfo,
  change: CustomerChange,
): ChangeCustomerInfoRequest {
  const body = currentBody(current);
  body.name = { ...body.name, ...change.name };
  if (change.phoneNumbers !== undefined) body.phoneNumbers = change.phoneNumbers;
  if (change.emails !== undefined) body.emails = change.emails;
  if (change.invoiceEmailAddress !== undefined) body.invoiceEmailAddress = change.invoiceEmailAddress;
  return body;
}

/** Which input fields the merged record changes, in input order (`firstName`, `emails`, ...). */
export function changedFields(current: CustomerInfo, merged: ChangeCustomerInfoRequest): string[] {
  const before = currentBody(current);
  const out: string[] = [];
  for (const f of NAME_FIELDS) if (before.name[f] !== merged.name[f]) out.push(f);
  if (JSON.stringify(before.phoneNumbers) !== JSON.stringify(merged.phoneNumbers)) out.push('phoneNumbers');
  if (JSON.stringify(before.emails) !== JSON.stringify(merged.emails)) out.push('emails');
  if (before.invoiceEmailAddress !== merged.invoiceEmailAddress) out.push('invoiceEmailAddress');
  return out;
}

/**
 * Checks the merged record against Connect's rules before it is written. The caller's own values
 * were checked already, so a problem in a field the caller did not send comes from the stored
 * record (`stored: true`). Above all: Connect needs a lastName or a companyName and would
 * otherwise store lastName "-", which nobody asked for, so that is refused here instead.
 */
export function checkMergedRecord(
  merged: ChangeCustomerInfoRequest,
  change: CustomerChange,
): ChangeProblem | null {
  const sent = (f: string) => (f in change.name ? true : has(change, f));
  const stored = (f: string) => (sent(f) ? {} : { stored: true });

  if (blankToNull(merged.name.lastName) === null && blankToNull(merged.name.companyName) === null) {
    const field =
      has(change.name, 'lastName') || !has(change.name, 'companyName') ? 'lastName' : 'companyName';
    return {
      field,
      expected:
        'a lastName or a companyName: the customer would be left with neither (Connect would store lastName "-")',
    };
  }
  for (const f of NAME_FIELDS) {
    const problem = checkName(f, merged.name[f]);
    if (problem) return { ...problem, ...stored(f) };
  }
  if (merged.emails.length > LIST_MAX)
    return { field: 'emails', expected: `at most ${LIST_MAX} email addresses`, ...stored('emails') };
  for (const [index, email] of merged.emails.entries()) {
    const problem = checkEmail(`emails[${index}]`, email, EMAIL_MAX_LENGTH, index);
    if (problem) return { ...problem, ...stored('emails') };
  }
  if (merged.phoneNumbers.length > LIST_MAX)
    return {
      field: 'phoneNumbers',
      expected: `at most ${LIST_MAX} phone numbers`,
      ...stored('phoneNumbers'),
    };
  for (const [index, p] of merged.phoneNumbers.entries()) {
    if (p.phoneNumber.length > PHONE_MAX_LENGTH || !/^\+[1-9]\d{6,14}$/.test(p.phoneNumber))
      return {
        field: `phoneNumbers[${index}].phoneNumber`,
        expected: 'an E.164 phone number',
        index,
        ...stored('phoneNumbers'),
      };
  }
  if (merged.invoiceEmailAddress !== null) {
    const problem = checkEmail('invoiceEmailAddress', merged.invoiceEmailAddress, INVOICE_EMAIL_MAX_LENGTH);
    if (problem) return { ...problem, ...stored('invoiceEmailAddress') };
  }
  return null;
}

/**
 * The record as Connect stores the merged write (its replace semantics: blank name parts become
 * null). Used as the mutation's answer only when reading the record back after a successful
 * write fails.
 */
export function mergedCustomerModel(current: CustomerInfo, merged: ChangeCustomerInfoRequest): CustomerModel {
  return toCustomerModel({
    customerNumber: current.customerNumber,
    name: {
      firstName: blankToNull(merged.name.firstName),
      middleName: blankToNull(merged.name.middleName),
      lastName: blankToNull(merged.name.lastName),
      companyName: blankToNull(merged.name.companyName),
      departmentName: blankToNull(merged.name.departmentName),
    },
    phoneNumbers: merged.phoneNumbers,
    emails: merged.emails,
    invoiceEmailAddress: merged.invoiceEmailAddress,
    attachedUsers: current.attachedUsers,
  });
}
