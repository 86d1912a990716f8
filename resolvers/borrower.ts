import { decodeCursor, offsetConnection, pageSize, type Connection } from '../src/connection.js';
import type { Page } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';
import { UpstreamError } from '../src/providers/errors.js';
import {
  SYMETRISK_MAX_LIMIT,
  accountingKey,
  collapseDuplicates,
  createCreditScorerCompany,
  creditScoreKey,
  debtorsKey,
  evictAfterWrite,
  pageKey,
  requestBorrowerAccess,
  requestDebtorAccess,
} from '../src/providers/symetrisk/index.js';
import { validateNorwegianOrgNumber } from '../src/security/identifiers.js';

/** A valid organisation number (mod-11), normalised; otherwise BAD_USER_INPUT naming the argument. */
function orgNumber(argument: string, value: string): string {
  const result = validateNorwegianOrgNumber(value);
  if (!result.ok) throw new InputError(argument, result.expected);
  return result.value;
}

/** Most organisation numbers one mutation takes: ten upstream calls of 100. */
const MAX_WRITE_INPUT = 1_000;

/**
 * Every number of a write list validated (mod-11) and normalised before anything goes upstream;
 * the first bad one names its position (`organizationNumbers[3]`, extensions.index 3), never
 * its value.
 */
function orgNumberList(argument: string, values: readonly string[]): string[] {
  if (values.length === 0) throw new InputError(argument, 'at least one organisation number');
  if (values.length > MAX_WRITE_INPUT) {
    throw new InputError(argument, `at most ${MAX_WRITE_INPUT} organisation numbers`);
  }
  return values.map((value, index) => {
    const result = validateNorwegianOrgNumber(value);
    if (!result.ok) throw new InputError(`${argument}[${index}]`, result.expected, { index });
    return result.value;
  });
}

/** `first`/`after` as Symetrisk's limit/skip. */
function offsetPage(first: number | null | undefined, after: string | null | undefined, fallback: number) {
  const limit = pageSize(first, SYMETRISK_MAX_LIMIT, fallback);
  const position = decodeCursor(after);
  if (position && position.kind !== 'offset') {
    throw new InputError(
      'after',
      'a cursor returned by this connection (pageInfo.endCursor or an edge cursor)',
    );
  }
  return { limit, skip: position?.offset ?? 0 };
}

function connection<T>(page: Page<T>, skip: number): Connection<T> {
  return offsetConnection(page.items, skip, page.totalCount, page.next !== null);
}

/** "No approved relationship" is a normal state of a Borrower, not a failure of its fields. */
function forbidden(err: unknown): boolean {
  return err instanceof UpstreamError && err.code === 'UPSTREAM_FORBIDDEN';
}

