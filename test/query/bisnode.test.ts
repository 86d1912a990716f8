import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

/** A sandbox person as the control API lists it (test data only). */
interface SandboxPerson {
  id: string;
  market: 'NO' | 'SE' | 'DK' | 'FI';
  nationalId: string;
  gedi: string;
  firstName: string;
  middleName: string | null;
  lastName: string;
  gender: 'MALE' | 'FEMALE';
  birthDate: string;
  status: number;
  protectedIdentity: boolean;
  phones: { number: string; type: 'mobile' | 'landline' }[];
  addresses: {
    street: string;
    houseNumber: string;
    postalCode: string;
    city: string;
    validTo: string | null;
  }[];
  reservations: { directMail: boolean; phoneSale: boolean; humanitarian: boolean };
}

const API = '/consumer-intelligence/v3';
const GET_PERSON = `GET ${API}/persons/:gedi`;
const FIND = `POST ${API}/markets/:market/persons/_find`;
const LIST_SUBSCRIPTIONS = `GET ${API}/subscriptions/persons`;

let app: Nordgraph;
let control: string;
let token: string;
const pool: Record<SandboxPerson['market'], SandboxPerson[]> = { NO: [], SE: [], DK: [], FI: [] };

/**
 * Every test takes persons nobody else used: the upstream cache is process-wide, so a person
 * looked up twice across tests would hide the second test's upstream calls.
 */
function take(
  market: SandboxPerson['market'],
  filter: (p: SandboxPerson) => boolean = () => true,
): SandboxPerson {
  const i = pool[market].findIndex(filter);
  if (i < 0) throw new Error(`no unused ${market} test person left`);
  return pool[market].splice(i, 1)[0]!;
}

async function counters(): Promise<Record<string, number>> {
  const res = await fetch(`${control}/counters`);
  return ((await res.json()) as { bisnode: Record<string, number> }).bisnode;
}
async function resetCounters(): Promise<void> {
  await fetch(`${control}/counters/reset`, { method: 'POST' });
}
const count = (c: Record<string, number>, key: string) => c[key] ?? 0;

/** Bisnode's own API, called directly as a Bisnode client would (test setup only). */
async function bisnode(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${app.sandbox!.apiUrls.bisnode}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
}

function errorAt(body: GraphQLResponse, ...path: (string | number)[]) {
  return body.errors?.find((e) => JSON.stringify(e.path) === JSON.stringify(path));
}

const PERSON_FIELDS = `
  id market nationalId firstName middleName lastName birthDate gender status
  address { street houseNumber postalCode city country formatted validFrom validTo }
  addressHistory { street validFrom validTo }
  phones { number type }
  marketingRestrictions { directMail phoneSales humanitarian }
  sources { provider providerId matchLevel }
`;

