import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

let app: Nordgraph;
let control: string;
/** Our own company at Symetrisk: the creditor of Borrower.creditScore. */
let own: string;
/** Population borrowers in order (the order seed-approved uses), with their snapshot counts. */
let borrowers: { orgNr: string; accounting: number }[];

const SCORE = '/api/v1/get-credit-score/:creditor_organization_number/:debtor_organization_number';
const ACCOUNTING = '/api/v1/accounting-data/:organization_number';
const BORROWER = '/api/v1/borrower/:organization_number';

async function post(path: string, body: unknown, method = 'POST'): Promise<Response> {
  const res = await fetch(`${control}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok, `${method} ${path} answered ${res.status}`).toBe(true);
  return res;
}

async function symetriskCounters(): Promise<Record<string, number>> {
  const res = await fetch(`${control}/counters`);
  return ((await res.json()) as { symetrisk: Record<string, number> }).symetrisk;
}

async function resetCounters(): Promise<void> {
  await post('/counters/reset', {});
}

/** Approves the borrower relationship (accounting) and the debtor relationship with our company (credit score). */
async function approve(orgNr: string): Promise<void> {
  await post('/symetrisk/approve', { organization_number: orgNr });
  await post('/symetrisk/approve', { organization_number: orgNr, creditor_organization_number: own });
}

/** A valid organisation number (mod-11) that no population business has. */
function unknownOrgNr(): string {
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  for (let n = 99_999_000; ; n++) {
    const d = String(n).split('').map(Number);
    const check = (11 - (d.reduce((s, x, i) => s + x * (weights[i] ?? 0), 0) % 11)) % 11;
    if (check < 10) return `${n}${check}`;
  }
}

function errorOf(body: GraphQLResponse, path?: (string | number)[]) {
  const e = path
    ? body.errors?.find((x) => JSON.stringify(x.path) === JSON.stringify(path))
    : body.errors?.[0];
  expect(e, JSON.stringify(body.errors)).toBeDefined();
  return e!;
}

interface Conn<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number | null;
}

/** Follows `endCursor` until hasNextPage is false; returns every node and the number of pages. */
async function pageToEnd<T>(
  query: string,
  field: string,
  variables: Record<string, unknown>,
): Promise<{ nodes: T[]; pages: number; totalCount: number | null }> {
  const nodes: T[] = [];
  let after: string | null = null;
  let pages = 0;
  let totalCount: number | null = null;
  for (;;) {
    const res: { body: GraphQLResponse<Record<string, Conn<T>>> } = await gql<Record<string, Conn<T>>>(
      app.url,
      query,
      { ...variables, after },
    );
    const body = res.body;
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const conn: Conn<T> = body.data![field]!;
    pages += 1;
    totalCount = conn.totalCount;
    nodes.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage) break;
    expect(conn.edges.length).toBeGreaterThan(0);
    after = conn.pageInfo.endCursor;
    if (pages > 50) throw new Error('paging does not end');
  }
  return { nodes, pages, totalCount };
}

beforeAll(async () => {
  app = await startTestGateway();
  control = app.sandbox!.controlUrl;
  own = app.sandbox!.credentials.symetrisk.ownOrgNr;
  const res = await fetch(`${control}/borrowers?limit=500`);
  borrowers = ((await res.json()) as { borrowers: { orgNr: string; accounting: number }[] }).borrowers;
  expect(borrowers.length).toBeGreaterThanOrEqual(110);
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

const PAGE_OF_100 = /* GraphQL */ `
  query {
    borrowerRelationships(first: 100) {
      totalCount
      edges {
        node {
          organizationNumber
          creditScore {
            score
          }
          accounting(first: 12) {
            edges {
              node {
                snapshotDate
                revenue
              }
            }
          }
        }
      }
    }
  }
`;

interface Page100 {
  borrowerRelationships: Conn<{
    organizationNumber: string;
    creditScore: { score: number } | null;
    accounting: { edges: { node: { snapshotDate: string; revenue: number } }[] };
  }>;
}

// Runs first, on a fresh sandbox, so the 100 relationships are exactly the seeded ones.
describe('a page of 100 borrowers with credit scores and accounting', () => {
  beforeAll(async () => {
    await post('/symetrisk/seed-approved', { count: 100 });
    await post('/symetrisk/seed-approved', { count: 100, creditor_organization_number: own });
  });

  it('makes no upstream call twice: 1 relationships call, at most 1 self call, 100 score and 100 accounting calls', async () => {
    await resetCounters();
    const { body } = await gql<Page100>(app.url, PAGE_OF_100);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const edges = body.data!.borrowerRelationships.edges;
    expect(edges).toHaveLength(100);
    expect(body.data!.borrowerRelationships.totalCount).toBe(100);
    for (const { node } of edges) {
      const expected = borrowers.find((b) => b.orgNr === node.organizationNumber)!;
      expect(node.accounting.edges).toHaveLength(Math.min(12, expected.accounting));
      // No accounting, no score (Symetrisk answers 404: null).
      expect(node.creditScore === null).toBe(expected.accounting === 0);
    }

    const counts = await symetriskCounters();
    const { 'POST /oauth2/token': token = 0, 'GET /api/v1/self': self = 0, ...rest } = counts;
    expect(token).toBeLessThanOrEqual(1);
    expect(self).toBeLessThanOrEqual(1);
    expect(rest).toEqual({
      'GET /api/v1/relationships': 1,
      [`GET ${SCORE}`]: 100,
      [`GET ${ACCOUNTING}`]: 100,
    });
  });

  it('answers the same query again within the cache TTL without calling for scores or accounting', async () => {
    const first = await gql<Page100>(app.url, PAGE_OF_100);
    await resetCounters();
    const second = await gql<Page100>(app.url, PAGE_OF_100);
    expect(second.body.errors).toBeUndefined();
    expect(second.body.data).toEqual(first.body.data);
    // The relationship list itself is never cached: it is where approvals show up.
    expect(await symetriskCounters()).toEqual({ 'GET /api/v1/relationships': 1 });
  });

  it('asks for one credit score once when a query reaches it through two paths', async () => {
    const debtor = borrowers.slice(140).find((b) => b.accounting > 0)!.orgNr;
    await approve(debtor);
    await resetCounters();
    const { body } = await gql<{ a: { score: number }; b: { creditScore: { score: number } } }>(
      app.url,
      `query ($own: String!, $debtor: String!) {
        a: creditScore(creditorOrganizationNumber: $own, debtorOrganizationNumber: $debtor) { score riskClass }
        b: borrower(organizationNumber: $debtor) { creditScore { score riskClass } }
      }`,
      { own, debtor },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.a).toEqual(body.data!.b.creditScore);
    expect(await symetriskCounters()).toEqual({
      [`GET ${BORROWER}`]: 1,
      [`GET ${SCORE}`]: 1,
    });
  });
});

describe('provider status', () => {
  it('reports Symetrisk up through GET /ping', async () => {
    await resetCounters();
    const { body } = await gql<{ providerStatus: { provider: string; up: boolean }[] }>(
      app.url,
      '{ providerStatus { provider up error } }',
    );
    expect(body.data!.providerStatus.find((p) => p.provider === 'SYMETRISK')).toMatchObject({ up: true });
    expect((await symetriskCounters())['GET /api/v1/ping']).toBe(1);
  });
});

describe('links', () => {
  it('Business.borrower: the business as a Symetrisk borrower, with its score', async () => {
    const b = borrowers[5]!;
    const { body } = await gql<{
      business: {
        organizationNumber: string;
        borrower: { id: string; relationshipState: string; creditScore: unknown };
      };
    }>(
      app.url,
      'query ($o: String!) { business(organizationNumber: $o) { organizationNumber borrower { id relationshipState creditScore { score } } } }',
      { o: b.orgNr },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.business.borrower).toMatchObject({
      id: `symetrisk:${b.orgNr}`,
      relationshipState: 'ACCESS_APPROVED',
    });
    expect(body.data!.business.borrower.creditScore === null).toBe(b.accounting === 0);
  });

  it('Business.borrower: state NONE for a business we never asked about', async () => {
    const { body } = await gql<{ business: { borrower: { relationshipState: string; creditScore: null } } }>(
      app.url,
      'query ($o: String!) { business(organizationNumber: $o) { borrower { relationshipState creditScore { score } accounting { totalCount } } } }',
      { o: borrowers[250]!.orgNr },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.business.borrower).toEqual({
      relationshipState: 'NONE',
      creditScore: null,
      accounting: { totalCount: 0 },
    });
  });

  it('a page of 100 borrowers with their businesses and credit scores makes no call twice', async () => {
    await resetCounters();
    const { body } = await gql<{
      borrowerRelationships: Conn<{
        organizationNumber: string;
        business: { organizationNumber: string; borrower: { id: string } };
      }>;
    }>(
      app.url,
      `{ borrowerRelationships(first: 100) { edges { node {
          organizationNumber creditScore { score }
          business { organizationNumber name borrower { id relationshipState } }
      } } } }`,
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const edges = body.data!.borrowerRelationships.edges;
    expect(edges).toHaveLength(100);
    for (const { node } of edges) {
      expect(node.business.organizationNumber).toBe(node.organizationNumber);
      expect(node.business.borrower.id).toBe(`symetrisk:${node.organizationNumber}`);
    }
    const res = await fetch(`${control}/counters`);
    const counts = (await res.json()) as Record<string, Record<string, number>>;
    // Scores are cached from the first query; Business.borrower is answered from the relationship page.
    expect(counts.symetrisk).toEqual({ 'GET /api/v1/relationships': 1 });
    const byndleCalls = Object.entries(counts.byndle ?? {}).filter(([k]) => !k.includes('token'));
    expect(byndleCalls.length).toBeGreaterThan(0);
    for (const [, n] of byndleCalls) expect(n).toBeLessThanOrEqual(100);
  });
});

describe('root fields', () => {
  it('borrower: an approved borrower with its relationship, score and newest snapshots', async () => {
    const b = borrowers[2]!;
    const { body } = await gql<{
      borrower: {
        id: string;
        organizationNumber: string;
        name: string;
        relationshipState: string;
        consentedToShareData: boolean;
        approvedAt: string | null;
        creditScore: { score: number; riskClass: string; probabilityOfDefault: number; calculatedAt: string };
        accounting: Conn<{ snapshotDate: string; year: number; month: number }>;
      };
    }>(
      app.url,
      `query ($o: String!) { borrower(organizationNumber: $o) {
        id organizationNumber name relationshipState consentedToShareData requestedAt approvedAt
        creditScore { score riskClass probabilityOfDefault calculatedAt }
        accounting(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { snapshotDate year month } } }
      } }`,
      { o: b.orgNr.replace(/(\d{3})(\d{3})(\d{3})/, '$1 $2 $3') },
    );
    expect(body.errors).toBeUndefined();
    const r = body.data!.borrower;
    expect(r).toMatchObject({
      id: `symetrisk:${b.orgNr}`,
      organizationNumber: b.orgNr,
      relationshipState: 'ACCESS_APPROVED',
      consentedToShareData: true,
    });
    expect(r.name).toBeTruthy();
    expect(r.approvedAt).toBeTruthy();
    expect(r.creditScore.score).toBeGreaterThanOrEqual(0);
    expect(r.creditScore.riskClass).toMatch(/^[A-E]$/);
    expect(r.accounting.totalCount).toBe(b.accounting);
    expect(r.accounting.edges).toHaveLength(3);
    const dates = r.accounting.edges.map((e) => e.node.snapshotDate);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('borrower: null for an organisation Symetrisk does not know', async () => {
    const { body } = await gql(app.url, 'query ($o: String!) { borrower(organizationNumber: $o) { id } }', {
      o: unknownOrgNr(),
    });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ borrower: null });
  });

  it('borrowerRelationships: pages to the end with totalCount from Symetrisk', async () => {
    const all = await pageToEnd<{ organizationNumber: string; relationshipState: string }>(
      `query ($after: String) { borrowerRelationships(first: 30, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { organizationNumber relationshipState } } } }`,
      'borrowerRelationships',
      {},
    );
    expect(all.totalCount).toBeGreaterThanOrEqual(100);
    expect(all.nodes).toHaveLength(all.totalCount!);
    expect(all.pages).toBe(Math.ceil(all.totalCount! / 30));
    expect(new Set(all.nodes.map((n) => n.organizationNumber)).size).toBe(all.nodes.length);
    expect(all.nodes.slice(0, 100).map((n) => n.organizationNumber)).toEqual(
      borrowers.slice(0, 100).map((b) => b.orgNr),
    );
  });

  it('debtors: pages through the debtors that consented to our company', async () => {
    const all = await pageToEnd<{
      organizationNumber: string;
      relationshipState: string;
      consentedToShareData: boolean;
    }>(
      `query ($c: String!, $after: String) { debtors(creditorOrganizationNumber: $c, first: 40, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { organizationNumber relationshipState consentedToShareData } } } }`,
      'debtors',
      { c: own },
    );
    expect(all.totalCount).toBeGreaterThanOrEqual(100);
    expect(all.nodes).toHaveLength(all.totalCount!);
    expect(all.nodes.every((n) => n.relationshipState === 'ACCESS_APPROVED' && n.consentedToShareData)).toBe(
      true,
    );
  });

  it('debtors: a creditor this client does not act for is an UPSTREAM_FORBIDDEN error', async () => {
    const other = borrowers[200]!.orgNr;
    const { body } = await gql(
      app.url,
      'query ($c: String!) { debtors(creditorOrganizationNumber: $c) { totalCount } }',
      { c: other },
    );
    expect(errorOf(body).extensions).toMatchObject({
      code: 'UPSTREAM_FORBIDDEN',
      provider: 'symetrisk',
      status: 403,
    });
  });

  it('creditScore: the score a debtor shares with the creditor', async () => {
    const { body } = await gql<{ creditScore: { score: number; riskClass: string } }>(
      app.url,
      'query ($c: String!, $d: String!) { creditScore(creditorOrganizationNumber: $c, debtorOrganizationNumber: $d) { score riskClass probabilityOfDefault calculatedAt } }',
      { c: own, d: borrowers[3]!.orgNr },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.creditScore.score).toBeGreaterThanOrEqual(0);
  });

  it('creditScore: without an approved relationship the root field fails with UPSTREAM_FORBIDDEN', async () => {
    const { body } = await gql(
      app.url,
      'query ($c: String!, $d: String!) { creditScore(creditorOrganizationNumber: $c, debtorOrganizationNumber: $d) { score } }',
      { c: own, d: borrowers[210]!.orgNr },
    );
    expect(body.data).toEqual({ creditScore: null });
    expect(errorOf(body, ['creditScore']).extensions).toMatchObject({
      code: 'UPSTREAM_FORBIDDEN',
      provider: 'symetrisk',
      status: 403,
    });
  });

  it('accountingData: pages through every snapshot, newest first', async () => {
    const b = borrowers.slice(0, 100).find((x) => x.accounting > 30)!;
    const all = await pageToEnd<{ snapshotDate: string; year: number; month: number }>(
      `query ($o: String!, $after: String) { accountingData(organizationNumber: $o, first: 12, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { snapshotDate year month revenue equity cash } } } }`,
      'accountingData',
      { o: b.orgNr },
    );
    expect(all.totalCount).toBe(b.accounting);
    expect(all.nodes).toHaveLength(b.accounting);
    expect(all.pages).toBe(Math.ceil(b.accounting / 12));
    const dates = all.nodes.map((n) => n.snapshotDate);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(new Set(dates).size).toBe(dates.length);
  });

  it('accountingData: without an approved relationship the root field fails with UPSTREAM_FORBIDDEN', async () => {
    const { body } = await gql(
      app.url,
      'query ($o: String!) { accountingData(organizationNumber: $o) { totalCount } }',
      { o: borrowers[211]!.orgNr },
    );
    expect(errorOf(body, ['accountingData']).extensions).toMatchObject({
      code: 'UPSTREAM_FORBIDDEN',
      provider: 'symetrisk',
      status: 403,
    });
  });

  it('symetriskNotifications: pages to the end, newest first', async () => {
    for (const b of borrowers.slice(120, 125)) await approve(b.orgNr);
    const all = await pageToEnd<{
      id: string;
      type: string;
      organizationNumber: string;
      message: string;
      createdAt: string;
    }>(
      `query ($after: String) { symetriskNotifications(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id type organizationNumber message createdAt } } } }`,
      'symetriskNotifications',
      {},
    );
    expect(all.totalCount).toBeGreaterThanOrEqual(10);
    expect(all.nodes).toHaveLength(all.totalCount!);
    expect(all.nodes.every((n) => n.type === 'access_approved')).toBe(true);
    const ids = all.nodes.map((n) => Number(n.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });
});

describe('a borrower before and after approval', () => {
  const FIELDS = `relationshipState consentedToShareData requestedAt
    creditScore { score } accounting(first: 5) { totalCount edges { node { snapshotDate } } }`;

  it('has state NONE, no score and no accounting before anyone asked, without errors', async () => {
    const { body } = await gql(
      app.url,
      `query ($o: String!) { borrower(organizationNumber: $o) { ${FIELDS} } }`,
      {
        o: borrowers[230]!.orgNr,
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      borrower: {
        relationshipState: 'NONE',
        consentedToShareData: false,
        requestedAt: null,
        creditScore: null,
        accounting: { totalCount: 0, edges: [] },
      },
    });
  });

  it('shows ACCESS_REQUESTED with empty data while pending, and the data once the company approves', async () => {
    const orgNr = borrowers[231]!.orgNr;
    // Request access the way the mutation will: straight at Symetrisk's API.
    const s = app.sandbox!;
    const c = s.credentials.symetrisk;
    const tokenRes = await fetch(s.tokenUrls.symetrisk, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const req = await fetch(`${s.apiUrls.symetrisk}/request-borrower-access`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ borrowers: [{ organization_number: orgNr }] }),
    });
    expect(req.status).toBe(200);

    const query = `query ($o: String!) { borrower(organizationNumber: $o) { ${FIELDS} } }`;
    const before = await gql<{ borrower: Record<string, unknown> }>(app.url, query, { o: orgNr });
    expect(before.body.errors).toBeUndefined();
    expect(before.body.data!.borrower).toMatchObject({
      relationshipState: 'ACCESS_REQUESTED',
      consentedToShareData: false,
      creditScore: null,
      accounting: { totalCount: 0, edges: [] },
    });
    expect(before.body.data!.borrower.requestedAt).toBeTruthy();

    await approve(orgNr);
    const after = await gql<{
      borrower: { relationshipState: string; creditScore: { score: number }; accounting: Conn<unknown> };
    }>(app.url, query, { o: orgNr });
    expect(after.body.errors).toBeUndefined();
    const expected = borrowers[231]!;
    expect(after.body.data!.borrower.relationshipState).toBe('ACCESS_APPROVED');
    expect(after.body.data!.borrower.accounting.totalCount).toBe(expected.accounting);
    expect(after.body.data!.borrower.accounting.edges).toHaveLength(Math.min(5, expected.accounting));
    if (expected.accounting > 0)
      expect(after.body.data!.borrower.creditScore.score).toBeGreaterThanOrEqual(0);
  });
});

describe('argument validation', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    [
      'borrower',
      'query ($o: String!) { borrower(organizationNumber: $o) { id } }',
      { o: '123456789' },
      'organizationNumber',
    ],
    [
      'debtors',
      'query ($o: String!) { debtors(creditorOrganizationNumber: $o) { totalCount } }',
      { o: '12345' },
      'creditorOrganizationNumber',
    ],
    [
      'creditScore (creditor)',
      'query ($c: String!, $d: String!) { creditScore(creditorOrganizationNumber: $c, debtorOrganizationNumber: $d) { score } }',
      { c: 'abc', d: '965219951' },
      'creditorOrganizationNumber',
    ],
    [
      'creditScore (debtor)',
      'query ($c: String!, $d: String!) { creditScore(creditorOrganizationNumber: $c, debtorOrganizationNumber: $d) { score } }',
      { c: '965219951', d: '965219952' },
      'debtorOrganizationNumber',
    ],
    [
      'accountingData',
      'query ($o: String!) { accountingData(organizationNumber: $o) { totalCount } }',
      { o: '96521995' },
      'organizationNumber',
    ],
    ['first = 0', '{ borrowerRelationships(first: 0) { totalCount } }', {}, 'first'],
    ['first = 101', '{ symetriskNotifications(first: 101) { totalCount } }', {}, 'first'],
    ['after not a cursor', '{ borrowerRelationships(after: "nope") { totalCount } }', {}, 'after'],
    [
      'Borrower.accounting first',
      'query ($o: String!) { borrower(organizationNumber: $o) { accounting(first: 500) { totalCount } } }',
      { o: '965219951' },
      'first',
    ],
  ];

  it.each(cases)('%s: BAD_USER_INPUT naming the argument', async (_name, query, variables, argument) => {
    await resetCounters();
    const { body } = await gql(app.url, query, variables);
    const e = errorOf(body);
    expect(e.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(e.message).toContain(argument);
    for (const v of Object.values(variables)) expect(e.message).not.toContain(String(v));
    if (!query.includes('borrower(organizationNumber')) {
      // Rejected before any upstream call.
      expect(await symetriskCounters()).toEqual({});
    }
  });
});

describe('partial data with Symetrisk failing', () => {
  it('puts the error on the Symetrisk field and still answers the rest', async () => {
    await post('/faults/symetrisk', { errorRate: 1, pathIncludes: '/api/v1/' }, 'PUT');
    const { body } = await gql<{ service: { name: string }; borrower: null }>(
      app.url,
      'query ($o: String!) { service { name } borrower(organizationNumber: $o) { id } }',
      { o: borrowers[240]!.orgNr },
    );
    expect(body.data).toEqual({ service: { name: 'nordgraph' }, borrower: null });
    expect(errorOf(body, ['borrower']).extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'symetrisk',
      status: 503,
    });
  });

  it('fails only the credit score of a borrower when the score endpoint fails', async () => {
    const b = borrowers.slice(130).find((x) => x.accounting > 0)!;
    await approve(b.orgNr);
    await post('/faults/symetrisk', { errorRate: 1, pathIncludes: '/get-credit-score/' }, 'PUT');
    const { body } = await gql<{
      borrower: { relationshipState: string; creditScore: null; accounting: { totalCount: number } };
    }>(
      app.url,
      'query ($o: String!) { borrower(organizationNumber: $o) { relationshipState creditScore { score } accounting { totalCount } } }',
      { o: b.orgNr },
    );
    expect(body.data!.borrower).toEqual({
      relationshipState: 'ACCESS_APPROVED',
      creditScore: null,
      accounting: { totalCount: b.accounting },
    });
    expect(errorOf(body, ['borrower', 'creditScore']).extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'symetrisk',
      status: 503,
    });
    expect(body.errors).toHaveLength(1);
  });

  it('reports a body that breaks the contract as UPSTREAM_BAD_RESPONSE', async () => {
    await post('/faults/symetrisk', { malformedJsonRate: 1, pathIncludes: '/api/v1/borrower/' }, 'PUT');
    const { body } = await gql(app.url, 'query ($o: String!) { borrower(organizationNumber: $o) { id } }', {
      o: borrowers[241]!.orgNr,
    });
    expect(body.data).toEqual({ borrower: null });
    expect(errorOf(body, ['borrower']).extensions).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      provider: 'symetrisk',
    });
  });
});

describe('symetriskAccount', () => {
  it('shows our own company, the API client and the partner integration', async () => {
    const { startTestGateway: start, gql: query } = await import('../helpers/gateway.js');
    const gw = await start();
    try {
      const { body } = await query<{
        symetriskAccount: {
          organizationNumber: string;
          clientId: string;
          scopes: string[];
          partnerIntegration: { status: string } | null;
        };
      }>(gw.url, '{ symetriskAccount { organizationNumber clientId scopes partnerIntegration { status } } }');
      expect(body.errors).toBeUndefined();
      expect(body.data?.symetriskAccount.organizationNumber).toBe(gw.sandbox!.credentials.symetrisk.ownOrgNr);
      expect(body.data?.symetriskAccount.clientId).toBe(gw.sandbox!.credentials.symetrisk.clientId);
      expect(body.data?.symetriskAccount.scopes).toContain('https://api.symetrisk.com/write');
      expect(body.data?.symetriskAccount.partnerIntegration?.status).toBe('active');
    } finally {
      await gw.close();
    }
  });
});
