import { GraphQLError } from 'graphql';
import type { CredentialMatchModel, CustomerModel } from '../src/domain.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';
import { decodeCursor, offsetConnection, pageSize } from '../src/connection.js';
import { InputError } from '../src/errors.js';
import {
  CREDENTIAL_CHECK_MAX,
  CREDENTIAL_EXPECTED,
  SEARCH_MAX_RESULTS,
  changedFields,
  checkCustomerChange,
  checkMergedRecord,
  checkSearchInput,
  isSearchTooBroad,
  mergeCustomerChange,
  mergedCustomerModel,
  normalizeCredential,
  toCustomerModel,
  type ChangeProblem,
} from '../src/providers/connect/index.js';

/** Loader results may hold an Error per key: the field fails with the upstream's error. */
function unwrap<T>(values: (T | Error)[]): T[] {
  for (const v of values) if (v instanceof Error) throw v;
  return values as T[];
}

/** User mode needs the caller's own Connect token; without it there is nobody to act for. */
function needsUserToken(field: string): GraphQLError {
  return new GraphQLError(
    `${field} needs your own Connect token: send it in the x-connect-user-token header.`,
    {
      extensions: { code: 'UNAUTHENTICATED', provider: 'connect', header: 'x-connect-user-token' },
    },
  );
}

/** A change problem as BAD_USER_INPUT on `input.<field>` (never echoing the value). */
function changeError(p: ChangeProblem): InputError {
  return new InputError(`input.${p.field}`, p.expected, {
    ...(p.index !== undefined ? { index: p.index } : {}),
    ...(p.stored ? { stored: true } : {}),
  });
}

/** Customers by number, in order, dropping numbers Connect no longer knows. */
async function customersByNumber(
  load: (numbers: number[]) => Promise<(CustomerModel | null | Error)[]>,
  numbers: number[],
): Promise<CustomerModel[]> {
  return unwrap(await load(numbers)).filter((c): c is CustomerModel => c !== null);
}

