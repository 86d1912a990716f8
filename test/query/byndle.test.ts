import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import {
  ByndleSandbox,
  makeFnr,
  makeOrgNr,
  mobileOf,
  type SandboxBusiness,
  type SandboxPerson,
  type SandboxVehicle,
} from '../helpers/byndle.js';
import type { Nordgraph } from '../../src/app.js';

let app: Nordgraph;
let sb: ByndleSandbox;
let persons: SandboxPerson[];
let businesses: SandboxBusiness[];
let vehicles: SandboxVehicle[];

/** A Norwegian person with a mobile, a household member, a vehicle and a business role. */
let rich: SandboxPerson;

const q = <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) =>
  gql<T>(app.url, query, variables).then((r) => r.body);

function badInput(body: GraphQLResponse, argument: string) {
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  expect(body.errors?.[0]?.message).toContain(argument);
}

beforeAll(async () => {
  app = await startTestGateway();
  sb = new ByndleSandbox(app);
  persons = await sb.persons(500);
  businesses = await sb.businesses(0, 500);
  vehicles = await sb.vehicles();
  const ownerIds = new Set(vehicles.flatMap((v) => (v.owner.kind === 'person' ? [v.owner.personId] : [])));
  const holderIds = new Set(
    businesses.flatMap((b) =>
      b.roles.flatMap((r) => (r.holder.kind === 'person' ? [r.holder.personId] : [])),
    ),
  );
  const households = new Map<string, number>();
  for (const p of persons) households.set(p.householdId, (households.get(p.householdId) ?? 0) + 1);
  rich = persons.find(
    (p) =>
      p.byndleId &&
      mobileOf(p) &&
      ownerIds.has(p.id) &&
      holderIds.has(p.id) &&
      (households.get(p.householdId) ?? 0) > 1 &&
      p.properties.length > 0,
  )!;
  expect(rich).toBeDefined();
}, 60_000);

afterAll(async () => {
  await app?.close();
});

afterEach(async () => {
  await sb.clearFaults();
});

const PERSON_FIELDS = `id market nationalId firstName lastName birthDate gender status
  address { street houseNumber postalCode city formatted validTo }
  phones { number type } marketingRestrictions { directMail phoneSales humanitarian }
  sources { provider providerId matchLevel }`;

describe('Query.person (market NO, Byndle person extended)', () => {
  it('answers a Norwegian person by fødselsnummer with Byndle id, status and sources', async () => {
    const body = await q<{ person: Record<string, unknown> }>(
      `query($id: String!) { person(nationalId: $id) { ${PERSON_FIELDS} addressHistory { formatted } } }`,
      { id: rich.nationalId },
    );
    expect(body.errors).toBeUndefined();
    const statuses = ['RESIDENT', 'MOVED_OUT', 'EMIGRATED', 'MISSING', 'DECEASED', 'ID_REPLACED'];
    expect(body.data?.person).toMatchObject({
      id: `byndle:${rich.byndleId}`,
      market: 'NO',
      firstName: rich.firstName,
      lastName: rich.lastName,
      birthDate: rich.birthDate,
      status: statuses[rich.status - 1] ?? expect.any(String),
      address: {
        street: rich.addresses[0]!.street,
        postalCode: rich.addresses[0]!.postalCode,
        validTo: null,
      },
      marketingRestrictions: {
        directMail: rich.reservations.directMail,
        phoneSales: rich.reservations.phoneSale,
        humanitarian: rich.reservations.humanitarian,
      },
      sources: [{ provider: 'BYNDLE', providerId: rich.byndleId, matchLevel: null }],
    });
    expect((body.data?.person.addressHistory as unknown[]).length).toBe(rich.addresses.length);
    expect(body.data?.person.phones).toContainEqual({ number: mobileOf(rich), type: 'MOBILE' });
  });

  it('answers a person by D-number', async () => {
    const d = persons.find((p) => p.nationalIdKind === 'DNR' && p.byndleId)!;
    const body = await q<{ person: { id: string } }>(
      `query($id: String!) { person(nationalId: $id) { id } }`,
      {
        id: d.nationalId,
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.person.id).toBe(`byndle:${d.byndleId}`);
  });

  it('answers null for a valid fødselsnummer Byndle does not know', async () => {
    let unknown: string | null = null;
    for (let i = 1; !unknown; i += 1) {
      const fnr = makeFnr('010101', i);
      if (fnr && !(await sb.person(fnr))) unknown = fnr;
    }
    const body = await q(`query($id: String!) { person(nationalId: $id) { id } }`, { id: unknown });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ person: null });
  });

  it('rejects a national id with a wrong check digit as BAD_USER_INPUT naming nationalId', async () => {
    const wrong = rich.nationalId.slice(0, 10) + String((Number(rich.nationalId[10]) + 1) % 10);
    const body = await q(`query($id: String!) { person(nationalId: $id) { id } }`, { id: wrong });
    badInput(body, 'nationalId');
    expect(body.errors?.[0]?.message).not.toContain(wrong);
  });

  it('routes SE, DK and FI to Bisnode and makes no Byndle call', async () => {
    const res = await fetch(`${sb.control}/persons?market=SE&limit=20`);
    const se = (
      (await res.json()) as { persons: (SandboxPerson & { protectedIdentity: boolean })[] }
    ).persons.find((p) => !p.protectedIdentity)!;
    await sb.resetCounts();
    const body = await q<{ person: { id: string; market: string; firstName: string } | null }>(
      `query($id: String!) { person(nationalId: $id, market: SE) { id market firstName } }`,
      { id: se.nationalId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.person).toMatchObject({ market: 'SE', firstName: se.firstName });
    expect(body.data?.person?.id).not.toMatch(/^byndle:/);
    expect(await sb.counts()).toEqual({});
  });

  it('validates national ids of other markets by their own rules', async () => {
    const body = await q(`{ person(nationalId: "19900101-0000", market: SE) { id } }`);
    badInput(body, 'nationalId');
  });
});

