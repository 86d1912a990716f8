import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { Person } from '../../src/sandbox/population/types.js';

let sandbox: Sandbox;
let token: string;
let api: string;
let ajourholdId: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

async function call(path: string, init: RequestInit = {}, bearer: string | null = token) {
  const headers = new Headers(init.headers);
  if (bearer) headers.set('authorization', `Bearer ${bearer}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(api + path, { ...init, headers });
  const text = await res.text();
  // Every Byndle answer is JSON; a parse failure here is a test failure worth seeing.
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> & any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- bodies are asserted field by field
}

const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body) });

function noPersons(): Person[] {
  return sandbox.context.population.persons.filter((p) => p.market === 'NO');
}

function entryFor(p: Person, externalId: string) {
  const a = p.addresses[0]!;
  return {
    externalId,
    firstName: p.firstName,
    lastName: p.lastName,
    street: a.street,
    houseNumber: a.houseNumber + a.entrance,
    postalCode: a.postalCode,
    city: a.city,
    birthDate: p.birthDate,
  };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  api = sandbox.apiUrls.byndle;
  ajourholdId = sandbox.credentials.byndle.ajourholdId;
  const { username, password } = sandbox.credentials.byndle;
  const res = await fetch(sandbox.tokenUrls.byndle, { headers: { Auth: `${username}:${password}` } });
  token = ((await res.json()) as { token: string }).token;
});

afterAll(async () => {
  await sandbox?.close();
});

describe('Byndle create token', () => {
  it('issues an HS256 JWT with the documented claims and response fields', async () => {
    const { username, password } = sandbox.credentials.byndle;
    const res = await fetch(sandbox.tokenUrls.byndle, { headers: { Auth: `${username}:${password}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'token',
        'userPermissions',
        'user',
        'expires',
        'issued',
        'customer',
        'anonymousAccessToken',
        'successfulLogin',
        'requires2FA',
        'maskedEmail',
        'maskedPhone',
        'hasActiveSubcription',
      ].sort(),
    );
    expect(body.successfulLogin).toBe(true);
    expect(body.requires2FA).toBe(false);
    expect(body.hasActiveSubcription).toBe(true);
    expect(body.expires).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}[+-]\d{2}:\d{2}$/);
    const [h, p] = String(body.token).split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    expect(claims.iss).toBe('portal.byndle.no');
    expect(claims.aud).toBe('portal.byndle.no');
    expect(typeof claims.userId).toBe('string');
    expect(typeof claims.customerId).toBe('string');
    expect(typeof claims.uid).toBe('number');
    expect(typeof claims.role).toBe('string');
    expect(claims.issued).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    const lifetime = claims.exp - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(7 * 86400 - 60);
    expect(lifetime).toBeLessThanOrEqual(7 * 86400);
    expect(Date.parse(String(body.expires)) - Date.parse(String(body.issued))).toBeCloseTo(7 * 86400_000, -2);
  });

  it('accepts the Auth value base64-encoded', async () => {
    const { username, password } = sandbox.credentials.byndle;
    const res = await fetch(sandbox.tokenUrls.byndle, {
      headers: { Auth: Buffer.from(`${username}:${password}`).toString('base64') },
    });
    expect(res.status).toBe(200);
  });

  it('answers 401 with the Byndle error body to a wrong password and to a missing Auth header', async () => {
    const bad = await fetch(sandbox.tokenUrls.byndle, { headers: { Auth: 'sandbox:wrong' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      status: 401,
      error: 'Unauthorized',
      message: 'Invalid username or password',
    });
    const missing = await fetch(sandbox.tokenUrls.byndle);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toBe('Unauthorized');
  });

  it('answers 401 without a bearer token and with a forged one', async () => {
    const none = await call('/v1/lookup/vehicle?regNr=AB12345', {}, null);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: 401, error: 'Unauthorized' });
    const [h, p] = token.split('.');
    const forged = await call('/v1/lookup/vehicle?regNr=AB12345', {}, `${h}.${p}.AAAA`);
    expect(forged.status).toBe(401);
  });

  it('answers 401 to an expired token', async () => {
    const short = await startSandbox({
      tokenTtlSeconds: { byndle: 1 },
      population: { persons: 50, businesses: 5, vehicles: 5, customers: 5, borrowers: 1 },
    });
    try {
      const { username, password } = short.credentials.byndle;
      const res = await fetch(short.tokenUrls.byndle, { headers: { Auth: `${username}:${password}` } });
      const t = ((await res.json()) as { token: string }).token;
      const url = `${short.apiUrls.byndle}/v1/ajourhold/${short.credentials.byndle.ajourholdId}/entries`;
      expect((await fetch(url, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
      await sleep(1_100);
      const expired = await fetch(url, { headers: { authorization: `Bearer ${t}` } });
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { message: string }).message).toMatch(/expired/);
    } finally {
      await short.close();
    }
  });
});