export const customerResolvers: Resolvers = {
  Query: {
    customer: (_root, { customerNumber }, ctx) => {
      if (customerNumber < 1) throw new InputError('customerNumber', 'a positive customer number');
      return ctx.loaders.connect.customer.load(customerNumber);
    },

    customerSearch: async (_root, { input, first, after }, ctx) => {
      const size = pageSize(first, SEARCH_MAX_RESULTS, SEARCH_MAX_RESULTS);
      const position = decodeCursor(after);
      if (position?.kind === 'token') throw new InputError('after', 'a cursor returned by customerSearch');
      const checked = checkSearchInput(input);
      if (!checked.ok) {
        const argument = checked.field === 'input' ? 'input' : `input.${checked.field}`;
        throw new InputError(
          argument,
          checked.expected,
          checked.missing.length ? { missing: checked.missing } : {},
        );
      }
      let found: CustomerModel[];
      try {
        found = await ctx.loaders.connect.customerSearch.load(checked.request);
      } catch (err) {
        if (isSearchTooBroad(err)) {
          // Connect refuses (403) rather than truncates when more than 5 match. That is not a
          // permission problem, so it gets its own code telling the caller what to do.
          throw new GraphQLError(
            `More than ${SEARCH_MAX_RESULTS} customers match; narrow the search (e.g. streetNumber, firstName, productCode).`,
            {
              extensions: {
                code: 'SEARCH_TOO_BROAD',
                provider: 'connect',
                status: 403,
                limit: SEARCH_MAX_RESULTS,
              },
            },
          );
        }
        throw err;
      }
      const offset = position?.kind === 'offset' ? position.offset : 0;
      return offsetConnection(found.slice(offset, offset + size), offset, found.length);
    },

    myCustomer: (_root, _args, ctx) => {
      if (!ctx.loaders.connect.userMode) throw needsUserToken('myCustomer');
      return ctx.loaders.connect.myCustomer();
    },

    credentialCheck: async (_root, { credentials }, ctx) => {
      if (credentials.length > CREDENTIAL_CHECK_MAX) {
        throw new InputError('credentials', `at most ${CREDENTIAL_CHECK_MAX} credentials`);
      }
      const normalised = credentials.map((c) => normalizeCredential(c));
      if (normalised.some((n) => n === null)) throw new InputError('credentials', CREDENTIAL_EXPECTED);
      const results = unwrap(await ctx.loaders.connect.customersByCredential.loadMany(credentials));
      // In the order sent, echoing the caller's own spelling, each (credential, customer) once.
      const seen = new Set<string>();
      const out: CredentialMatchModel[] = [];
      results.forEach((matches, i) => {
        for (const m of matches) {
          const key = `${normalised[i]?.value ?? ''}\u0000${m.customerNumber}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ ...m, credential: credentials[i] ?? m.credential });
        }
      });
      return out;
    },
  },

  Mutation: {
    /*
     * Read, merge, check, write (Connect's update replaces every field, see update.ts).
     *
     * LOST UPDATE: between our GET and our POST another writer (the user in a second tab, a
     * back-office tool) may change the record; our POST then writes the fields we did not touch
     * back to the values we read, silently undoing that change. Connect offers no ETag / If-Match
     * or version to detect it, so this cannot be closed here; the window is one round trip (we
     * read immediately before writing and never from cache). Closing it needs a conditional
     * update at Connect.
     */
    updateMyCustomer: async (_root, { input, idempotencyKey }, ctx) => {
      const token = ctx.connectUserToken?.trim();
      if (!token) throw needsUserToken('updateMyCustomer');
      const checked = checkCustomerChange(input);
      if (!checked.ok) throw changeError(checked);

      const connect = ctx.clients.connect;
      // The client directly, not a loader: the record must be the current one, never a cached
      // or earlier-in-this-request copy.
      const current = await connect.myCustomerInfo(token);
      if (!current) {
        throw new GraphQLError('Connect has no customer record for this user.', {
          extensions: { code: 'NOT_FOUND', provider: 'connect' },
        });
      }
      const merged = mergeCustomerChange(current, checked.change);
      const problem = checkMergedRecord(merged, checked.change);
      if (problem) throw changeError(problem);
      const changed = changedFields(current, merged);

      // Scoped by customer (not by token): a retry with a refreshed token is still a retry.
      const scope = `${ctx.caller.id}|connect-customer:${current.customerNumber}`;
      return ctx.idempotency.run('updateMyCustomer', scope, idempotencyKey, input, async () => {
        if (changed.length === 0) {
          // Nothing differs: no write, so no window for a lost update either.
          return { customer: toCustomerModel(current), changedFields: [], written: false, readBack: true };
        }
        // Exactly one POST; a failure (429 included) reaches the caller, who may retry with the key.
        await connect.updateMyCustomerInfo(token, merged);
        try {
          await ctx.loaders.connect.invalidateCustomer(current.customerNumber);
        } catch (err) {
          // The write happened; a cache outage must not turn it into an error (entries expire in 60 s).
          ctx.log.warn({ provider: 'connect', err: (err as Error).name }, 'customer cache eviction failed');
        }
        try {
          const after = await connect.myCustomerInfo(token);
          if (after)
            return {
              customer: toCustomerModel(after),
              changedFields: changed,
              written: true,
              readBack: true,
            };
        } catch (err) {
          ctx.log.warn(
            { provider: 'connect', err: (err as Error).name },
            'customer read-back after update failed',
          );
        }
        return {
          customer: mergedCustomerModel(current, merged),
          changedFields: changed,
          written: true,
          readBack: false,
        };
      });
    },
  },

  CredentialMatch: {
    customer: (match, _args, ctx) => ctx.loaders.connect.customer.load(match.customerNumber),
  },

  Person: {
    customers: async (person, _args, ctx) => {
      // Connect identifies customers by login credentials: the person's mobiles and emails.
      const credentials = [
        ...person.phones.filter((p) => p.type === 'MOBILE').map((p) => p.number),
        ...person.emails,
      ].filter((c) => normalizeCredential(c) !== null);
      if (credentials.length === 0) return [];
      const matches = unwrap(await ctx.loaders.connect.customersByCredential.loadMany(credentials)).flat();
      const numbers = [...new Set(matches.map((m) => m.customerNumber))];
      return customersByNumber((n) => ctx.loaders.connect.customer.loadMany(n), numbers);
    },
  },
};
