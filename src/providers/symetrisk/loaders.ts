import DataLoader from 'dataloader';
import type { UpstreamCache } from '../../cache.js';
import type { BorrowerModel, Page } from '../../domain.js';
import type {
  AccountingSnapshot,
  CreditScore,
  SymetriskNotification,
} from '../../generated/resolvers-types.js';
import type { LoaderDeps } from '../deps.js';
import type { PageParams, SymetriskHttpClient } from './client.js';
import {
  accountingSnapshotFromUpstream,
  borrowerFromDebtor,
  borrowerFromRelationship,
  borrowerFromUpstream,
  creditScoreFromUpstream,
  emptyPage,
  notificationFromUpstream,
  pageFromUpstream,
} from './mapping.js';

/** Symetrisk has no batch endpoint; this only bounds how many parallel calls one batch starts. */
const MAX_BATCH_SIZE = 100;

export interface SymetriskLoaders {
  /** Borrower by organisation number; null when Symetrisk does not know the organisation. */
  borrower: DataLoader<string, BorrowerModel | null>;
  /**
   * Credit score of a debtor (key: its organisation number) for our own company as creditor
   * (from /self, once per process). Null when there is no score; throws UPSTREAM_FORBIDDEN
   * without an approved debtor relationship.
   */
  creditScore: DataLoader<string, CreditScore | null>;
  /** Credit score with an explicit creditor; key from `creditScoreKey(creditor, debtor)`. */
  creditScoreFor: DataLoader<string, CreditScore | null>;
  /**
   * One page of a borrower's accounting snapshots; key from `accountingKey(orgNr, page)`.
   * Throws UPSTREAM_FORBIDDEN without an approved borrower relationship.
   */
  accounting: DataLoader<string, Page<AccountingSnapshot>>;
  /** One page of our borrower relationships; key from `pageKey(page)`. Never cached across requests. */
  relationships: DataLoader<string, Page<BorrowerModel>>;
  /** One page of a creditor's consented debtors; key from `debtorsKey(creditor, page)`. */
  debtors: DataLoader<string, Page<BorrowerModel>>;
  /** One page of notifications, newest first; key from `pageKey(page)`. */
  notifications: DataLoader<string, Page<SymetriskNotification>>;
}

export const pageKey = (page: PageParams): string => `${page.limit}:${page.skip}`;
export const creditScoreKey = (creditor: string, debtor: string): string => `${creditor}:${debtor}`;
export const accountingKey = (orgNr: string, page: PageParams): string => `${orgNr}:${pageKey(page)}`;
export const debtorsKey = (creditor: string, page: PageParams): string => `${creditor}:${pageKey(page)}`;

function parsePage(limit: string | undefined, skip: string | undefined): PageParams {
  return { limit: Number(limit), skip: Number(skip) };
}

/**
 * Cache subjects of everything cached about one borrower, one per kind so that concurrent
 * writes of different kinds never race on one subject index. The Symetrisk notification poller
 * evicts them (`evictSymetriskBorrower`) when a company approves, rejects or revokes access.
 */
function subjects(
  cache: UpstreamCache,
  orgNr: string,
): { borrower: string; score: string; accounting: string } {
  return {
    borrower: cache.ref(`symetrisk:borrower:${orgNr}`),
    score: cache.ref(`symetrisk:creditScore:${orgNr}`),
    accounting: cache.ref(`symetrisk:accounting:${orgNr}`),
  };
}

/** Drops every cached Symetrisk answer about one company (after an access notification). */
export async function evictSymetriskBorrower(cache: UpstreamCache, orgNr: string): Promise<number> {
  const s = subjects(cache, orgNr);
  const counts = await Promise.all([s.borrower, s.score, s.accounting].map((ref) => cache.evictSubject(ref)));
  return counts.reduce((a, b) => a + b, 0);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** One upstream call per distinct key, in parallel; a failure stays on its own key. */
function perKey<V>(load: (key: string) => Promise<V>): DataLoader.BatchLoadFn<string, V> {
  return async (keys) => {
    const settled = await Promise.allSettled(keys.map(load));
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : asError(s.reason)));
  };
}