const ENRICHMENT_FIELDS = `
  gedi estimatedAge maritalStatus directMarketingRestriction charityMarketingRestriction
  onlineMarketingRestriction protectedIdentity updatedAt variables { name value }
`;

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  endCursor: string | null;
}
interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** Follows a connection with `first`/`after` until hasNextPage is false; every page's pageInfo kept. */
async function pageThrough<N>(
  field: string,
  first: number,
  selection: string,
  maxPages = 50,
): Promise<{ nodes: N[]; pages: PageInfo[] }> {
  const nodes: N[] = [];
  const pages: PageInfo[] = [];
  let after: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const res: { body: GraphQLResponse<Record<string, Page<N>>> } = await gql<Record<string, Page<N>>>(
      app.url,
      `query($after: String) { ${field}(first: ${first}, after: $after) {
        edges { cursor node { ${selection} } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
      { after },
    );
    expect(res.body.errors).toBeUndefined();
    const conn: Page<N> = res.body.data![field]!;
    nodes.push(...conn.edges.map((e) => e.node));
    pages.push(conn.pageInfo);
    if (!conn.pageInfo.hasNextPage) return { nodes, pages };
    after = conn.pageInfo.endCursor;
  }
  throw new Error(`${field} did not end within ${maxPages} pages`);
}

const adult = (p: SandboxPerson) => p.birthDate < '2000-01-01' && p.status === 1 && !p.protectedIdentity;

beforeAll(async () => {
  app = await startTestGateway();
  control = app.sandbox!.controlUrl;
  for (const market of ['NO', 'SE', 'DK', 'FI'] as const) {
    const res = await fetch(`${control}/persons?market=${market}&limit=300`);
    pool[market] = ((await res.json()) as { persons: SandboxPerson[] }).persons;
  }
  const { clientId, clientSecret } = app.sandbox!.credentials.bisnode;
  const res = await fetch(app.sandbox!.tokenUrls.bisnode, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=bci',
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

describe('Query.bisnodePerson', () => {
  it('maps a V3 person by gedi: names, birth date, addresses, phones, restrictions, source and enrichment', async () => {
    const p = take('SE', (q) => adult(q) && q.phones.length > 0 && q.addresses.length > 1);
    const { body } = await gql<{
      bisnodePerson: Record<string, unknown> & { enrichment: Record<string, unknown> };
    }>(
      app.url,
      `query($gedi: String!) { bisnodePerson(gedi: $gedi) { ${PERSON_FIELDS} enrichment { ${ENRICHMENT_FIELDS} } } }`,
      { gedi: p.gedi },
    );
    expect(body.errors).toBeUndefined();
    const person = body.data!.bisnodePerson;
    expect(person).toMatchObject({
      id: `bisnode:${p.gedi}`,
      market: 'SE',
      nationalId: p.nationalId,
      firstName: p.firstName,
      middleName: p.middleName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      gender: p.gender,
      status: null,
      address: { street: p.addresses[0]!.street, postalCode: p.addresses[0]!.postalCode, validTo: null },
      phones: p.phones.map((ph) => ({ number: ph.number, type: ph.type.toUpperCase() })),
      marketingRestrictions: {
        directMail: p.reservations.directMail,
        phoneSales: p.reservations.phoneSale,
        humanitarian: p.reservations.humanitarian,
      },
      sources: [{ provider: 'BISNODE', providerId: p.gedi, matchLevel: null }],
    });
    expect((person.addressHistory as unknown[]).length).toBe(p.addresses.length - 1);
    expect(person.enrichment).toMatchObject({ gedi: p.gedi, protectedIdentity: false });
    expect(person.enrichment.estimatedAge).toEqual(expect.any(Number));
    expect((person.enrichment.variables as { name: string }[]).map((v) => v.name)).toContain('incomeClass');
  });

  it('answers null for a gedi Bisnode does not know (404)', async () => {
    const { body } = await gql(app.url, '{ bisnodePerson(gedi: "gedi-does-not-exist") { id } }');
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ bisnodePerson: null });
  });

  it('rejects an empty gedi with BAD_USER_INPUT naming the argument', async () => {
    const { body } = await gql(app.url, '{ bisnodePerson(gedi: " ") { id } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'gedi' });
  });
});

describe('Query.bisnodeFindPerson', () => {
  it.each(['SE', 'DK', 'FI'] as const)('finds a %s person by national id', async (market) => {
    const p = take(market, adult);
    const { body } = await gql<{ bisnodeFindPerson: Record<string, unknown> | null }>(
      app.url,
      `query($m: Market!, $id: String!) { bisnodeFindPerson(market: $m, input: { nationalId: $id }) {
        id market nationalId firstName lastName birthDate sources { provider providerId } } }`,
      { m: market, id: p.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.bisnodeFindPerson).toMatchObject({
      market,
      nationalId: p.nationalId,
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      // _find answers without a gedi (removed from the V3 body).
      sources: [{ provider: 'BISNODE', providerId: null }],
    });
    expect(body.data!.bisnodeFindPerson!.id).toMatch(/^bisnode:ref:[\w-]{22}$/);
    expect(body.data!.bisnodeFindPerson!.id).not.toContain(p.nationalId);
  });

  it('normalises a 10-digit Swedish personnummer to the 12-digit legalId Bisnode takes', async () => {
    const p = take('SE', adult);
    const short = `${p.nationalId.slice(2, 8)}-${p.nationalId.slice(8)}`;
    const { body } = await gql<{ bisnodeFindPerson: { nationalId: string } | null }>(
      app.url,
      `query($id: String!) { bisnodeFindPerson(market: SE, input: { nationalId: $id }) { nationalId } }`,
      { id: short },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.bisnodeFindPerson?.nationalId).toBe(p.nationalId);
  });

  it('finds by name with birth date, by name with address and by name with phone', async () => {
    const p = take('SE', (q) => adult(q) && q.phones.length > 0);
    const { body } = await gql<Record<string, { lastName: string } | null>>(
      app.url,
      `query($f: String!, $l: String!, $d: String!, $s: String!, $pc: String!, $ph: String!) {
        byBirth: bisnodeFindPerson(market: SE, input: { firstName: $f, familyName: $l, dateOfBirth: $d }) { lastName }
        byAddress: bisnodeFindPerson(market: SE, input: { firstName: $f, familyName: $l, streetName: $s, postalCode: $pc }) { lastName }
        byPhone: bisnodeFindPerson(market: SE, input: { firstName: $f, familyName: $l, phoneNumber: $ph }) { lastName }
      }`,
      {
        f: p.firstName,
        l: p.lastName,
        d: p.birthDate,
        s: p.addresses[0]!.street,
        pc: p.addresses[0]!.postalCode,
        ph: p.phones[0]!.number,
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      byBirth: { lastName: p.lastName },
      byAddress: { lastName: p.lastName },
      byPhone: { lastName: p.lastName },
    });
  });

  it('answers null when nobody matches (204)', async () => {
    // A valid personnummer (Luhn) that no sandbox person has.
    const { body } = await gql(
      app.url,
      '{ bisnodeFindPerson(market: SE, input: { nationalId: "19000101-0024" }) { id } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ bisnodeFindPerson: null });
  });

  it.each([
    ['an invalid national id for the market', 'market: DK, input: { nationalId: "123" }', 'input.nationalId'],
    [
      'a Norwegian number asked in Sweden',
      'market: SE, input: { nationalId: "15058027984" }',
      'input.nationalId',
    ],
    ['a name alone', 'market: SE, input: { firstName: "Karl", familyName: "Ekström" }', 'input'],
    ['a birth date without a name', 'market: SE, input: { dateOfBirth: "1989-08-12" }', 'input'],
    [
      'a phone not in E.164',
      'market: SE, input: { firstName: "K", familyName: "E", phoneNumber: "0705383593" }',
      'input.phoneNumber',
    ],
    [
      'an impossible birth date',
      'market: SE, input: { firstName: "K", familyName: "E", dateOfBirth: "1989-02-30" }',
      'input.dateOfBirth',
    ],
  ])('rejects %s with BAD_USER_INPUT', async (_what, args, argument) => {
    await resetCounters();
    const { body } = await gql(app.url, `{ bisnodeFindPerson(${args}) { id } }`);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(body.errors?.[0]?.message).not.toMatch(/\d{6}/);
    expect(count(await counters(), FIND)).toBe(0);
  });
});

describe('Query.person in SE, DK and FI (Bisnode)', () => {
  it.each(['SE', 'DK', 'FI'] as const)('answers a %s person through Bisnode', async (market) => {
    const p = take(market, adult);
    await resetCounters();
    const { body } = await gql<{
      person: { nationalId: string; lastName: string; enrichment: { estimatedAge: number } | null } | null;
    }>(
      app.url,
      `query($id: String!, $m: Market!) { person(nationalId: $id, market: $m) { nationalId lastName enrichment { estimatedAge } } }`,
      { id: p.nationalId, m: market },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.person).toMatchObject({
      lastName: p.lastName,
      enrichment: { estimatedAge: expect.any(Number) },
    });
    // The person and its enrichment are one _find.
    expect(count(await counters(), FIND)).toBe(1);
  });

  it('costs one _find for the same person reached through Query.person and bisnodeFindPerson', async () => {
    const p = take('DK', adult);
    await resetCounters();
    const { body } = await gql(
      app.url,
      `query($id: String!) {
        a: person(nationalId: $id, market: DK) { lastName enrichment { estimatedAge } }
        b: bisnodeFindPerson(market: DK, input: { nationalId: $id }) { lastName }
      }`,
      { id: p.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(count(await counters(), FIND)).toBe(1);
  });
});

describe('Person.enrichment', () => {
  it('adds Bisnode’s view to a Norwegian person found by Byndle (find by legalId in NO)', async () => {
    const p = take('NO', adult);
    await resetCounters();
    const { body } = await gql<{
      person: { sources: { provider: string }[]; enrichment: Record<string, unknown> | null } | null;
    }>(
      app.url,
      `query($id: String!) { person(nationalId: $id, market: NO) { sources { provider } enrichment { ${ENRICHMENT_FIELDS} } } }`,
      { id: p.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.person!.sources.map((s) => s.provider)).toContain('BYNDLE');
    expect(body.data!.person!.enrichment).toMatchObject({
      directMarketingRestriction: p.reservations.directMail,
      charityMarketingRestriction: p.reservations.humanitarian,
      protectedIdentity: false,
      estimatedAge: expect.any(Number),
    });
    expect(count(await counters(), FIND)).toBe(1);
  });

  it('is null when Bisnode’s search cannot match the person (minors are never found)', async () => {
    const minor = take('NO', (q) => q.birthDate > '2012-01-01' && !q.protectedIdentity && q.status === 1);
    const { body } = await gql<{ person: { enrichment: unknown } | null }>(
      app.url,
      `query($id: String!) { person(nationalId: $id, market: NO) { firstName enrichment { gedi } } }`,
      { id: minor.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.person).toMatchObject({ firstName: minor.firstName, enrichment: null });
  });
});

describe('upstream calls', () => {
  it('makes one upstream call per distinct person, however often and however reached', async () => {
    const a = take('SE', adult);
    const b = take('SE', adult);
    const c = take('DK', adult);
    await resetCounters();
    const { body } = await gql(
      app.url,
      `query($a: String!, $b: String!, $cId: String!, $cShort: String!) {
        a1: bisnodePerson(gedi: $a) { id enrichment { gedi } }
        a2: bisnodePerson(gedi: $a) { firstName }
        b1: bisnodePerson(gedi: $b) { id }
        c1: bisnodeFindPerson(market: DK, input: { nationalId: $cId }) { id enrichment { estimatedAge } }
        c2: bisnodeFindPerson(market: DK, input: { nationalId: $cShort }) { lastName }
      }`,
      {
        a: a.gedi,
        b: b.gedi,
        cId: c.nationalId,
        cShort: `${c.nationalId.slice(0, 6)}-${c.nationalId.slice(6)}`,
      },
    );
    expect(body.errors).toBeUndefined();
    const n = await counters();
    expect(count(n, GET_PERSON)).toBe(2);
    expect(count(n, FIND)).toBe(1);
  });

  it('serves a repeated lookup from the cache in a later request', async () => {
    const p = take('SE', adult);
    const q = `query($g: String!) { bisnodePerson(gedi: $g) { id } }`;
    await gql(app.url, q, { g: p.gedi });
    await resetCounters();
    const { body } = await gql(app.url, q, { g: p.gedi });
    expect(body.errors).toBeUndefined();
    expect(count(await counters(), GET_PERSON)).toBe(0);
  });
});

describe('erasure', () => {
  it('forgetPerson evicts the cached Bisnode answers about the person, so the next lookup asks Bisnode again', async () => {
    const p = take('SE', adult);
    const q = `query($id: String!) { bisnodeFindPerson(market: SE, input: { nationalId: $id }) { id } }`;
    await gql(app.url, q, { id: p.nationalId });
    const { body } = await gql<{ forgetPerson: { evictedEntries: number } }>(
      app.url,
      'mutation($id: String!) { forgetPerson(nationalId: $id, market: SE) { evictedEntries } }',
      { id: p.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.forgetPerson.evictedEntries).toBeGreaterThanOrEqual(1);
    await resetCounters();
    await gql(app.url, q, { id: p.nationalId });
    expect(count(await counters(), FIND)).toBe(1);
  });
});

describe('consumers, subscribed persons and audit events', () => {
  const uploaded: { consumerId: string; market: string; legalId: string; gedi: string | null }[] = [];

  beforeAll(async () => {
    const se = [take('SE', adult), take('SE', adult), take('SE', adult)];
    const dk = take('DK', adult);
    uploaded.push(
      { consumerId: 'c-se-1', market: 'SE', legalId: se[0]!.nationalId, gedi: se[0]!.gedi },
      { consumerId: 'c-se-2', market: 'SE', legalId: se[1]!.nationalId, gedi: se[1]!.gedi },
      // Two consumers of one person: one subscribed person.
      { consumerId: 'c-se-2b', market: 'SE', legalId: se[1]!.nationalId, gedi: se[1]!.gedi },
      { consumerId: 'c-se-3', market: 'SE', legalId: se[2]!.nationalId, gedi: se[2]!.gedi },
      { consumerId: 'c-dk-1', market: 'DK', legalId: dk.nationalId, gedi: dk.gedi },
      { consumerId: 'c-none', market: 'SE', legalId: '190001010024', gedi: null },
    );
    const res = await bisnode('/consumers', {
      method: 'POST',
      body: uploaded.map((u) => ({
        consumerId: u.consumerId,
        market: u.market,
        data: { legalId: u.legalId },
      })),
    });
    expect(res.status).toBe(202);
    // Identification runs asynchronously: wait until no consumer is still UPLOADED or IDENTIFYING.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const page = (await (await bisnode('/consumers?pageSize=1000')).json()) as {
        data: { state: string }[];
      };
      if (page.data.length === uploaded.length && page.data.every((c) => c.state.endsWith('IDENTIFIED')))
        break;
      if (Date.now() > deadline) throw new Error('consumers were not identified in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('fetches each distinct consumer person once in a page, with its enrichment at no extra call', async () => {
    await resetCounters();
    const { body } = await gql<{ consumers: Page<{ person: { id: string } | null }> }>(
      app.url,
      '{ consumers(first: 1000) { edges { node { person { id enrichment { gedi } } } } } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.consumers.edges).toHaveLength(uploaded.length);
    // 5 identified consumers, 4 distinct persons (c-se-2 and c-se-2b share one).
    expect(count(await counters(), GET_PERSON)).toBe(4);
  });

  it('pages consumers to the end with Consumer.person (persons now from the upstream cache)', async () => {
    await resetCounters();
    const { nodes: seen, pages } = await pageThrough<{
      consumerId: string;
      state: string;
      gedi: string | null;
      person: { id: string } | null;
    }>('consumers', 2, 'consumerId market state gedi person { id }');
    expect(pages.map((p) => p.hasPreviousPage)).toEqual([false, true, true]);
    expect(pages.at(-1)!.hasNextPage).toBe(false);
    expect(seen.map((c) => c.consumerId)).toEqual(uploaded.map((u) => u.consumerId));
    for (const u of uploaded) {
      const c = seen.find((s) => s.consumerId === u.consumerId)!;
      expect(c.gedi).toBe(u.gedi);
      expect(c.state).toBe(u.gedi ? 'IDENTIFIED' : 'NOT_IDENTIFIED');
      expect(c.person?.id ?? null).toBe(u.gedi ? `bisnode:${u.gedi}` : null);
    }
    const n = await counters();
    expect(count(n, GET_PERSON)).toBe(0);
    expect(count(n, `GET ${API}/consumers`)).toBe(3);
  });

  it('answers an empty last page for the cursor after the last consumer, without calling Bisnode', async () => {
    const first = await gql<{ consumers: Page<unknown> }>(
      app.url,
      '{ consumers(first: 1000) { pageInfo { endCursor } } }',
    );
    await resetCounters();
    const { body } = await gql<{ consumers: Page<unknown> }>(
      app.url,
      'query($after: String) { consumers(after: $after) { edges { cursor } pageInfo { hasNextPage hasPreviousPage } } }',
      { after: first.body.data!.consumers.pageInfo.endCursor },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.consumers).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: true },
    });
    expect(count(await counters(), `GET ${API}/consumers`)).toBe(0);
  });

  it('filters consumers by state', async () => {
    const { body } = await gql<{
      identified: Page<{ consumerId: string }>;
      not: Page<{ consumerId: string }>;
    }>(
      app.url,
      `{ identified: consumers(state: IDENTIFIED) { edges { node { consumerId } } pageInfo { hasNextPage } }
         not: consumers(state: NOT_IDENTIFIED) { edges { node { consumerId } } } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.identified.edges).toHaveLength(5);
    expect(body.data!.identified.pageInfo.hasNextPage).toBe(false);
    expect(body.data!.not.edges.map((e) => e.node.consumerId)).toEqual(['c-none']);
  });

  it('pages subscribed persons to the end, and endCursor stays set there for later changes', async () => {
    await resetCounters();
    const { nodes, pages } = await pageThrough<{
      gedi: string;
      changedAt: string;
      person: { id: string; enrichment: { gedi: string } };
    }>('subscribedPersons', 2, 'gedi changedAt person { id lastName enrichment { gedi estimatedAge } }');
    const gedis = nodes.map((n) => n.gedi);
    for (const n of nodes) {
      expect(n.person.id).toBe(`bisnode:${n.gedi}`);
      expect(n.person.enrichment.gedi).toBe(n.gedi);
    }
    // endCursor is set on every page, the last (empty or short) one included.
    for (const p of pages) expect(p.endCursor).toEqual(expect.any(String));
    const last = pages.at(-1)!;
    expect(last.hasNextPage).toBe(false);
    expect(new Set(gedis)).toEqual(new Set(uploaded.filter((u) => u.gedi).map((u) => u.gedi)));
    expect(gedis).toHaveLength(4);
    // The list carries the persons: Person fields and enrichment cost no person call.
    const n = await counters();
    expect(count(n, GET_PERSON)).toBe(0);
    expect(count(n, LIST_SUBSCRIPTIONS)).toBeGreaterThanOrEqual(2);

    // The end cursor reads later changes: nothing yet, and the cursor is still set.
    const { body } = await gql<{ subscribedPersons: Page<unknown> }>(
      app.url,
      'query($after: String) { subscribedPersons(after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }',
      { after: last.endCursor },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.subscribedPersons.edges).toEqual([]);
    expect(body.data!.subscribedPersons.pageInfo).toEqual({
      hasNextPage: false,
      endCursor: expect.any(String),
    });
  });

  it('reads subscribed persons from a date', async () => {
    const { body } = await gql<{ subscribedPersons: Page<{ gedi: string }> }>(
      app.url,
      '{ subscribedPersons(fromDate: "2000-01-01") { edges { node { gedi } } } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.subscribedPersons.edges).toHaveLength(4);
    const later = await gql<{ subscribedPersons: Page<{ gedi: string }> }>(
      app.url,
      '{ subscribedPersons(fromDate: "2999-01-01") { edges { node { gedi } } pageInfo { endCursor } } }',
    );
    expect(later.body.data!.subscribedPersons.edges).toEqual([]);
    expect(later.body.data!.subscribedPersons.pageInfo.endCursor).toEqual(expect.any(String));
  });

  it.each([
    ['fromDate together with after', '(fromDate: "2024-01-01", after: "eyJ0IjoieCJ9")', 'fromDate'],
    ['a fromDate that is not a date', '(fromDate: "yesterday")', 'fromDate'],
    ['first above 1000', '(first: 1001)', 'first'],
    ['first below 1', '(first: 0)', 'first'],
    ['a cursor that is not ours', '(after: "not-a-cursor")', 'after'],
  ])('rejects subscribedPersons with %s', async (_what, args, argument) => {
    const { body } = await gql(app.url, `{ subscribedPersons${args} { edges { cursor } } }`);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  });

  it('rejects consumers with first out of range', async () => {
    const { body } = await gql(app.url, '{ consumers(first: 5000) { edges { cursor } } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
  });

  it('pages audit events to the end, with endCursor still set there', async () => {
    const { nodes: events, pages } = await pageThrough<{
      type: string;
      consumerIds: string[];
      gedi: string | null;
    }>('auditEvents', 5, 'id type timestamp consumerIds gedi');
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(p.endCursor).toEqual(expect.any(String));
    expect(pages.at(-1)!.hasNextPage).toBe(false);
    const identified = events.filter((e) => e.type === 'CONSUMER_IDENTIFIED');
    expect(identified).toHaveLength(5);
    expect(identified.find((e) => e.consumerIds[0] === 'c-se-1')?.gedi).toBe(uploaded[0]!.gedi);
    expect(events.filter((e) => e.type === 'CONSUMER_NOT_IDENTIFIED').map((e) => e.consumerIds)).toEqual([
      ['c-none'],
    ]);
    expect(events.some((e) => e.type === 'PERSON_SUBSCRIBED')).toBe(true);
  });
});

