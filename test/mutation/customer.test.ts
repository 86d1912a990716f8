import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startGatewayOn, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

/** Connect's customer record as its own API answers it (read directly, past nordgraph). */
interface ConnectRecord {
  customerNumber: number;
  name: Record<'firstName' | 'middleName' | 'lastName' | 'companyName' | 'departmentName', string | null>;
  phoneNumbers: { phoneNumber: string; phoneNumberType: string }[];
  emails: string[];
  invoiceEmailAddress: string | null;
}

interface Payload {
  customer: {
    customerNumber: number;
    firstName: string | null;
    middleName: string | null;
    lastName: string | null;
    companyName: string | null;
    departmentName: string | null;
    phoneNumbers: { phoneNumber: string; type: string }[];
    emails: string[];
    invoiceEmailAddress: string | null;
  };
  changedFields: string[];
  written: boolean;
  readBack: boolean;
}

const USER_INFO_GET = 'GET /capi/v1/customer/info';
const USER_INFO_POST = 'POST /capi/v1/customer/info';
const CLIENT_INFO_GET = 'GET /capi/v1/client/customer/info/:customerNumber';

const UPDATE = `mutation($input: UpdateMyCustomerInput!, $key: String) {
  updateMyCustomer(input: $input, idempotencyKey: $key) {
    changedFields written readBack
    customer { customerNumber firstName middleName lastName companyName departmentName
      phoneNumbers { phoneNumber type } emails invoiceEmailAddress }
  }
}`;

let app: Nordgraph;
let control: string;

/** A Connect user token for a sandbox test user (the sandbox-only password grant). */
async function userToken(sandbox: Sandbox, index: number): Promise<string> {
  const user = sandbox.credentials.connect.users[index]!;
  const res = await fetch(sandbox.tokenUrls.connect, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      username: user.username,
      password: user.password,
      client_id: sandbox.credentials.connect.clientId,
      client_secret: sandbox.credentials.connect.clientSecret,
    }).toString(),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The record straight from Connect (the sandbox), not through nordgraph. */