describe('Byndle person lookups', () => {
  it('finds a person by national id (match level 1) with status description', async () => {
    const p = noPersons()[0]!;
    const r = await post('/v1/lookup/person', { nationalId: p.nationalId });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      byndleId: p.byndleId,
      firstName: p.firstName,
      lastName: p.lastName,
      birthDate: p.birthDate,
      matchLevel: 1,
      matchedOn: 'nationalId',
    });
    const descriptions = ['Bosatt / Aktiv', 'Utflyttet', 'Utvandret', 'Forsvunnet', 'død'];
    expect(r.body.status.id).toBe(p.status);
    if (p.status <= 5) expect(r.body.status.description).toBe(descriptions[p.status - 1]);
  });

  it('matches names and address with the match-level table', async () => {
    const p = noPersons().find((x) => x.addresses[0])!;
    const e = entryFor(p, 'x');
    const r = await post('/v1/lookup/person', {
      firstName: e.firstName,
      lastName: e.lastName,
      street: e.street,
      houseNumber: e.houseNumber,
      postalCode: e.postalCode,
      birthDate: e.birthDate,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ byndleId: p.byndleId, matchLevel: 2, matchedOn: 'nameAndAddress' });
  });

  it('identifies a person by mobile number', async () => {
    const p = noPersons().find((x) => x.phones.some((ph) => ph.type === 'mobile'))!;
    const mobile = p.phones.find((ph) => ph.type === 'mobile')!.number;
    const r = await post('/v1/lookup/person', { mobile, firstName: p.firstName, lastName: p.lastName });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ byndleId: p.byndleId, mobile, matchedOn: 'mobile' });
  });

  it('answers 404 when nothing matches, and for persons outside Norway', async () => {
    const r = await post('/v1/lookup/person', {
      firstName: 'Qqqxx',
      lastName: 'Zzzyy',
      postalCode: '0150',
      birthDate: '1900-01-01',
    });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ status: 404, error: 'NotFound' });
    const foreign = sandbox.context.population.persons.find(
      (x) => x.market !== 'NO' && /^\d{11}$/.test(x.nationalId),
    );
    if (foreign)
      expect((await post('/v1/lookup/person', { nationalId: foreign.nationalId })).status).toBe(404);
  });

  it('answers 400 to too little input and to unknown fields', async () => {
    const r = await post('/v1/lookup/person', { firstName: 'Ola' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, error: 'BadRequest' });
    expect((await post('/v1/lookup/person', { nationalId: '123' })).status).toBe(400);
    expect((await post('/v1/lookup/person', { foo: 1 })).status).toBe(400);
    const malformed = await call('/v1/lookup/person', { method: 'POST', body: '{"nationalId": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      status: 400,
      error: 'BadRequest',
      message: 'Malformed JSON in request body',
    });
  });

  it('serves person extended with address history, household, properties, vehicles and business roles', async () => {
    const pop = sandbox.context.population;
    const roleHolders = new Set(
      pop.businesses.flatMap((b) =>
        b.roles.flatMap((r) => (r.holder.kind === 'person' ? [r.holder.personId] : [])),
      ),
    );
    const owners = new Set(
      pop.vehicles.flatMap((v) => (v.owner.kind === 'person' ? [v.owner.personId] : [])),
    );
    const p =
      noPersons().find((x) => roleHolders.has(x.id) && owners.has(x.id) && x.properties.length > 0) ??
      noPersons().find((x) => roleHolders.has(x.id))!;
    const r = await call(`/v1/lookup/person/extended?byndleId=${p.byndleId}`);
    expect(r.status).toBe(200);
    expect(r.body.person.byndleId).toBe(p.byndleId);
    expect(r.body.addressHistory).toHaveLength(p.addresses.length);
    expect(r.body.household.householdId).toBe(p.householdId);
    expect(r.body.properties.map((x: { propertyId: string }) => x.propertyId)).toEqual(p.properties);
    if (p.properties.length > 0) expect(typeof r.body.properties[0].gnr).toBe('number');
    const expectedVehicles = pop.vehicles.filter(
      (v) => v.owner.kind === 'person' && v.owner.personId === p.id,
    );
    expect(r.body.vehicles.map((v: { regNr: string }) => v.regNr).sort()).toEqual(
      expectedVehicles.map((v) => v.regNr).sort(),
    );
    const held = pop.businesses.flatMap((b) =>
      b.roles
        .filter((x) => x.holder.kind === 'person' && x.holder.personId === p.id)
        .map((x) => `${b.orgNr}:${x.role}`),
    );
    expect(
      r.body.businessRoles.map((x: { orgNr: string; role: string }) => `${x.orgNr}:${x.role}`).sort(),
    ).toEqual(held.sort());
    expect(r.body.businessRoles[0].businessName).toBe(
      pop.businessByOrgNr.get(r.body.businessRoles[0].orgNr)!.name,
    );
    const byNid = await call(`/v1/lookup/person/extended?nationalId=${p.nationalId}`);
    expect(byNid.body.person.byndleId).toBe(p.byndleId);
  });

  it('answers 400 to person extended without an id and 404 to an unknown one', async () => {
    expect((await call('/v1/lookup/person/extended')).status).toBe(400);
    expect((await call('/v1/lookup/person/extended?byndleId=BY-NOPE')).status).toBe(404);
  });

  it('lists the phones of a person', async () => {
    const p = noPersons().find((x) => x.phones.length > 0)!;
    const r = await call(`/v1/lookup/person/phones?nationalId=${p.nationalId}`);
    expect(r.status).toBe(200);
    expect(r.body.byndleId).toBe(p.byndleId);
    expect(r.body.phones.map((x: { number: string }) => x.number).sort()).toEqual(
      p.phones.map((x) => x.number).sort(),
    );
  });

  it('finds the owner of a phone number and the owner’s reservations', async () => {
    const p = noPersons().find((x) => x.phones.some((ph) => ph.type === 'mobile'))!;
    const number = p.phones.find((ph) => ph.type === 'mobile')!.number;
    const owner = await call(`/v1/lookup/phone/${encodeURIComponent(number)}`);
    expect(owner.status).toBe(200);
    expect(owner.body).toMatchObject({
      phoneNumber: number,
      type: 'mobile',
      owner: { byndleId: p.byndleId },
    });
    const res = await call(`/v1/lookup/phone/${encodeURIComponent(number)}/reservations`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      phoneNumber: number,
      byndleId: p.byndleId,
      reservedDm: p.reservations.directMail,
      reservedPhoneSale: p.reservations.phoneSale,
      reservedHumOrg: p.reservations.humanitarian,
    });
  });

  it('answers 400 to a malformed phone number and 404 to an unknown one', async () => {
    expect((await call('/v1/lookup/phone/abc')).status).toBe(400);
    expect((await call('/v1/lookup/phone/%2B4700000001')).status).toBe(404);
    expect((await call('/v1/lookup/phone/%2B4700000001/reservations')).status).toBe(404);
  });
});

