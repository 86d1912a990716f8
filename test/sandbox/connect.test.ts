import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { Customer } from '../../src/sandbox/population/types.js';

interface InfoBody {
  customerNumber: number;
  name: Record<'firstName' | 'middleName' | 'lastName' | 'companyName' | 'departmentName', string | null>;
  phoneNumbers: { phoneNumber: string; phoneNumberType: string }[];
  emails: string[];
  invoiceEmailAddress: string | null;
  attachedUsers: { userId: string; uniqueId: string }[];
}
interface ErrorBody {
  exceptionType: string;
  errorMessage: string;
}
interface ListBody {
  customers: InfoBody[];
}
interface CheckBody {
  customers: { credential: string; credentialType: string; customerNumber: number }[];
}

/** Response bodies are asserted by value; the type only lets the test reach into them. */
const read = <T>(r: Response): Promise<T> => r.json() as Promise<T>;

let sb: Sandbox;
let clientToken: string;

const form = (params: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(params),
});

async function token(params: Record<string, string>): Promise<Response> {
  return fetch(sb.tokenUrls.connect, form(params));
}

function clientParams(): Record<string, string> {
  return { client_id: sb.credentials.connect.clientId, client_secret: sb.credentials.connect.clientSecret };
}

async function passwordToken(
  user = sb.credentials.connect.users[0]!,
): Promise<{ access_token: string; refresh_token: string }> {
  const r = await token({
    grant_type: 'password',
    username: user.username,
    password: user.password,
    ...clientParams(),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as { access_token: string; refresh_token: string };
}

function api(path: string, bearer: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(sb.apiUrls.connect + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const search = (body: unknown, bearer = clientToken) => api('/v1/client/customer/search', bearer, body);

async function setRateLimit(perSecond: number, perMinute: number): Promise<void> {
  const r = await fetch(`${sb.urls.connect}/_sandbox/connect/rate-limit`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ perSecond, perMinute }),
  });
  expect(r.status).toBe(200);
}

const customers = (): Customer[] => sb.context.population.customers;

beforeAll(async () => {
  sb = await startSandbox();
  const r = await token({ grant_type: 'client_credentials', ...clientParams() });
  clientToken = ((await r.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await sb?.close();
});

describe('Connect OAuth', () => {
  it('issues a 12 h bearer client token for form-urlencoded client credentials', async () => {
    const r = await token({ grant_type: 'client_credentials', ...clientParams() });
    expect(r.status).toBe(200);
    const body = await read<{ access_token: string }>(r);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 43200, scope: 'client' });
    expect(typeof body.access_token).toBe('string');
  });

  it('accepts the token parameters in the query string', async () => {
    const q = new URLSearchParams({ grant_type: 'client_credentials', ...clientParams() });
    const r = await fetch(`${sb.tokenUrls.connect}?${q}`, { method: 'POST' });
    expect(r.status).toBe(200);
    const t = (await r.json()) as { access_token: string };
    expect((await api('/v1/client/customer/info/1', t.access_token)).status).not.toBe(401);
  });

  it('answers 401 invalid_client to a wrong client secret', async () => {
    const r = await token({
      grant_type: 'client_credentials',
      client_id: sb.credentials.connect.clientId,
      client_secret: 'nope',
    });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 400 unsupported_grant_type and invalid_request for a missing grant type', async () => {
    const r = await token({ grant_type: 'implicit', ...clientParams() });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const m = await token(clientParams());
    expect(m.status).toBe(400);
    expect(await m.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('answers 401 with a Bearer challenge to a missing or unknown token', async () => {
    const none = await api('/v1/client/customer/info/1', null);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ exceptionType: 'UnauthorizedException' });
    const bad = await api('/v1/client/customer/info/1', 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('answers 401 to an expired token', async () => {
    const short = await startSandbox({
      tokenTtlSeconds: { connect: 1 },
      population: { persons: 50, customers: 20 },
    });
    try {
      const params = { grant_type: 'client_credentials', ...clientParams() };
      const r = await fetch(short.tokenUrls.connect, form(params));
      const t = (await r.json()) as { access_token: string; expires_in: number };
      expect(t.expires_in).toBe(1);
      const path = '/v1/client/credential/customers/check';
      const init = (body: unknown) => ({
        method: 'POST',
        headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(
        (await fetch(short.apiUrls.connect + path, init({ credentials: ['x@example.no'] }))).status,
      ).toBe(200);
      await new Promise((res) => setTimeout(res, 1_100));
      const expired = await fetch(short.apiUrls.connect + path, init({ credentials: ['x@example.no'] }));
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual({
        exceptionType: 'UnauthorizedException',
        errorMessage: 'Access token expired',
      });
    } finally {
      await short.close();
    }
  });

  it('runs the authorization-code stand-in: authorize, code, token, then the user’s own customer', async () => {
    const user = sb.credentials.connect.users[0]!;
    const redirectUri = 'http://localhost:9999/callback';
    const q = new URLSearchParams({
      client_id: sb.credentials.connect.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      state: 'st-42',
      login_hint: user.username,
      password: user.password,
    });
    const auth = await fetch(`${sb.urls.connect}/login/oauth/authorize?${q}`, { redirect: 'manual' });
    expect(auth.status).toBe(302);
    const location = new URL(auth.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('st-42');
    const code = location.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const exchange = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...clientParams() };
    const r = await token(exchange);
    expect(r.status).toBe(200);
    const t = (await r.json()) as {
      access_token: string;
      refresh_token: string;
      token_type: string;
      expires_in: number;
    };
    expect(t).toMatchObject({ token_type: 'bearer', expires_in: 43200, scope: 'user' });
    expect(t.refresh_token).toBeTruthy();

    const info = await api('/v1/customer/info', t.access_token);
    expect(info.status).toBe(200);
    expect((await read<InfoBody>(info)).customerNumber).toBe(563457);

    const again = await token(exchange);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('redirects with access_denied when the test user’s password is wrong', async () => {
    const q = new URLSearchParams({
      client_id: sb.credentials.connect.clientId,
      redirect_uri: 'http://localhost:9999/cb',
      response_type: 'code',
      state: 's',
      login_hint: sb.credentials.connect.users[0]!.username,
      password: 'wrong',
    });
    const auth = await fetch(`${sb.urls.connect}/login/oauth/authorize?${q}`, { redirect: 'manual' });
    expect(auth.status).toBe(302);
    const location = new URL(auth.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('answers 400 without redirecting to an unknown client id at authorize', async () => {
    const q = new URLSearchParams({
      client_id: 'someone.else',
      redirect_uri: 'http://x/cb',
      response_type: 'code',
    });
    const r = await fetch(`${sb.urls.connect}/login/oauth/authorize?${q}`, { redirect: 'manual' });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('issues a new working access token for a refresh token', async () => {
    const first = await passwordToken();
    const r = await token({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      ...clientParams(),
    });
    expect(r.status).toBe(200);
    const t = (await r.json()) as { access_token: string };
    expect(t.access_token).not.toBe(first.access_token);
    const info = await api('/v1/customer/info', t.access_token);
    expect((await read<InfoBody>(info)).customerNumber).toBe(563457);
    const bad = await token({ grant_type: 'refresh_token', refresh_token: 'unknown', ...clientParams() });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('gives a user token for the sandbox-only password grant and refuses a wrong password', async () => {
    const t = await passwordToken(sb.credentials.connect.users[1]);
    const info = await api('/v1/customer/info', t.access_token);
    expect((await read<InfoBody>(info)).customerNumber).toBe(563458);
    const user = sb.credentials.connect.users[0]!;
    const bad = await token({
      grant_type: 'password',
      username: user.username,
      password: 'x',
      ...clientParams(),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('Connect customer info (user mode)', () => {
  it('shows the logged-in user’s customer in the documented shape', async () => {
    const t = await passwordToken();
    const r = await api('/v1/customer/info', t.access_token);
    expect(r.status).toBe(200);
    const body = await r.json();
    const c = sb.context.population.customerByNumber.get(563457)!;
    expect(body).toEqual({
      customerNumber: 563457,
      name: {
        firstName: c.firstName,
        middleName: c.middleName,
        lastName: c.lastName,
        companyName: c.companyName,
        departmentName: c.departmentName,
      },
      phoneNumbers: c.phones,
      emails: c.emails,
      invoiceEmailAddress: c.invoiceEmailAddress,
      attachedUsers: c.attachedUsers.map((userId) => ({ userId, uniqueId: expect.any(String) })),
    });
  });

  it('answers 403 to a client token on the user endpoint', async () => {
    const r = await api('/v1/customer/info', clientToken);
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ exceptionType: 'ForbiddenException' });
  });

  it('replaces every field: sending only a name empties the lists and nulls the invoice email', async () => {
    const t = await passwordToken(sb.credentials.connect.users[1]);
    const full = {
      name: { firstName: 'Kari', lastName: 'Nordmann' },
      phoneNumbers: [{ phoneNumber: '+4798765432', phoneNumberType: 'mobile' }],
      emails: ['kari@example.no'],
      invoiceEmailAddress: 'faktura@example.no',
    };
    expect(await (await api('/v1/customer/info', t.access_token, full)).json()).toEqual({ success: true });
    let info = await read<InfoBody>(await api('/v1/customer/info', t.access_token));
    expect(info).toMatchObject({ emails: ['kari@example.no'], invoiceEmailAddress: 'faktura@example.no' });

    const r = await api('/v1/customer/info', t.access_token, {
      name: { firstName: 'Kari', lastName: 'Hansen' },
    });
    expect(r.status).toBe(200);
    info = await read<InfoBody>(await api('/v1/customer/info', t.access_token));
    expect(info.name).toEqual({
      firstName: 'Kari',
      middleName: null,
      lastName: 'Hansen',
      companyName: null,
      departmentName: null,
    });
    expect(info.emails).toEqual([]);
    expect(info.phoneNumbers).toEqual([]);
    expect(info.invoiceEmailAddress).toBeNull();

    // Later client-mode reads see the change too.
    const viaClient = await read<InfoBody>(await api('/v1/client/customer/info/563458', clientToken));
    expect(viaClient.name.lastName).toBe('Hansen');
  });

  it('sets lastName to "-" when the name is empty or null, and keeps a company name as the name', async () => {
    const t = await passwordToken(sb.credentials.connect.users[1]);
    await api('/v1/customer/info', t.access_token, { name: {}, emails: ['k@example.no'] });
    let info = await read<InfoBody>(await api('/v1/customer/info', t.access_token));
    expect(info.name.lastName).toBe('-');
    expect(info.emails).toEqual(['k@example.no']);

    await api('/v1/customer/info', t.access_token, {});
    info = await read<InfoBody>(await api('/v1/customer/info', t.access_token));
    expect(info.name).toEqual({
      firstName: null,
      middleName: null,
      lastName: '-',
      companyName: null,
      departmentName: null,
    });

    await api('/v1/customer/info', t.access_token, { name: { companyName: 'Nordmann AS' } });
    info = await read<InfoBody>(await api('/v1/customer/info', t.access_token));
    expect(info.name).toMatchObject({ lastName: null, companyName: 'Nordmann AS' });
  });

  it('answers 400 to an invalid email, a too long invoice email and a non-E.164 phone', async () => {
    const t = await passwordToken(sb.credentials.connect.users[1]);
    const cases = [
      { emails: ['not-an-email'] },
      { emails: [`${'a'.repeat(250)}@example.no`] },
      { invoiceEmailAddress: `${'a'.repeat(50)}@example.no` },
      { phoneNumbers: [{ phoneNumber: '98765432', phoneNumberType: 'mobile' }] },
      { phoneNumbers: [{ phoneNumber: '+4798765432', phoneNumberType: 'work' }] },
    ];
    for (const body of cases) {
      const r = await api('/v1/customer/info', t.access_token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((await read<ErrorBody>(r)).exceptionType).toBe('BadRequestException');
    }
  });
});

describe('Connect customer search (client mode)', () => {
  it('answers 400 when the requirement rules are not met', async () => {
    const c = customers().find((x) => x.lastName)!;
    const cases = [
      {},
      { lastName: c.lastName, streetAddress: c.street },
      { lastName: c.lastName, postalPlace: c.postalPlace },
      { streetAddress: c.street, postalCode: c.postalCode },
      { firstName: c.firstName, streetAddress: c.street, postalPlace: c.postalPlace },
      { productCode: 'CO27409' },
      { lastName: '', streetAddress: c.street, postalPlace: c.postalPlace },
    ];
    for (const body of cases) {
      const r = await search(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((await read<ErrorBody>(r)).errorMessage).toContain('phoneNumber or email');
    }
  });

  it('answers 400 to a non-E.164 phone number and a too long last name', async () => {
    expect((await search({ phoneNumber: '98765432' })).status).toBe(400);
    expect((await search({ lastName: 'x'.repeat(31), streetAddress: 'a', postalCode: '0179' })).status).toBe(
      400,
    );
  });

  it('finds a customer by phone number', async () => {
    const c = customers().find((x) => x.phones.length > 0)!;
    const phone = c.phones[0]!.phoneNumber;
    const r = await search({ phoneNumber: phone });
    expect(r.status).toBe(200);
    const { customers: hits } = await read<ListBody>(r);
    expect(hits.map((h: { customerNumber: number }) => h.customerNumber)).toContain(c.customerNumber);
    for (const h of hits)
      expect(h.phoneNumbers.map((p: { phoneNumber: string }) => p.phoneNumber)).toContain(phone);
  });

  it('finds a customer by email, case-insensitively', async () => {
    const c = customers().find((x) => x.emails.length > 0)!;
    const r = await search({ email: c.emails[0]!.toUpperCase() });
    expect(r.status).toBe(200);
    const { customers: hits } = await read<ListBody>(r);
    expect(hits.map((h: { customerNumber: number }) => h.customerNumber)).toContain(c.customerNumber);
  });

  it('finds a customer by name and address', async () => {
    const c = customers().find((x) => x.lastName && x.firstName && x.street)!;
    const r = await search({
      firstName: c.firstName,
      lastName: c.lastName!.toLowerCase(),
      streetAddress: c.street,
      streetNumber: c.streetNumber,
      postalPlace: c.postalPlace,
    });
    expect(r.status).toBe(200);
    const { customers: hits } = await read<ListBody>(r);
    expect(hits.map((h: { customerNumber: number }) => h.customerNumber)).toContain(c.customerNumber);
    expect(hits.length).toBeLessThanOrEqual(5);
  });

  it('narrows by product code', async () => {
    const c = customers().find((x) => x.phones.length > 0 && x.products.length > 0)!;
    const phone = c.phones[0]!.phoneNumber;
    const owned = await read<ListBody>(await search({ phoneNumber: phone, productCode: c.products[0] }));
    expect(owned.customers.map((h: { customerNumber: number }) => h.customerNumber)).toContain(
      c.customerNumber,
    );
    const none = await read<ListBody>(await search({ phoneNumber: phone, productCode: 'NOSUCHPROD' }));
    expect(none.customers).toEqual([]);
  });

  it('answers an empty list when nobody matches', async () => {
    const r = await search({ phoneNumber: '+4700000001' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ customers: [] });
  });

  /** Customers grouped by what a name/address search without a street number matches. */
  function nameAddressGroups(): Customer[][] {
    const groups = new Map<string, Customer[]>();
    for (const c of customers()) {
      const name = c.lastName ? `l:${c.lastName}` : `c:${c.companyName}`;
      const key = [name, c.street, c.postalPlace].join('|').toLowerCase();
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    return [...groups.values()];
  }
  const nameAddressQuery = (c: Customer) => ({
    ...(c.lastName ? { lastName: c.lastName } : { companyName: c.companyName! }),
    streetAddress: c.street,
    postalPlace: c.postalPlace,
  });

  it('answers 403 when more than 5 customers match, and a department narrows it', async () => {
    const big = nameAddressGroups().find((g) => g.length > 5);
    expect(big, 'the population has a group of more than 5 customers').toBeDefined();
    const c = big![0]!;
    const r = await search(nameAddressQuery(c));
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({
      exceptionType: 'ForbiddenException',
      errorMessage: 'Number of customers in response are limited to 5 customers',
    });
    if (c.companyName && c.departmentName) {
      const narrowed = await search({ ...nameAddressQuery(c), departmentName: c.departmentName });
      expect(narrowed.status).toBe(200);
      const { customers: hits } = await read<ListBody>(narrowed);
      expect(hits.map((h) => h.customerNumber)).toContain(c.customerNumber);
      expect(hits.length).toBeLessThanOrEqual(5);
    }
  });

  it('answers all of exactly 5 matches', async () => {
    const five = nameAddressGroups().find((g) => g.length === 5);
    expect(five, 'the population has a group of exactly 5 customers').toBeDefined();
    const r = await search(nameAddressQuery(five![0]!));
    expect(r.status).toBe(200);
    const { customers: hits } = await read<ListBody>(r);
    expect(hits.map((h) => h.customerNumber).sort()).toEqual(five!.map((c) => c.customerNumber).sort());
  });

  it('answers 403 to a user token', async () => {
    const t = await passwordToken();
    expect((await search({ phoneNumber: '+4700000001' }, t.access_token)).status).toBe(403);
  });
});

describe('Connect credential check and client customer info', () => {
  it('returns the customers behind the known credentials and leaves out the unknown', async () => {
    const byEmail = customers().find((x) => x.credentials.some((k) => k.credentialType === 'A'))!;
    const email = byEmail.credentials.find((k) => k.credentialType === 'A')!.credential;
    const byPhone = customers().find((x) =>
      x.credentials.some((k) => k.credentialType === 'B' && k.credential.startsWith('+47')),
    )!;
    const phone = byPhone.credentials.find(
      (k) => k.credentialType === 'B' && k.credential.startsWith('+47'),
    )!.credential;
    const localPhone = phone.slice(3); // 8 digits: read as Norwegian
    const r = await api('/v1/client/credential/customers/check', clientToken, {
      credentials: [
        'nobody@example.invalid',
        email.toUpperCase(),
        '+4700000001',
        localPhone,
        'AID:unknown-1',
      ],
    });
    expect(r.status).toBe(200);
    const { customers: items } = await read<CheckBody>(r);
    expect(items).toContainEqual({
      credential: email.toUpperCase(),
      credentialType: 'A',
      customerNumber: byEmail.customerNumber,
    });
    expect(items).toContainEqual({
      credential: localPhone,
      credentialType: 'B',
      customerNumber: byPhone.customerNumber,
    });
    const sent = items.map((i: { credential: string }) => i.credential);
    expect(sent).not.toContain('nobody@example.invalid');
    expect(sent).not.toContain('+4700000001');
    expect(sent).not.toContain('AID:unknown-1');
  });

  it('answers 400 to more than 100 credentials and to none', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `u${i}@example.no`);
    expect(
      (await api('/v1/client/credential/customers/check', clientToken, { credentials: many })).status,
    ).toBe(400);
    expect(
      (await api('/v1/client/credential/customers/check', clientToken, { credentials: [] })).status,
    ).toBe(400);
    const hundred = many.slice(0, 100);
    expect(
      (await api('/v1/client/credential/customers/check', clientToken, { credentials: hundred })).status,
    ).toBe(200);
  });

  it('gives a customer by number in client mode, 404 for an unknown one and 400 for a non-integer', async () => {
    const c = customers()[customers().length - 1]!;
    const r = await api(`/v1/client/customer/info/${c.customerNumber}`, clientToken);
    expect(r.status).toBe(200);
    const body = await read<InfoBody>(r);
    expect(body.customerNumber).toBe(c.customerNumber);
    expect(body.name.lastName).toBe(c.lastName);
    const missing = await api('/v1/client/customer/info/999999999', clientToken);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ exceptionType: 'NotFoundException' });
    const bad = await api('/v1/client/customer/info/12ab', clientToken);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ exceptionType: 'BadRequestException' });
  });
});

describe('Connect rate limits', () => {
  it('sends X-RateLimit-Remaining and X-RateLimit-Reset on normal responses', async () => {
    const r = await api('/v1/client/customer/info/999999999', clientToken);
    const remaining = Number(r.headers.get('x-ratelimit-remaining'));
    const reset = Number(r.headers.get('x-ratelimit-reset'));
    expect(Number.isInteger(remaining) && remaining >= 0).toBe(true);
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(60);
  });

  it('answers 429 with Retry-After beyond the per-second limit set through the control route', async () => {
    await setRateLimit(3, 1000);
    try {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await api('/v1/client/customer/info/999999999', clientToken);
        expect(r.status).toBe(404);
        seen.push(r.headers.get('x-ratelimit-remaining')!);
      }
      expect(seen).toEqual(['2', '1', '0']);
      const limited = await api('/v1/client/customer/info/999999999', clientToken);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(limited.headers.get('x-ratelimit-reset')).toBe('1');
      expect((await read<ErrorBody>(limited)).exceptionType).toBe('TooManyRequestsException');
      await new Promise((res) => setTimeout(res, 1_050));
      expect((await api('/v1/client/customer/info/999999999', clientToken)).status).toBe(404);
    } finally {
      await setRateLimit(100, 2000);
    }
  });

  it('answers 429 beyond the per-minute limit with a Retry-After of up to a minute', async () => {
    await setRateLimit(100, 2);
    try {
      await api('/v1/client/customer/info/999999999', clientToken);
      const second = await api('/v1/client/customer/info/999999999', clientToken);
      expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(second.headers.get('x-ratelimit-reset'))).toBeGreaterThan(50);
      const limited = await api('/v1/client/customer/info/999999999', clientToken);
      expect(limited.status).toBe(429);
      const retry = Number(limited.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(50);
      expect(retry).toBeLessThanOrEqual(60);
    } finally {
      await setRateLimit(100, 2000);
    }
  });
});

describe('Connect OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and describes every route', async () => {
    const doc = await read<{ paths: Record<string, unknown> }>(
      await fetch(`${sb.urls.connect}/openapi.json`),
    );
    // The document is a plain JSON object; the validator's own type is narrower than what json() gives.
    await SwaggerParser.validate(
      structuredClone(doc) as unknown as Parameters<typeof SwaggerParser.validate>[0],
    );
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/capi/v1/client/credential/customers/check',
      '/capi/v1/client/customer/info/{customerNumber}',
      '/capi/v1/client/customer/search',
      '/capi/v1/customer/info',
      '/login/oauth/authorize',
      '/login/oauth/token',
    ]);
  });
});
