import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startGatewayOn, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';
import { startSandbox } from '../../src/sandbox/index.js';

let app: Nordgraph;
let control: string;
/** Our own company at Symetrisk: the creditor of borrower access. */
let own: string;
/** Population businesses (every one is a known organisation at Symetrisk), without our own. */
let businesses: string[];
/** Hands out organisation numbers no other test has used, so tests do not see each other's requests. */
let nextBusiness = 0;
function fresh(n: number): string[] {
  const out = businesses.slice(nextBusiness, nextBusiness + n);
  nextBusiness += n;
  expect(out.length, 'population has enough businesses').toBe(n);
  return out;
}

const BORROWER_ACCESS = 'POST /api/v1/request-borrower-access';
const DEBTOR_ACCESS = 'POST /api/v1/request-debtor-access/:creditor_organization_number';
const CREATE_SCORER = 'POST /api/v1/create-credit-scorer-company';
const BORROWER = 'GET /api/v1/borrower/:organization_number';

async function post(path: string, body: unknown, base = control): Promise<Response> {
  const res = await fetch(`${base}${path}`, {
    method: path.startsWith('/faults') ? 'PUT' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok, `${path} answered ${res.status}`).toBe(true);
  return res;
}

async function counters(base = control): Promise<Record<string, number>> {
  const res = await fetch(`${base}/counters`);
  return ((await res.json()) as { symetrisk: Record<string, number> }).symetrisk;
}

async function resetCounters(base = control): Promise<void> {
  await post('/counters/reset', {}, base);
}

/** A valid organisation number (mod-11) that no population business has, different per `seed`. */
function unknownOrgNr(seed = 0): string {
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  let found = -1;
  for (let n = 99_999_000; ; n++) {
    const d = String(n).split('').map(Number);
    const check = (11 - (d.reduce((s, x, i) => s + x * (weights[i] ?? 0), 0) % 11)) % 11;
    if (check < 10 && ++found === seed) return `${n}${check}`;
  }
}

/** The same number with a wrong check digit. */
function badCheckDigit(orgNr: string): string {
  return orgNr.slice(0, 8) + String((Number(orgNr[8]) + 1) % 10);
}

interface AccessResult {
  organizationNumber: string;
  inputIndexes: number[];
  outcome: string;
  ok: boolean;
  alreadyRequested: boolean;
  name: string | null;
  relationshipState: string;
  signupLink: string | null;
  requestedAt: string | null;
}
interface AccessPayload {
  creditorOrganizationNumber: string;
  results: AccessResult[];
  duplicatesCollapsed: number;
  upstreamCalls: number;
  complete: boolean;
}
interface ScorerPayload {
  results: {
    organizationNumber: string;
    inputIndexes: number[];
    outcome: string;
    ok: boolean;
    alreadyExisted: boolean;
    id: string | null;
    name: string | null;
    createdAt: string | null;
  }[];
  duplicatesCollapsed: number;
  upstreamCalls: number;
  complete: boolean;
}

const ACCESS_FIELDS = /* GraphQL */ `
  creditorOrganizationNumber
  duplicatesCollapsed
  upstreamCalls
  complete
  results {
    organizationNumber
    inputIndexes
    outcome
    ok
    alreadyRequested
    name
    relationshipState
    signupLink
    requestedAt
  }
`;
const REQUEST_BORROWER_ACCESS = /* GraphQL */ `
  mutation ($orgNrs: [String!]!, $key: String) {
    requestBorrowerAccess(organizationNumbers: $orgNrs, idempotencyKey: $key) { ${ACCESS_FIELDS} }
  }
`;
const REQUEST_DEBTOR_ACCESS = /* GraphQL */ `
  mutation ($creditor: String!, $orgNrs: [String!]!, $key: String) {
    requestDebtorAccess(creditorOrganizationNumber: $creditor, debtorOrganizationNumbers: $orgNrs, idempotencyKey: $key) {
      ${ACCESS_FIELDS}
    }
  }
`;
const CREATE_CREDIT_SCORER = /* GraphQL */ `
  mutation ($orgNrs: [String!]!, $key: String) {
    createCreditScorerCompany(organizationNumbers: $orgNrs, idempotencyKey: $key) {
      duplicatesCollapsed
      upstreamCalls
      complete
      results {
        organizationNumber
        inputIndexes
        outcome
        ok
        alreadyExisted
        id
        name
        createdAt
      }
    }
  }
`;

async function borrowerAccess(orgNrs: string[], key?: string, url = app.url) {
  return gql<{ requestBorrowerAccess: AccessPayload }>(url, REQUEST_BORROWER_ACCESS, { orgNrs, key });
}
async function debtorAccess(creditor: string, orgNrs: string[], key?: string) {
  return gql<{ requestDebtorAccess: AccessPayload }>(app.url, REQUEST_DEBTOR_ACCESS, {
    creditor,
    orgNrs,
    key,
  });
}
async function createScorer(orgNrs: string[], key?: string) {
  return gql<{ createCreditScorerCompany: ScorerPayload }>(app.url, CREATE_CREDIT_SCORER, { orgNrs, key });
}

function ok<T>(body: GraphQLResponse<T>): T {
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data!;
}

function badInput(body: GraphQLResponse, argument: string) {
  const e = body.errors?.[0];
  expect(e?.extensions?.code, JSON.stringify(body.errors)).toBe('BAD_USER_INPUT');
  expect(e?.extensions?.argument).toBe(argument);
  return e!;
}

beforeAll(async () => {
  app = await startTestGateway();
  control = app.sandbox!.controlUrl;
  own = app.sandbox!.credentials.symetrisk.ownOrgNr;
  businesses = [];
  for (let offset = 0; ; offset += 500) {
    const res = await fetch(`${control}/businesses?limit=500&offset=${offset}`);
    const page = ((await res.json()) as { businesses: { orgNr: string }[] }).businesses;
    businesses.push(...page.map((x) => x.orgNr).filter((o) => o !== own));
    if (page.length < 500) break;
  }
  expect(businesses.length).toBeGreaterThanOrEqual(600);
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

describe('requestBorrowerAccess', () => {
  it('requests access and returns the signup link and the requested state, in one upstream call', async () => {
    const orgNrs = fresh(2);
    await resetCounters();
    const { body } = await borrowerAccess(orgNrs);
    const payload = ok(body).requestBorrowerAccess;
    expect(payload.creditorOrganizationNumber).toBe(own);
    expect(payload).toMatchObject({ duplicatesCollapsed: 0, upstreamCalls: 1, complete: true });
    expect(payload.results.map((r) => r.organizationNumber)).toEqual(orgNrs);
    for (const [i, r] of payload.results.entries()) {
      expect(r).toMatchObject({
        inputIndexes: [i],
        outcome: 'ACCEPTED',
        ok: true,
        alreadyRequested: false,
        relationshipState: 'ACCESS_REQUESTED',
      });
      expect(r.name).toBeTruthy();
      expect(r.signupLink).toMatch(/^https:\/\/app\.symetrisk\.com\/signup\?invitation=/);
      expect(r.requestedAt).toBeTruthy();
    }
    expect((await counters())[BORROWER_ACCESS]).toBe(1);
  });

  it('asking again for a requested company says so (alreadyRequested, its state and link) instead of failing', async () => {
    const [orgNr] = fresh(1) as [string];
    const first = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    const again = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    expect(again).toMatchObject({
      outcome: 'ALREADY_REQUESTED',
      ok: true,
      alreadyRequested: true,
      relationshipState: 'ACCESS_REQUESTED',
      signupLink: first.signupLink,
      requestedAt: first.requestedAt,
    });
  });

  it('after the company approves, asking again says ALREADY_APPROVED', async () => {
    const [orgNr] = fresh(1) as [string];
    ok((await borrowerAccess([orgNr])).body);
    await post('/symetrisk/approve', { organization_number: orgNr });
    const again = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    expect(again).toMatchObject({
      outcome: 'ALREADY_APPROVED',
      ok: true,
      alreadyRequested: true,
      relationshipState: 'ACCESS_APPROVED',
    });
  });

  it('a rejected company is requested anew (ACCEPTED)', async () => {
    const [orgNr] = fresh(1) as [string];
    ok((await borrowerAccess([orgNr])).body);
    await post('/symetrisk/reject', { organization_number: orgNr });
    const again = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    expect(again).toMatchObject({
      outcome: 'ACCEPTED',
      alreadyRequested: false,
      relationshipState: 'ACCESS_REQUESTED',
    });
  });

  it('reports refused companies on their own items while the others are accepted', async () => {
    const [good] = fresh(1) as [string];
    const unknown = unknownOrgNr();
    const { body } = await borrowerAccess([unknown, good, own]);
    const results = ok(body).requestBorrowerAccess.results;
    expect(results.map((r) => [r.organizationNumber, r.outcome, r.ok])).toEqual([
      [unknown, 'NOT_FOUND', false],
      [good, 'ACCEPTED', true],
      [own, 'OWN_ORGANIZATION', false],
    ]);
    expect(results[0]).toMatchObject({
      relationshipState: 'NONE',
      signupLink: null,
      alreadyRequested: false,
    });
  });

  it('collapses duplicates (also written with spaces) into one result and says so', async () => {
    const [a, b] = fresh(2) as [string, string];
    const spaced = `${a.slice(0, 3)} ${a.slice(3, 6)} ${a.slice(6)}`;
    await resetCounters();
    const payload = ok((await borrowerAccess([a, b, spaced, a])).body).requestBorrowerAccess;
    expect(payload.duplicatesCollapsed).toBe(2);
    expect(payload.results.map((r) => [r.organizationNumber, r.inputIndexes, r.outcome])).toEqual([
      [a, [0, 2, 3], 'ACCEPTED'],
      [b, [1], 'ACCEPTED'],
    ]);
    expect((await counters())[BORROWER_ACCESS]).toBe(1);
  });

  it('splits 150 companies into two upstream calls (100 + 50) and reports every one', async () => {
    const orgNrs = fresh(150);
    await resetCounters();
    const payload = ok((await borrowerAccess(orgNrs)).body).requestBorrowerAccess;
    expect(payload.upstreamCalls).toBe(2);
    expect(payload.complete).toBe(true);
    expect(payload.results).toHaveLength(150);
    expect(payload.results.map((r) => r.organizationNumber)).toEqual(orgNrs);
    expect(payload.results.every((r) => r.outcome === 'ACCEPTED')).toBe(true);
    expect((await counters())[BORROWER_ACCESS]).toBe(2);
  });

  it('a bad check digit is BAD_USER_INPUT naming the item and its index, and nothing goes upstream', async () => {
    const [a, b, c] = fresh(3) as [string, string, string];
    await resetCounters();
    const bad = badCheckDigit(c);
    const { body } = await borrowerAccess([a, b, bad]);
    const e = badInput(body, 'organizationNumbers[2]');
    expect(e.extensions?.index).toBe(2);
    expect(e.message).not.toContain(bad);
    expect(body.data).toBeNull();
    expect(await counters()).toEqual({});
  });

  it('refuses an empty list and more than 1000 numbers before anything goes upstream', async () => {
    await resetCounters();
    badInput((await borrowerAccess([])).body, 'organizationNumbers');
    badInput((await borrowerAccess(Array.from({ length: 1001 }, () => own))).body, 'organizationNumbers');
    badInput((await borrowerAccess(['12345'])).body, 'organizationNumbers[0]');
    expect(await counters()).toEqual({});
  });

  it('evicts the cached borrower, so a read after the request shows the new state', async () => {
    const [orgNr] = fresh(1) as [string];
    const READ = 'query ($o: String!) { borrower(organizationNumber: $o) { relationshipState } }';
    await post('/symetrisk/approve', { organization_number: orgNr });
    // Approved borrowers are cached: the second read makes no upstream call.
    expect(
      ok((await gql<{ borrower: { relationshipState: string } }>(app.url, READ, { o: orgNr })).body).borrower
        .relationshipState,
    ).toBe('ACCESS_APPROVED');
    await post('/symetrisk/revoke', { organization_number: orgNr });
    await resetCounters();
    expect(
      ok((await gql<{ borrower: { relationshipState: string } }>(app.url, READ, { o: orgNr })).body).borrower
        .relationshipState,
    ).toBe('ACCESS_APPROVED');
    expect((await counters())[BORROWER]).toBeUndefined();

    const result = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    expect(result).toMatchObject({ outcome: 'ACCEPTED', relationshipState: 'ACCESS_REQUESTED' });
    await resetCounters();
    const after = ok(
      (await gql<{ borrower: { relationshipState: string } }>(app.url, READ, { o: orgNr })).body,
    );
    expect(after.borrower.relationshipState).toBe('ACCESS_REQUESTED');
    expect((await counters())[BORROWER]).toBe(1);
  });

  it('a failure of the whole upstream call is an error on the field with code, provider and status', async () => {
    const [orgNr] = fresh(1) as [string];
    await post('/faults/symetrisk', {
      errorRate: 1,
      errorStatus: 503,
      pathIncludes: 'request-borrower-access',
    });
    const { body } = await borrowerAccess([orgNr], 'fail-then-retry-1');
    expect(body.data).toBeNull();
    expect(body.errors?.[0]?.path).toEqual(['requestBorrowerAccess']);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'symetrisk',
      status: 503,
    });
    // The failed attempt released its key: the retry with the same key writes.
    await fetch(`${control}/faults`, { method: 'DELETE' });
    await resetCounters();
    const retry = ok((await borrowerAccess([orgNr], 'fail-then-retry-1')).body).requestBorrowerAccess;
    expect(retry.results[0]?.outcome).toBe('ACCEPTED');
    expect((await counters())[BORROWER_ACCESS]).toBe(1);
  });
});

describe('idempotency', () => {
  it('a retry with the same key returns the first result and makes no second upstream write', async () => {
    const orgNrs = fresh(2);
    await resetCounters();
    const first = ok((await borrowerAccess(orgNrs, 'borrower-retry-1')).body);
    const second = ok((await borrowerAccess(orgNrs, 'borrower-retry-1')).body);
    // Replayed, not asked again: a second write would say ALREADY_REQUESTED.
    expect(second).toEqual(first);
    expect(second.requestBorrowerAccess.results.every((r) => r.outcome === 'ACCEPTED')).toBe(true);
    expect((await counters())[BORROWER_ACCESS]).toBe(1);
  });

  it('without a key, asking twice writes twice', async () => {
    const orgNrs = fresh(1);
    await resetCounters();
    ok((await borrowerAccess(orgNrs)).body);
    ok((await borrowerAccess(orgNrs)).body);
    expect((await counters())[BORROWER_ACCESS]).toBe(2);
  });

  it('refuses a key reused with different input', async () => {
    const [a, b] = fresh(2) as [string, string];
    ok((await borrowerAccess([a], 'borrower-reuse-1')).body);
    await resetCounters();
    badInput((await borrowerAccess([b], 'borrower-reuse-1')).body, 'idempotencyKey');
    expect(await counters()).toEqual({});
  });

  it('replays debtor access and credit-scorer creation too', async () => {
    const [debtor, scorer] = fresh(2) as [string, string];
    await resetCounters();
    const d1 = ok((await debtorAccess(own, [debtor], 'debtor-retry-1')).body);
    const d2 = ok((await debtorAccess(own, [debtor], 'debtor-retry-1')).body);
    expect(d2).toEqual(d1);
    const c1 = ok((await createScorer([scorer], 'scorer-retry-1')).body);
    const c2 = ok((await createScorer([scorer], 'scorer-retry-1')).body);
    expect(c2).toEqual(c1);
    expect(c2.createCreditScorerCompany.results[0]?.outcome).toBe('CREATED');
    const n = await counters();
    expect(n[DEBTOR_ACCESS]).toBe(1);
    expect(n[CREATE_SCORER]).toBe(1);
  });

  const redisUrl = process.env.REDIS_URL;
  const runShared = Boolean(redisUrl) || process.env.CI === 'true';
  it.runIf(runShared)('across two instances sharing Redis: one upstream write', async () => {
    expect(redisUrl, 'CI must set REDIS_URL').toBeTruthy();
    const sandbox = await startSandbox();
    const env = { REDIS_URL: redisUrl! };
    const a = await startGatewayOn(sandbox, env);
    const b = await startGatewayOn(sandbox, env);
    try {
      const res = await fetch(`${sandbox.controlUrl}/businesses?limit=5`);
      const orgNrs = ((await res.json()) as { businesses: { orgNr: string }[] }).businesses
        .map((x) => x.orgNr)
        .filter((o) => o !== sandbox.credentials.symetrisk.ownOrgNr)
        .slice(0, 2);
      const key = `shared-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      await resetCounters(sandbox.controlUrl);
      const first = ok((await borrowerAccess(orgNrs, key, a.url)).body);
      const second = ok((await borrowerAccess(orgNrs, key, b.url)).body);
      expect(second).toEqual(first);
      expect(first.requestBorrowerAccess.results.every((r) => r.outcome === 'ACCEPTED')).toBe(true);
      expect((await counters(sandbox.controlUrl))[BORROWER_ACCESS]).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await sandbox.close();
    }
  });
});

describe('requestDebtorAccess', () => {
  it('requests debtor access for our own company; asking again after approval says ALREADY_APPROVED', async () => {
    const [debtor, other] = fresh(2) as [string, string];
    const first = ok((await debtorAccess(own, [debtor, other])).body).requestDebtorAccess;
    expect(first.creditorOrganizationNumber).toBe(own);
    expect(first.results.map((r) => r.outcome)).toEqual(['ACCEPTED', 'ACCEPTED']);
    expect(first.results[0]?.signupLink).toMatch(/^https:\/\//);

    await post('/symetrisk/approve', { organization_number: debtor, creditor_organization_number: own });
    const again = ok((await debtorAccess(own, [debtor, other])).body).requestDebtorAccess.results;
    expect(again.map((r) => [r.outcome, r.alreadyRequested, r.relationshipState])).toEqual([
      ['ALREADY_APPROVED', true, 'ACCESS_APPROVED'],
      ['ALREADY_REQUESTED', true, 'ACCESS_REQUESTED'],
    ]);
  });

  it('a debtor request is not a borrower request: the borrower relationship stays untouched', async () => {
    const [orgNr] = fresh(1) as [string];
    ok((await debtorAccess(own, [orgNr])).body);
    const borrower = ok((await borrowerAccess([orgNr])).body).requestBorrowerAccess.results[0]!;
    expect(borrower.outcome).toBe('ACCEPTED');
  });

  it('splits 150 debtors into two upstream calls', async () => {
    const orgNrs = fresh(150);
    await resetCounters();
    const payload = ok((await debtorAccess(own, orgNrs)).body).requestDebtorAccess;
    expect(payload).toMatchObject({ upstreamCalls: 2, complete: true });
    expect(payload.results).toHaveLength(150);
    expect((await counters())[DEBTOR_ACCESS]).toBe(2);
  });

  it('validates the creditor and every debtor before anything goes upstream', async () => {
    const [a] = fresh(1) as [string];
    await resetCounters();
    badInput((await debtorAccess(badCheckDigit(own), [a])).body, 'creditorOrganizationNumber');
    const e = badInput((await debtorAccess(own, [a, 'abc'])).body, 'debtorOrganizationNumbers[1]');
    expect(e.extensions?.index).toBe(1);
    badInput((await debtorAccess(own, [])).body, 'debtorOrganizationNumbers');
    expect(await counters()).toEqual({});
  });

  it('a creditor we do not act for is UPSTREAM_FORBIDDEN; once it is a credit-scorer company it works', async () => {
    const [creditor, debtor] = fresh(2) as [string, string];
    const refused = (await debtorAccess(creditor, [debtor])).body;
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_FORBIDDEN',
      provider: 'symetrisk',
      status: 403,
    });

    ok((await createScorer([creditor])).body);
    const payload = ok((await debtorAccess(creditor, [debtor])).body).requestDebtorAccess;
    expect(payload.creditorOrganizationNumber).toBe(creditor);
    expect(payload.results[0]?.outcome).toBe('ACCEPTED');
  });

  it('an unknown creditor is UPSTREAM_NOT_FOUND', async () => {
    const [debtor] = fresh(1) as [string];
    const { body } = await debtorAccess(unknownOrgNr(1), [debtor]);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_NOT_FOUND',
      provider: 'symetrisk',
      status: 404,
    });
  });

  it('a debtor equal to the creditor is OWN_ORGANIZATION', async () => {
    const [debtor] = fresh(1) as [string];
    const results = ok((await debtorAccess(own, [own, debtor])).body).requestDebtorAccess.results;
    expect(results.map((r) => r.outcome)).toEqual(['OWN_ORGANIZATION', 'ACCEPTED']);
  });
});

describe('createCreditScorerCompany', () => {
  it('creates, then says ALREADY_EXISTS; unknown ones are NOT_FOUND; duplicates collapse', async () => {
    const [a, b] = fresh(2) as [string, string];
    const unknown = unknownOrgNr(2);
    await resetCounters();
    const first = ok((await createScorer([a, unknown, a])).body).createCreditScorerCompany;
    expect(first.duplicatesCollapsed).toBe(1);
    expect(first.results.map((r) => [r.organizationNumber, r.inputIndexes, r.outcome, r.ok])).toEqual([
      [a, [0, 2], 'CREATED', true],
      [unknown, [1], 'NOT_FOUND', false],
    ]);
    expect(first.results[0]?.id).toBeTruthy();
    expect(first.results[0]?.name).toBeTruthy();
    expect(first.results[0]?.createdAt).toBeTruthy();
    expect(first.results[1]).toMatchObject({ id: null, name: null, createdAt: null, alreadyExisted: false });

    const again = ok((await createScorer([a, b])).body).createCreditScorerCompany.results;
    expect(again.map((r) => [r.outcome, r.alreadyExisted])).toEqual([
      ['ALREADY_EXISTS', true],
      ['CREATED', false],
    ]);
    expect(again[0]?.id).toBe(first.results[0]?.id);
    expect((await counters())[CREATE_SCORER]).toBe(2);
  });

  it('splits 150 companies into two upstream calls', async () => {
    const orgNrs = fresh(150);
    await resetCounters();
    const payload = ok((await createScorer(orgNrs)).body).createCreditScorerCompany;
    expect(payload).toMatchObject({ upstreamCalls: 2, complete: true });
    expect(payload.results.every((r) => r.outcome === 'CREATED')).toBe(true);
    expect((await counters())[CREATE_SCORER]).toBe(2);
  });

  it('names the bad item', async () => {
    const [a] = fresh(1) as [string];
    await resetCounters();
    const e = badInput((await createScorer([a, a, badCheckDigit(a)])).body, 'organizationNumbers[2]');
    expect(e.extensions?.index).toBe(2);
    expect(await counters()).toEqual({});
  });
});
