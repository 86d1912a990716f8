/**
 * The sandbox's synthetic Nordic population: the one truth that all four simulated providers
 * serve from, so that the same person is the same person at Byndle, Bisnode, Connect and
 * Symetrisk. Deterministic: the same seed gives the same data, byte for byte.
 *
 * These types belong to the sandbox alone. The gateway's provider clients never import them
 * (DESIGN.md convention 1: the sandbox is a second, independent reading of each contract).
 */

export type Market = 'NO' | 'SE' | 'DK' | 'FI';

/** Which national identity number scheme a person's `nationalId` follows. */
export type NationalIdKind =
  | 'FNR' // Norwegian fødselsnummer, 11 digits DDMMYYIIIKK
  | 'DNR' // Norwegian D-number: day + 40
  | 'PNR' // Swedish personnummer, 12 digits YYYYMMDDNNNC (Bisnode's legalId format)
  | 'CPR' // Danish CPR, 10 digits DDMMYYSSSS
  | 'HETU'; // Finnish henkilötunnus DDMMYYCZZZQ

/** Byndle's person status list (byndle.md): 1 Bosatt/Aktiv ... 9 Uregistrert person. */
export type ByndlePersonStatus = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export interface Address {
  street: string;
  houseNumber: string;
  /** Letter after the house number, e.g. "B"; empty when none. */
  entrance: string;
  /** Norwegian "bruksenhetsnummer" style dwelling number, e.g. "H0101"; empty when none. */
  dwellingNumber: string;
  /** 4 digits in NO and DK, 5 in SE and FI. */
  postalCode: string;
  city: string;
  country: Market;
  /** ISO date the person moved in. */
  validFrom: string;
  /** ISO date the person moved out; null for the current address. */
  validTo: string | null;
}

export interface Phone {
  /** E.164, e.g. +4791234567. */
  number: string;
  type: 'mobile' | 'landline';
}

export interface Reservations {
  /** Reserved against direct mail (Byndle reservedDm). */
  directMail: boolean;
  /** Reserved against phone sales (Byndle reservedPhoneSale). */
  phoneSale: boolean;
  /** Reserved against humanitarian organisations (Byndle reservedHumOrg). */
  humanitarian: boolean;
}

export interface Person {
  /** Stable sandbox-internal id, e.g. "p000042". Never shown by a provider as-is except Byndle's byndleId derivation. */
  id: string;
  market: Market;
  nationalId: string;
  nationalIdKind: NationalIdKind;
  /** Bisnode's persistent person id (GEDI), e.g. "gedi-000000042". */
  gedi: string;
  /** Byndle's person id, only for market NO: "BY" + 8 uppercase hex digits, e.g. "BY4F2A19C0". */
  byndleId: string | null;
  firstName: string;
  middleName: string | null;
  lastName: string;
  gender: 'MALE' | 'FEMALE';
  /** ISO date YYYY-MM-DD. */
  birthDate: string;
  /** ISO date of death when status is 5 (død), else null. */
  deceasedDate: string | null;
  status: ByndlePersonStatus;
  /** Current address first, then earlier ones, newest first. */
  addresses: Address[];
  phones: Phone[];
  email: string | null;
  reservations: Reservations;
  /** Persons sharing a household id live at the same current address. */
  householdId: string;
  /** e.g. "Enebolig", "Leilighet", "Rekkehus". */
  buildingType: string;
  maritalStatus: 'UNMARRIED' | 'MARRIED' | 'DIVORCED' | 'WIDOWED';
  /** Protected identity (Bisnode status.protected); such persons are never found by search. */
  protectedIdentity: boolean;
  /** Norwegian property ids (gnr/bnr) the person owns, may be empty. */
  properties: string[];
}

/** The Norwegian Brreg role list in byndle.md, verbatim. */
export const BYNDLE_ROLES = [
  'Bestyrende reder',
  'Bobestyrer',
  'Daglig leder/administrerende direktør',
  'Deltaker med proratisk ansvar (delt ansvar)',
  'Deltaker med solidarisk ansvar (fullt ansvarlig)',
  'Forretningsfører',
  'Innehaver',
  'Komplementar',
  'Kontaktperson',
  'Nestleder',
  'Norsk representant for utenlandsk enhet',
  'Observatør',
  'Regnskapsfører',
  'Revisor',
  'Styremedlem',
  'Styrets leder',
  'Varamedlem',
] as const;
export type ByndleRole = (typeof BYNDLE_ROLES)[number];

