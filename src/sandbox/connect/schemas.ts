import { z } from '@hono/zod-openapi';

/** E.164: a plus, a non-zero country digit, at most 15 digits in all. */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

export const Name = z
  .object({
    firstName: z.string().nullable().openapi({ example: 'Ola' }),
    middleName: z.string().nullable().openapi({ example: 'Fjordstrand' }),
    lastName: z.string().nullable().openapi({ example: 'Nordmann' }),
    companyName: z.string().nullable().openapi({ example: null }),
    departmentName: z.string().nullable().openapi({ example: null }),
  })
  .openapi('Name', {
    description: 'Customer name. A person has lastName; a company has companyName. Absent parts are null.',
  });

export const PhoneNumber = z
  .object({
    phoneNumber: z
      .string()
      .max(20)
      .regex(E164, 'must follow E.164, e.g. +4712345678')
      .openapi({ example: '+4798765432' }),
    phoneNumberType: z.enum(['home', 'mobile']).openapi({ example: 'mobile' }),
  })
  .openapi('PhoneNumber');

export const AttachedUser = z
  .object({
    userId: z.string().openapi({ example: 'u-0563457-1', description: 'Connect user id' }),
    uniqueId: z.string().openapi({
      example: '6f1c7a52-2d0e-5b8e-9a41-0c3f1d2e7b10',
      description: 'The user’s unique id (UUID)',
    }),
  })
  .openapi('AttachedUser', {
    description:
      'Sandbox design: the document names attachedUsers "List of user ids connected to customer number" without ' +
      'a schema; we return each user as {userId, uniqueId}.',
  });

export const CustomerInfo = z
  .object({
    customerNumber: z
      .number()
      .int()
      .openapi({ example: 563457, description: 'Customer number in the partner datastore' }),
    name: Name,
    phoneNumbers: z.array(PhoneNumber),
    emails: z.array(z.string()).openapi({
      example: ['ola.nordmann@hotmail.no'],
      description: 'Email addresses (each at most 255 characters)',
    }),
    invoiceEmailAddress: z.string().nullable().openapi({
      example: 'ola.nordmann@hotmail.no',
      description: 'Email address used for sending email invoices (at most 60 characters); null when not set',
    }),
    attachedUsers: z.array(AttachedUser).openapi({ description: 'Users connected to the customer number' }),
  })
  .openapi('CustomerInfo');

const nameInputField = (max: number, example: string | null) =>
  z.string().max(max).nullable().optional().openapi({ example });

export const NameInput = z
  .object({
    firstName: nameInputField(30, 'Ola'),
    middleName: nameInputField(30, null),
    lastName: nameInputField(30, 'Nordmann'),
    companyName: nameInputField(40, null),
    departmentName: nameInputField(40, null),
  })
  .openapi('NameInput', {
    description:
      'Name to store. Connect requires at least lastName or companyName: when both are missing or empty ' +
      '(including a null or empty name), lastName is stored as "-".',
  });

export const ChangeCustomerInfoRequest = z
  .object({
    name: NameInput.nullable().optional(),
    phoneNumbers: z.array(PhoneNumber).max(20).nullable().optional(),
    emails: z
      .array(z.email('must be a valid email address').max(255))
      .max(20)
      .nullable()
      .optional()
      .openapi({
        example: ['ola.nordmann@hotmail.no'],
        description: 'Each at most 255 characters and a valid email',
      }),
    invoiceEmailAddress: z
      .email('must be a valid email address')
      .max(60)
      .nullable()
      .optional()
      .openapi({ example: 'ola.nordmann@hotmail.no', description: 'At most 60 characters' }),
  })
  .openapi('ChangeCustomerInfoRequest', {
    description:
      'Replaces the stored customer data for EVERY field: a field that is not sent is stored as null. ' +
      'Sandbox choice: list fields (phoneNumbers, emails) that are not sent or null are stored as empty and read ' +
      'back as []; invoiceEmailAddress and name parts read back as null. Unknown fields are ignored.',
    example: {
      name: {
        firstName: 'Ola',
        middleName: null,
        lastName: 'Nordmann',
        companyName: null,
        departmentName: null,
      },
      phoneNumbers: [{ phoneNumber: '+4798765432', phoneNumberType: 'mobile' }],
      emails: ['ola.nordmann@hotmail.no'],
      invoiceEmailAddress: 'ola.nordmann@hotmail.no',
    },
  });

export const SuccessResponse = z
  .object({ success: z.boolean().openapi({ example: true, description: 'Whether the update was stored' }) })
  .openapi('SuccessResponse');

const searchString = (max: number, example: string, description: string) =>
  z.string().max(max).optional().openapi({ example, description });