describe('Query.bisnodeWebhooks', () => {
  let receiver: Server;
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('lists the webhooks registered at Bisnode, without their secrets', async () => {
    receiver = createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const created = await bisnode('/webhooks', {
      method: 'POST',
      body: { url, events: ['CONSUMER_IDENTIFIED', 'LIFE_EVENT'], description: 'test hook' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const { body } = await gql<{ bisnodeWebhooks: Record<string, unknown>[] }>(
      app.url,
      '{ bisnodeWebhooks { id url events description } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.bisnodeWebhooks).toContainEqual({
      id,
      url,
      events: ['CONSUMER_IDENTIFIED', 'LIFE_EVENT'],
      description: 'test hook',
    });
  });
});

describe('partial data when Bisnode fails', () => {
  it('puts an error with code, provider and status on each Bisnode field while the rest arrives', async () => {
    const p = take('SE', adult);
    const q = take('FI', adult);
    const put = await fetch(`${control}/faults/bisnode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1 }),
    });
    expect(put.status).toBe(200);
    const { status, body } = await gql<Record<string, unknown>>(
      app.url,
      `query($g: String!, $id: String!) {
        service { name }
        bisnodePerson(gedi: $g) { id }
        bisnodeFindPerson(market: FI, input: { nationalId: $id }) { id }
        consumers(first: 5) { edges { cursor } }
        subscribedPersons { edges { cursor } }
        auditEvents { edges { cursor } }
        bisnodeWebhooks { id }
      }`,
      { g: p.gedi, id: q.nationalId },
    );
    expect(status).toBe(200);
    expect(body.data).toEqual({
      service: { name: 'nordgraph' },
      bisnodePerson: null,
      bisnodeFindPerson: null,
      consumers: null,
      subscribedPersons: null,
      auditEvents: null,
      bisnodeWebhooks: null,
    });
    for (const field of [
      'bisnodePerson',
      'bisnodeFindPerson',
      'consumers',
      'subscribedPersons',
      'auditEvents',
      'bisnodeWebhooks',
    ]) {
      expect(errorAt(body, field)?.extensions, field).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        provider: 'bisnode',
        status: 503,
      });
    }
  });

  it('fails only Person.enrichment when Bisnode fails under a Byndle person', async () => {
    const p = take('NO', adult);
    await fetch(`${control}/faults/bisnode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1 }),
    });
    const { body } = await gql<{ person: { lastName: string; enrichment: unknown } }>(
      app.url,
      'query($id: String!) { person(nationalId: $id) { lastName enrichment { gedi } } }',
      { id: p.nationalId },
    );
    expect(body.data!.person).toEqual({ lastName: p.lastName, enrichment: null });
    expect(errorAt(body, 'person', 'enrichment')?.extensions).toMatchObject({
      provider: 'bisnode',
      status: 503,
    });
  });
});