describe('Person links from Byndle person extended', () => {
  it('resolves household, properties, vehicles and business roles from one person-extended answer', async () => {
    const body = await q<{
      person: {
        household: { id: string; firstName: string }[];
        properties: { id: string }[];
        vehicles: { registrationNumber: string; owner: { id: string } }[];
        businessRoles: {
          role: string;
          since: string;
          business: { organizationNumber: string; name: string };
        }[];
      };
    }>(
      `query($id: String!) { person(nationalId: $id) {
        household { id firstName }
        properties { id }
        vehicles { registrationNumber owner { ... on Person { id } } }
        businessRoles { role since business { organizationNumber name } }
      } }`,
      { id: rich.nationalId },
    );
    expect(body.errors).toBeUndefined();
    const p = body.data!.person;
    const members = persons.filter((m) => m.householdId === rich.householdId && m.id !== rich.id);
    expect(p.household.map((h) => h.firstName).sort()).toEqual(members.map((m) => m.firstName).sort());
    expect(p.properties.map((x) => x.id)).toEqual(rich.properties);
    const owned = vehicles.filter((v) => v.owner.kind === 'person' && v.owner.personId === rich.id);
    for (const v of owned) expect(p.vehicles.map((x) => x.registrationNumber)).toContain(v.regNr);
    for (const v of p.vehicles) expect(v.owner).toEqual({ id: `byndle:${rich.byndleId}` });
    const held = businesses.flatMap((b) =>
      b.roles.filter((r) => r.holder.kind === 'person' && r.holder.personId === rich.id).map(() => b.orgNr),
    );
    expect(p.businessRoles.length).toBeGreaterThan(0);
    for (const orgNr of held)
      expect(p.businessRoles.map((r) => r.business.organizationNumber)).toContain(orgNr);
    expect(p.businessRoles[0]!.role).toMatch(/^[A-Z_]+$/);
  });
});

