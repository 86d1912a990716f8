import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { Borrower, Population } from '../../src/sandbox/population/types.js';

/**
 * Parsed response bodies. `any` on purpose: each test asserts on the very fields it reads, and a
 * typed mirror of the provider schema here would be a third reading of the contract to maintain.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const READ = 'https://api.symetrisk.com/read';
const WRITE = 'https://api.symetrisk.com/write';
const POPULATION = { persons: 600, businesses: 400, vehicles: 100, customers: 100, borrowers: 150 };

let sb: Sandbox;
let pop: Population;
let own: string;
let token: string;
let readOnlyToken: string;

/** Borrowers taken from the end of the list: /seed-approved approves from the start. */
let withData: Borrower[];

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function getToken(
  target: Sandbox,
  id: string,
  secret: string,
  form: Record<string, string> = { grant_type: 'client_credentials' },
): Promise<Response> {
  return fetch(target.tokenUrls.symetrisk, {
    method: 'POST',
    headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

async function tokenFor(target: Sandbox, readOnly = false, scope?: string): Promise<string> {
  const cr = target.credentials.symetrisk;
  const form: Record<string, string> = { grant_type: 'client_credentials' };
  if (scope) form.scope = scope;
  const res = readOnly
    ? await getToken(target, cr.readOnlyClientId, cr.readOnlyClientSecret, form)
    : await getToken(target, cr.clientId, cr.clientSecret, form);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function api(
  path: string,
  opts: { method?: string; body?: unknown; rawBody?: string; bearer?: string | null } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = {};
  const bearer = opts.bearer === undefined ? token : opts.bearer;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (opts.body !== undefined || opts.rawBody !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sb.apiUrls.symetrisk}${path}`, {
    method: opts.method ?? (opts.body !== undefined || opts.rawBody !== undefined ? 'POST' : 'GET'),
    headers,
    body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

async function control(path: string, body: unknown = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sb.urls.symetrisk}/_sandbox/symetrisk${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

function isValidOrgNr(o: string): boolean {
  const w = [3, 2, 7, 6, 5, 4, 3, 2];
  const sum = w.reduce((s, x, i) => s + x * Number(o[i]), 0);
  const check = sum % 11 === 0 ? 0 : 11 - (sum % 11);
  return check !== 10 && check === Number(o[8]);
}

/** A well-formed organisation number that is in no register of the population. */
function unknownOrgNr(): string {
  for (let n = 999_999_999; ; n -= 1) {
    const o = String(n);
    if (isValidOrgNr(o) && !pop.businessByOrgNr.has(o)) return o;
  }
}

/** A business that has not connected Json accounting system (not a borrower), other than the own company. */
function businessWithoutData(skip = 0): string {
  const list = pop.businesses.filter((b) => !pop.borrowerByOrgNr.has(b.orgNr) && b.orgNr !== own);
  const b = list[skip];
  if (!b) throw new Error('population has too few businesses without accounting data');
  return b.orgNr;
}

beforeAll(async () => {
  sb = await startSandbox({ population: POPULATION });
  pop = sb.context.population;
  own = sb.credentials.symetrisk.ownOrgNr;
  withData = pop.borrowers.filter((b) => b.accounting.length > 0 && b.orgNr !== own).reverse();
  token = await tokenFor(sb);
  readOnlyToken = await tokenFor(sb, true);
});

afterAll(async () => {
  await sb?.close();
});

describe('Symetrisk token endpoint', () => {
  it('issues a Bearer token valid for 3600 s with both scopes to the main client', async () => {
    const cr = sb.credentials.symetrisk;
    const res = await getToken(sb, cr.clientId, cr.clientSecret);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(typeof body.access_token).toBe('string');
    const self = await api('/self', { bearer: body.access_token as string });
    expect(self.body.client).toEqual({ client_id: cr.clientId, scopes: [READ, WRITE] });
  });

  it('issues only the scopes asked for', async () => {
    const t = await tokenFor(sb, false, READ);
    const self = await api('/self', { bearer: t });
    expect(self.body.client.scopes).toEqual([READ]);
  });

  it('answers invalid_client to a wrong secret, an unknown client and a missing Basic header', async () => {
    const cr = sb.credentials.symetrisk;
    for (const res of [
      await getToken(sb, cr.clientId, 'wrong'),
      await getToken(sb, 'nobody', cr.clientSecret),
      await fetch(sb.tokenUrls.symetrisk, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      }),
    ]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_client' });
    }
  });

  it('answers the Cognito error for each bad grant', async () => {
    const cr = sb.credentials.symetrisk;
    const cases: [Record<string, string>, string][] = [
      [{}, 'invalid_request'],
      [{ grant_type: 'password' }, 'unsupported_grant_type'],
      [{ grant_type: 'refresh_token' }, 'invalid_grant'],
      [{ grant_type: 'client_credentials', scope: 'https://api.symetrisk.com/admin' }, 'invalid_scope'],
    ];
    for (const [form, error] of cases) {
      const res = await getToken(sb, cr.clientId, cr.clientSecret, form);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error });
    }
  });

  it('answers invalid_request to a JSON body', async () => {
    const cr = sb.credentials.symetrisk;
    const res = await fetch(sb.tokenUrls.symetrisk, {
      method: 'POST',
      headers: { authorization: basic(cr.clientId, cr.clientSecret), 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request' });
  });

  it('refuses the write scope to the read-only client with invalid_scope', async () => {
    const cr = sb.credentials.symetrisk;
    const res = await getToken(sb, cr.readOnlyClientId, cr.readOnlyClientSecret, {
      grant_type: 'client_credentials',
      scope: `${READ} ${WRITE}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_scope' });
    const self = await api('/self', { bearer: readOnlyToken });
    expect(self.body.client.scopes).toEqual([READ]);
  });

  it('answers 401 to an expired token', async () => {
    const short = await startSandbox({
      tokenTtlSeconds: { symetrisk: 1 },
      population: { persons: 50, businesses: 20, vehicles: 5, customers: 5, borrowers: 5 },
    });
    try {
      const t = await tokenFor(short);
      const ok = await fetch(`${short.apiUrls.symetrisk}/ping`, {
        headers: { authorization: `Bearer ${t}` },
      });
      expect(ok.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_100));
      const res = await fetch(`${short.apiUrls.symetrisk}/ping`, {
        headers: { authorization: `Bearer ${t}` },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ detail: 'Token has expired' });
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    } finally {
      await short.close();
    }
  });

  it('answers 401 with WWW-Authenticate to a missing or unknown token', async () => {
    const missing = await api('/ping', { bearer: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ detail: 'Not authenticated' });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const unknown = await api('/relationships', { bearer: 'not-a-token' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ detail: 'Invalid token' });
  });
});

