import DataLoader from 'dataloader';
import type { ConsumerModel, PersonModel, SubscribedPersonModel } from '../../domain.js';
import type {
  AuditEvent,
  BisnodeWebhook,
  Market,
  PersonEnrichment,
} from '../../generated/resolvers-types.js';
import { validateNationalId } from '../../security/identifiers.js';
import type { LoaderDeps } from '../deps.js';
import { BISNODE_ENDPOINTS, type BisnodeClient, type ConsumerStateFilter } from './client.js';
import {
  asMarket,
  toAuditEvent,
  toConsumerModel,
  toPersonRecord,
  toWebhook,
  type BisnodePersonRecord,
} from './mapping.js';
import type { FindPersonQuery } from './schemas.js';

/**
 * Bisnode has no batch read endpoint (one query per _find, one gedi per GET), so a DataLoader
 * batch becomes one call per distinct key. The batch size and the calls in flight per batch are
 * capped so one wide query (a page of 1000 consumers with their persons) cannot trip Bisnode's
 * per-client rate limit on its own.
 */
const MAX_BATCH_SIZE = 100;
const MAX_IN_FLIGHT = 16;

/** The key of `personByNationalId` / `enrichmentByNationalId`: `${market}:${normalisedNationalId}`. */
export function bisnodePersonKey(market: Market, normalisedId: string): string {
  return `${market}:${normalisedId}`;
}

function parsePersonKey(key: string): { market: Market; nationalId: string } {
  // A caller that hands over an object (or anything else) gets a message naming the contract.
  if (typeof key !== 'string')
    throw new Error('bisnode person keys are strings: bisnodePersonKey(market, normalisedId)');
  const i = key.indexOf(':');
  const market = asMarket(key.slice(0, i));
  const id = market ? validateNationalId(market, key.slice(i + 1)) : null;
  // Never echo the key: it holds a national id.
  if (!market || !id?.ok) throw new Error('bisnode person key must be `${market}:${normalisedNationalId}`');
  return { market, nationalId: id.value };
}

/** A list page before it becomes a Relay connection. */
export interface TokenPage<T> {
  items: T[];
  /** The upstream token of the next page; null when the upstream says the list ended. */
  nextToken: string | null;
  hasNext: boolean;
}

export interface BisnodeLoaders {
  /** GET /persons/{gedi}; null on 404. Primes the national-id loaders when search could find the person. */
  personByGedi: DataLoader<string, PersonModel | null>;
  /**
   * _find with `legalId` only, key `${market}:${normalisedNationalId}` (see bisnodePersonKey).
   * _find answers without a gedi, so such a person has `gedi: null` and the id
   * `bisnode:ref:<keyed hash of market and legal id>` unless the same request already loaded
   * the person by gedi (then that answer is primed here and carries the gedi).
   */
  personByNationalId: DataLoader<string, PersonModel | null>;
  /** Person.enrichment for a person whose gedi is known; shares the upstream call with personByGedi. */
  enrichmentByGedi: DataLoader<string, PersonEnrichment | null>;
  /** Person.enrichment by `${market}:${normalisedNationalId}`; shares the call with personByNationalId. */
  enrichmentByNationalId: DataLoader<string, PersonEnrichment | null>;
  /** _find by anything but a national id (name with birth date, address or phone); identical queries once. */
  findPerson(market: Market, query: FindPersonQuery): Promise<PersonModel | null>;
  consumers(page: {
    pageToken: string | null;
    pageSize: number;
    state: ConsumerStateFilter | null;
  }): Promise<TokenPage<ConsumerModel>>;
  subscribedPersons(page: {
    pageToken: string | null;
    fromDate: string | null;
    pageSize: number;
  }): Promise<TokenPage<SubscribedPersonModel>>;
  auditEvents(page: { pageToken: string | null; pageSize: number }): Promise<TokenPage<AuditEvent>>;
  webhooks(): Promise<BisnodeWebhook[]>;
}

