import DataLoader from 'dataloader';
import type { CacheKind } from '../../cache.js';
import type {
  AjourholdEntryModel,
  BusinessModel,
  PersonExtendedModel,
  PersonModel,
  VehicleModel,
} from '../../domain.js';
import type { AjourholdChange, ByndleWebhook, PhoneReservation } from '../../generated/resolvers-types.js';
import type { LoaderDeps } from '../deps.js';
import { lazyMembers } from '../lazy-members.js';
import type { ByndleClient, ByndlePersonLookupInput } from './client.js';
import {
  toAjourholdChange,
  toAjourholdEntry,
  toBusiness,
  toMatch,
  toPerson,
  toPersonExtended,
  toPhoneReservation,
  toVehicle,
  toWebhook,
  type ByndlePersonModel,
} from './mapping.js';

/** Byndle has no batch endpoint, so a "batch" is this many parallel single calls at most. */
const MAX_BATCH_SIZE = 100;

export interface PersonMatchResult {
  person: ByndlePersonModel;
  matchLevel: number;
  maintained: boolean;
}

export interface AjourholdPageKey {
  /** 1-based, as Byndle pages. */
  page: number;
  pageSize: number;
}

export interface AjourholdPage<T> {
  items: T[];
  totalCount: number;
}

/**
 * Per-request loaders over Byndle. Identical keys cost one call; the same person reached by
 * national id and by Byndle id costs one person-extended call (each answer primes the other
 * loader, and by-id loads wait for national-id loads already in flight, see below). Answers
 * are read through the shared upstream cache with the TTL of their kind.
 */
export interface ByndleLoaders {
  /** Person extended by national id (NO fnr / D-number); primes `personByByndleId`. */
  personByNationalId: DataLoader<string, PersonModel | null>;
  /** Person extended by Byndle id: household, properties, vehicles and roles in one call. */
  personByByndleId: DataLoader<string, PersonExtendedModel | null>;
  /** The owner of an E.164 phone number. */
  personByPhone: DataLoader<string, PersonModel | null>;
  /** Reservation statuses of the owner of an E.164 phone number. */
  phoneReservation: DataLoader<string, PhoneReservation | null>;
  /** Byndle's 1-1 matching (POST /v1/lookup/person). */
  personMatch: DataLoader<ByndlePersonLookupInput, PersonMatchResult | null, string>;
  /** A business with all its roles (role filters are applied to this one cached list). */
  business: DataLoader<string, BusinessModel | null>;
  vehicleByRegNr: DataLoader<string, VehicleModel | null>;
  vehicleByVin: DataLoader<string, VehicleModel | null>;
  ajourholdEntries: DataLoader<AjourholdPageKey, AjourholdPage<AjourholdEntryModel>, string>;
  ajourholdChanges: DataLoader<AjourholdPageKey & { since: string }, AjourholdPage<AjourholdChange>, string>;
  /** Key is ignored (there is one webhook per ajourhold); use `load('current')`. */
  webhook: DataLoader<'current', ByndleWebhook | null>;
}

/** One upstream call per key, each failure kept to its own key. */
async function eachKey<K, V>(keys: readonly K[], load: (key: K) => Promise<V>): Promise<(V | Error)[]> {
  const settled = await Promise.allSettled(keys.map(load));
  return settled.map((r) =>
    r.status === 'fulfilled' ? r.value : r.reason instanceof Error ? r.reason : new Error(String(r.reason)),
  );
}

const makeByndleLoaderSet = lazyMembers<ByndleLoaders>();

