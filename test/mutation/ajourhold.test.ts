import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { gql, startGatewayOn, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import { ByndleSandbox, makeFnr, type SandboxPerson } from '../helpers/byndle.js';
import type { Nordgraph } from '../../src/app.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

const ENTRY = `externalId byndleId matchLevel maintained firstName lastName birthDate
  address { street houseNumber postalCode city } person { firstName lastName }`;
const ADD = `mutation($input: AddAjourholdEntryInput!, $key: String) {
  addAjourholdEntry(input: $input, idempotencyKey: $key) {
    outcome maintained corrections { field sent corrected } entry { ${ENTRY} }
  }
}`;
const REMOVE = `mutation($externalId: String, $byndleId: String, $key: String) {
  removeAjourholdEntry(externalId: $externalId, byndleId: $byndleId, idempotencyKey: $key) {
    notFound removed { externalId byndleId matchLevel }
  }
}`;
const ENTRIES = `{ ajourholdEntries(first: 500) { totalCount edges { node { externalId byndleId matchLevel maintained lastName } } } }`;

interface Entry {
  externalId: string;
  byndleId: string | null;
  matchLevel: number | null;
  maintained: boolean;
  firstName: string | null;
  lastName: string | null;
  birthDate: string | null;
  address: { street: string; houseNumber: string; postalCode: string; city: string } | null;
  person: { firstName: string; lastName: string } | null;
}
interface AddPayload {
  addAjourholdEntry: {
    outcome: 'ADDED' | 'ALREADY_EXISTS';
    maintained: boolean;
    corrections: { field: string; sent: string | null; corrected: string | null }[];
    entry: Entry | null;
  };
}
interface RemovePayload {
  removeAjourholdEntry: {
    notFound: boolean;
    removed: { externalId: string; byndleId: string | null; matchLevel: number | null }[];
  };
}

const POST = 'POST /v1/ajourhold/:ajourholdId/entries';
const DELETE_EXT = 'DELETE /v1/ajourhold/:ajourholdId/entries/externalId/:externalId';
const DELETE_BY = 'DELETE /v1/ajourhold/:ajourholdId/entries/byndleId/:byndleId';

/** A run-unique suffix: ids and idempotency keys must not meet those of earlier runs in a shared Redis. */
const run = `${process.pid}-${Date.now()}`;
let seq = 0;
const uniqueId = (prefix: string) => `${prefix}-${run}-${++seq}`;

/** The same name misspelt so that SOUNDEX still agrees: the first vowel after the initial changed. */
function misspell(name: string): string | null {
  const i = name.slice(1).search(/[aeiou]/i) + 1;
  if (i === 0) return null;
  const swap: Record<string, string> = { a: 'e', e: 'a', i: 'y', o: 'u', u: 'o' };
  return name.slice(0, i) + swap[name[i]!.toLowerCase()]! + name.slice(i + 1);
}

function badInput<T>(body: GraphQLResponse<T>, argument: string) {
  expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  expect(body.errors?.[0]?.message).toContain(argument);
}

/** Counts of Byndle's ajourhold write routes since the last reset. */
async function writes(controlUrl: string): Promise<{ post: number; deleteExt: number; deleteBy: number }> {
  const c = (await (await fetch(`${controlUrl}/counters`)).json()) as { byndle: Record<string, number> };
  return {
    post: c.byndle[POST] ?? 0,
    deleteExt: c.byndle[DELETE_EXT] ?? 0,
    deleteBy: c.byndle[DELETE_BY] ?? 0,
  };
}

describe('ajourhold mutations', () => {
  let app: Nordgraph;
  let sb: ByndleSandbox;
  /** A registered Norwegian person with a current address and a name we can misspell. */
  let target: SandboxPerson;
  let others: SandboxPerson[];

  const q = <T>(query: string, variables: Record<string, unknown> = {}) =>
    gql<T>(app.url, query, variables).then((r) => r.body);

  /** The add input for a sandbox person as our records hold them (city upper-case, as many CRMs do). */
  const inputFor = (p: SandboxPerson, externalId = uniqueId('T')) => {
    const a = p.addresses[0]!;
    return {
      externalId,
      firstName: p.firstName,
      lastName: p.lastName,
      street: a.street,
      houseNumber: a.houseNumber,
      postalCode: a.postalCode,
      city: a.city.toUpperCase(),
      birthDate: p.birthDate,
      nationalId: p.nationalId,
    };
  };
  const add = (input: Record<string, unknown>, key?: string) =>
    q<AddPayload>(ADD, { input, ...(key ? { key } : {}) });

  beforeAll(async () => {
    app = await startTestGateway();
    sb = new ByndleSandbox(app);
    const persons = (await sb.persons(500)).filter(
      (p) => p.byndleId && p.nationalIdKind === 'FNR' && p.addresses[0] && misspell(p.lastName),
    );
    target = persons[2]!;
    others = persons.slice(3, 8);
    expect(target).toBeDefined();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(async () => {
    await sb.clearFaults();
    await sb.resetCounts();
  });

  describe('addAjourholdEntry', () => {
    it('answers with the entry as Byndle corrected it: SOUNDEX match on a misspelt name, level 2, maintained', async () => {
      const misspelt = misspell(target.lastName)!;
      const input = { ...inputFor(target), lastName: misspelt };
      const body = await add(input);
      expect(body.errors).toBeUndefined();
      const r = body.data!.addAjourholdEntry;
      expect(r.outcome).toBe('ADDED');
      expect(r.maintained).toBe(true);
      expect(r.entry).toMatchObject({
        externalId: input.externalId,
        byndleId: target.byndleId,
        matchLevel: 2,
        maintained: true,
        lastName: target.lastName,
        person: { lastName: target.lastName },
      });
      expect(r.corrections).toContainEqual({ field: 'lastName', sent: misspelt, corrected: target.lastName });
      expect(r.corrections).toContainEqual({
        field: 'city',
        sent: target.addresses[0]!.city.toUpperCase(),
        corrected: target.addresses[0]!.city,
      });
      // National ids are never echoed, neither in corrections nor anywhere in the answer.
      expect(r.corrections.some((c) => /national/i.test(c.field))).toBe(false);
      expect(JSON.stringify(body)).not.toContain(target.nationalId);
      expect(await writes(sb.control)).toEqual({ post: 1, deleteExt: 0, deleteBy: 0 });
    });

    it('adds an unmatched person as sent: no byndleId, no match level, not maintained', async () => {
      const input = {
        externalId: uniqueId('NOBODY'),
        firstName: 'Xqzvbnm',
        lastName: 'Qwxzyplk',
        street: 'Ingensteds vei',
        houseNumber: '1',
        postalCode: '9999',
        city: 'Nowhere',
        birthDate: '1901-01-01',
      };
      const r = (await add(input)).data!.addAjourholdEntry;
      expect(r).toMatchObject({
        outcome: 'ADDED',
        maintained: false,
        corrections: [],
        entry: {
          externalId: input.externalId,
          byndleId: null,
          matchLevel: null,
          maintained: false,
          person: null,
        },
      });
    });

    it('shows the added entry in ajourholdEntries', async () => {
      const input = inputFor(others[0]!);
      await add(input);
      const list = await q<{
        ajourholdEntries: { totalCount: number; edges: { node: { externalId: string; byndleId: string } }[] };
      }>(ENTRIES);
      expect(list.errors).toBeUndefined();
      expect(list.data!.ajourholdEntries.edges.map((e) => e.node)).toContainEqual(
        expect.objectContaining({ externalId: input.externalId, byndleId: others[0]!.byndleId }),
      );
    });

    it('answers ALREADY_EXISTS (not an error) when the externalId is already in the ajourhold', async () => {
      const input = inputFor(others[1]!);
      expect((await add(input)).data!.addAjourholdEntry.outcome).toBe('ADDED');
      const again = await add({ ...input, firstName: 'Someone' });
      expect(again.errors).toBeUndefined();
      expect(again.data!.addAjourholdEntry).toEqual({
        outcome: 'ALREADY_EXISTS',
        maintained: false,
        corrections: [],
        entry: null,
      });
      expect((await writes(sb.control)).post).toBe(2);
    });

    describe('validates the whole input before anything goes upstream', () => {
      const fnr = makeFnr('150580', 279)!;
      const cases: [field: string, value: string][] = [
        ['externalId', ''],
        ['externalId', 'has space'],
        ['externalId', 'a/b'],
        ['externalId', 'x'.repeat(101)],
        ['firstName', ''],
        ['firstName', '   '],
        ['firstName', 'x'.repeat(101)],
        ['lastName', ''],
        ['lastName', 'y'.repeat(101)],
        ['street', 's'.repeat(201)],
        ['houseNumber', '1'.repeat(21)],
        ['city', 'c'.repeat(101)],
        ['postalCode', '123'],
        ['postalCode', '12345'],
        ['postalCode', 'AB12'],
        ['birthDate', '1980-02-30'],
        ['birthDate', '1980/05/15'],
        ['birthDate', '15.05.1980'],
        ['birthDate', '2999-01-01'],
        ['nationalId', fnr.slice(0, 10) + String((Number(fnr[10]) + 1) % 10)],
        ['nationalId', '1234'],
        ['mobile', '91234567'],
        ['mobile', '+47912345678'],
      ];
      it.each(cases)('%s = %j → BAD_USER_INPUT naming input.%s, value not echoed', async (field, value) => {
        const input = { ...inputFor(target), [field]: value };
        const body = await add(input);
        badInput(body, `input.${field}`);
        expect(body.errors![0]!.extensions).toMatchObject({ field });
        if (value.length > 3) expect(body.errors![0]!.message).not.toContain(value);
        expect(body.data).toBeNull();
        expect((await writes(sb.control)).post).toBe(0);
      });

      it('lists every bad field at once', async () => {
        const body = await add({ ...inputFor(target), firstName: '', postalCode: '1', mobile: '123' });
        badInput(body, 'input.firstName');
        expect(body.errors![0]!.extensions!.fields).toEqual(['firstName', 'postalCode', 'mobile']);
        expect((await writes(sb.control)).post).toBe(0);
      });

      it('accepts a valid mobile with spaces and an empty house number', async () => {
        const body = await add({ ...inputFor(others[2]!), houseNumber: '', mobile: '+47 912 34 567' });
        expect(body.errors).toBeUndefined();
        expect(body.data!.addAjourholdEntry.outcome).toBe('ADDED');
      });
    });

    it('reports a failing Byndle as an error with code, provider and status', async () => {
      await sb.fault({ errorRate: 1, errorStatus: 503, pathIncludes: '/v1/ajourhold' });
      const body = await add(inputFor(others[3]!), uniqueId('key'));
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        provider: 'byndle',
        status: 503,
      });
      // Never retried: exactly one upstream attempt.
      const c = (await (await fetch(`${sb.control}/counters`)).json()) as { byndle: Record<string, number> };
      expect(c.byndle['POST (fault 503)']).toBe(1);
    });
  });

  describe('removeAjourholdEntry', () => {
    it('removes by externalId with one DELETE, and a second remove answers notFound', async () => {
      const input = inputFor(others[3]!);
      await add(input);
      await sb.resetCounts();
      const first = await q<RemovePayload>(REMOVE, { externalId: input.externalId });
      expect(first.errors).toBeUndefined();
      expect(first.data!.removeAjourholdEntry).toEqual({
        notFound: false,
        removed: [{ externalId: input.externalId, byndleId: others[3]!.byndleId, matchLevel: 2 }],
      });
      expect(await writes(sb.control)).toEqual({ post: 0, deleteExt: 1, deleteBy: 0 });

      const second = await q<RemovePayload>(REMOVE, { externalId: input.externalId });
      expect(second.errors).toBeUndefined();
      expect(second.data!.removeAjourholdEntry).toEqual({ notFound: true, removed: [] });
      const list = await q<{ ajourholdEntries: { edges: { node: { externalId: string } }[] } }>(ENTRIES);
      expect(list.data!.ajourholdEntries.edges.map((e) => e.node.externalId)).not.toContain(input.externalId);
    });

    it('removes every entry matched to a byndleId with one DELETE', async () => {
      const p = others[4]!;
      const a = inputFor(p);
      const b = { ...inputFor(p), firstName: misspell(p.firstName) ?? p.firstName };
      await add(a);
      await add(b);
      await sb.resetCounts();
      const body = await q<RemovePayload>(REMOVE, { byndleId: p.byndleId });
      expect(body.errors).toBeUndefined();
      const r = body.data!.removeAjourholdEntry;
      expect(r.notFound).toBe(false);
      expect(r.removed.map((e) => e.externalId).sort()).toEqual([a.externalId, b.externalId].sort());
      expect(r.removed.every((e) => e.byndleId === p.byndleId)).toBe(true);
      expect(await writes(sb.control)).toEqual({ post: 0, deleteExt: 0, deleteBy: 1 });

      const again = await q<RemovePayload>(REMOVE, { byndleId: p.byndleId });
      expect(again.data!.removeAjourholdEntry).toEqual({ notFound: true, removed: [] });
    });

    it('demands exactly one of externalId and byndleId, in a plain alphabet', async () => {
      badInput(await q(REMOVE, {}), 'externalId');
      badInput(await q(REMOVE, { externalId: 'A', byndleId: 'B' }), 'byndleId');
      badInput(await q(REMOVE, { externalId: '../entries' }), 'externalId');
      badInput(await q(REMOVE, { byndleId: '' }), 'byndleId');
      expect(await writes(sb.control)).toEqual({ post: 0, deleteExt: 0, deleteBy: 0 });
    });
  });

  describe('idempotency', () => {
    it('replays an add retried with the same key without a second upstream POST', async () => {
      const input = inputFor(nextPerson());
      const key = uniqueId('add');
      const first = await add(input, key);
      const second = await add(input, key);
      expect(first.errors).toBeUndefined();
      expect(first.data!.addAjourholdEntry.outcome).toBe('ADDED');
      expect(second).toEqual(first);
      expect((await writes(sb.control)).post).toBe(1);
    });

    it('refuses the same key with a different input', async () => {
      const input = inputFor(nextPerson());
      const key = uniqueId('add');
      await add(input, key);
      const other = await add({ ...input, city: 'Elsewhere' }, key);
      badInput(other, 'idempotencyKey');
      expect((await writes(sb.control)).post).toBe(1);
    });

    it('replays a remove retried with the same key without a second DELETE', async () => {
      const input = inputFor(nextPerson());
      await add(input);
      await sb.resetCounts();
      const key = uniqueId('remove');
      const first = await q<RemovePayload>(REMOVE, { externalId: input.externalId, key });
      const second = await q<RemovePayload>(REMOVE, { externalId: input.externalId, key });
      expect(first.data!.removeAjourholdEntry.removed).toHaveLength(1);
      expect(second).toEqual(first);
      expect((await writes(sb.control)).deleteExt).toBe(1);
    });

    it('lets a key be used again after the first attempt failed upstream', async () => {
      const input = inputFor(nextPerson());
      const key = uniqueId('add');
      await sb.fault({ errorRate: 1, errorStatus: 503, pathIncludes: '/v1/ajourhold' });
      expect((await add(input, key)).errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      await sb.clearFaults();
      const retry = await add(input, key);
      expect(retry.errors).toBeUndefined();
      expect(retry.data!.addAjourholdEntry.outcome).toBe('ADDED');
    });
  });

  /** Any registered person not yet used above (each add needs its own externalId anyway). */
  let next = 0;
  function nextPerson(): SandboxPerson {
    return others[next++ % others.length]!;
  }
});

describe.skipIf(!redisUrl)('ajourhold idempotency across two instances sharing Redis', () => {
  let sandbox: Sandbox;
  let a: Nordgraph;
  let b: Nordgraph;
  beforeAll(async () => {
    sandbox = await startSandbox();
    a = await startGatewayOn(sandbox, { REDIS_URL: redisUrl! });
    b = await startGatewayOn(sandbox, { REDIS_URL: redisUrl! });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sandbox?.close();
  });

  it('the same key sent to A then B makes one upstream POST, and B replays A’s result', async () => {
    await fetch(`${sandbox.controlUrl}/counters/reset`, { method: 'POST' });
    const input = {
      externalId: uniqueId('TWO'),
      firstName: 'Ola',
      lastName: 'Nordman',
      street: 'Storgata',
      houseNumber: '10',
      postalCode: '0182',
      city: 'OSLO',
      birthDate: '1980-05-15',
    };
    const key = uniqueId('two-instances');
    const first = await gql<AddPayload>(a.url, ADD, { input, key });
    const second = await gql<AddPayload>(b.url, ADD, { input, key });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.addAjourholdEntry.outcome).toBe('ADDED');
    expect(second.body).toEqual(first.body);
    expect((await writes(sandbox.controlUrl)).post).toBe(1);

    const removeKey = uniqueId('two-instances-remove');
    const r1 = await gql<RemovePayload>(a.url, REMOVE, { externalId: input.externalId, key: removeKey });
    const r2 = await gql<RemovePayload>(b.url, REMOVE, { externalId: input.externalId, key: removeKey });
    expect(r1.body.data!.removeAjourholdEntry.removed).toHaveLength(1);
    expect(r2.body).toEqual(r1.body);
    expect((await writes(sandbox.controlUrl)).deleteExt).toBe(1);
  });
});
