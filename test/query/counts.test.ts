/**
 * Upstream call counts for Byndle, read from the sandbox's request counters (deterministic, not
 * timing). Every test starts its own gateway: the answer cache is process-wide, and a person
 * cached by an earlier test would make the counts depend on test order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway } from '../helpers/gateway.js';
import {
  ByndleSandbox,
  mobileOf,
  type SandboxBusiness,
  type SandboxPerson,
  type SandboxVehicle,
} from '../helpers/byndle.js';
import type { Nordgraph } from '../../src/app.js';

const EXTENDED = 'GET /v1/lookup/person/extended';
const BUSINESS = 'GET /v1/lookup/business/:orgNr';
const PHONE = 'GET /v1/lookup/phone/:phoneNumber';
const VEHICLE = 'GET /v1/lookup/vehicle';

let persons: SandboxPerson[];
let businesses: SandboxBusiness[];
let vehicles: SandboxVehicle[];

/** Test data is the same in every gateway: the sandbox population comes from the default seed. */
beforeAll(async () => {
  const app = await startTestGateway();
  try {
    const sb = new ByndleSandbox(app);
    persons = await sb.persons(500);
    businesses = await sb.businesses(0, 500);
    vehicles = await sb.vehicles();
  } finally {
    await app.close();
  }
}, 60_000);

let open: Nordgraph[] = [];
afterAll(async () => {
  await Promise.all(open.map((a) => a.close()));
  open = [];
});

/** A fresh gateway whose Byndle token is already fetched and whose counters read zero. */
type Query = (query: string, variables?: Record<string, unknown>) => Promise<Record<string, unknown>>;

async function fresh(): Promise<{ app: Nordgraph; sb: ByndleSandbox; query: Query }> {
  const app = await startTestGateway();
  open.push(app);
  const sb = new ByndleSandbox(app);
  await gql(app.url, '{ personByPhone(phoneNumber: "+46700000000") { id } }');
  await sb.resetCounts();
  const query = (q: string, v: Record<string, unknown> = {}) => run(app, q, v);
  return { app, sb, query };
}