describe('Query.personMatch (Byndle matching)', () => {
  const MATCH = `query($input: PersonMatchInput!) { personMatch(input: $input) {
    matchLevel maintained person { id firstName sources { provider matchLevel } } } }`;

  it('matches on name, address and birth date at level 2, maintained', async () => {
    const p = persons.find((x) => x.byndleId && x.id !== rich.id && x.nationalIdKind === 'FNR')!;
    const a = p.addresses[0]!;
    const body = await q<{
      personMatch: { matchLevel: number; maintained: boolean; person: { id: string } };
    }>(MATCH, {
      input: {
        firstName: p.firstName,
        lastName: p.lastName,
        street: a.street,
        houseNumber: a.houseNumber,
        postalCode: a.postalCode,
        birthDate: p.birthDate,
      },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.personMatch).toMatchObject({
      matchLevel: 2,
      maintained: true,
      person: { id: `byndle:${p.byndleId}`, sources: [{ provider: 'BYNDLE', matchLevel: 2 }] },
    });
  });

  it('identifies the owner of a mobile number at level 1', async () => {
    const body = await q<{ personMatch: { matchLevel: number; person: { id: string } } }>(MATCH, {
      input: { firstName: rich.firstName, lastName: rich.lastName, mobile: mobileOf(rich) },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.personMatch).toMatchObject({
      matchLevel: 1,
      person: { id: `byndle:${rich.byndleId}` },
    });
  });

  it('answers null when nobody matches', async () => {
    const body = await q(MATCH, {
      input: { firstName: 'Xqzvyk', lastName: 'Wjqqpxz', birthDate: '1911-11-11' },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ personMatch: null });
  });

  it.each([
    [{ firstName: 'Ola', lastName: 'Nordmann' }, 'input'],
    [{ firstName: 'Ola', lastName: 'Nordmann', postalCode: '01A2' }, 'input.postalCode'],
    [{ firstName: 'Ola', lastName: 'Nordmann', birthDate: '1980-02-30' }, 'input.birthDate'],
    [{ firstName: 'Ola', lastName: 'Nordmann', mobile: '91234567' }, 'input.mobile'],
    [{ firstName: ' ', lastName: 'Nordmann', birthDate: '1980-01-01' }, 'input.firstName'],
  ])('rejects %j as BAD_USER_INPUT naming %s', async (input, argument) => {
    badInput(await q(MATCH, { input }), argument);
  });
});

describe('Query.personByPhone and Query.phoneReservation', () => {
  it('answers the owner of a mobile number, with the full address history on demand', async () => {
    const body = await q<{
      personByPhone: { id: string; addressHistory: unknown[]; phones: { number: string }[] };
    }>(
      `query($n: String!) { personByPhone(phoneNumber: $n) { id addressHistory { formatted } phones { number } } }`,
      { n: mobileOf(rich) },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.personByPhone.id).toBe(`byndle:${rich.byndleId}`);
    expect(body.data?.personByPhone.addressHistory).toHaveLength(rich.addresses.length);
    expect(body.data?.personByPhone.phones.map((p) => p.number)).toContain(mobileOf(rich));
  });

  it('accepts spaces in the number and answers reservation statuses of its owner', async () => {
    const n = mobileOf(rich)!;
    const spaced = `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
    const body = await q(
      `query($n: String!) { phoneReservation(phoneNumber: $n) { phoneNumber directMail phoneSales humanitarian } }`,
      { n: spaced },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      phoneReservation: {
        phoneNumber: n,
        directMail: rich.reservations.directMail,
        phoneSales: rich.reservations.phoneSale,
        humanitarian: rich.reservations.humanitarian,
      },
    });
  });

  it('answers null for a number without a Norwegian owner', async () => {
    const body = await q(
      `{ personByPhone(phoneNumber: "+46701234567") { id } phoneReservation(phoneNumber: "+46701234567") { directMail } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ personByPhone: null, phoneReservation: null });
  });

  it('rejects a number that is not E.164 as BAD_USER_INPUT naming phoneNumber', async () => {
    badInput(await q(`{ personByPhone(phoneNumber: "91234567") { id } }`), 'phoneNumber');
    badInput(await q(`{ phoneReservation(phoneNumber: "+47 9123 456") { directMail } }`), 'phoneNumber');
  });
});

describe('Query.business and Business.roles', () => {
  it('answers a business with its roles, holders resolved to Person or Business', async () => {
    const b = businesses.find(
      (x) => x.roles.some((r) => r.holder.kind === 'business') && x.roles.length < 40,
    )!;
    const body = await q<{
      business: {
        id: string;
        organizationNumber: string;
        name: string;
        roles: {
          role: string;
          since: string;
          holder: { __typename: string; organizationNumber?: string; id?: string } | null;
        }[];
      };
    }>(
      `query($o: String!) { business(organizationNumber: $o) {
        id organizationNumber name form address { postalCode } registeredDate industryCode employees
        roles { role since holder { __typename ... on Person { id firstName } ... on Business { organizationNumber name } } }
      } }`,
      { o: b.orgNr },
    );
    expect(body.errors).toBeUndefined();
    const got = body.data!.business;
    expect(got).toMatchObject({ id: `business:${b.orgNr}`, organizationNumber: b.orgNr, name: b.name });
    expect(got.roles).toHaveLength(b.roles.length);
    b.roles.forEach((r, i) => {
      const holder = got.roles[i]!.holder!;
      expect(got.roles[i]!.since).toBe(r.since);
      if (r.holder.kind === 'business')
        expect(holder).toMatchObject({ __typename: 'Business', organizationNumber: r.holder.orgNr });
      else expect(holder.__typename).toBe('Person');
    });
  });

  it('filters roles by type from the one cached business answer', async () => {
    // From the end of the list: a business no earlier test has asked for (the answer cache is process-wide).
    const b = businesses
      .slice(0, -1)
      .reverse()
      .find(
        (x) =>
          x.roles.some((r) => r.role === 'Styrets leder') &&
          x.roles.length > 3 &&
          !x.roles.some((r) => r.holder.kind === 'person' && r.holder.personId === rich.id),
      )!;
    await sb.resetCounts();
    const body = await q<{
      business: { all: { role: string }[]; chair: { role: string }[]; two: { role: string }[] };
    }>(
      `query($o: String!) { business(organizationNumber: $o) {
        all: roles { role }
        chair: roles(types: [BOARD_CHAIR]) { role }
        two: roles(types: [BOARD_CHAIR, BOARD_MEMBER]) { role }
      } }`,
      { o: b.orgNr },
    );
    expect(body.errors).toBeUndefined();
    const got = body.data!.business;
    expect(got.all).toHaveLength(b.roles.length);
    expect(got.chair).toHaveLength(b.roles.filter((r) => r.role === 'Styrets leder').length);
    expect(got.chair.every((r) => r.role === 'BOARD_CHAIR')).toBe(true);
    expect(got.two).toHaveLength(
      b.roles.filter((r) => r.role === 'Styrets leder' || r.role === 'Styremedlem').length,
    );
    expect((await sb.counts())['GET /v1/lookup/business/:orgNr']).toBe(1);
  });

  it('answers null for a valid organisation number Byndle does not know', async () => {
    const known = new Set(businesses.map((b) => b.orgNr));
    let orgNr: string | null = null;
    for (let i = 0; !orgNr; i += 1) {
      const candidate = makeOrgNr(String(99999900 + i));
      if (candidate && !known.has(candidate)) orgNr = candidate;
    }
    const body = await q(`query($o: String!) { business(organizationNumber: $o) { name } }`, { o: orgNr });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ business: null });
  });

  it('rejects an organisation number with a wrong check digit', async () => {
    const b = businesses[0]!.orgNr;
    const wrong = b.slice(0, 8) + String((Number(b[8]) + 1) % 10);
    badInput(
      await q(`query($o: String!) { business(organizationNumber: $o) { name } }`, { o: wrong }),
      'organizationNumber',
    );
  });

  it('keeps the rest of the answer when Byndle fails: business null with an upstream error', async () => {
    // A business nobody asked for yet, so the answer cannot come from the cache.
    const b = businesses.at(-1)!;
    await sb.fault({ errorRate: 1, errorStatus: 503, pathIncludes: '/v1/lookup' });
    const body = await q<{ service: { name: string }; business: null }>(
      `query($o: String!) { service { name } business(organizationNumber: $o) { name } }`,
      { o: b.orgNr },
    );
    expect(body.data).toEqual({ service: { name: 'nordgraph' }, business: null });
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]?.path).toEqual(['business']);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'byndle',
      status: 503,
    });
  });
});

