/**
 * Domain models: what provider mapping produces and resolvers receive as parents (codegen
 * `mappers`). They hold links as references (ids, organisation numbers), resolved lazily by
 * field resolvers through the per-request loaders, so a link costs nothing unless asked for.
 */
import type {
  Address,
  BusinessRoleType,
  ConsumerState,
  Gender,
  Market,
  MarketingRestrictions,
  PersonStatus,
  Phone,
  Provider,
  RelationshipState,
} from './generated/resolvers-types.js';

export type PartyRef =
  { kind: 'person'; byndleId: string } | { kind: 'business'; organizationNumber: string };

export interface PersonSourceModel {
  provider: Provider;
  providerId: string | null;
  matchLevel: number | null;
}

export interface PersonModel {
  /** Opaque id, e.g. `byndle:<byndleId>` or `bisnode:<gedi>`. */
  id: string;
  market: Market;
  nationalId: string | null;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  birthDate: string | null;
  gender: Gender | null;
  status: PersonStatus | null;
  address: Address | null;
  addressHistory: Address[];
  phones: Phone[];
  emails: string[];
  marketingRestrictions: MarketingRestrictions | null;
  /** Byndle id when Byndle knows the person (NO). */
  byndleId: string | null;
  /** Bisnode GEDI when Bisnode knows the person. */
  gedi: string | null;
  sources: PersonSourceModel[];
}

/** What Byndle's person extended adds: links resolved by Person field resolvers. */
export interface PersonExtendedModel {
  person: PersonModel;
  householdByndleIds: string[];
  properties: string[];
  vehicleRegistrationNumbers: string[];
  businessRoles: { organizationNumber: string; role: BusinessRoleType; since: string | null }[];
}

export interface HeldBusinessRoleModel {
  organizationNumber: string;
  role: BusinessRoleType;
  since: string | null;
}

export interface BusinessRoleModel {
  role: BusinessRoleType;
  holder: PartyRef | null;
  since: string | null;
}

export interface BusinessModel {
  id: string;
  organizationNumber: string;
  name: string;
  form: string | null;
  address: Address | null;
  registeredDate: string | null;
  industryCode: string | null;
  employees: number | null;
  roles: BusinessRoleModel[];
}

export interface VehicleModel {
  id: string;
  registrationNumber: string;
  vin: string | null;
  make: string | null;
  model: string | null;
  year: number | null;
  color: string | null;
  fuel: string | null;
  firstRegistered: string | null;
  owner: PartyRef | null;
}

export interface CustomerModel {
  id: string;
  customerNumber: number;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  companyName: string | null;
  departmentName: string | null;
  phoneNumbers: { phoneNumber: string; type: string }[];
  emails: string[];
  invoiceEmailAddress: string | null;
  attachedUserIds: string[];
}

export interface CredentialMatchModel {
  credential: string;
  credentialType: string;
  customerNumber: number;
}

export interface BorrowerModel {
  id: string;
  organizationNumber: string;
  name: string | null;
  relationshipState: RelationshipState;
  consentedToShareData: boolean;
  requestedAt: string | null;
  approvedAt: string | null;
}

export interface ConsumerModel {
  consumerId: string;
  market: Market;
  state: ConsumerState;
  gedi: string | null;
}

export interface SubscribedPersonModel {
  gedi: string;
  changedAt: string | null;
  /** The person as Bisnode sent it in the list, when it did. */
  person: PersonModel | null;
}

export interface AjourholdEntryModel {
  externalId: string;
  byndleId: string | null;
  matchLevel: number | null;
  maintained: boolean;
  firstName: string | null;
  lastName: string | null;
  address: Address | null;
  birthDate: string | null;
}

/** One page of any upstream list, before it becomes a Relay connection. */
export interface Page<T> {
  items: T[];
  /** Opaque upstream position of the next page; null at the end. */
  next: string | null;
  totalCount: number | null;
}