describe('Symetrisk client info', () => {
  it('answers pong to ping', async () => {
    const res = await api('/ping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'pong' });
  });

  it('describes the own company and client at /self', async () => {
    const res = await api('/self');
    expect(res.status).toBe(200);
    expect(res.body.company.brreg_organization_number).toBe(own);
    expect(res.body.company.name).toBe(pop.businessByOrgNr.get(own)?.name);
    expect(res.body.company.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(res.body.company.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('describes the partner integration with the own company as credit scorer', async () => {
    const res = await api('/partner-integration');
    expect(res.status).toBe(200);
    expect(res.body.partner_integration.organization_number).toBe(own);
    expect(res.body.partner_integration.status).toBe('active');
    expect(
      res.body.partner_integration.credit_scorer_companies.map((c: Json) => c.organization_number),
    ).toContain(own);
    expect(res.body.client.client_id).toBe(sb.credentials.symetrisk.clientId);
  });

  it('answers 403 to a write with a read-only token, and to a read with a write-only token', async () => {
    const write = await api('/request-borrower-access', {
      bearer: readOnlyToken,
      body: { borrowers: [{ organization_number: withData[0]!.orgNr }] },
    });
    expect(write.status).toBe(403);
    expect(write.body.detail).toContain(WRITE);
    expect(write.headers.get('www-authenticate')).toContain('insufficient_scope');
    const writeOnly = await tokenFor(sb, false, WRITE);
    const read = await api('/relationships', { bearer: writeOnly });
    expect(read.status).toBe(403);
    expect(read.body.detail).toContain(READ);
  });
});

describe('Symetrisk borrowers', () => {
  it('requests borrower access: access_requested with a signup link, and again without error', async () => {
    const b = withData[0]!;
    const first = await api('/request-borrower-access', {
      body: { borrowers: [{ organization_number: b.orgNr }] },
    });
    expect(first.status).toBe(200);
    const item = first.body.borrowers[0];
    expect(item).toMatchObject({
      organization_number: b.orgNr,
      name: pop.businessByOrgNr.get(b.orgNr)?.name,
      relationship_state: 'access_requested',
      already_existed: false,
      error: null,
    });
    expect(item.signup_link).toMatch(/^https:\/\/app\.symetrisk\.com\/signup\?invitation=[0-9a-f]{16}$/);
    const again = await api('/request-borrower-access', {
      body: { borrowers: [{ organization_number: b.orgNr }] },
    });
    expect(again.status).toBe(200);
    expect(again.body.borrowers[0]).toMatchObject({
      relationship_state: 'access_requested',
      already_existed: true,
      signup_link: item.signup_link,
    });
  });

  it('reports invalid, unknown and own organisation numbers per item', async () => {
    const unknown = unknownOrgNr();
    const res = await api('/request-borrower-access', {
      body: {
        borrowers: [
          { organization_number: '12345' },
          { organization_number: '123456789' },
          { organization_number: unknown },
          { organization_number: own },
          { organization_number: withData[1]!.orgNr },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.borrowers.map((i: Json) => i.error)).toEqual([
      'invalid_organization_number',
      'invalid_organization_number', // 9 digits, wrong mod-11 check digit
      'organization_not_found',
      'own_organization',
      null,
    ]);
    expect(res.body.borrowers[0]).toMatchObject({
      error: 'invalid_organization_number',
      relationship_state: null,
    });
    expect(res.body.borrowers[2]).toMatchObject({ error: 'organization_not_found', signup_link: null });
    expect(res.body.borrowers[3].error).toBe('own_organization');
    expect(res.body.borrowers[4]).toMatchObject({ error: null, relationship_state: 'access_requested' });
  });

  it('answers 403 to accounting data before approval, and shows the pending state on /borrower', async () => {
    const b = withData[0]!;
    const data = await api(`/accounting-data/${b.orgNr}`);
    expect(data.status).toBe(403);
    expect(data.body.detail).toContain(b.orgNr);
    const borrower = await api(`/borrower/${b.orgNr}`);
    expect(borrower.status).toBe(200);
    expect(borrower.body).toMatchObject({
      organization_number: b.orgNr,
      relationship_state: 'access_requested',
      consented_to_share_data: false,
      has_accounting_data: false,
      approved_at: null,
    });
  });

  it('approves through the control API: notification, access_approved, consented', async () => {
    const b = withData[0]!;
    const approve = await control('/approve', { organization_number: b.orgNr });
    expect(approve.status).toBe(200);
    expect(approve.body.relationship.relationship_state).toBe('access_approved');

    const notes = await api('/notifications');
    expect(notes.status).toBe(200);
    expect(notes.body.items[0]).toMatchObject({
      type: 'access_approved',
      relationship_type: 'borrower',
      organization_number: b.orgNr,
      creditor_organization_number: own,
    });
    expect(notes.body.items[0].message).toContain(b.orgNr);

    const rels = await api('/relationships');
    const rel = rels.body.items.find((r: Json) => r.organization_number === b.orgNr);
    expect(rel.relationship_state).toBe('access_approved');
    expect(rel.approved_at).toMatch(/^\d{4}-/);

    const borrower = await api(`/borrower/${b.orgNr}`);
    expect(borrower.body.consented_to_share_data).toBe(true);
    expect(borrower.body.has_accounting_data).toBe(true);
    expect(borrower.body.latest_snapshot_date).toBe(b.accounting[0]?.snapshotDate);

    const again = await api('/request-borrower-access', {
      body: { borrowers: [{ organization_number: b.orgNr }] },
    });
    expect(again.body.borrowers[0]).toMatchObject({
      relationship_state: 'access_approved',
      already_existed: true,
    });
  });

  it('pages accounting data newest first with limit and skip to the end', async () => {
    const b = withData[0]!;
    const total = Math.min(b.accounting.length, 100);
    const limit = 7;
    const seen: Json[] = [];
    for (let skip = 0; ; skip += limit) {
      const res = await api(`/accounting-data/${b.orgNr}?limit=${limit}&skip=${skip}`);
      expect(res.status).toBe(200);
      expect(res.body.metadata).toEqual({
        limit,
        skip,
        returnedItems: Math.max(0, Math.min(limit, total - skip)),
        totalItems: total,
      });
      seen.push(...res.body.items);
      if (res.body.items.length === 0) break;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((i) => i.id)).size).toBe(total);
    const dates = seen.map((i) => i.data.snapshot_date);
    expect([...dates].sort().reverse()).toEqual(dates);
    const first = seen[0].data;
    const newest = [...b.accounting].sort((x, y) => (x.snapshotDate < y.snapshotDate ? 1 : -1))[0]!;
    expect(first).toMatchObject({
      symetrisk_real_time_accounts_format_version: '2025-09-19',
      organization_number: b.orgNr,
      year: newest.year,
      month: newest.month,
      snapshot_date: newest.snapshotDate,
      revenue: newest.revenue,
      equity: newest.equity,
      total_debt: newest.shortTermDebt + newest.longTermDebt,
    });
    // Month-end: the day after the snapshot is the 1st.
    for (const d of dates) expect(new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).getUTCDate()).toBe(1);

    const whole = await api(`/accounting-data/${b.orgNr}`);
    expect(whole.body.metadata).toEqual({ limit: 100, skip: 0, returnedItems: total, totalItems: total });
  });

  it('gives an approved borrower without accounting data an empty list', async () => {
    const o = businessWithoutData();
    expect((await control('/approve', { organization_number: o })).status).toBe(200);
    const res = await api(`/accounting-data/${o}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      metadata: { limit: 100, skip: 0, returnedItems: 0, totalItems: 0 },
      items: [],
    });
    const borrower = await api(`/borrower/${o}`);
    expect(borrower.body).toMatchObject({ consented_to_share_data: true, has_accounting_data: false });
  });

  it('rejects through the control API, and a new request asks again', async () => {
    const b = withData[1]!; // requested in the per-item test
    const reject = await control('/reject', { organization_number: b.orgNr });
    expect(reject.status).toBe(200);
    expect((await api(`/borrower/${b.orgNr}`)).body.relationship_state).toBe('access_rejected');
    const notes = await api('/notifications?limit=1');
    expect(notes.body.items[0]).toMatchObject({ type: 'access_rejected', organization_number: b.orgNr });
    expect((await control('/revoke', { organization_number: b.orgNr })).status).toBe(409);
    const again = await api('/request-borrower-access', {
      body: { borrowers: [{ organization_number: b.orgNr }] },
    });
    expect(again.body.borrowers[0]).toMatchObject({
      relationship_state: 'access_requested',
      already_existed: false,
    });
  });

  it('shows a company never asked with relationship_state null on /borrower', async () => {
    const o = businessWithoutData(1);
    const res = await api(`/borrower/${o}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      organization_number: o,
      relationship_state: null,
      consented_to_share_data: false,
      signup_link: null,
    });
  });
});

describe('Symetrisk debtors and credit score', () => {
  it('runs the debtor flow: request, 403 before approval, approve, list-debtors, credit score', async () => {
    const d = withData[2]!;
    const req = await api(`/request-debtor-access/${own}`, {
      body: { debtors: [{ organization_number: d.orgNr }] },
    });
    expect(req.status).toBe(200);
    expect(req.body.creditor_organization_number).toBe(own);
    expect(req.body.debtors[0]).toMatchObject({
      organization_number: d.orgNr,
      relationship_state: 'access_requested',
    });
    expect(req.body.debtors[0].signup_link).toMatch(/^https:\/\/app\.symetrisk\.com\/signup\?invitation=/);

    const before = await api(`/get-credit-score/${own}/${d.orgNr}`);
    expect(before.status).toBe(403);
    expect((await api(`/list-debtors/${own}`)).body.metadata.totalItems).toBe(0);

    const approve = await control('/approve', {
      organization_number: d.orgNr,
      creditor_organization_number: own,
    });
    expect(approve.status).toBe(200);

    const list = await api(`/list-debtors/${own}`);
    expect(list.status).toBe(200);
    expect(list.body.metadata).toEqual({ limit: 100, skip: 0, returnedItems: 1, totalItems: 1 });
    expect(list.body.items[0]).toMatchObject({
      organization_number: d.orgNr,
      relationship_state: 'access_approved',
      credit_score_available: true,
    });

    const score = await api(`/get-credit-score/${own}/${d.orgNr}`);
    expect(score.status).toBe(200);
    expect(score.body).toMatchObject({
      creditor_organization_number: own,
      debtor_organization_number: d.orgNr,
      debtor_name: pop.businessByOrgNr.get(d.orgNr)?.name,
      score: d.creditScore,
      risk_class: d.riskClass,
      probability_of_default: d.probabilityOfDefault,
      based_on_snapshot_date: d.accounting[0]?.snapshotDate,
    });
    expect(score.body.score).toBeGreaterThanOrEqual(0);
    expect(score.body.score).toBeLessThanOrEqual(100);
    expect(score.body.model_version).toMatch(/^symetrisk-score-/);

    const notes = await api('/notifications?limit=1');
    expect(notes.body.items[0]).toMatchObject({
      type: 'access_approved',
      relationship_type: 'debtor',
      organization_number: d.orgNr,
    });
    // A debtor consent gives the credit score, not the bank's accounting-data access.
    expect((await api(`/accounting-data/${d.orgNr}`)).status).toBe(403);
  });

  it('answers 404 to the credit score of an approved debtor without accounting data', async () => {
    const o = businessWithoutData(2);
    await control('/approve', { organization_number: o, creditor_organization_number: own });
    const res = await api(`/get-credit-score/${own}/${o}`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toContain('no accounting data');
    const list = await api(`/list-debtors/${own}`);
    const item = list.body.items.find((i: Json) => i.organization_number === o);
    expect(item.credit_score_available).toBe(false);
  });

  it('answers 403 for a creditor the client does not act for, until it is made a credit scorer', async () => {
    const creditor = businessWithoutData(3);
    const denied = await api(`/list-debtors/${creditor}`);
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain(creditor);

    const create = await api('/create-credit-scorer-company', {
      body: { borrowers: [{ organization_number: creditor }, { organization_number: 'abc' }] },
    });
    expect(create.status).toBe(200);
    expect(create.body.companies[0]).toMatchObject({
      organization_number: creditor,
      created: true,
      error: null,
    });
    expect(create.body.companies[0].company.name).toBe(pop.businessByOrgNr.get(creditor)?.name);
    expect(create.body.companies[1]).toMatchObject({ error: 'invalid_organization_number', company: null });
    const again = await api('/create-credit-scorer-company', {
      body: { borrowers: [{ organization_number: creditor }] },
    });
    expect(again.body.companies[0].created).toBe(false);

    const partner = await api('/partner-integration');
    expect(
      partner.body.partner_integration.credit_scorer_companies.map((c: Json) => c.organization_number),
    ).toEqual([own, creditor]);
    const allowed = await api(`/list-debtors/${creditor}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body.items).toEqual([]);
  });

  it('refuses create-credit-scorer-company to a read-only token', async () => {
    const res = await api('/create-credit-scorer-company', {
      bearer: readOnlyToken,
      body: { borrowers: [{ organization_number: own }] },
    });
    expect(res.status).toBe(403);
  });
});

describe('Symetrisk errors', () => {
  it('answers 404 with a detail to unknown organisations and routes', async () => {
    const unknown = unknownOrgNr();
    for (const path of [
      `/borrower/${unknown}`,
      `/accounting-data/${unknown}`,
      `/get-credit-score/${own}/${unknown}`,
      `/list-debtors/${unknown}`,
    ]) {
      const res = await api(path);
      expect(res.status, path).toBe(404);
      expect(res.body.detail).toContain(unknown);
    }
    const route = await api('/no-such-endpoint');
    expect(route.status).toBe(404);
    expect(typeof route.body.detail).toBe('string');
  });

  it('answers 422 in pydantic style to an organisation number with letters', async () => {
    const res = await api('/borrower/12345678A');
    expect(res.status).toBe(422);
    expect(res.body.detail[0]).toMatchObject({
      type: 'string_pattern_mismatch',
      loc: ['path', 'organization_number'],
    });
  });

  it('answers 422 to limit and skip out of range', async () => {
    const tooBig = await api('/relationships?limit=101');
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.detail[0]).toMatchObject({ type: 'less_than_equal', loc: ['query', 'limit'] });
    const negative = await api('/notifications?skip=-1');
    expect(negative.status).toBe(422);
    expect(negative.body.detail[0]).toMatchObject({ type: 'greater_than_equal', loc: ['query', 'skip'] });
    const text = await api('/relationships?limit=many');
    expect(text.status).toBe(422);
    expect(text.body.detail[0].loc).toEqual(['query', 'limit']);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const res = await fetch(`${sb.apiUrls.symetrisk}/request-borrower-access`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'borrowers=1',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ detail: 'Unsupported Media Type' });
  });

  it('answers 422 to a malformed, empty or missing body', async () => {
    const malformed = await api('/request-borrower-access', { rawBody: '{"borrowers": [' });
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].type).toBe('json_invalid');
    const empty = await api('/request-borrower-access', { body: { borrowers: [] } });
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0]).toMatchObject({ type: 'too_short', loc: ['body', 'borrowers'] });
    const missing = await api('/request-borrower-access', { body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'borrowers'] });
    const noBody = await api('/request-borrower-access', { method: 'POST' });
    expect(noBody.status).toBe(422);
  });
});

describe('Symetrisk lists and control routes', () => {
  it('seeds approved borrowers and pages relationships to the end', async () => {
    const seeded = await control('/seed-approved', { count: 30 });
    expect(seeded.status).toBe(200);
    expect(seeded.body.count).toBe(30);
    const all = await api('/relationships');
    const total = all.body.metadata.totalItems as number;
    expect(total).toBeGreaterThanOrEqual(30);
    const seen: string[] = [];
    const limit = 8;
    for (let skip = 0; skip < total + limit; skip += limit) {
      const page = await api(`/relationships?limit=${limit}&skip=${skip}`);
      expect(page.body.metadata).toEqual({
        limit,
        skip,
        returnedItems: Math.max(0, Math.min(limit, total - skip)),
        totalItems: total,
      });
      seen.push(...page.body.items.map((i: Json) => i.organization_number));
    }
    expect(seen).toEqual(all.body.items.map((i: Json) => i.organization_number));
    expect(new Set(seen).size).toBe(total);
    for (const o of seeded.body.organization_numbers) {
      const rel = all.body.items.find((i: Json) => i.organization_number === o);
      expect(rel.relationship_state).toBe('access_approved');
    }
  });

  it('pages notifications newest first', async () => {
    const all = await api('/notifications');
    const ids = all.body.items.map((n: Json) => n.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect([...ids].sort((a: number, b: number) => b - a)).toEqual(ids);
    const page = await api('/notifications?limit=2&skip=1');
    expect(page.body.items.map((n: Json) => n.id)).toEqual(ids.slice(1, 3));
    expect(page.body.metadata).toEqual({ limit: 2, skip: 1, returnedItems: 2, totalItems: ids.length });
  });

  it('approves every pending relationship with approve-all-pending', async () => {
    const o = withData[3]!.orgNr;
    await api('/request-borrower-access', { body: { borrowers: [{ organization_number: o }] } });
    const res = await control('/approve-all-pending');
    expect(res.status).toBe(200);
    expect(res.body.approved).toBeGreaterThanOrEqual(1);
    const rels = await api('/relationships');
    expect(rels.body.items.filter((r: Json) => r.relationship_state === 'access_requested')).toEqual([]);
    expect((await api(`/accounting-data/${o}`)).status).toBe(200);
  });

  it('seeds 100 approved borrowers quickly for benchmarks', async () => {
    const started = Date.now();
    const res = await control('/seed-approved', { count: 100 });
    expect(res.body.count).toBe(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    const rels = await api('/relationships?limit=100');
    expect(rels.body.metadata.totalItems).toBeGreaterThanOrEqual(100);
  });

  it('answers 404 and 409 from the control routes for unknown or impossible changes', async () => {
    expect((await control('/approve', { organization_number: unknownOrgNr() })).status).toBe(404);
    expect((await control('/reject', { organization_number: businessWithoutData(4) })).status).toBe(409);
    expect((await control('/approve', { organization_number: 'x' })).status).toBe(400);
  });

  it('serves an OpenAPI 3.1 document that validates', async () => {
    const doc = (await (await fetch(`${sb.urls.symetrisk}/openapi.json`)).json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/oauth2/token',
        '/api/v1/ping',
        '/api/v1/self',
        '/api/v1/accounting-data/{organization_number}',
        '/api/v1/get-credit-score/{creditor_organization_number}/{debtor_organization_number}',
      ]),
    );
    await SwaggerParser.validate(structuredClone(doc));
  });

  it('forgets relationships, notifications and tokens on reset', async () => {
    const res = await fetch(`${sb.controlUrl}/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    pop = sb.context.population;
    expect((await api('/ping')).status).toBe(401);
    token = await tokenFor(sb);
    expect((await api('/relationships')).body.metadata.totalItems).toBe(0);
    expect((await api('/notifications')).body.items).toEqual([]);
    expect((await api('/partner-integration')).body.partner_integration.credit_scorer_companies).toHaveLength(
      1,
    );
  });
});