export type PartyRef = { kind: 'person'; personId: string } | { kind: 'business'; orgNr: string };

export interface BusinessRole {
  role: ByndleRole;
  holder: PartyRef;
  /** ISO date the role was registered. */
  since: string;
}

export interface Business {
  /** Norwegian organisation number, 9 digits, mod-11 valid. */
  orgNr: string;
  name: string;
  /** Organisation form code: AS, ASA, ENK, ANS, DA, NUF, SA, STI. */
  form: string;
  address: Address;
  /** ISO date. */
  registeredDate: string;
  /** NACE code, e.g. "62.010". */
  industryCode: string;
  employees: number;
  roles: BusinessRole[];
}

export interface Vehicle {
  /** Norwegian style registration number, e.g. "EL12345" or "AB 12345" without the space: "AB12345". */
  regNr: string;
  /** 17 characters, ISO 3779 (no I, O, Q). */
  vin: string;
  make: string;
  model: string;
  year: number;
  color: string;
  fuel: 'Petrol' | 'Diesel' | 'Electric' | 'Hybrid';
  /** ISO date first registered in Norway. */
  firstRegistered: string;
  owner: PartyRef;
}

export interface Customer {
  /** Connect customer number. */
  customerNumber: number;
  /** The population person this customer is, when it is a person (most are). */
  personId: string | null;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  companyName: string | null;
  departmentName: string | null;
  street: string;
  streetNumber: number;
  entrance: string;
  postalCode: string;
  postalPlace: string;
  countryCode: Market;
  phones: { phoneNumber: string; phoneNumberType: 'home' | 'mobile' }[];
  emails: string[];
  invoiceEmailAddress: string | null;
  /** Connect user ids attached to the customer. */
  attachedUsers: string[];
  /** Product codes the customer subscribes to, e.g. "CO27409". */
  products: string[];
  /** Credentials: email (type A), mobile (type B). */
  credentials: { credential: string; credentialType: 'A' | 'B' | 'D' }[];
}

export interface AccountingSnapshot {
  /** Last day of the month, ISO date. */
  snapshotDate: string;
  year: number;
  month: number;
  /** Amounts in NOK. */
  revenue: number;
  operatingResult: number;
  netResult: number;
  totalAssets: number;
  equity: number;
  cash: number;
  shortTermDebt: number;
  longTermDebt: number;
}

export interface Borrower {
  orgNr: string;
  /** Monthly snapshots, newest first, at most 100. */
  accounting: AccountingSnapshot[];
  /** 0-100, higher is better. */
  creditScore: number;
  /** A, B, C, D, E. */
  riskClass: 'A' | 'B' | 'C' | 'D' | 'E';
  probabilityOfDefault: number;
}

export interface Population {
  seed: number;
  persons: Person[];
  businesses: Business[];
  vehicles: Vehicle[];
  customers: Customer[];
  borrowers: Borrower[];
  /** Indexes; always consistent with the arrays above. */
  personById: Map<string, Person>;
  personByNationalId: Map<string, Person>;
  personByGedi: Map<string, Person>;
  personByByndleId: Map<string, Person>;
  /** E.164 number -> person. */
  personByPhone: Map<string, Person>;
  businessByOrgNr: Map<string, Business>;
  vehicleByRegNr: Map<string, Vehicle>;
  vehicleByVin: Map<string, Vehicle>;
  customerByNumber: Map<number, Customer>;
  borrowerByOrgNr: Map<string, Borrower>;
}

export interface PopulationOptions {
  seed?: number;
  /** Defaults: 20_000 persons, 3_000 businesses, 10_000 vehicles, 5_000 customers, 300 borrowers. */
  persons?: number;
  businesses?: number;
  vehicles?: number;
  customers?: number;
  borrowers?: number;
}