describe('Query.vehicle and Vehicle.owner', () => {
  const VEHICLE = `query($r: String, $v: String) { vehicle(registrationNumber: $r, vin: $v) {
    id registrationNumber vin make model year color fuel firstRegistered
    owner { __typename ... on Person { id firstName } ... on Business { organizationNumber } } } }`;

  it('answers a vehicle by registration number with its person owner', async () => {
    const v = vehicles.find((x) => x.owner.kind === 'person' && x.owner.personId === rich.id)!;
    const spaced = `${v.regNr.slice(0, 2)} ${v.regNr.slice(2)}`.toLowerCase();
    const body = await q<{ vehicle: Record<string, unknown> }>(VEHICLE, { r: spaced });
    expect(body.errors).toBeUndefined();
    expect(body.data?.vehicle).toMatchObject({
      id: `vehicle:${v.regNr}`,
      registrationNumber: v.regNr,
      vin: v.vin,
      owner: { __typename: 'Person', id: `byndle:${rich.byndleId}`, firstName: rich.firstName },
    });
  });

  it('answers a vehicle by VIN with its business owner', async () => {
    const v = vehicles.find((x) => x.owner.kind === 'business')!;
    const body = await q<{ vehicle: Record<string, unknown> }>(VEHICLE, { v: v.vin.toLowerCase() });
    expect(body.errors).toBeUndefined();
    expect(body.data?.vehicle).toMatchObject({
      registrationNumber: v.regNr,
      owner: { __typename: 'Business', organizationNumber: v.owner.kind === 'business' ? v.owner.orgNr : '' },
    });
  });

  it('answers null for an unknown vehicle', async () => {
    const body = await q(VEHICLE, { r: 'ZZ99999' });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ vehicle: null });
  });

  it.each([
    [{}, 'registrationNumber'],
    [{ r: 'EL12345', v: 'WVWZZZ1JZXW000001' }, 'registrationNumber'],
    [{ r: 'E-1' }, 'registrationNumber'],
    [{ v: 'WVWZZZ1JZXW00000O' }, 'vin'],
  ])('rejects %j as BAD_USER_INPUT naming %s', async (vars, argument) => {
    badInput(await q(VEHICLE, vars), argument);
  });
});

