import type { ProviderEndpoint } from '../../config.js';
import type { ProviderDeps } from '../deps.js';
import { ProviderHttp } from '../http.js';
import { TokenCache, byndleTokenFetcher } from '../tokens.js';
import * as s from './schemas.js';

export type ByndleEndpoint = ProviderEndpoint & { ajourholdId: string };

/** How a person is identified for person extended and person phones. */
export type ByndlePersonKey = { byndleId: string } | { nationalId: string };

export interface ByndlePersonLookupInput {
  nationalId?: string;
  firstName?: string;
  lastName?: string;
  street?: string;
  houseNumber?: string;
  postalCode?: string;
  birthDate?: string;
  mobile?: string;
}

export interface ByndlePageRequest {
  /** 1-based. */
  page: number;
  /** At most 1000 at Byndle. */
  pageSize: number;
}

/**
 * One function per Byndle endpoint, all through the shared ProviderHttp (pool, timeout, bearer
 * token with one refresh on 401, zod check of every body). "Nothing here" answers (404) become
 * null; every other failure is an UpstreamError. Byndle has no batch endpoint: callers make one
 * call per distinct key (the loaders dedupe).
 */
export interface ByndleClient {
  readonly ajourholdId: string;
  /** A cheap authenticated call, for providerStatus and /readyz: a fresh token from create-token. */
  ping(): Promise<void>;
  lookupPerson(input: ByndlePersonLookupInput): Promise<s.ByndleMatchedPerson | null>;
  personExtended(key: ByndlePersonKey): Promise<s.ByndlePersonExtended | null>;
  personPhones(
    key: ByndlePersonKey,
  ): Promise<{ byndleId: string; phones: { number: string; type: string }[] } | null>;
  phoneOwner(phoneNumber: string): Promise<s.ByndlePhoneOwner | null>;
  phoneReservations(phoneNumber: string): Promise<s.ByndlePhoneReservations | null>;
  /** All roles when `roles` is omitted. */
  business(orgNr: string, roles?: s.ByndleRoleName[]): Promise<s.ByndleBusiness | null>;
  vehicle(key: { regNr: string } | { vin: string }): Promise<s.ByndleVehicle | null>;
  ajourholdEntries(page: ByndlePageRequest): Promise<s.ByndleAjourholdEntryPage>;
  ajourholdChanges(since: string, page: ByndlePageRequest): Promise<s.ByndleAjourholdChangePage>;
  /** Null when no webhook is configured (Byndle answers 404). */
  webhook(): Promise<s.ByndleWebhook | null>;
  /**
   * POST one entry. Byndle answers 201 with the entry as it stored it (corrections applied), or
   * 409 when the externalId is already in the ajourhold: `{ created: false }`, not an error.
   * Never retried (ProviderHttp retries only after a 401, which Byndle sends before processing).
   */
  addAjourholdEntry(
    input: s.ByndleAjourholdEntryInput,
  ): Promise<{ created: true; entry: s.ByndleAjourholdEntry } | { created: false }>;
  /**
   * DELETE the entry with this externalId, or every entry matched to this Byndle id. The removed
   * entries; null when Byndle answers 404 (nothing to remove).
   */
  removeAjourholdEntries(
    key: { externalId: string } | { byndleId: string },
  ): Promise<s.ByndleAjourholdEntry[] | null>;
  close(): Promise<void>;
}

