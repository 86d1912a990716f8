import DataLoader from 'dataloader';
import type { CredentialMatchModel, CustomerModel } from '../../domain.js';
import type { LoaderDeps } from '../deps.js';
import type { ConnectClient } from './client.js';
import { normalizeCredential, toCredentialMatchModel, toCustomerModel } from './mapping.js';
import { CREDENTIAL_CHECK_MAX, type SearchCustomerRequest } from './schemas.js';

export interface ConnectLoaders {
  /** Client mode customer info by number; null when unknown. Read through the shared cache. */
  customer: DataLoader<number, CustomerModel | null>;
  /**
   * Customers behind each credential (email, mobile, `AID:` id), batched over Connect's
   * credential check (at most 100 per call). Keys are normalised first, so two spellings of one
   * mobile number are one key. Unrecognisable credentials match nothing and cost no call.
   */
  customersByCredential: DataLoader<string, CredentialMatchModel[]>;
  /** Client mode search (at most 5 customers); identical searches in one request run once. */
  customerSearch: DataLoader<SearchCustomerRequest, CustomerModel[], string>;
  /** True when the caller sent its own Connect token (x-connect-user-token). */
  readonly userMode: boolean;
  /**
   * User mode: the caller's own customer record, fetched with the caller's own token. Made at
   * most once per request and NEVER stored in the shared cache: an answer fetched with one
   * user's token must not be served to anyone else, and a cache key without the token would do
   * exactly that.
   */
  myCustomer(): Promise<CustomerModel | null>;
  /**
   * After a write to this customer: forgets it in this request's loaders and evicts every shared
   * cache entry holding it (client-mode info by number, searches that returned it), so the next
   * `customer(customerNumber)` or search shows the new data. Returns how many entries were dropped.
   */
  invalidateCustomer(customerNumber: number): Promise<number>;
}

/**
 * The cache subject every entry holding one customer's record is indexed by, so a write can
 * evict them all (HMAC-hashed by cache.ref, like every key).
 */
export function connectCustomerSubject(cache: LoaderDeps['cache'], customerNumber: number): string {
  return cache.ref(`connect-customer:${customerNumber}`);
}

/** Order-independent key of a search body: identical criteria give identical keys. */
function searchKey(request: SearchCustomerRequest): string {
  return JSON.stringify(Object.entries(request).sort(([a], [b]) => a.localeCompare(b)));
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

export function createConnectLoaderSet(client: ConnectClient, deps: LoaderDeps): ConnectLoaders {
  const { cache } = deps;
  const userToken = deps.connectUserToken?.trim() || null;

  const customer = new DataLoader<number, CustomerModel | null>(
    async (numbers) => {
      // Connect has no batch read for customer info: one call per distinct number, in parallel.
      const settled = await Promise.allSettled(
        numbers.map((n) =>
          !Number.isInteger(n) || n < 1
            ? Promise.resolve(null)
            : cache.through(
                cache.key('customer', 'info', n),
                'customer',
                async () => {
                  const info = await client.customerInfo(n);
                  return info ? toCustomerModel(info) : null;
                },
                // Indexed by customer even when null: a cached "not found" must go too.
                () => [connectCustomerSubject(cache, n)],
              ),
        ),
      );
      return settled.map((s) => (s.status === 'fulfilled' ? s.value : asError(s.reason)));
    },
    { maxBatchSize: 100 },
  );

  const customersByCredential = new DataLoader<string, CredentialMatchModel[], string>(
    async (keys) => {
      const normalised = keys.map((k) => normalizeCredential(k));
      const results: (CredentialMatchModel[] | Error | undefined)[] = new Array(keys.length);
      const misses: { index: number; value: string; cacheKey: string }[] = [];
      await Promise.all(
        normalised.map(async (n, index) => {
          if (!n) {
            results[index] = [];
            return;
          }
          const cacheKey = cache.key('customer', 'credential', n.value);
          const hit = await cache.get<CredentialMatchModel[]>(cacheKey);
          if (hit) results[index] = hit;
          else misses.push({ index, value: n.value, cacheKey });
        }),
      );
      if (misses.length > 0) {
        try {
          // One call for every credential not cached (the batch is capped at Connect's 100).
          const found = await client.checkCredentials(misses.map((m) => m.value));
          const byCredential = new Map<string, CredentialMatchModel[]>();
          for (const item of found) {
            // Connect echoes the credential as sent; normalise anyway so grouping never depends on it.
            const k = normalizeCredential(item.credential)?.value ?? item.credential;
            const list = byCredential.get(k) ?? [];
            if (!list.some((m) => m.customerNumber === item.customerNumber))
              list.push(toCredentialMatchModel(item));
            byCredential.set(k, list);
          }
          await Promise.all(
            misses.map(async (m) => {
              const matches = byCredential.get(m.value) ?? [];
              results[m.index] = matches;
              await cache.set(m.cacheKey, matches, 'customer');
            }),
          );
        } catch (err) {
          for (const m of misses) results[m.index] = asError(err);
        }
      }
      return results.map((r) => r ?? []);
    },
    {
      maxBatchSize: CREDENTIAL_CHECK_MAX,
      // Different spellings of one credential share one key (and so one slot in the batch).
      cacheKeyFn: (k) => {
        const n = normalizeCredential(k);
        return n ? `${n.type}:${n.value}` : `?:${k}`;
      },
    },
  );

  const customerSearch = new DataLoader<SearchCustomerRequest, CustomerModel[], string>(
    async (requests) => {
      const settled = await Promise.allSettled(
        requests.map((request) =>
          cache.through(
            cache.key('customer', 'search', searchKey(request)),
            'customer',
            async () => (await client.searchCustomers(request)).map(toCustomerModel),
            // A search answer holds whole records: a write to any of them evicts it as well.
            (found) => found.map((c) => connectCustomerSubject(cache, c.customerNumber)),
          ),
        ),
      );
      return settled.map((s) => {
        if (s.status === 'rejected') return asError(s.reason);
        // The search returns full customer records: later reads by number in this request are free.
        for (const c of s.value) customer.prime(c.customerNumber, c);
        return s.value;
      });
    },
    { cacheKeyFn: searchKey, maxBatchSize: 10 },
  );

  let mine: Promise<CustomerModel | null> | null = null;

  return {
    customer,
    customersByCredential,
    customerSearch,
    userMode: userToken !== null,
    myCustomer() {
      if (!userToken) return Promise.reject(new Error('myCustomer needs the caller’s own Connect token'));
      mine ??= client.myCustomerInfo(userToken).then((info) => (info ? toCustomerModel(info) : null));
      return mine;
    },

    async invalidateCustomer(customerNumber) {
      customer.clear(customerNumber);
      // Searches in this request may hold the old record; they are cheap to redo.
      customerSearch.clearAll();
      mine = null;
      return cache.evictSubject(connectCustomerSubject(cache, customerNumber));
    },
  };
}