describe('Byndle business and vehicle lookups', () => {
  it('returns a business with all roles, person holders with byndleId and business holders with orgNr', async () => {
    const pop = sandbox.context.population;
    const b = [...pop.businesses].sort((x, y) => y.roles.length - x.roles.length)[0]!;
    const r = await call(`/v1/lookup/business/${b.orgNr}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ orgNr: b.orgNr, name: b.name, organisationForm: b.form });
    expect(r.body.roles).toHaveLength(b.roles.length);
    for (const [i, role] of b.roles.entries()) {
      const got = r.body.roles[i];
      expect(got.role).toBe(role.role);
      if (role.holder.kind === 'person') {
        const holder = pop.personById.get(role.holder.personId)!;
        expect(got.holder).toMatchObject({
          type: 'person',
          lastName: holder.lastName,
          birthDate: holder.birthDate,
        });
        expect(got.holder.byndleId).toBe(holder.market === 'NO' ? holder.byndleId : null);
      } else {
        expect(got.holder).toMatchObject({ type: 'business', orgNr: role.holder.orgNr });
      }
    }
  });

  it('filters roles by name, repeated or comma-separated', async () => {
    const pop = sandbox.context.population;
    const b = pop.businesses.find((x) => new Set(x.roles.map((r) => r.role)).size >= 3)!;
    const [r1, r2] = [...new Set(b.roles.map((r) => r.role))];
    const one = await call(`/v1/lookup/business/${b.orgNr}?roles=${encodeURIComponent(r1!)}`);
    expect(one.status).toBe(200);
    expect(one.body.roles.length).toBe(b.roles.filter((r) => r.role === r1).length);
    expect(new Set(one.body.roles.map((r: { role: string }) => r.role))).toEqual(new Set([r1]));
    const expected = b.roles.filter((r) => r.role === r1 || r.role === r2).length;
    const repeated = await call(
      `/v1/lookup/business/${b.orgNr}?roles=${encodeURIComponent(r1!)}&roles=${encodeURIComponent(r2!)}`,
    );
    expect(repeated.body.roles).toHaveLength(expected);
    const comma = await call(`/v1/lookup/business/${b.orgNr}?roles=${encodeURIComponent(`${r1},${r2}`)}`);
    expect(comma.body.roles).toHaveLength(expected);
  });

  it('answers 400 to an unknown role name or a malformed orgNr, 404 to an unknown business', async () => {
    const b = sandbox.context.population.businesses[0]!;
    const r = await call(`/v1/lookup/business/${b.orgNr}?roles=Sjef`);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/Unknown role\(s\): Sjef/);
    expect((await call('/v1/lookup/business/12345')).status).toBe(400);
    expect((await call('/v1/lookup/business/000000000')).status).toBe(404);
  });

  it('finds a vehicle by registration number and by VIN, with its owner', async () => {
    const pop = sandbox.context.population;
    const v = pop.vehicles.find((x) => x.owner.kind === 'person')!;
    const spaced = `${v.regNr.slice(0, 2).toLowerCase()} ${v.regNr.slice(2)}`;
    const byReg = await call(`/v1/lookup/vehicle?regNr=${encodeURIComponent(spaced)}`);
    expect(byReg.status).toBe(200);
    expect(byReg.body).toMatchObject({ regNr: v.regNr, vin: v.vin, make: v.make, owner: { type: 'person' } });
    const owner = pop.personById.get((v.owner as { personId: string }).personId)!;
    expect(byReg.body.owner.lastName).toBe(owner.lastName);
    const byVin = await call(`/v1/lookup/vehicle?vin=${v.vin}`);
    expect(byVin.body.regNr).toBe(v.regNr);
    const bv = pop.vehicles.find((x) => x.owner.kind === 'business');
    if (bv) {
      const r = await call(`/v1/lookup/vehicle?vin=${bv.vin}`);
      expect(r.body.owner).toEqual({
        type: 'business',
        orgNr: (bv.owner as { orgNr: string }).orgNr,
        name: pop.businessByOrgNr.get((bv.owner as { orgNr: string }).orgNr)!.name,
      });
    }
  });

  it('answers 400 to a vehicle lookup without input and 404 to an unknown vehicle', async () => {
    expect((await call('/v1/lookup/vehicle')).status).toBe(400);
    expect((await call('/v1/lookup/vehicle?vin=SHORT')).status).toBe(400);
    expect((await call('/v1/lookup/vehicle?regNr=ZZ99999')).status).toBe(404);
  });
});

describe('Byndle ajourhold', () => {
  const base = () => `/v1/ajourhold/${ajourholdId}`;

  it('adds a person with corrections from the register, byndleId and match level', async () => {
    const p = noPersons()[10]!;
    const misspelled = p.lastName + p.lastName.slice(-1);
    const input = { ...entryFor(p, 'ADD-1'), lastName: misspelled, city: 'feil by' };
    const r = await post(`${base()}/entries`, input);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      externalId: 'ADD-1',
      byndleId: p.byndleId,
      matchLevel: 2,
      maintained: true,
      lastName: p.lastName,
      city: p.addresses[0]!.city,
      status: { id: p.status },
    });
    expect(r.body.corrections).toEqual(
      expect.arrayContaining([
        { field: 'lastName', sent: misspelled, corrected: p.lastName },
        { field: 'city', sent: 'feil by', corrected: p.addresses[0]!.city },
      ]),
    );
  });

  it('adds a person that matches nobody, with null byndleId and match level', async () => {
    const r = await post(`${base()}/entries`, {
      externalId: 'ADD-NOMATCH',
      firstName: 'Qqqxx',
      lastName: 'Zzzyy',
      street: 'Ingensteds vei',
      houseNumber: '1',
      postalCode: '9999',
      city: 'INGEN',
      birthDate: '1900-01-01',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      byndleId: null,
      matchLevel: null,
      status: null,
      maintained: false,
      lastName: 'Zzzyy',
    });
  });

  it('answers 409 to a duplicate externalId, 404 to another ajourhold, 400 to a bad body', async () => {
    const p = noPersons()[11]!;
    expect((await post(`${base()}/entries`, entryFor(p, 'DUP-1'))).status).toBe(201);
    const dup = await post(`${base()}/entries`, entryFor(p, 'DUP-1'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ status: 409, error: 'Conflict' });
    expect((await post('/v1/ajourhold/AJ-OTHER/entries', entryFor(p, 'X'))).status).toBe(404);
    const bad = await post(`${base()}/entries`, { ...entryFor(p, 'BAD'), birthDate: '01.01.1970' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/birthDate/);
  });

  it('removes entries by externalId and by byndleId, then answers 404', async () => {
    const [p1, p2] = [noPersons()[12]!, noPersons()[13]!];
    await post(`${base()}/entries`, entryFor(p1, 'RM-1'));
    await post(`${base()}/entries`, entryFor(p2, 'RM-2'));
    const a = await call(`${base()}/entries/externalId/RM-1`, { method: 'DELETE' });
    expect(a.status).toBe(200);
    expect(a.body.removed.map((e: { externalId: string }) => e.externalId)).toEqual(['RM-1']);
    expect((await call(`${base()}/entries/externalId/RM-1`, { method: 'DELETE' })).status).toBe(404);
    const b = await call(`${base()}/entries/byndleId/${p2.byndleId}`, { method: 'DELETE' });
    expect(b.status).toBe(200);
    expect(b.body.removed[0].externalId).toBe('RM-2');
    expect((await call(`${base()}/entries/byndleId/${p2.byndleId}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('pages through all entries to the end', async () => {
    for (let i = 0; i < 23; i++) await post(`${base()}/entries`, entryFor(noPersons()[100 + i]!, `PG-${i}`));
    const first = await call(`${base()}/entries?page=1&pageSize=10`);
    const total = first.body.totalCount as number;
    expect(total).toBeGreaterThanOrEqual(23);
    expect(first.body.totalPages).toBe(Math.ceil(total / 10));
    const seen: string[] = [];
    for (let page = 1; page <= first.body.totalPages; page++) {
      const r = await call(`${base()}/entries?page=${page}&pageSize=10`);
      expect(r.body.page).toBe(page);
      seen.push(...r.body.items.map((e: { externalId: string }) => e.externalId));
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen.filter((x) => x.startsWith('PG-'))).toEqual(Array.from({ length: 23 }, (_, i) => `PG-${i}`));
    const past = await call(`${base()}/entries?page=${first.body.totalPages + 1}&pageSize=10`);
    expect(past.body.items).toEqual([]);
    expect((await call(`${base()}/entries?pageSize=5000`)).status).toBe(400);
  });

  it('lists changes since a date, and answers 400 to a bad date', async () => {
    const since = new Date().toISOString();
    await sleep(5);
    await post(`${base()}/entries`, entryFor(noPersons()[200]!, 'CH-1'));
    await call(`${base()}/entries/externalId/CH-1`, { method: 'DELETE' });
    const r = await call(`${base()}/changes?since=${encodeURIComponent(since)}&pageSize=50`);
    expect(r.status).toBe(200);
    expect(r.body.totalCount).toBe(1);
    expect(r.body.items[0]).toMatchObject({ externalId: 'CH-1', removed: true, entry: null });
    expect(r.body.items[0].changes.map((e: { eventName: string }) => e.eventName)).toEqual([
      'entry.added',
      'entry.removed',
    ]);
    expect((await call(`${base()}/changes?since=yesterday`)).status).toBe(400);
    expect((await call(`${base()}/changes`)).status).toBe(400);
  });
});

describe('Byndle webhooks', () => {
  let receiver: Server;
  let hookUrl: string;
  const received: { headers: IncomingHttpHeaders; body: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
  let failNext = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        if (failNext > 0) {
          failNext -= 1;
          res.writeHead(500).end();
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/byndle`;
    await fetch(`${sandbox.controlUrl}/webhooks/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ retryDelaysMs: [50] }),
    });
  });

  afterAll(async () => {
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const base = () => `/v1/ajourhold/${ajourholdId}`;
  const events = () =>
    received.flatMap((r) => r.body.events as { eventName: string; eventId: string; externalId: string }[]);

  it('configures, reads and validates a webhook', async () => {
    const put = await call(`${base()}/webhook`, {
      method: 'PUT',
      body: JSON.stringify({ url: hookUrl, username: 'hook-user', password: 'hook-pw' }),
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ url: hookUrl, username: 'hook-user' });
    expect(put.body.password).toBeUndefined();
    expect(put.body.events).toHaveLength(17);
    expect((await call(`${base()}/webhook`)).body.url).toBe(hookUrl);
    const insecure = await call(`${base()}/webhook`, {
      method: 'PUT',
      body: JSON.stringify({ url: 'http://example.no/hook', username: 'u', password: 'p' }),
    });
    expect(insecure.status).toBe(400);
    const badEvent = await call(`${base()}/webhook`, {
      method: 'PUT',
      body: JSON.stringify({ url: hookUrl, username: 'u', password: 'p', events: ['nope.changed'] }),
    });
    expect(badEvent.status).toBe(400);
  });

  it('delivers entry.added with Basic auth and redelivers after a 500 with the same eventId', async () => {
    failNext = 1;
    const p = noPersons().find((x) => x.phones.some((ph) => ph.type === 'mobile') && x.addresses[0])!;
    const r = await post(`${base()}/entries`, entryFor(p, 'WH-1'));
    expect(r.body.matchLevel).toBe(2);
    const both = await waitFor(() => {
      const hits = received.filter((x) =>
        x.body.events.some((e: { externalId: string }) => e.externalId === 'WH-1'),
      );
      return hits.length >= 2 && hits;
    });
    expect(both[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('hook-user:hook-pw').toString('base64')}`,
    );
    expect(both[0]!.body).toMatchObject({
      ajourholdId,
      events: [{ eventName: 'entry.added', externalId: 'WH-1' }],
    });
    expect(both[1]!.body.events[0].eventId).toBe(both[0]!.body.events[0].eventId);
    expect(both[1]!.body.deliveryId).toBe(both[0]!.body.deliveryId);
  });

  it('notifies mobile and address changes of a matched person, and records them as changes', async () => {
    const p = noPersons().find((x) => x.phones.some((ph) => ph.type === 'mobile') && x.addresses[0])!;
    const before = structuredClone(p);
    const since = new Date().toISOString();
    const count = received.length;
    const res = await fetch(`${sandbox.controlUrl}/persons/${p.id}/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['mobile', 'address'] }),
    });
    expect(res.status).toBe(200);
    const after = sandbox.context.population.personById.get(p.id)!;
    const delivery = await waitFor(() =>
      received
        .slice(count)
        .find((x) => x.body.events.some((e: { externalId: string }) => e.externalId === 'WH-1')),
    );
    const byName = new Map(delivery.body.events.map((e: { eventName: string }) => [e.eventName, e]));
    const oldMobile = before.phones.find((ph) => ph.type === 'mobile')?.number ?? null;
    const newMobile = after.phones.find((ph) => ph.type === 'mobile')?.number ?? null;
    if (oldMobile !== newMobile)
      expect(byName.get('mobNr.changed')).toMatchObject({
        field: 'mobile',
        oldValue: oldMobile,
        newValue: newMobile,
        byndleId: p.byndleId,
      });
    const a0 = before.addresses[0]!;
    const a1 = after.addresses[0]!;
    if (a0.street !== a1.street)
      expect(byName.get('address.streetName.changed')).toMatchObject({
        oldValue: a0.street,
        newValue: a1.street,
      });
    if (a0.postalCode !== a1.postalCode)
      expect(byName.get('address.postNr.changed')).toMatchObject({
        oldValue: a0.postalCode,
        newValue: a1.postalCode,
      });
    expect(byName.get('address.full.changed')).toMatchObject({
      newValue: expect.stringContaining(a1.street),
    });
    expect(delivery.headers.authorization).toMatch(/^Basic /);

    const changes = await call(`${base()}/changes?since=${encodeURIComponent(since)}`);
    const item = changes.body.items.find((i: { externalId: string }) => i.externalId === 'WH-1');
    expect(item.changes.map((e: { eventName: string }) => e.eventName)).toEqual(
      delivery.body.events.map((e: { eventName: string }) => e.eventName),
    );
    expect(item.entry.mobile).toBe(newMobile);
    expect(item.entry.street).toBe(a1.street);
  });

  it('re-matches on the nightly run and notifies sourceMatchLevel.changed', async () => {
    const count = received.length;
    const res = await fetch(`${sandbox.controlUrl}/nightly`, { method: 'POST' });
    expect(res.status).toBe(200);
    const entry = await call(
      `${base()}/changes?since=${encodeURIComponent(new Date(Date.now() - 2_000).toISOString())}`,
    );
    const item = entry.body.items.find((i: { externalId: string }) => i.externalId === 'WH-1');
    // The person moved, so the entry's original address no longer matches at level 2.
    const ev = item.changes.find((e: { eventName: string }) => e.eventName === 'sourceMatchLevel.changed');
    expect(ev).toMatchObject({ oldValue: 2, field: 'matchLevel' });
    expect(ev.newValue).not.toBe(2);
    await waitFor(() =>
      received
        .slice(count)
        .some((x) =>
          x.body.events.some((e: { eventName: string }) => e.eventName === 'sourceMatchLevel.changed'),
        ),
    );
  });

  it('emits data-change events for names, landline, status, reservations and building type', async () => {
    const p = noPersons().find((x) => x.addresses[0] && x.id !== noPersons()[10]!.id && x.phones.length > 0)!;
    expect((await post(`${base()}/entries`, entryFor(p, 'WH-ALL'))).body.matchLevel).toBe(2);
    const fields = [
      'firstName',
      'lastName',
      'landline',
      'status',
      'reservations',
      'buildingType',
      'address',
      'mobile',
    ];
    const count = received.length;
    // Several rounds: a single change may leave e.g. the dwelling number or one reservation as it was.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${sandbox.controlUrl}/persons/${p.id}/change`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fields }),
      });
      expect(res.status).toBe(200);
    }
    const names = await waitFor(() => {
      const got = new Set(
        received.slice(count).flatMap((r) => r.body.events.map((e: { eventName: string }) => e.eventName)),
      );
      return got.has('name.first.changed') && got.has('buildingType.changed') && got;
    });
    for (const n of [
      'name.first.changed',
      'name.last.changed',
      'telNr.changed',
      'status.changed',
      'buildingType.changed',
    ])
      expect(names).toContain(n);
    const entry = (await call(`${base()}/entries?pageSize=1000`)).body.items.find(
      (e: { externalId: string }) => e.externalId === 'WH-ALL',
    );
    const now = sandbox.context.population.personById.get(p.id)!;
    expect(entry).toMatchObject({
      firstName: now.firstName,
      lastName: now.lastName,
      buildingType: now.buildingType,
    });
    expect(entry.status.id).toBe(now.status);
  });

  it('delivers entry.removed, and over the run every one of the 17 documented event names', async () => {
    await call(`${base()}/entries/externalId/WH-ALL`, { method: 'DELETE' });
    await waitFor(() => events().some((e) => e.eventName === 'entry.removed' && e.externalId === 'WH-ALL'));
    const all = new Set(events().map((e) => e.eventName));
    expect([...all].sort()).toEqual(
      [
        'reservedDm.changed',
        'reservedPhoneSale.changed',
        'reservedHumOrg.changed',
        'buildingType.changed',
        'mobNr.changed',
        'telNr.changed',
        'name.last.changed',
        'name.first.changed',
        'address.postNr.changed',
        'address.dwellingNr.changed',
        'address.streetNr.changed',
        'address.streetName.changed',
        'address.full.changed',
        'sourceMatchLevel.changed',
        'status.changed',
        'entry.removed',
        'entry.added',
      ].sort(),
    );
  });

  it('deletes the webhook, then answers 404 to reading or deleting it', async () => {
    expect((await call(`${base()}/webhook`, { method: 'DELETE' })).body).toEqual({
      ajourholdId,
      deleted: true,
    });
    expect((await call(`${base()}/webhook`)).status).toBe(404);
    expect((await call(`${base()}/webhook`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('Byndle OpenAPI document', () => {
  it('validates as OpenAPI 3.1 and describes the bearer scheme', async () => {
    const doc = (await (await fetch(`${api}/openapi.json`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON document
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(doc.components.securitySchemes.Bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/auth/token',
        '/v1/lookup/person',
        '/v1/lookup/business/{orgNr}',
        '/v1/ajourhold/{ajourholdId}/entries/byndleId/{byndleId}',
      ]),
    );
  });
});

describe('Byndle faults', () => {
  it('answers injected faults in the Byndle error format', async () => {
    const put = await fetch(`${sandbox.controlUrl}/faults/byndle`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimitRate: 1, retryAfterSeconds: 2, times: 1 }),
    });
    expect(put.status).toBe(200);
    const r = await fetch(`${api}/v1/lookup/vehicle?regNr=AB12345`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(await r.json()).toMatchObject({ status: 429, error: 'TooManyRequests' });
  });
});