/** Runs `fn` over `items` with at most `limit` promises pending; results in input order, failures as Errors. */
async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<(R | Error)[]> {
  const out = new Array<R | Error>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A loader over another loader's record: same upstream call, another view of it. */
function view<R>(
  source: DataLoader<string, BisnodePersonRecord | null>,
  pick: (r: BisnodePersonRecord) => R,
): DataLoader<string, R | null> {
  return new DataLoader<string, R | null>(
    (keys) =>
      mapSettled(keys, keys.length, async (k) => {
        const r = await source.load(k);
        return r === null ? null : pick(r);
      }),
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}

/** Per request memo for list reads: the same page asked twice in one operation is fetched once. */
function memo<A, R>(fn: (args: A) => Promise<R>): (args: A) => Promise<R> {
  const seen = new Map<string, Promise<R>>();
  return (args) => {
    const key = JSON.stringify(args);
    let p = seen.get(key);
    if (!p) {
      p = fn(args);
      seen.set(key, p);
    }
    return p;
  };
}

export function createBisnodeLoaders(client: BisnodeClient, deps: LoaderDeps): BisnodeLoaders {
  const { cache } = deps;
  const ref = (v: string) => cache.ref(v);
  /**
   * Cache subjects: the gedi and the normalised national id (what forgetPerson and change events
   * evict by), so erasing either drops every cached Bisnode answer about the person.
   */
  const subjects = (r: BisnodePersonRecord | null): string[] => {
    if (r === null) return [];
    const id = r.person.nationalId ? validateNationalId(r.person.market, r.person.nationalId) : null;
    const values = [r.person.gedi, id?.ok ? id.value : r.person.nationalId];
    return values.filter((v): v is string => Boolean(v)).map((v) => cache.ref(v));
  };

  /** A record learnt with its gedi also answers a national-id lookup, when search could have found it. */
  const primeByNationalId = (r: BisnodePersonRecord | null) => {
    if (!r || !r.searchable || !r.person.nationalId) return;
    const id = validateNationalId(r.person.market, r.person.nationalId);
    if (id.ok) recordByNationalId.prime(bisnodePersonKey(r.person.market, id.value), r);
  };

  const recordByGedi: DataLoader<string, BisnodePersonRecord | null> = new DataLoader(
    async (gedis) => {
      const records = await mapSettled(gedis, MAX_IN_FLIGHT, (gedi) =>
        cache.through(
          cache.key('bisnodePerson', 'gedi', gedi),
          'bisnodePerson',
          async () => {
            const v3 = await client.person(gedi);
            return v3 && toPersonRecord(v3, { gedi, market: null, ref }, BISNODE_ENDPOINTS.person);
          },
          subjects,
        ),
      );
      for (const r of records) if (!(r instanceof Error)) primeByNationalId(r);
      return records;
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );

  const recordByNationalId: DataLoader<string, BisnodePersonRecord | null> = new DataLoader(
    (keys) =>
      mapSettled(keys, MAX_IN_FLIGHT, async (key) => {
        const { market, nationalId } = parsePersonKey(key);
        return cache.through(
          cache.key('bisnodePerson', 'legalId', market, nationalId),
          'bisnodePerson',
          async () => {
            // legalId decides the match alone; Swedish ids go in the 12-digit form the validator normalises to.
            const v3 = await client.findPerson(market, { legalId: nationalId });
            return v3 && toPersonRecord(v3, { gedi: null, market, ref }, BISNODE_ENDPOINTS.findPerson);
          },
          subjects,
        );
      }),
    { maxBatchSize: MAX_BATCH_SIZE },
  );

  const recordByQuery = new DataLoader<string, BisnodePersonRecord | null>(
    (keys) =>
      mapSettled(keys, MAX_IN_FLIGHT, async (key) => {
        const [market, query] = JSON.parse(key) as [Market, FindPersonQuery];
        const record = await cache.through(
          cache.key('bisnodePerson', 'find', key),
          'bisnodePerson',
          async () => {
            const v3 = await client.findPerson(market, query);
            return v3 && toPersonRecord(v3, { gedi: null, market, ref }, BISNODE_ENDPOINTS.findPerson);
          },
          subjects,
        );
        primeByNationalId(record);
        return record;
      }),
    { maxBatchSize: MAX_BATCH_SIZE },
  );

  const consumers = memo(
    async ({
      pageToken,
      pageSize,
      state,
    }: {
      pageToken: string | null;
      pageSize: number;
      state: ConsumerStateFilter | null;
    }): Promise<TokenPage<ConsumerModel>> => {
      const page = await client.consumers({
        pageToken: pageToken ?? undefined,
        pageSize,
        state: state ?? undefined,
      });
      return {
        items: page.data.map(toConsumerModel).filter((c): c is ConsumerModel => c !== null),
        nextToken: page.nextPageToken,
        hasNext: page.nextPageToken !== null,
      };
    },
  );

  const subscribedPersons = memo(
    async ({
      pageToken,
      fromDate,
      pageSize,
    }: {
      pageToken: string | null;
      fromDate: string | null;
      pageSize: number;
    }): Promise<TokenPage<SubscribedPersonModel>> => {
      const page = await client.subscribedPersons({
        pageToken: pageToken ?? undefined,
        fromDate: fromDate ?? undefined,
        pageSize,
      });
      const items = page.data.map((s): SubscribedPersonModel => {
        const record = s.person
          ? toPersonRecord(
              s.person,
              { gedi: s.gedi, market: asMarket(s.market), ref },
              BISNODE_ENDPOINTS.subscribedPersons,
            )
          : null;
        if (record) {
          // The list carries the latest person: Person fields and enrichment cost no further call.
          recordByGedi.prime(s.gedi, record);
          primeByNationalId(record);
        }
        return { gedi: s.gedi, changedAt: s.changedTimestamp ?? null, person: record?.person ?? null };
      });
      // The token is never null here (it is the cursor for later changes); a short page is the end.
      return { items, nextToken: page.nextPageToken, hasNext: page.data.length >= pageSize };
    },
  );

  const auditEvents = memo(
    async ({
      pageToken,
      pageSize,
    }: {
      pageToken: string | null;
      pageSize: number;
    }): Promise<TokenPage<AuditEvent>> => {
      const page = await client.auditEvents({ pageToken: pageToken ?? undefined, pageSize });
      return {
        items: page.data.map(toAuditEvent),
        nextToken: page.nextPageToken,
        hasNext: page.data.length >= pageSize,
      };
    },
  );

  let webhooks: Promise<BisnodeWebhook[]> | null = null;

  return {
    personByGedi: view(recordByGedi, (r) => r.person),
    personByNationalId: view(recordByNationalId, (r) => r.person),
    enrichmentByGedi: view(recordByGedi, (r) => r.enrichment),
    enrichmentByNationalId: view(recordByNationalId, (r) => r.enrichment),
    findPerson: async (market, query) =>
      (await recordByQuery.load(JSON.stringify([market, canonicalQuery(query)])))?.person ?? null,
    consumers,
    subscribedPersons,
    auditEvents,
    webhooks: () => (webhooks ??= client.webhooks().then((list) => list.map(toWebhook))),
  };
}

/** Same query, same key: fields sorted, unset ones dropped. */
function canonicalQuery(q: FindPersonQuery): FindPersonQuery {
  return Object.fromEntries(
    Object.entries(q)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .sort(([a], [b]) => a.localeCompare(b)),
  ) as FindPersonQuery;
}