export const SearchCustomerRequest = z
  .object({
    productCode: searchString(12, 'CO27409', 'Product code to match; narrows the result to its subscribers.'),
    companyName: searchString(40, 'Company International Ltd', 'Company name (name/address search).'),
    departmentName: searchString(40, 'Support', 'Department name (name/address search).'),
    firstName: searchString(30, 'Ola', 'First name (name/address search).'),
    middleName: searchString(30, 'Fjordstrand', 'Middle name (name/address search).'),
    lastName: searchString(30, 'Nordmann', 'Last name (name/address search).'),
    careOfAddress: searchString(
      40,
      '',
      'Care-of address. Accepted, but the sandbox holds no c/o addresses, so it does not narrow the search.',
    ),
    streetAddress: searchString(
      40,
      'Grubbegata',
      'Street name. Sandbox leniency: "Grubbegata 6A" is read as street, streetNumber and entrance when those are not sent.',
    ),
    streetNumber: z.number().int().min(0).optional().openapi({ example: 6, description: 'Street number.' }),
    entrance: searchString(12, 'A', 'Entrance (letter after the street number).'),
    postalCode: z
      .union([z.string().max(10), z.number().int().min(0).max(99999)])
      .optional()
      .openapi({
        example: '0179',
        description:
          'Postal code. The document’s own sample sends a number (179); a number is accepted and left-padded to 4 digits.',
      }),
    postalPlace: searchString(30, 'Oslo', 'Postal place.'),
    countryCode: searchString(3, 'NO', 'Country code (ISO 3166).'),
    phoneNumber: z
      .string()
      .max(20)
      .regex(E164, 'must follow E.164, e.g. +4712345678')
      .optional()
      .openapi({ example: '+4712345678', description: 'Phone number in E.164.' }),
    email: z
      .email('must be a valid email address')
      .max(255)
      .optional()
      .openapi({ example: 'ola.nordmann@company.com' }),
  })
  .openapi('SearchCustomerRequest', {
    description:
      'Requirements: a name/address search needs (companyName or lastName) AND streetAddress AND ' +
      '(postalCode or postalPlace). Otherwise phoneNumber or email must be set. Anything else is a 400. ' +
      'Empty strings count as not set. Every criterion sent narrows the result (case-insensitive, exact ' +
      'after trimming; productCode narrows to subscribers of that product).',
  });

export const SearchCustomerResponse = z
  .object({ customers: z.array(CustomerInfo).max(5) })
  .openapi('SearchCustomerResponse', { description: 'The customers found; empty when none. At most 5.' });

export const MAX_CREDENTIALS_PER_CHECK = 100;

export const CredentialCheckRequest = z
  .object({
    credentials: z
      .array(z.string().min(1).max(255))
      .min(1)
      .max(MAX_CREDENTIALS_PER_CHECK)
      .openapi({
        example: ['ola.nordmann@hotmail.no', '+4798765432', 'AID:abc-123'],
        description:
          `Credentials to check: emails (type A), mobile numbers (type B; E.164, or 8 Norwegian digits, or 0047...), ` +
          `external ids "AID:..." (type D). Sandbox limit: 1 to ${MAX_CREDENTIALS_PER_CHECK} per call, more is a 400.`,
      }),
  })
  .openapi('CredentialCheckRequest');

export const CheckedCredential = z
  .object({
    credential: z
      .string()
      .openapi({ example: 'ola.nordmann@hotmail.no', description: 'The credential exactly as sent' }),
    credentialType: z
      .enum(['A', 'B', 'D'])
      .openapi({ example: 'A', description: 'A email, B mobile phone, D external id' }),
    customerNumber: z.number().int().openapi({ example: 563457 }),
  })
  .openapi('CheckedCredential', {
    description:
      'Sandbox design: one item per (credential, customer) found, in the order of the request; credentials ' +
      'that match no customer are left out; a credential sent twice is answered once.',
  });

export const CredentialCheckResponse = z
  .object({ customers: z.array(CheckedCredential) })
  .openapi('CredentialCheckResponse');

export const TokenRequest = z
  .object({
    grant_type: z.string().optional().openapi({
      example: 'client_credentials',
      description: 'client_credentials | authorization_code | refresh_token | password',
    }),
    client_id: z.string().optional().openapi({ example: 'no.nordgraph.sandbox' }),
    client_secret: z.string().optional().openapi({ example: 'sandbox-connect-secret' }),
    code: z.string().optional().openapi({ description: 'authorization_code grant' }),
    redirect_uri: z
      .string()
      .optional()
      .openapi({ description: 'authorization_code grant: as sent to /authorize' }),
    refresh_token: z.string().optional().openapi({ description: 'refresh_token grant' }),
    username: z.string().optional().openapi({ description: 'password grant (sandbox-only shortcut)' }),
    password: z.string().optional().openapi({ description: 'password grant (sandbox-only shortcut)' }),
    scope: z.string().optional().openapi({ description: 'Ignored' }),
  })
  .openapi('TokenRequest');

export const TokenResponse = z
  .object({
    access_token: z.string().openapi({ example: 'pX3q...' }),
    token_type: z.literal('bearer'),
    expires_in: z.number().int().openapi({ example: 43200, description: 'Seconds; 12 h by default' }),
    scope: z
      .string()
      .openapi({ example: 'client', description: '"client" for client tokens, "user" for user tokens' }),
    refresh_token: z
      .string()
      .optional()
      .openapi({ description: 'User tokens only; lives 30 days; reusable until it expires (not rotated)' }),
  })
  .openapi('TokenResponse');