async function readConnect(sandbox: Sandbox, token: string): Promise<ConnectRecord> {
  const res = await fetch(`${sandbox.urls.connect}/capi/v1/customer/info`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as ConnectRecord;
}

async function counters(url = control): Promise<Record<string, number>> {
  return ((await (await fetch(`${url}/counters`)).json()) as { connect: Record<string, number> }).connect;
}
async function resetCounters(url = control): Promise<void> {
  await fetch(`${url}/counters/reset`, { method: 'POST' });
}
const count = (c: Record<string, number>, key: string) => c[key] ?? 0;

async function update(
  token: string | null,
  input: Record<string, unknown>,
  key?: string,
  url = app.url,
): Promise<GraphQLResponse<{ updateMyCustomer: Payload }>> {
  const headers: Record<string, string> = token ? { 'x-connect-user-token': token } : {};
  return (await gql<{ updateMyCustomer: Payload }>(url, UPDATE, { input, key }, headers)).body;
}

beforeAll(async () => {
  app = await startTestGateway();
  control = app.sandbox!.controlUrl;
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

describe('updateMyCustomer: read, merge, write', () => {
  it('keeps emails, phones and invoice address when only the first name changes (checked at Connect and via myCustomer)', async () => {
    const sandbox = app.sandbox!;
    const token = await userToken(sandbox, 0);
    // Give the record something to lose: two emails, two phones, an invoice address.
    const setup = await update(token, {
      emails: ['ola.nordmann@example.no', 'ola@work.example.com'],
      phoneNumbers: [
        { phoneNumber: '+4791234567', type: 'mobile' },
        { phoneNumber: '+47 22 33 44 55', type: 'home' },
      ],
      invoiceEmailAddress: 'faktura.ola@example.no',
    });
    expect(setup.errors).toBeUndefined();

    const before = await readConnect(sandbox, token);
    expect(before.emails).toEqual(['ola.nordmann@example.no', 'ola@work.example.com']);
    expect(before.phoneNumbers).toHaveLength(2);
    expect(before.invoiceEmailAddress).toBe('faktura.ola@example.no');

    await resetCounters();
    const res = await update(token, { firstName: 'Olav' });
    expect(res.errors).toBeUndefined();
    const payload = res.data!.updateMyCustomer;
    expect(payload.changedFields).toEqual(['firstName']);
    expect(payload.written).toBe(true);
    expect(payload.readBack).toBe(true);
    expect(payload.customer.firstName).toBe('Olav');
    expect(payload.customer.emails).toEqual(before.emails);

    // Read (GET), write (POST), read back (GET): never from cache, one write.
    const c = await counters();
    expect(count(c, USER_INFO_GET)).toBe(2);
    expect(count(c, USER_INFO_POST)).toBe(1);

    const after = await readConnect(sandbox, token);
    expect(after.name).toEqual({ ...before.name, firstName: 'Olav' });
    expect(after.emails).toEqual(before.emails);
    expect(after.phoneNumbers).toEqual(before.phoneNumbers);
    expect(after.invoiceEmailAddress).toBe(before.invoiceEmailAddress);

    const mine = await gql<{ myCustomer: Payload['customer'] }>(
      app.url,
      `{ myCustomer { firstName lastName emails invoiceEmailAddress phoneNumbers { phoneNumber type } } }`,
      {},
      { 'x-connect-user-token': token },
    );
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.myCustomer).toEqual({
      firstName: 'Olav',
      lastName: before.name.lastName,
      emails: before.emails,
      invoiceEmailAddress: before.invoiceEmailAddress,
      phoneNumbers: before.phoneNumbers.map((p) => ({ phoneNumber: p.phoneNumber, type: p.phoneNumberType })),
    });
  });

  it('clears a field sent as null and keeps the ones left out', async () => {
    const sandbox = app.sandbox!;
    const token = await userToken(sandbox, 0);
    expect(
      (await update(token, { invoiceEmailAddress: 'faktura@example.no', middleName: 'Fjord' })).errors,
    ).toBeUndefined();
    const before = await readConnect(sandbox, token);

    const res = await update(token, { invoiceEmailAddress: null, middleName: null });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateMyCustomer.changedFields).toEqual(['middleName', 'invoiceEmailAddress']);
    const after = await readConnect(sandbox, token);
    expect(after.invoiceEmailAddress).toBeNull();
    expect(after.name.middleName).toBeNull();
    expect(after.emails).toEqual(before.emails);
    expect(after.phoneNumbers).toEqual(before.phoneNumbers);
    expect(after.name.firstName).toBe(before.name.firstName);

    // A list sent as null becomes empty; the rest stays.
    const cleared = await update(token, { phoneNumbers: null });
    expect(cleared.errors).toBeUndefined();
    const last = await readConnect(sandbox, token);
    expect(last.phoneNumbers).toEqual([]);
    expect(last.emails).toEqual(before.emails);
  });

  it('writes nothing when the change matches the stored record', async () => {
    const token = await userToken(app.sandbox!, 0);
    const current = await readConnect(app.sandbox!, token);
    await resetCounters();
    const res = await update(token, { lastName: current.name.lastName, emails: current.emails });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updateMyCustomer).toMatchObject({ changedFields: [], written: false, readBack: true });
    const c = await counters();
    expect(count(c, USER_INFO_POST)).toBe(0);
    expect(count(c, USER_INFO_GET)).toBe(1);
  });

  it('lets a company name replace the last name, but refuses to leave neither', async () => {
    const token = await userToken(app.sandbox!, 1);
    const before = await readConnect(app.sandbox!, token);
    expect(before.name.lastName).toBeTruthy();
    expect(before.name.companyName).toBeNull();

    await resetCounters();
    const refused = await update(token, { lastName: null });
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.lastName',
    });
    const blank = await update(token, { lastName: '   ' });
    expect(blank.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.lastName',
    });
    expect(count(await counters(), USER_INFO_POST)).toBe(0);
    expect((await readConnect(app.sandbox!, token)).name.lastName).toBe(before.name.lastName);

    const company = await update(token, { companyName: 'Nordmann Rør AS', lastName: null });
    expect(company.errors).toBeUndefined();
    const after = await readConnect(app.sandbox!, token);
    // Connect did not put its "-" placeholder in: the company name carries the record.
    expect(after.name).toMatchObject({ lastName: null, companyName: 'Nordmann Rør AS' });
    expect(after.emails).toEqual(before.emails);

    const noCompany = await update(token, { companyName: null });
    expect(noCompany.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.companyName',
    });
    // Restore for the other tests.
    expect(
      (await update(token, { lastName: before.name.lastName, companyName: null })).errors,
    ).toBeUndefined();
  });

  it('answers UNAUTHENTICATED without a user token, before any upstream call', async () => {
    await resetCounters();
    const res = await update(null, { firstName: 'Ola' });
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      header: 'x-connect-user-token',
    });
    expect(Object.keys(await counters())).toHaveLength(0);
  });

  it('reports an upstream failure of the read with {code, provider, status} and writes nothing', async () => {
    const token = await userToken(app.sandbox!, 0);
    await fetch(`${control}/faults/connect`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 503, pathIncludes: '/v1/customer/info' }),
    });
    await resetCounters();
    const res = await update(token, { firstName: 'Ola' });
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'connect',
      status: 503,
    });
    expect(count(await counters(), USER_INFO_POST)).toBe(0);
  });
});

