import type { BorrowerModel, Page } from '../../domain.js';
import type {
  AccountingSnapshot,
  CreditScore,
  RelationshipState,
  SymetriskNotification,
} from '../../generated/resolvers-types.js';
import type {
  UpstreamAccountingItem,
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
