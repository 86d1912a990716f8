import { createHash } from 'node:crypto';
import type { SandboxContext } from '../common/context.js';
import type { NotificationType, RelationshipState } from './schemas.js';

/**
 * borrower: the API client's own company (a bank) and a company it lends to; gives accounting data.
 * debtor: a credit-scorer company (creditor) and a debtor; gives the credit score.
 */
export type RelationshipKind = 'borrower' | 'debtor';

export interface Relationship {
  kind: RelationshipKind;
  /** The company holding the relationship: own company for borrowers, the creditor for debtors. */
  creditor: string;
  orgNr: string;
  state: RelationshipState;
  /** null when the company consented without a request (control /approve on a fresh pair). */
  requestedAt: string | null;
  approvedAt: string | null;
  signupLink: string;
  /** Insertion order: lists are sorted by it so skip-pagination stays stable while requests arrive. */
  seq: number;
}

export interface Notification {
  id: number;
  type: NotificationType;
  relationshipType: RelationshipKind;
  orgNr: string;
  creditor: string;
  createdAt: string;
  message: string;
}

/** Brreg organisation numbers: 9 digits, weights 3 2 7 6 5 4 3 2, mod-11 check digit. */
export function isValidOrgNr(orgNr: string): boolean {
  if (!/^\d{9}$/.test(orgNr)) return false;
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  const sum = weights.reduce((s, w, i) => s + w * Number(orgNr[i]), 0);
  const rest = sum % 11;
  const check = rest === 0 ? 0 : 11 - rest;
  return check !== 10 && check === Number(orgNr[8]);
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Deterministic RFC 4122 version-4-shaped UUID, so ids survive a reset unchanged. */
export function stableUuid(text: string): string {
  const h = sha(text);
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const NOTIFICATION_TEXT: Record<NotificationType, string> = {
  access_approved: 'approved the request to share data',
  access_rejected: 'rejected the request to share data',
  access_revoked: 'revoked its consent to share data',
};

/** All mutable Symetrisk state; cleared by reset(). */
export class SymetriskState {
  private readonly relationships = new Map<string, Relationship>();
  private notifications: Notification[] = [];
  /** Credit-scorer companies created through the API (org nr -> creation time); own company is implicit. */
  readonly creditScorers = new Map<string, string>();
  private seq = 0;
  private nextNotificationId = 1;

  constructor(private readonly ctx: SandboxContext) {}

  private iso(): string {
    return new Date(this.ctx.now()).toISOString();
  }

  private key(kind: RelationshipKind, creditor: string, orgNr: string): string {
    return `${kind}:${creditor}:${orgNr}`;
  }

  get(kind: RelationshipKind, creditor: string, orgNr: string): Relationship | undefined {
    return this.relationships.get(this.key(kind, creditor, orgNr));
  }

  /**
   * Asks a company for access. A pending or approved relationship is returned unchanged (a repeat
   * request is not an error); a rejected or revoked one goes back to access_requested.
   */
  request(
    kind: RelationshipKind,
    creditor: string,
    orgNr: string,
  ): { relationship: Relationship; existed: boolean } {
    const existing = this.get(kind, creditor, orgNr);
    if (existing && (existing.state === 'access_requested' || existing.state === 'access_approved')) {
      return { relationship: existing, existed: true };
    }
    if (existing) {
      existing.state = 'access_requested';
      existing.requestedAt = this.iso();
      existing.approvedAt = null;
      return { relationship: existing, existed: false };
    }
    const invitation = sha(`${this.ctx.population.seed}:${kind}:${creditor}:${orgNr}`).slice(0, 16);
    const relationship: Relationship = {
      kind,
      creditor,
      orgNr,
      state: 'access_requested',
      requestedAt: this.iso(),
      approvedAt: null,
      signupLink: `https://app.symetrisk.com/signup?invitation=${invitation}`,
      seq: ++this.seq,
    };
    this.relationships.set(this.key(kind, creditor, orgNr), relationship);
    return { relationship, existed: false };
  }

  /**
   * The company's answer, as the Symetrisk dashboard would record it. Approving a pair that was
   * never requested creates it (the company found the creditor itself, e.g. on delregnskap.no).
   * Returns null when the transition makes no sense (reject an approved one, revoke a pending one).
   */
  answer(
    kind: RelationshipKind,
    creditor: string,
    orgNr: string,
    to: 'access_approved' | 'access_rejected' | 'access_revoked',
    notify = true,
  ): { relationship: Relationship; changed: boolean } | null {
    let rel = this.get(kind, creditor, orgNr);
    if (!rel) {
      if (to !== 'access_approved') return null;
      rel = this.request(kind, creditor, orgNr).relationship;
      rel.requestedAt = null;
    }
    if (rel.state === to) return { relationship: rel, changed: false };
    if (to === 'access_rejected' && rel.state !== 'access_requested') return null;
    if (to === 'access_revoked' && rel.state !== 'access_approved') return null;
    rel.state = to;
    rel.approvedAt = to === 'access_approved' ? this.iso() : rel.approvedAt;
    if (notify) this.notify(rel, to);
    return { relationship: rel, changed: true };
  }

  private notify(rel: Relationship, type: NotificationType): void {
    const name = this.ctx.population.businessByOrgNr.get(rel.orgNr)?.name ?? rel.orgNr;
    this.notifications.push({
      id: this.nextNotificationId++,
      type,
      relationshipType: rel.kind,
      orgNr: rel.orgNr,
      creditor: rel.creditor,
      createdAt: this.iso(),
      message: `${name} (${rel.orgNr}) ${NOTIFICATION_TEXT[type]}`,
    });
  }

  /** Relationships of one kind held by one company, oldest request first. */
  list(kind: RelationshipKind, creditor: string): Relationship[] {
    return [...this.relationships.values()]
      .filter((r) => r.kind === kind && r.creditor === creditor)
      .sort((a, b) => a.seq - b.seq);
  }

  pending(): Relationship[] {
    return [...this.relationships.values()]
      .filter((r) => r.state === 'access_requested')
      .sort((a, b) => a.seq - b.seq);
  }

  all(): Relationship[] {
    return [...this.relationships.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Notifications for the companies this client acts for, newest first. */
  notificationsFor(creditors: Set<string>): Notification[] {
    return this.notifications.filter((n) => creditors.has(n.creditor)).reverse();
  }

  reset(): void {
    this.relationships.clear();
    this.notifications = [];
    this.creditScorers.clear();
    this.seq = 0;
    this.nextNotificationId = 1;
  }
}
