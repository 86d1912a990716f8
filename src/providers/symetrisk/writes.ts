import type { UpstreamCache } from '../../cache.js';
import type { AccessRequestPayload, CreditScorerCompanyPayload } from '../../generated/resolvers-types.js';
import { SYMETRISK_MAX_WRITE_ITEMS, type SymetriskHttpClient } from './client.js';
import type { SymetriskLoaders } from './loaders.js';
import { evictSymetriskBorrower } from './loaders.js';
import { accessResultFromUpstream, creditScorerResultFromUpstream } from './mapping.js';

/** How many cache evictions run at once after a write (each is a few keyv round trips). */
const EVICT_CONCURRENCY = 25;

/** Validated organisation numbers, each once, with where it stood in the caller's list. */
export interface CollapsedInput {
  distinct: string[];
  /** Input positions per distinct number, in input order. */
  indexes: Map<string, number[]>;
  /** Input entries that repeated an earlier number. */
  duplicates: number;
}

/** Collapses repeats (of already normalised numbers) keeping the order of first appearance. */
export function collapseDuplicates(orgNrs: readonly string[]): CollapsedInput {
  const indexes = new Map<string, number[]>();
  orgNrs.forEach((orgNr, i) => {
    const seen = indexes.get(orgNr);
    if (seen) seen.push(i);
    else indexes.set(orgNr, [i]);
  });
  return { distinct: [...indexes.keys()], indexes, duplicates: orgNrs.length - indexes.size };
}

interface ChunkedAnswer<U> {
  /** Symetrisk's item per organisation number, for those it confirmed. */
  answered: Map<string, U>;
  calls: number;
  /** False when a call failed after an earlier one had succeeded. */
  complete: boolean;
}

/**
 * Sends the numbers in calls of at most SYMETRISK_MAX_WRITE_ITEMS, one after another (a write
 * is not hurried at the expense of the provider, and stopping at the first failure keeps what
 * was sent knowable). If the FIRST call fails, nothing was confirmed and the error goes to the
 * caller as an error on the mutation field. If a later call fails, the earlier ones stay
 * reported (they were written; throwing would hide that) and the rest are NOT_CONFIRMED.
 * No call is retried here: a caller's retry is safe, since Symetrisk answers a repeated request
 * with the company's current state instead of writing again.
 */
async function inChunks<U extends { organization_number: string }>(
  orgNrs: readonly string[],
  call: (chunk: string[]) => Promise<U[]>,
): Promise<ChunkedAnswer<U>> {
  const answered = new Map<string, U>();
  let calls = 0;
  for (let start = 0; start < orgNrs.length; start += SYMETRISK_MAX_WRITE_ITEMS) {
    const chunk = orgNrs.slice(start, start + SYMETRISK_MAX_WRITE_ITEMS);
    calls += 1;
    let items: U[];
    try {
      items = await call(chunk);
    } catch (err) {
      if (start === 0) throw err;
      return { answered, calls, complete: false };
    }
    // Matched by number, not position: an answer that reorders or drops items cannot shift a
    // result onto the wrong company. Symetrisk echoes the number as sent.
    const sent = new Set(chunk);
    for (const item of items)
      if (sent.has(item.organization_number)) answered.set(item.organization_number, item);
  }
  return { answered, calls, complete: answered.size === orgNrs.length };
}

/**
 * Drops what this process (and, with Redis, every instance) cached about the companies, and the
 * request's own loader entries, so a read after the write shows the new relationship state.
 */
export async function evictAfterWrite(
  cache: UpstreamCache,
  loaders: SymetriskLoaders,
  orgNrs: readonly string[],
): Promise<void> {
  for (const orgNr of orgNrs) loaders.borrower.clear(orgNr);
  for (let i = 0; i < orgNrs.length; i += EVICT_CONCURRENCY) {
    await Promise.all(orgNrs.slice(i, i + EVICT_CONCURRENCY).map((o) => evictSymetriskBorrower(cache, o)));
  }
}

/** Borrower access for our own company; the creditor in the payload is our company (from /self). */
export async function requestBorrowerAccess(
  client: SymetriskHttpClient,
  input: CollapsedInput,
): Promise<AccessRequestPayload> {
  // Before the write: if /self fails, nothing has been sent yet.
  const creditor = await client.ownOrganizationNumber();
  const { answered, calls, complete } = await inChunks(input.distinct, (chunk) =>
    client.requestBorrowerAccess(chunk),
  );
  return {
    creditorOrganizationNumber: creditor,
    results: input.distinct.map((o) =>
      accessResultFromUpstream(o, input.indexes.get(o) ?? [], answered.get(o)),
    ),
    duplicatesCollapsed: input.duplicates,
    upstreamCalls: calls,
    complete,
  };
}

export async function requestDebtorAccess(
  client: SymetriskHttpClient,
  creditor: string,
  input: CollapsedInput,
): Promise<AccessRequestPayload> {
  const { answered, calls, complete } = await inChunks(input.distinct, (chunk) =>
    client.requestDebtorAccess(creditor, chunk),
  );
  return {
    creditorOrganizationNumber: creditor,
    results: input.distinct.map((o) =>
      accessResultFromUpstream(o, input.indexes.get(o) ?? [], answered.get(o)),
    ),
    duplicatesCollapsed: input.duplicates,
    upstreamCalls: calls,
    complete,
  };
}

export async function createCreditScorerCompany(
  client: SymetriskHttpClient,
  input: CollapsedInput,
): Promise<CreditScorerCompanyPayload> {
  const { answered, calls, complete } = await inChunks(input.distinct, (chunk) =>
    client.createCreditScorerCompany(chunk),
  );
  return {
    results: input.distinct.map((o) =>
      creditScorerResultFromUpstream(o, input.indexes.get(o) ?? [], answered.get(o)),
    ),
    duplicatesCollapsed: input.duplicates,
    upstreamCalls: calls,
    complete,
  };
}
