import { z } from 'zod';

/**
 * Connect's response bodies, written from the partner customer document and the sandbox's
 * OpenAPI contract (`/capi/openapi.json`). Required fields are required here too: a body that
 * drops one is a contract break and becomes UPSTREAM_BAD_RESPONSE on its field, not a guess.
 */

export const nameSchema = z.object({
  firstName: z.string().nullable(),
  middleName: z.string().nullable(),
  lastName: z.string().nullable(),
  companyName: z.string().nullable(),
  departmentName: z.string().nullable(),
});

export const phoneNumberSchema = z.object({
  phoneNumber: z.string().min(1),
  phoneNumberType: z.enum(['home', 'mobile']),
});

export const attachedUserSchema = z.object({
  userId: z.string(),
  uniqueId: z.string(),
});

export const customerInfoSchema = z.object({
  customerNumber: z.number().int().positive(),
  name: nameSchema,
  phoneNumbers: z.array(phoneNumberSchema),
  emails: z.array(z.string()),
  invoiceEmailAddress: z.string().nullable(),
  attachedUsers: z.array(attachedUserSchema),
});
export type CustomerInfo = z.infer<typeof customerInfoSchema>;

export const searchCustomerResponseSchema = z.object({
  customers: z.array(customerInfoSchema),
});

export const checkedCredentialSchema = z.object({
  /** The credential exactly as we sent it. */
  credential: z.string(),
  credentialType: z.enum(['A', 'B', 'D']),
  customerNumber: z.number().int().positive(),
});
export type CheckedCredential = z.infer<typeof checkedCredentialSchema>;

export const credentialCheckResponseSchema = z.object({
  customers: z.array(checkedCredentialSchema),
});

/** Error body of every Connect API failure (read by ProviderHttp for the message title). */
export const exceptionResponseSchema = z.object({
  exceptionType: z.string(),
  errorMessage: z.string(),
});

/** Request body of the client-mode search. Only criteria that are set are sent. */
export interface SearchCustomerRequest {
  productCode?: string;
  companyName?: string;
  departmentName?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  streetAddress?: string;
  streetNumber?: number;
  entrance?: string;
  postalCode?: string;
  postalPlace?: string;
  countryCode?: string;
  phoneNumber?: string;
  email?: string;
}

/**
 * Body of the user-mode update (POST /v1/customer/info). Connect REPLACES every field with what
 * is sent: a field left out is stored as null (lists as empty), so nordgraph always sends the
 * whole merged record (see update.ts).
 */
export interface ChangeCustomerInfoRequest {
  name: {
    firstName: string | null;
    middleName: string | null;
    lastName: string | null;
    companyName: string | null;
    departmentName: string | null;
  };
  phoneNumbers: { phoneNumber: string; phoneNumberType: 'home' | 'mobile' }[];
  emails: string[];
  invoiceEmailAddress: string | null;
}

/** Answer of the update: `success: false` means Connect did not store the change. */
export const changeCustomerInfoResponseSchema = z.object({
  success: z.boolean(),
});

/** Connect's documented limits. */
export const SEARCH_MAX_RESULTS = 5;
export const CREDENTIAL_CHECK_MAX = 100;