export function createSymetriskLoaderSet(client: SymetriskHttpClient, deps: LoaderDeps): SymetriskLoaders {
  const { cache } = deps;
  const options = { maxBatchSize: MAX_BATCH_SIZE };

  const borrower = new DataLoader<string, BorrowerModel | null>(
    perKey(async (orgNr) => {
      const key = cache.key('borrower', orgNr);
      const hit = await cache.get<BorrowerModel | null>(key);
      if (hit !== undefined) return hit;
      const body = await client.borrower(orgNr);
      const model = body ? borrowerFromUpstream(body) : null;
      // Only an approved relationship is cached. Requested or absent ones are exactly what the
      // company changes on Symetrisk's dashboard, and Symetrisk sends no webhooks: caching them
      // would hide an approval for the whole TTL. Approved ones are evicted by the notification
      // poller on revocation.
      if (model?.relationshipState === 'ACCESS_APPROVED') {
        await cache.set(key, model, 'borrower', [subjects(cache, orgNr).borrower]);
      }
      return model;
    }),
    options,
  );

  const creditScoreFor = new DataLoader<string, CreditScore | null>(
    perKey(async (key) => {
      const [creditor = '', debtor = ''] = key.split(':');
      // A 403 (no approval) throws and so is never cached: an approval shows on the next request.
      return cache.through(
        cache.key('creditScore', creditor, debtor),
        'creditScore',
        async () => {
          const body = await client.creditScore(creditor, debtor);
          return body ? creditScoreFromUpstream(body) : null;
        },
        () => [subjects(cache, debtor).score],
      );
    }),
    options,
  );

  const creditScore = new DataLoader<string, CreditScore | null>(
    perKey(async (debtor) => {
      const creditor = await client.ownOrganizationNumber();
      // Through the explicit loader, so the same pair asked both ways costs one call.
      return creditScoreFor.load(creditScoreKey(creditor, debtor));
    }),
    options,
  );

  const accounting = new DataLoader<string, Page<AccountingSnapshot>>(
    perKey(async (key) => {
      const [orgNr = '', limit, skip] = key.split(':');
      const page = parsePage(limit, skip);
      return cache.through(
        cache.key('accounting', orgNr, page.limit, page.skip),
        'accounting',
        async () => {
          const body = await client.accountingData(orgNr, page);
          // 404: Symetrisk does not know the organisation, so it has no snapshots.
          return body
            ? pageFromUpstream(body, accountingSnapshotFromUpstream)
            : emptyPage<AccountingSnapshot>();
        },
        () => [subjects(cache, orgNr).accounting],
      );
    }),
    options,
  );

  const relationships = new DataLoader<string, Page<BorrowerModel>>(
    perKey(async (key) => {
      const [limit, skip] = key.split(':');
      const page = pageFromUpstream(
        await client.relationships(parsePage(limit, skip)),
        borrowerFromRelationship,
      );
      // A relationship item is a complete Borrower: Business.borrower later in this request needs no call.
      for (const b of page.items) borrower.prime(b.organizationNumber, b);
      return page;
    }),
    options,
  );

  const debtors = new DataLoader<string, Page<BorrowerModel>>(
    perKey(async (key) => {
      const [creditor = '', limit, skip] = key.split(':');
      // Not primed into `borrower`: a debtor's state is its relationship with that creditor, not with us.
      return pageFromUpstream(await client.debtors(creditor, parsePage(limit, skip)), borrowerFromDebtor);
    }),
    options,
  );

  const notifications = new DataLoader<string, Page<SymetriskNotification>>(
    perKey(async (key) => {
      const [limit, skip] = key.split(':');
      return pageFromUpstream(await client.notifications(parsePage(limit, skip)), notificationFromUpstream);
    }),
    options,
  );

  return { borrower, creditScore, creditScoreFor, accounting, relationships, debtors, notifications };
}