export function createByndleHttpClient(endpoint: ByndleEndpoint, deps: ProviderDeps): ByndleClient {
  const fetchToken = byndleTokenFetcher({
    tokenUrl: endpoint.tokenUrl,
    username: endpoint.clientId,
    password: endpoint.clientSecret,
    timeoutMs: endpoint.timeoutMs,
  });
  const http = new ProviderHttp({
    provider: 'byndle',
    baseUrl: endpoint.baseUrl,
    timeoutMs: endpoint.timeoutMs,
    tokens: new TokenCache(fetchToken),
    onCall: deps.onCall,
    resilience: deps.resilience,
  });
  deps.onHttp?.(http);
  const ajourhold = `/v1/ajourhold/${encodeURIComponent(endpoint.ajourholdId)}`;
  const personQuery = (key: ByndlePersonKey) =>
    'byndleId' in key ? { byndleId: key.byndleId } : { nationalId: key.nationalId };

  return {
    ajourholdId: endpoint.ajourholdId,
    async ping() {
      await fetchToken();
    },
    lookupPerson: (input) =>
      http.request({
        method: 'POST',
        path: '/v1/lookup/person',
        endpoint: 'POST /v1/lookup/person',
        // A search sent as POST: safe to retry.
        idempotent: true,
        body: input,
        schema: s.matchedPerson,
        emptyOn: [404],
      }),
    personExtended: (key) =>
      http.request({
        method: 'GET',
        path: '/v1/lookup/person/extended',
        endpoint: 'GET /v1/lookup/person/extended',
        query: personQuery(key),
        schema: s.personExtended,
        emptyOn: [404],
      }),
    personPhones: (key) =>
      http.request({
        method: 'GET',
        path: '/v1/lookup/person/phones',
        endpoint: 'GET /v1/lookup/person/phones',
        query: personQuery(key),
        schema: s.personPhones,
        emptyOn: [404],
      }),
    phoneOwner: (phoneNumber) =>
      http.request({
        method: 'GET',
        path: `/v1/lookup/phone/${encodeURIComponent(phoneNumber)}`,
        endpoint: 'GET /v1/lookup/phone/{phoneNumber}',
        schema: s.phoneOwner,
        emptyOn: [404],
      }),
    phoneReservations: (phoneNumber) =>
      http.request({
        method: 'GET',
        path: `/v1/lookup/phone/${encodeURIComponent(phoneNumber)}/reservations`,
        endpoint: 'GET /v1/lookup/phone/{phoneNumber}/reservations',
        schema: s.phoneReservations,
        emptyOn: [404],
      }),
    business: (orgNr, roles) =>
      http.request({
        method: 'GET',
        path: `/v1/lookup/business/${encodeURIComponent(orgNr)}`,
        endpoint: 'GET /v1/lookup/business/{orgNr}',
        // Comma-separated is one of the two forms Byndle accepts; no role name contains a comma.
        query: { roles: roles && roles.length > 0 ? roles.join(',') : undefined },
        schema: s.business,
        emptyOn: [404],
      }),
    vehicle: (key) =>
      http.request({
        method: 'GET',
        path: '/v1/lookup/vehicle',
        endpoint: 'GET /v1/lookup/vehicle',
        query: 'regNr' in key ? { regNr: key.regNr } : { vin: key.vin },
        schema: s.vehicle,
        emptyOn: [404],
      }),
    // A 404 on the ajourhold itself means a misconfigured BYNDLE_AJOURHOLD_ID: an error, not "empty".
    ajourholdEntries: async ({ page, pageSize }) =>
      (await http.request({
        method: 'GET',
        path: `${ajourhold}/entries`,
        endpoint: 'GET /v1/ajourhold/{ajourholdId}/entries',
        query: { page, pageSize },
        schema: s.ajourholdEntryPage,
      }))!,
    ajourholdChanges: async (since, { page, pageSize }) =>
      (await http.request({
        method: 'GET',
        path: `${ajourhold}/changes`,
        endpoint: 'GET /v1/ajourhold/{ajourholdId}/changes',
        query: { since, page, pageSize },
        schema: s.ajourholdChangePage,
      }))!,
    webhook: () =>
      http.request({
        method: 'GET',
        path: `${ajourhold}/webhook`,
        endpoint: 'GET /v1/ajourhold/{ajourholdId}/webhook',
        schema: s.webhook,
        emptyOn: [404],
      }),
    addAjourholdEntry: async (input) => {
      const { body, meta } = await http.requestWithMeta({
        method: 'POST',
        path: `${ajourhold}/entries`,
        endpoint: 'POST /v1/ajourhold/{ajourholdId}/entries',
        body: input,
        schema: s.ajourholdEntry,
        // 409 = this externalId is already there: an answer, not a failure. A 404 here can only be
        // an unknown ajourhold (misconfiguration) and stays an error.
        emptyOn: [409],
      });
      return meta.status === 409 || body === null ? { created: false } : { created: true, entry: body };
    },
    removeAjourholdEntries: async (key) => {
      const byExternal = 'externalId' in key;
      const body = await http.request({
        method: 'DELETE',
        path: byExternal
          ? `${ajourhold}/entries/externalId/${encodeURIComponent(key.externalId)}`
          : `${ajourhold}/entries/byndleId/${encodeURIComponent(key.byndleId)}`,
        endpoint: byExternal
          ? 'DELETE /v1/ajourhold/{ajourholdId}/entries/externalId/{externalId}'
          : 'DELETE /v1/ajourhold/{ajourholdId}/entries/byndleId/{byndleId}',
        schema: s.ajourholdRemoved,
        // Byndle answers 404 both for "no such entry" and for an unknown ajourhold; the contract
        // gives no way to tell them apart without another call. An unknown ajourhold already fails
        // every read and every add loudly, so 404 here is read as "nothing to remove".
        emptyOn: [404],
      });
      return body ? body.removed : null;
    },
    close: () => http.close(),
  };
}