describe('updateMyCustomer: validation of the whole input before anything goes upstream', () => {
  const cases: [string, Record<string, unknown>, string, number | undefined][] = [
    [
      'an invalid email in emails[1]',
      { firstName: 'Ola', emails: ['ok@example.no', 'not-an-email'] },
      'input.emails[1]',
      1,
    ],
    ['an email over 255 characters', { emails: [`${'a'.repeat(250)}@example.no`] }, 'input.emails[0]', 0],
    [
      'an invoice address over 60 characters',
      { invoiceEmailAddress: `${'f'.repeat(55)}@example.no` },
      'input.invoiceEmailAddress',
      undefined,
    ],
    [
      'an invalid invoice address',
      { invoiceEmailAddress: 'faktura at example.no' },
      'input.invoiceEmailAddress',
      undefined,
    ],
    ['a first name over 30 characters', { firstName: 'O'.repeat(31) }, 'input.firstName', undefined],
    ['a company name over 40 characters', { companyName: 'C'.repeat(41) }, 'input.companyName', undefined],
    [
      'a phone number that is not E.164',
      { phoneNumbers: [{ phoneNumber: '91234567x', type: 'mobile' }] },
      'input.phoneNumbers[0].phoneNumber',
      0,
    ],
    [
      'a phone type other than home or mobile',
      {
        phoneNumbers: [
          { phoneNumber: '+4791234567', type: 'mobile' },
          { phoneNumber: '+4722334455', type: 'work' },
        ],
      },
      'input.phoneNumbers[1].type',
      1,
    ],
    [
      'more than 20 emails',
      { emails: Array.from({ length: 21 }, (_, i) => `e${i}@example.no`) },
      'input.emails',
      undefined,
    ],
  ];
  it.each(cases)(
    'refuses %s with BAD_USER_INPUT naming the field',
    async (_label, input, argument, index) => {
      const token = await userToken(app.sandbox!, 0);
      await resetCounters();
      const res = await update(token, input);
      expect(res.data).toBeNull();
      const ext = res.errors?.[0]?.extensions;
      expect(ext).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      if (index !== undefined) expect(ext?.index).toBe(index);
      // Never echoes the personal value it refused.
      expect(res.errors?.[0]?.message).not.toContain('not-an-email');
      expect(res.errors?.[0]?.message).not.toContain('91234567');
      expect(Object.keys(await counters())).toHaveLength(0);
    },
  );
});

