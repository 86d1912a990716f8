import { describe, expect, it } from 'vitest';
import { checkContract } from '../contract.js';
import { customerInfoSchema } from './schemas.js';
import { mergeCustomerChange } from './update.js';

describe('the Connect read-before-write', () => {
  it('sends back only the fields the contract names, whatever else the record read held', () => {
    // A record as Connect might send it tomorrow: an extra property in `name` and at the top.
    const read = checkContract(customerInfoSchema, {
      customerNumber: 1001,
      name: {
        firstName: 'Kari',
        middleName: null,
        lastName: 'Nordmann',
        companyName: null,
        departmentName: null,
        fullName: 'Kari Nordmann',
      },
      phoneNumbers: [{ phoneNumber: '+4791234567', phoneNumberType: 'mobile', verified: true }],
      emails: ['kari@example.no'],
      invoiceEmailAddress: null,
      attachedUsers: [],
      links: {},
    });
    expect(read.success).toBe(true);
    if (!read.success) return;
    const body = mergeCustomerChange(read.data, { name: { lastName: 'Hansen' } });
    expect(body).toEqual({
      name: {
        firstName: 'Kari',
        middleName: null,
        lastName: 'Hansen',
        companyName: null,
        departmentName: null,
      },
      phoneNumbers: [{ phoneNumber: '+4791234567', phoneNumberType: 'mobile' }],
      emails: ['kari@example.no'],
      invoiceEmailAddress: null,
    });
  });
});