describe('links from other providers to Byndle', () => {
  it('Customer.person is the Byndle owner of the customer’s first mobile number', async () => {
    const res = await fetch(`${sb.control}/customers?limit=50`);
    const { customers } = (await res.json()) as {
      customers: {
        customerNumber: number;
        personId: string | null;
        phones: { phoneNumber: string; phoneNumberType: string }[];
      }[];
    };
    const c = customers.find((x) => {
      const p = persons.find((y) => y.id === x.personId);
      const mobile = x.phones.find((ph) => ph.phoneNumberType === 'mobile');
      return p?.byndleId && mobile && mobileOf(p) === mobile.phoneNumber;
    })!;
    const p = persons.find((y) => y.id === c.personId)!;
    const body = await q(
      `query($n: Int!) { customer(customerNumber: $n) { customerNumber person { id firstName } } }`,
      {
        n: c.customerNumber,
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      customer: {
        customerNumber: c.customerNumber,
        person: { id: `byndle:${p.byndleId}`, firstName: p.firstName },
      },
    });
  });

  it('Borrower.business is the Byndle business with the same organisation number', async () => {
    const res = await fetch(`${sb.control}/borrowers?limit=1`);
    const { borrowers } = (await res.json()) as { borrowers: { orgNr: string }[] };
    const orgNr = borrowers[0]!.orgNr;
    const body = await q<{
      borrower: { business: { organizationNumber: string; name: string } | null } | null;
    }>(`query($o: String!) { borrower(organizationNumber: $o) { business { organizationNumber name } } }`, {
      o: orgNr,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.borrower?.business?.organizationNumber).toBe(orgNr);
  });
});

describe('ajourhold', () => {
  const ENTRIES = `query($first: Int, $after: String) { ajourholdEntries(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { externalId byndleId matchLevel maintained firstName lastName birthDate
      address { street postalCode } person { id } } } } }`;
  type EntryPage = {
    ajourholdEntries: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      edges: {
        cursor: string;
        node: {
          externalId: string;
          byndleId: string | null;
          maintained: boolean;
          person: { id: string } | null;
        };
      }[];
    };
  };

  it('answers null for byndleWebhook and an empty list while nothing is configured', async () => {
    const body = await q(
      `{ byndleWebhook { url events } ajourholdEntries(first: 5) { totalCount edges { cursor } pageInfo { hasNextPage } } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      byndleWebhook: null,
      ajourholdEntries: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false } },
    });
  });

  it('pages through every entry to the end, with the matched person linked', async () => {
    const added = persons.slice(10, 17);
    for (const [i, p] of added.entries()) {
      const a = p.addresses[0]!;
      const res = await sb.byndle('POST', '/v1/ajourhold/{ajourholdId}/entries', {
        externalId: `T-${i}`,
        firstName: p.firstName,
        lastName: p.lastName,
        street: a.street,
        houseNumber: a.houseNumber,
        postalCode: a.postalCode,
        city: a.city,
        birthDate: p.birthDate,
      });
      expect(res.status).toBe(201);
    }
    const none = await sb.byndle('POST', '/v1/ajourhold/{ajourholdId}/entries', {
      externalId: 'T-none',
      firstName: 'Xqzvyk',
      lastName: 'Wjqqpxz',
      street: 'Nowhere',
      houseNumber: '1',
      postalCode: '9999',
      city: 'NOWHERE',
      birthDate: '1911-11-11',
    });
    expect(none.status).toBe(201);

    const seen: EntryPage['ajourholdEntries']['edges'] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const body: GraphQLResponse<EntryPage> = await q<EntryPage>(ENTRIES, { first: 3, after });
      expect(body.errors).toBeUndefined();
      const page = body.data!.ajourholdEntries;
      expect(page.totalCount).toBe(8);
      expect(page.pageInfo.hasPreviousPage).toBe(pages > 0);
      seen.push(...page.edges);
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen.map((e) => e.node.externalId)).toEqual([...added.map((_p, i) => `T-${i}`), 'T-none']);
    added.forEach((p, i) => {
      const node = seen[i]!.node;
      if (node.maintained) expect(node.person).toEqual({ id: `byndle:${p.byndleId}` });
    });
    expect(seen.at(-1)!.node).toMatchObject({ byndleId: null, person: null });

    // A page size that does not divide the offset still answers the right window.
    const body = await q<EntryPage>(ENTRIES, { first: 2, after: seen[2]!.cursor });
    expect(body.data!.ajourholdEntries.edges.map((e) => e.node.externalId)).toEqual(['T-3', 'T-4']);
  });

  it('pages through the changes since a date', async () => {
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const body: GraphQLResponse<{
        ajourholdChanges: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string };
          edges: { node: { externalId: string; events: string[]; changedAt: string } }[];
        };
      }> = await q(
        `query($since: String!, $after: String) { ajourholdChanges(since: $since, first: 5, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { externalId byndleId events changedAt } } } }`,
        { since, after },
      );
      expect(body.errors).toBeUndefined();
      const page = body.data!.ajourholdChanges;
      expect(page.totalCount).toBe(8);
      ids.push(...page.edges.map((e) => e.node.externalId));
      for (const e of page.edges) expect(e.node.events).toContain('entry.added');
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(ids.sort()).toEqual(['T-0', 'T-1', 'T-2', 'T-3', 'T-4', 'T-5', 'T-6', 'T-none']);
  });

  it('rejects a since that is not ISO-8601 and a bad page size or cursor', async () => {
    badInput(await q(`{ ajourholdChanges(since: "yesterday") { totalCount } }`), 'since');
    badInput(await q(`{ ajourholdEntries(first: 501) { totalCount } }`), 'first');
    badInput(await q(`{ ajourholdEntries(after: "nope") { totalCount } }`), 'after');
  });

  it('answers the configured webhook without its credentials', async () => {
    const res = await sb.byndle('PUT', '/v1/ajourhold/{ajourholdId}/webhook', {
      url: 'http://127.0.0.1:9/byndle',
      username: 'hook',
      password: 'hook-secret',
      events: ['mobNr.changed', 'entry.added'],
    });
    expect(res.status).toBe(200);
    const body = await q(`{ byndleWebhook { url events } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      byndleWebhook: { url: 'http://127.0.0.1:9/byndle', events: ['mobNr.changed', 'entry.added'] },
    });
    await sb.byndle('DELETE', '/v1/ajourhold/{ajourholdId}/webhook');
  });
});