async function run(app: Nordgraph, query: string, variables: Record<string, unknown> = {}) {
  const { body } = await gql(app.url, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data as Record<string, unknown>;
}

const vehiclesOf = (personId: string) =>
  vehicles.filter((v) => v.owner.kind === 'person' && v.owner.personId === personId);
const personHolders = (b: SandboxBusiness) =>
  b.roles.flatMap((r) => (r.holder.kind === 'person' ? [r.holder.personId] : []));
const businessHolders = (b: SandboxBusiness) =>
  b.roles.flatMap((r) => (r.holder.kind === 'business' ? [r.holder.orgNr] : []));

describe('Byndle upstream call counts', () => {
  it('a business with 50+ role holders, some repeating, costs one person call per distinct holder', async () => {
    const b = businesses.find(
      (x) => x.roles.length >= 50 && new Set(personHolders(x)).size < personHolders(x).length,
    )!;
    const distinct = new Set(personHolders(b)).size;
    expect(b.roles.length).toBeGreaterThanOrEqual(50);
    expect(distinct).toBeLessThan(personHolders(b).length);

    const { sb, query } = await fresh();
    const data = await query(
      `query($o: String!) { business(organizationNumber: $o) { roles { holder { ... on Person { firstName } } } } }`,
      { o: b.orgNr },
    );
    expect((data.business as { roles: unknown[] }).roles).toHaveLength(b.roles.length);
    expect(await sb.counts()).toEqual({ [BUSINESS]: 1, [EXTENDED]: distinct });
    // e.g. 897149192 (seed 20261121): 115 roles, 113 person roles, 98 distinct persons → 1 + 98 calls.
    console.info(
      `business ${b.orgNr}: ${b.roles.length} roles, ${personHolders(b).length} person roles, ${distinct} distinct persons → ${BUSINESS} 1, ${EXTENDED} ${distinct}`,
    );
  });

  it('business holders cost no call when only their name is asked, else one per distinct organisation number', async () => {
    const b = businesses.filter((x) => x.roles.length >= 50)[1]!;
    const holderOrgs = new Set(businessHolders(b).filter((o) => o !== b.orgNr));
    expect(holderOrgs.size).toBeGreaterThan(0);
    const { sb, query } = await fresh();
    await query(
      `query($o: String!) { business(organizationNumber: $o) {
        roles { holder { ... on Person { firstName } ... on Business { organizationNumber name } } } } }`,
      { o: b.orgNr },
    );
    expect(await sb.counts()).toEqual({ [BUSINESS]: 1, [EXTENDED]: new Set(personHolders(b)).size });
    await sb.resetCounts();
    // Asking for more than the role record says loads each holder business once (the rest is cached now).
    await query(
      `query($o: String!) { business(organizationNumber: $o) {
        roles { holder { ...HolderBusiness } } } }
      fragment HolderBusiness on Business { name form employees }`,
      { o: b.orgNr },
    );
    expect(await sb.counts()).toEqual({ [BUSINESS]: holderOrgs.size });
  });

  it('the same person by national id and by phone costs one person-extended call', async () => {
    const owned = new Set(vehicles.flatMap((v) => (v.owner.kind === 'person' ? [v.owner.personId] : [])));
    const p = persons.find((x) => x.byndleId && mobileOf(x) && owned.has(x.id))!;
    const nVehicles = vehicles.filter((v) => v.owner.kind === 'person' && v.owner.personId === p.id).length;
    const { sb, query } = await fresh();
    const data = await query(
      `query($id: String!, $m: String!) {
        a: person(nationalId: $id) { id vehicles { registrationNumber } businessRoles { role } properties { id } }
        b: personByPhone(phoneNumber: $m) { id addressHistory { formatted } vehicles { registrationNumber } }
      }`,
      { id: p.nationalId, m: mobileOf(p) },
    );
    expect((data.a as { id: string }).id).toBe((data.b as { id: string }).id);
    expect(await sb.counts()).toEqual({ [EXTENDED]: 1, [PHONE]: 1, [VEHICLE]: nVehicles });
  });

  it('a vehicle owner who also holds a role in the business asked for costs one person-extended call', async () => {
    const owners = new Map(
      vehicles.flatMap((v) => (v.owner.kind === 'person' ? [[v.owner.personId, v] as const] : [])),
    );
    let pair: { b: SandboxBusiness; v: SandboxVehicle } | undefined;
    for (const b of businesses.filter((x) => x.roles.length < 20)) {
      const holder = personHolders(b).find((id) => owners.has(id));
      if (holder) {
        pair = { b, v: owners.get(holder)! };
        break;
      }
    }
    const { b, v } = pair!;
    const { sb, query } = await fresh();
    await query(
      `query($o: String!, $r: String!) {
        vehicle(registrationNumber: $r) { owner { ... on Person { firstName } } }
        business(organizationNumber: $o) { roles { holder { ... on Person { firstName } } } }
      }`,
      { o: b.orgNr, r: v.regNr },
    );
    expect(await sb.counts()).toEqual({
      [BUSINESS]: 1,
      [VEHICLE]: 1,
      [EXTENDED]: new Set(personHolders(b)).size,
    });
  });

  it('a person by national id next to their own vehicle’s owner costs one person-extended call', async () => {
    const ids = new Map(persons.map((p) => [p.id, p]));
    const v = vehicles.find((x) => x.owner.kind === 'person' && ids.get(x.owner.personId)?.byndleId)!;
    const owner = ids.get(v.owner.kind === 'person' ? v.owner.personId : '');
    const { sb, query } = await fresh();
    await query(
      `query($id: String!, $r: String!) {
        person(nationalId: $id) { firstName }
        vehicle(registrationNumber: $r) { owner { ... on Person { firstName vehicles { registrationNumber } } } }
      }`,
      { id: owner!.nationalId, r: v.regNr },
    );
    expect(await sb.counts()).toEqual({ [EXTENDED]: 1, [VEHICLE]: vehiclesOf(owner!.id).length });
  });

  it('a household of a household costs one call per distinct member', async () => {
    const sizes = new Map<string, number>();
    for (const p of persons) sizes.set(p.householdId, (sizes.get(p.householdId) ?? 0) + 1);
    const p = persons.find((x) => x.byndleId && (sizes.get(x.householdId) ?? 0) >= 3)!;
    const { sb, query } = await fresh();
    await query(
      `query($id: String!) { person(nationalId: $id) { household { id household { id household { id } } } } }`,
      {
        id: p.nationalId,
      },
    );
    expect(await sb.counts()).toEqual({ [EXTENDED]: sizes.get(p.householdId) });
  });

  it('identical lookups in one request are made once, and a later request is served from the cache', async () => {
    const b = businesses[3]!;
    const ids = new Map(persons.map((p) => [p.id, p]));
    const v = vehicles.find(
      (x) =>
        x.owner.kind === 'person' &&
        mobileOf(ids.get(x.owner.personId) ?? persons[0]!) &&
        ids.get(x.owner.personId)?.byndleId,
    )!;
    const p = ids.get(v.owner.kind === 'person' ? v.owner.personId : '')!;
    const { sb, query } = await fresh();
    const q = `query($o: String!, $id: String!, $m: String!) {
      a: business(organizationNumber: $o) { name } b: business(organizationNumber: $o) { roles(types: [BOARD_CHAIR]) { since } }
      c: person(nationalId: $id) { id } d: person(nationalId: $id) { firstName }
      e: phoneReservation(phoneNumber: $m) { directMail } f: phoneReservation(phoneNumber: $m) { phoneSales }
    }`;
    await query(q, { o: b.orgNr, id: p.nationalId, m: mobileOf(p) });
    expect(await sb.counts()).toEqual({
      [BUSINESS]: 1,
      [EXTENDED]: 1,
      'GET /v1/lookup/phone/:phoneNumber/reservations': 1,
    });
    await sb.resetCounts();
    await query(q, { o: b.orgNr, id: p.nationalId, m: mobileOf(p) });
    // The person fetched by national id was stored under their Byndle id too: the owner link hits the cache.
    await query(
      `query($r: String!) { vehicle(registrationNumber: $r) { owner { ... on Person { firstName } } } }`,
      {
        r: v.regNr,
      },
    );
    expect(await sb.counts()).toEqual({ [VEHICLE]: 1 });
  });
});