export const borrowerResolvers: Resolvers = {
  Query: {
    symetriskAccount: async (_root, _args, ctx) => {
      const [self, partner] = await Promise.all([
        ctx.clients.symetrisk.self(),
        // The integration is an extra; its failure must not hide our own company.
        ctx.clients.symetrisk.partnerIntegration().catch(() => null),
      ]);
      const p = partner?.partner_integration;
      return {
        companyName: self.company.name,
        organizationNumber: self.company.brreg_organization_number,
        createdAt: self.company.created_at,
        clientId: self.client.client_id,
        scopes: self.client.scopes,
        partnerIntegration: p
          ? {
              name: p.name,
              organizationNumber: p.organization_number,
              status: p.status,
              createdAt: p.created_at,
              creditScorerCompanies: p.credit_scorer_companies.map((c) => ({
                id: c.id,
                organizationNumber: c.organization_number,
                name: c.name,
                createdAt: c.created_at,
              })),
            }
          : null,
      };
    },

    borrower: (_root, args, ctx) =>
      ctx.loaders.symetrisk.borrower.load(orgNumber('organizationNumber', args.organizationNumber)),

    borrowerRelationships: async (_root, args, ctx) => {
      const page = offsetPage(args.first, args.after, 20);
      return connection(await ctx.loaders.symetrisk.relationships.load(pageKey(page)), page.skip);
    },

    debtors: async (_root, args, ctx) => {
      const creditor = orgNumber('creditorOrganizationNumber', args.creditorOrganizationNumber);
      const page = offsetPage(args.first, args.after, 20);
      return connection(await ctx.loaders.symetrisk.debtors.load(debtorsKey(creditor, page)), page.skip);
    },

    // Root fields let a 403 through as UPSTREAM_FORBIDDEN: the caller asked for exactly this data.
    creditScore: (_root, args, ctx) => {
      const creditor = orgNumber('creditorOrganizationNumber', args.creditorOrganizationNumber);
      const debtor = orgNumber('debtorOrganizationNumber', args.debtorOrganizationNumber);
      return ctx.loaders.symetrisk.creditScoreFor.load(creditScoreKey(creditor, debtor));
    },

    accountingData: async (_root, args, ctx) => {
      const orgNr = orgNumber('organizationNumber', args.organizationNumber);
      const page = offsetPage(args.first, args.after, 12);
      return connection(await ctx.loaders.symetrisk.accounting.load(accountingKey(orgNr, page)), page.skip);
    },

    symetriskNotifications: async (_root, args, ctx) => {
      const page = offsetPage(args.first, args.after, 20);
      return connection(await ctx.loaders.symetrisk.notifications.load(pageKey(page)), page.skip);
    },
  },

  Mutation: {
    // Each write runs at most once per idempotency key; the cache is evicted even when the write
    // failed, since a call that timed out may still have changed the relationship upstream.
    requestBorrowerAccess: (_root, args, ctx) => {
      const orgNrs = orgNumberList('organizationNumbers', args.organizationNumbers);
      return ctx.idempotency.run(
        'symetrisk.requestBorrowerAccess',
        ctx.caller.id,
        args.idempotencyKey,
        { orgNrs },
        async () => {
          const input = collapseDuplicates(orgNrs);
          try {
            return await requestBorrowerAccess(ctx.clients.symetrisk, input);
          } finally {
            await evictAfterWrite(ctx.cache, ctx.loaders.symetrisk, input.distinct);
          }
        },
      );
    },

    requestDebtorAccess: (_root, args, ctx) => {
      const creditor = orgNumber('creditorOrganizationNumber', args.creditorOrganizationNumber);
      const orgNrs = orgNumberList('debtorOrganizationNumbers', args.debtorOrganizationNumbers);
      return ctx.idempotency.run(
        'symetrisk.requestDebtorAccess',
        ctx.caller.id,
        args.idempotencyKey,
        { creditor, orgNrs },
        async () => {
          const input = collapseDuplicates(orgNrs);
          try {
            return await requestDebtorAccess(ctx.clients.symetrisk, creditor, input);
          } finally {
            await evictAfterWrite(ctx.cache, ctx.loaders.symetrisk, input.distinct);
          }
        },
      );
    },

    // Nothing cached reads credit-scorer status (borrower, score and accounting entries do not
    // change when a company becomes a credit scorer), so there is nothing to evict.
    createCreditScorerCompany: (_root, args, ctx) => {
      const orgNrs = orgNumberList('organizationNumbers', args.organizationNumbers);
      return ctx.idempotency.run(
        'symetrisk.createCreditScorerCompany',
        ctx.caller.id,
        args.idempotencyKey,
        { orgNrs },
        () => createCreditScorerCompany(ctx.clients.symetrisk, collapseDuplicates(orgNrs)),
      );
    },
  },

  Borrower: {
    creditScore: async (parent, _args, ctx) => {
      try {
        return await ctx.loaders.symetrisk.creditScore.load(parent.organizationNumber);
      } catch (err) {
        if (forbidden(err)) return null;
        throw err;
      }
    },

    accounting: async (parent, args, ctx) => {
      const page = offsetPage(args.first, args.after, 12);
      try {
        const result = await ctx.loaders.symetrisk.accounting.load(
          accountingKey(parent.organizationNumber, page),
        );
        return connection(result, page.skip);
      } catch (err) {
        if (forbidden(err)) return offsetConnection([], page.skip, 0, false);
        throw err;
      }
    },
  },

  Business: {
    borrower: (parent, _args, ctx) => {
      // Symetrisk only knows valid Norwegian organisation numbers; anything else cannot be a borrower.
      const result = validateNorwegianOrgNumber(parent.organizationNumber);
      return result.ok ? ctx.loaders.symetrisk.borrower.load(result.value) : null;
    },
  },
};
