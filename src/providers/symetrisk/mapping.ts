import type { BorrowerModel, Page } from '../../domain.js';
import type {
  AccessRequestOutcome,
  AccessRequestResult,
  AccountingSnapshot,
  CreditScore,
  CreditScorerCompanyOutcome,
  CreditScorerCompanyResult,
  RelationshipState,
  SymetriskNotification,
} from '../../generated/resolvers-types.js';
import type {
  UpstreamAccessRequestItem,
  UpstreamAccountingItem,
  UpstreamCreditScorerItem,
  UpstreamBorrower,
  UpstreamCreditScore,
  UpstreamDebtor,
  UpstreamNotification,
  UpstreamRelationship,
  UpstreamRelationshipState,
} from './schemas.js';

const STATES: Record<UpstreamRelationshipState, RelationshipState> = {
  access_requested: 'ACCESS_REQUESTED',
  access_approved: 'ACCESS_APPROVED',
  access_rejected: 'ACCESS_REJECTED',
  access_revoked: 'ACCESS_REVOKED',
};

/** Symetrisk answers null for a company we never asked: that is "no relationship". */
export function relationshipState(state: UpstreamRelationshipState | null): RelationshipState {
  return state === null ? 'NONE' : STATES[state];
}

export function borrowerId(orgNr: string): string {
  return `symetrisk:${orgNr}`;
}

export function borrowerFromUpstream(b: UpstreamBorrower): BorrowerModel {
  return {
    id: borrowerId(b.organization_number),
    organizationNumber: b.organization_number,
    name: b.name,
    relationshipState: relationshipState(b.relationship_state),
    consentedToShareData: b.consented_to_share_data,
    requestedAt: b.requested_at,
    approvedAt: b.approved_at,
  };
}

/** A /relationships item carries everything the Borrower type shows except the consent flag, which is "approved". */
export function borrowerFromRelationship(r: UpstreamRelationship): BorrowerModel {
  return {
    id: borrowerId(r.organization_number),
    organizationNumber: r.organization_number,
    name: r.name,
    relationshipState: relationshipState(r.relationship_state),
    consentedToShareData: r.relationship_state === 'access_approved',
    requestedAt: r.requested_at,
    approvedAt: r.approved_at,
  };
}

/** A debtor as listed for a creditor: its state is the debtor relationship with that creditor (always approved). */
export function borrowerFromDebtor(d: UpstreamDebtor): BorrowerModel {
  return {
    id: borrowerId(d.organization_number),
    organizationNumber: d.organization_number,
    name: d.name,
    relationshipState: relationshipState(d.relationship_state),
    consentedToShareData: true,
    requestedAt: d.requested_at,
    approvedAt: d.approved_at,
  };
}

export function creditScoreFromUpstream(s: UpstreamCreditScore): CreditScore {
  return {
    score: s.score,
    riskClass: s.risk_class,
    probabilityOfDefault: s.probability_of_default,
    calculatedAt: s.calculated_at,
  };
}

export function accountingSnapshotFromUpstream({ data }: UpstreamAccountingItem): AccountingSnapshot {
  return {
    snapshotDate: data.snapshot_date,
    year: data.year,
    month: data.month,
    revenue: data.revenue,
    operatingResult: data.operating_result,
    netResult: data.net_result,
    totalAssets: data.total_assets,
    equity: data.equity,
    cash: data.cash,
    shortTermDebt: data.short_term_debt,
    longTermDebt: data.long_term_debt,
  };
}

export function notificationFromUpstream(n: UpstreamNotification): SymetriskNotification {
  return {
    id: String(n.id),
    type: n.type,
    organizationNumber: n.organization_number,
    message: n.message,
    createdAt: n.created_at,
  };
}

/** Symetrisk's `{metadata, items}` as a domain page; `next` is the skip of the following page. */
export function pageFromUpstream<U, T>(
  body: { metadata: { skip: number; totalItems: number }; items: U[] },
  map: (u: U) => T,
): Page<T> {
  const end = body.metadata.skip + body.items.length;
  return {
    items: body.items.map(map),
    // An empty page past the end must not promise another one, whatever totalItems says.
    next: body.items.length > 0 && end < body.metadata.totalItems ? String(end) : null,
    totalCount: body.metadata.totalItems,
  };
}

export function emptyPage<T>(): Page<T> {
  return { items: [], next: null, totalCount: 0 };
}

// ------------------------------------------------------------------ writes

/** Refusal reasons Symetrisk documents, shared by every write; anything else is REJECTED. */
const ITEM_ERRORS = {
  invalid_organization_number: 'INVALID_ORGANIZATION_NUMBER',
  organization_not_found: 'NOT_FOUND',
  own_organization: 'OWN_ORGANIZATION',
} as const;

type Refusal = (typeof ITEM_ERRORS)[keyof typeof ITEM_ERRORS] | 'REJECTED';

function refusal(error: string): Refusal {
  return Object.hasOwn(ITEM_ERRORS, error) ? ITEM_ERRORS[error as keyof typeof ITEM_ERRORS] : 'REJECTED';
}

function accessOutcome(item: UpstreamAccessRequestItem): AccessRequestOutcome {
  if (item.error !== null) return refusal(item.error);
  if (!item.already_existed) return 'ACCEPTED';
  // Symetrisk only reports already_existed for a pending or approved relationship.
  return item.relationship_state === 'access_approved' ? 'ALREADY_APPROVED' : 'ALREADY_REQUESTED';
}

/**
 * One company's access-request result. `item` is undefined when Symetrisk did not confirm the
 * company (its call failed midway, or the answer left it out).
 */
export function accessResultFromUpstream(
  orgNr: string,
  inputIndexes: number[],
  item: UpstreamAccessRequestItem | undefined,
): AccessRequestResult {
  if (!item) {
    return {
      organizationNumber: orgNr,
      inputIndexes,
      outcome: 'NOT_CONFIRMED',
      ok: false,
      alreadyRequested: false,
      name: null,
      relationshipState: 'NONE',
      signupLink: null,
      requestedAt: null,
    };
  }
  const outcome = accessOutcome(item);
  return {
    organizationNumber: orgNr,
    inputIndexes,
    outcome,
    ok: item.error === null,
    alreadyRequested: item.error === null && item.already_existed,
    name: item.name,
    relationshipState: item.error === null ? relationshipState(item.relationship_state) : 'NONE',
    signupLink: item.error === null ? item.signup_link : null,
    requestedAt: item.error === null ? item.requested_at : null,
  };
}

function creditScorerOutcome(item: UpstreamCreditScorerItem): CreditScorerCompanyOutcome {
  if (item.error !== null) return refusal(item.error);
  return item.created ? 'CREATED' : 'ALREADY_EXISTS';
}

/** One company's createCreditScorerCompany result; `item` undefined as for accessResultFromUpstream. */
export function creditScorerResultFromUpstream(
  orgNr: string,
  inputIndexes: number[],
  item: UpstreamCreditScorerItem | undefined,
): CreditScorerCompanyResult {
  const outcome = item ? creditScorerOutcome(item) : 'NOT_CONFIRMED';
  const ok = outcome === 'CREATED' || outcome === 'ALREADY_EXISTS';
  const company = ok ? (item?.company ?? null) : null;
  return {
    organizationNumber: orgNr,
    inputIndexes,
    outcome,
    ok,
    alreadyExisted: outcome === 'ALREADY_EXISTS',
    id: company?.id ?? null,
    name: company?.name ?? null,
    createdAt: company?.created_at ?? null,
  };
}