describe('updateMyCustomer: cache', () => {
  it('evicts the cached client-mode customer and searches holding it, so customer(customerNumber) shows the new data', async () => {
    const sandbox = app.sandbox!;
    const token = await userToken(sandbox, 1);
    const number = sandbox.credentials.connect.users[1]!.customerNumber;
    const current = await readConnect(sandbox, token);
    const email = current.emails[0]!;
    const READ = `query($n: Int!, $email: String!) {
      customer(customerNumber: $n) { firstName emails }
      customerSearch(input: { email: $email }) { edges { node { customerNumber firstName } } }
    }`;
    const first = await gql<{ customer: { firstName: string } }>(app.url, READ, { n: number, email });
    expect(first.body.errors).toBeUndefined();
    await resetCounters();
    // Cached now: a second read makes no upstream call.
    await gql(app.url, READ, { n: number, email });
    expect(count(await counters(), CLIENT_INFO_GET)).toBe(0);

    const res = await update(token, { firstName: 'Karianne' });
    expect(res.errors).toBeUndefined();

    await resetCounters();
    const after = await gql<{
      customer: { firstName: string; emails: string[] };
      customerSearch: { edges: { node: { customerNumber: number; firstName: string } }[] };
    }>(app.url, READ, { n: number, email });
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data?.customer).toEqual({ firstName: 'Karianne', emails: current.emails });
    expect(
      after.body.data?.customerSearch.edges.find((e) => e.node.customerNumber === number)?.node.firstName,
    ).toBe('Karianne');
    expect(count(await counters(), CLIENT_INFO_GET)).toBe(1);
    expect((await update(token, { firstName: current.name.firstName })).errors).toBeUndefined();
  });
});

describe('updateMyCustomer: writes are never retried blindly', () => {
  it('does not retry a 429 on the write (the read before it is allowed through)', async () => {
    const sandbox = app.sandbox!;
    const token = await userToken(sandbox, 0);
    const before = await readConnect(sandbox, token);
    const limits = (body: unknown) =>
      fetch(`${sandbox.urls.connect}/_sandbox/connect/rate-limit`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // One call per second: the read takes it, the write gets Connect's own 429 (Retry-After 1 s,
    // short enough that the read path WOULD retry it).
    expect((await limits({ perSecond: 1 })).status).toBe(200);
    await resetCounters();
    try {
      const res = await update(token, { firstName: 'Rate' });
      expect(res.errors?.[0]?.extensions).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        provider: 'connect',
        status: 429,
      });
      const c = await counters();
      expect(count(c, USER_INFO_GET)).toBe(1);
      expect(
        Object.entries(c)
          .filter(([k]) => k.startsWith('POST'))
          .reduce((n, [, v]) => n + v, 0),
      ).toBe(1);
    } finally {
      await limits({ perSecond: 100, perMinute: 2000 });
    }
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await readConnect(sandbox, token)).name.firstName).toBe(before.name.firstName);
  });
});

describe('updateMyCustomer: idempotency', () => {
  it('replays the first result for a retry with the same key, with one upstream write', async () => {
    const token = await userToken(app.sandbox!, 0);
    const key = `update-${randomUUID()}`;
    await resetCounters();
    const first = await update(token, { middleName: 'Idem' }, key);
    expect(first.errors).toBeUndefined();
    const again = await update(token, { middleName: 'Idem' }, key);
    expect(again.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(first.data!.updateMyCustomer.written).toBe(true);
    expect(count(await counters(), USER_INFO_POST)).toBe(1);

    const reused = await update(token, { middleName: 'Other' }, key);
    expect(reused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'idempotencyKey',
    });
    expect(count(await counters(), USER_INFO_POST)).toBe(1);
  });

  const redisUrl = process.env.REDIS_URL;
  const runShared = Boolean(redisUrl) || process.env.CI === 'true';
  it.runIf(runShared)('replays across two instances sharing Redis: one upstream write', async () => {
    if (!redisUrl) throw new Error('REDIS_URL must be set when CI=true');
    const sandbox = await startSandbox();
    const a = await startGatewayOn(sandbox, { REDIS_URL: redisUrl });
    const b = await startGatewayOn(sandbox, { REDIS_URL: redisUrl });
    try {
      const token = await userToken(sandbox, 1);
      const key = `update-${randomUUID()}`;
      await resetCounters(sandbox.controlUrl);
      const first = await update(token, { departmentName: 'Support' }, key, a.url);
      expect(first.errors).toBeUndefined();
      const retry = await update(token, { departmentName: 'Support' }, key, b.url);
      expect(retry.errors).toBeUndefined();
      expect(retry.data).toEqual(first.data);
      expect(count(await counters(sandbox.controlUrl), USER_INFO_POST)).toBe(1);
      expect((await readConnect(sandbox, token)).name.departmentName).toBe('Support');
    } finally {
      await a.close();
      await b.close();
      await sandbox.close();
    }
  });
});