export function createByndleLoaderSet(client: ByndleClient, deps: LoaderDeps): ByndleLoaders {
  const { cache } = deps;
  const options = { maxBatchSize: MAX_BATCH_SIZE };
  // Everything cached about a person is indexed under their national id and Byndle id (what
  // Byndle's webhook events carry), so a person-change event or an erasure request can evict it.
  const personSubjects = (x: { person: PersonModel } | PersonModel | null) => {
    const p = x && 'person' in x ? x.person : x;
    return [p?.nationalId, p?.byndleId].filter((v): v is string => Boolean(v)).map((v) => cache.ref(v));
  };
  const through = <T>(
    kind: CacheKind,
    parts: string[],
    load: () => Promise<T>,
    subjects?: (v: T) => string[],
  ) => cache.through(cache.key(kind, ...parts), kind, load, subjects);

  // Person extended answers seen in this request, by Byndle id, and the national-id loads still
  // in flight. A by-id load waits for those first: one of them may be the same person (e.g.
  // `person(nationalId)` next to a vehicle owner), and its answer then serves the by-id key.
  const extendedByByndleId = new Map<string, PersonExtendedModel>();
  const nationalIdLoadsInFlight = new Set<Promise<unknown>>();

  // A failed write only costs a later cache miss; it must not fail the answer in hand.
  const storeQuietly = (key: string, ext: PersonExtendedModel) => {
    cache.set(key, ext, 'personExtended', personSubjects(ext)).catch(() => undefined);
  };

  const remember = (ext: PersonExtendedModel | null, twinCacheKey?: 'nationalId' | 'byndleId') => {
    if (!ext || !ext.person.byndleId) return;
    const byndleId = ext.person.byndleId;
    extendedByByndleId.set(byndleId, ext);
    set.personByByndleId.prime(byndleId, ext);
    if (ext.person.nationalId) set.personByNationalId.prime(ext.person.nationalId, ext.person);
    // The next request may ask by the other key: store the answer under it too.
    if (twinCacheKey === 'byndleId') {
      storeQuietly(cache.key('personExtended', 'byndleId', byndleId), ext);
    } else if (twinCacheKey === 'nationalId' && ext.person.nationalId) {
      storeQuietly(cache.key('personExtended', 'nationalId', ext.person.nationalId), ext);
    }
  };

  const loadExtended = async (key: { byndleId: string } | { nationalId: string }) => {
    let fetched = false;
    const ext = await through<PersonExtendedModel | null>(
      'personExtended',
      'byndleId' in key ? ['byndleId', key.byndleId] : ['nationalId', key.nationalId],
      async () => {
        fetched = true;
        const body = await client.personExtended(key);
        return body ? toPersonExtended(body) : null;
      },
      personSubjects,
    );
    remember(ext, fetched ? ('byndleId' in key ? 'nationalId' : 'byndleId') : undefined);
    return ext;
  };

  const loadVehicle = async (key: { regNr: string } | { vin: string }) => {
    const v = await through<VehicleModel | null>(
      'vehicle',
      'regNr' in key ? ['regNr', key.regNr] : ['vin', key.vin],
      async () => {
        const body = await client.vehicle(key);
        return body ? toVehicle(body) : null;
      },
    );
    if (v) {
      set.vehicleByRegNr.prime(v.registrationNumber, v);
      if (v.vin) set.vehicleByVin.prime(v.vin, v);
    }
    return v;
  };

  // Each loader is made on its first read (lazy-members.ts): a query reads few of them.
  const set: ByndleLoaders = makeByndleLoaderSet({
    personByNationalId: (): DataLoader<string, PersonModel | null> =>
      new DataLoader(
        (nationalIds) =>
          eachKey(nationalIds, (nationalId) => {
            const p = loadExtended({ nationalId }).then((ext) => ext?.person ?? null);
            nationalIdLoadsInFlight.add(p);
            const done = () => nationalIdLoadsInFlight.delete(p);
            p.then(done, done);
            return p;
          }),
        options,
      ),
    personByByndleId: (): DataLoader<string, PersonExtendedModel | null> =>
      new DataLoader(async (byndleIds) => {
        // Let national-id batches queued in the same tick start first, so they count as in flight.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (nationalIdLoadsInFlight.size > 0) await Promise.allSettled([...nationalIdLoadsInFlight]);
        return eachKey(
          byndleIds,
          async (byndleId) => extendedByByndleId.get(byndleId) ?? loadExtended({ byndleId }),
        );
      }, options),
    personByPhone: () =>
      new DataLoader<string, PersonModel | null>(
        (numbers) =>
          eachKey(numbers, (phoneNumber) =>
            through(
              'person',
              ['phoneOwner', phoneNumber],
              async () => {
                const body = await client.phoneOwner(phoneNumber);
                return body ? toPerson(body.owner) : null;
              },
              personSubjects,
            ),
          ),
        options,
      ),
    phoneReservation: () =>
      new DataLoader<string, PhoneReservation | null>(
        (numbers) =>
          eachKey(numbers, (phoneNumber) =>
            through('phones', ['phoneReservations', phoneNumber], async () => {
              const body = await client.phoneReservations(phoneNumber);
              return body ? toPhoneReservation(body) : null;
            }),
          ),
        options,
      ),
    personMatch: () =>
      new DataLoader<ByndlePersonLookupInput, PersonMatchResult | null, string>(
        (inputs) =>
          eachKey(inputs, (input) =>
            through(
              'person',
              ['match', matchKey(input)],
              async () => {
                const body = await client.lookupPerson(input);
                return body ? toMatch(body) : null;
              },
              (m) => personSubjects(m?.person ?? null),
            ),
          ),
        { ...options, cacheKeyFn: matchKey },
      ),
    business: () =>
      new DataLoader<string, BusinessModel | null>(
        (orgNrs) =>
          eachKey(orgNrs, (orgNr) =>
            // Always all roles: one call serves every `roles(types:)` filter in the query and later ones.
            through('business', [orgNr], async () => {
              const body = await client.business(orgNr);
              return body ? toBusiness(body) : null;
            }),
          ),
        options,
      ),
    vehicleByRegNr: (): DataLoader<string, VehicleModel | null> =>
      new DataLoader((regNrs) => eachKey(regNrs, (regNr) => loadVehicle({ regNr })), options),
    vehicleByVin: (): DataLoader<string, VehicleModel | null> =>
      new DataLoader((vins) => eachKey(vins, (vin) => loadVehicle({ vin })), options),
    // Ajourhold lists change with every nightly run and every added entry: deduplicated within a
    // request, never cached across requests.
    ajourholdEntries: () =>
      new DataLoader<AjourholdPageKey, AjourholdPage<AjourholdEntryModel>, string>(
        (keys) =>
          eachKey(keys, async (k) => {
            const body = await client.ajourholdEntries(k);
            return { items: body.items.map(toAjourholdEntry), totalCount: body.totalCount };
          }),
        { ...options, cacheKeyFn: (k) => `${k.page}:${k.pageSize}` },
      ),
    ajourholdChanges: () =>
      new DataLoader<AjourholdPageKey & { since: string }, AjourholdPage<AjourholdChange>, string>(
        (keys) =>
          eachKey(keys, async (k) => {
            const body = await client.ajourholdChanges(k.since, k);
            return { items: body.items.map(toAjourholdChange), totalCount: body.totalCount };
          }),
        { ...options, cacheKeyFn: (k) => `${k.since}:${k.page}:${k.pageSize}` },
      ),
    webhook: () =>
      new DataLoader<'current', ByndleWebhook | null>((keys) =>
        eachKey(keys, async () => {
          const body = await client.webhook();
          return body ? toWebhook(body) : null;
        }),
      ),
  });
  return set;
}

/** A stable key for a match input: fields in a fixed order, absent fields left out. */
function matchKey(input: ByndlePersonLookupInput): string {
  const fields = [
    'nationalId',
    'firstName',
    'lastName',
    'street',
    'houseNumber',
    'postalCode',
    'birthDate',
    'mobile',
  ] as const;
  return JSON.stringify(fields.map((f) => input[f] ?? null));
}
