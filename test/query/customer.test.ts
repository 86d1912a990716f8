import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway, type GraphQLResponse } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

/** The sandbox's customer record, as its control API lists it (test data only). */
interface SandboxCustomer {
  customerNumber: number;
  personId: string | null;
  firstName: string | null;
  lastName: string | null;
  companyName: string | null;
  departmentName: string | null;
  street: string;
  streetNumber: number;
  postalCode: string;
  postalPlace: string;
  phones: { phoneNumber: string; phoneNumberType: 'home' | 'mobile' }[];
  emails: string[];
  credentials: { credential: string; credentialType: 'A' | 'B' | 'D' }[];
}

const SEARCH_CALL = 'POST /capi/v1/client/customer/search';
const CHECK_CALL = 'POST /capi/v1/client/credential/customers/check';
const INFO_CALL = 'GET /capi/v1/client/customer/info/:customerNumber';
const USER_INFO_CALL = 'GET /capi/v1/customer/info';

let app: Nordgraph;
let control: string;
let customers: SandboxCustomer[];

async function connectCounters(): Promise<Record<string, number>> {
  const res = await fetch(`${control}/counters`);
  return ((await res.json()) as { connect: Record<string, number> }).connect;
}
async function resetCounters(): Promise<void> {
  await fetch(`${control}/counters/reset`, { method: 'POST' });
}
const count = (counters: Record<string, number>, key: string) => counters[key] ?? 0;

/** A Connect user token for a sandbox test user (the sandbox-only password grant). */
async function userToken(index: number): Promise<string> {
  const sandbox = app.sandbox!;
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

function errorAt(body: GraphQLResponse, ...path: (string | number)[]) {
  return body.errors?.find((e) => JSON.stringify(e.path) === JSON.stringify(path));
}

/**
 * Each test takes customers nobody asked for before, so the gateway's shared answer cache
 * (60 s for customers) never hides an upstream call the test wants to count.
 */
let nextFresh = 20;
function freshCustomers(n: number, filter: (c: SandboxCustomer) => boolean = () => true): SandboxCustomer[] {
  const out: SandboxCustomer[] = [];
  while (out.length < n) {
    const c = customers[nextFresh++];
    if (!c) throw new Error('ran out of sandbox customers');
    if (filter(c)) out.push(c);
  }
  return out;
}

beforeAll(async () => {
  app = await startTestGateway();
  control = app.sandbox!.controlUrl;
  customers = [];
  for (let offset = 0; ; offset += 500) {
    const page = (await (await fetch(`${control}/customers?offset=${offset}&limit=500`)).json()) as {
      total: number;
      customers: SandboxCustomer[];
    };
    customers.push(...page.customers);
    if (customers.length >= page.total || page.customers.length === 0) break;
  }
});
afterAll(async () => {
  await app?.close();
});
afterEach(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' });
});

const CUSTOMER_FIELDS = `id customerNumber firstName middleName lastName companyName departmentName
  phoneNumbers { phoneNumber type } emails invoiceEmailAddress attachedUserIds`;

describe('Query.customer', () => {
  it('answers a customer by number with every field, id connect:<number>', async () => {
    const { body } = await gql(
      app.url,
      `query($n: Int!) { customer(customerNumber: $n) { ${CUSTOMER_FIELDS} } }`,
      {
        n: 563457,
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.customer).toEqual({
      id: 'connect:563457',
      customerNumber: 563457,
      firstName: 'Ola',
      middleName: null,
      lastName: 'Nordmann',
      companyName: null,
      departmentName: null,
      phoneNumbers: [{ phoneNumber: '+4791234567', type: 'mobile' }],
      emails: ['ola.nordmann@example.no'],
      invoiceEmailAddress: 'ola.nordmann@example.no',
      attachedUserIds: ['user-563457'],
    });
  });

  it('answers null, not an error, for an unknown customer number', async () => {
    const { body } = await gql(app.url, '{ customer(customerNumber: 999999999) { id } }');
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ customer: null });
  });

  it('rejects a customer number below 1 with BAD_USER_INPUT before calling Connect', async () => {
    await resetCounters();
    const { body } = await gql(app.url, '{ customer(customerNumber: 0) { id } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'customerNumber',
    });
    expect(count(await connectCounters(), INFO_CALL)).toBe(0);
  });

  it('makes one upstream call per distinct customer number in one request', async () => {
    const [a, b] = freshCustomers(2);
    await resetCounters();
    const { body } = await gql(
      app.url,
      `query($a: Int!, $b: Int!) { x: customer(customerNumber: $a) { id } y: customer(customerNumber: $a) { lastName }
        z: customer(customerNumber: $b) { id } }`,
      { a: a!.customerNumber, b: b!.customerNumber },
    );
    expect(body.errors).toBeUndefined();
    expect(count(await connectCounters(), INFO_CALL)).toBe(2);
  });
});

describe('Query.customerSearch', () => {
  const SEARCH = `query($input: CustomerSearchInput!, $first: Int, $after: String) {
    customerSearch(input: $input, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id customerNumber } }
    } }`;
  type SearchData = {
    customerSearch: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      edges: { cursor: string; node: { id: string; customerNumber: number } }[];
    } | null;
  };

  it('finds a customer by phone number', async () => {
    const { body } = await gql<SearchData>(app.url, SEARCH, { input: { phoneNumber: '+4791234567' } });
    expect(body.errors).toBeUndefined();
    expect(body.data?.customerSearch?.edges.map((e) => e.node.id)).toEqual(['connect:563457']);
  });

  it('finds by name and address and pages to the end with one upstream search', async () => {
    await resetCounters();
    const input = { lastName: 'Nordmann', streetAddress: 'Storgata', postalCode: '0182' };
    const seen: number[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const vars: Record<string, unknown> = { input, first: 1, after };
      const { body }: { body: GraphQLResponse<SearchData> } = await gql<SearchData>(app.url, SEARCH, vars);
      expect(body.errors).toBeUndefined();
      const page: NonNullable<SearchData['customerSearch']> = body.data!.customerSearch!;
      expect(page.edges).toHaveLength(1);
      expect(page.pageInfo.hasPreviousPage).toBe(pages > 0);
      seen.push(...page.edges.map((e) => e.node.customerNumber));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([563457, 563458]);
    // The second page reads the first page's cached answer.
    expect(count(await connectCounters(), SEARCH_CALL)).toBe(1);
  });

  it('runs identical searches in one request once', async () => {
    const [c] = freshCustomers(1, (x) => x.phones.length > 0);
    await resetCounters();
    const { body } = await gql(
      app.url,
      `query($p: String!) { a: customerSearch(input: { phoneNumber: $p }) { totalCount }
        b: customerSearch(input: { phoneNumber: $p }, first: 2) { edges { node { id } } } }`,
      { p: c!.phones[0]!.phoneNumber },
    );
    expect(body.errors).toBeUndefined();
    expect(count(await connectCounters(), SEARCH_CALL)).toBe(1);
  });

  it.each([
    [{}, ['companyName or lastName', 'streetAddress', 'postalCode or postalPlace']],
    [{ lastName: 'Nordmann' }, ['streetAddress', 'postalCode or postalPlace']],
    [{ companyName: 'Acme', streetAddress: 'Storgata' }, ['postalCode or postalPlace']],
    [{ streetAddress: 'Storgata', postalPlace: 'Oslo', firstName: 'Ola' }, ['companyName or lastName']],
    // Empty strings count as not set, as Connect reads them.
    [{ lastName: 'Nordmann', streetAddress: '  ', postalPlace: 'Oslo' }, ['streetAddress']],
  ])('rejects %j before calling Connect, naming the missing fields', async (input, missing) => {
    await resetCounters();
    const { body } = await gql<SearchData>(app.url, SEARCH, { input });
    expect(body.data?.customerSearch).toBeNull();
    const e = body.errors?.[0];
    expect(e?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input', missing });
    for (const m of missing) expect(e?.message).toContain(m);
    expect(count(await connectCounters(), SEARCH_CALL)).toBe(0);
  });

  it.each([
    [{ input: { phoneNumber: '12345' } }, 'input.phoneNumber'],
    [{ input: { email: 'not-an-email' } }, 'input.email'],
    [
      { input: { lastName: 'x'.repeat(31), streetAddress: 'Storgata', postalPlace: 'Oslo' } },
      'input.lastName',
    ],
    [{ input: { phoneNumber: '+4791234567' }, first: 6 }, 'first'],
    [{ input: { phoneNumber: '+4791234567' }, first: 0 }, 'first'],
    [{ input: { phoneNumber: '+4791234567' }, after: 'garbage' }, 'after'],
  ])('rejects %j with BAD_USER_INPUT naming %s', async (vars, argument) => {
    const { body } = await gql<SearchData>(app.url, SEARCH, vars);
    expect(body.data?.customerSearch).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  });

  it('answers SEARCH_TOO_BROAD when more than 5 customers match (Connect 403), and a department narrows it', async () => {
    const groups = new Map<string, SandboxCustomer[]>();
    for (const c of customers.filter((x) => x.companyName)) {
      const key = [c.companyName, c.street, c.postalPlace].join('|').toLowerCase();
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    const big = [...groups.values()].find((g) => g.length > 5);
    expect(big, 'the sandbox has a company with more than 5 customers at one address').toBeDefined();
    const c = big![0]!;
    const input = { companyName: c.companyName, streetAddress: c.street, postalPlace: c.postalPlace };
    const { body } = await gql<SearchData>(app.url, SEARCH, { input });
    expect(body.data?.customerSearch).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'SEARCH_TOO_BROAD',
      provider: 'connect',
      status: 403,
      limit: 5,
    });
    expect(body.errors?.[0]?.message).toMatch(/More than 5 customers match; narrow the search/);

    const narrowed = await gql<SearchData>(app.url, SEARCH, {
      input: { ...input, departmentName: c.departmentName },
    });
    expect(narrowed.body.errors).toBeUndefined();
    expect(narrowed.body.data?.customerSearch?.edges.map((e) => e.node.customerNumber)).toContain(
      c.customerNumber,
    );
  });
});

describe('Query.myCustomer (user mode)', () => {
  const MINE = `{ a: myCustomer { id customerNumber firstName } b: myCustomer { lastName } }`;

  it("answers the caller's own customer with the caller's own token, and never serves it to another caller", async () => {
    const token = await userToken(0);
    await resetCounters();
    const mine = await gql<{ a: { id: string; customerNumber: number; firstName: string } }>(
      app.url,
      MINE,
      {},
      {
        'x-connect-user-token': token,
      },
    );
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.a).toEqual({ id: 'connect:563457', customerNumber: 563457, firstName: 'Ola' });
    // Two fields, one upstream call within the request.
    expect(count(await connectCounters(), USER_INFO_CALL)).toBe(1);

    // A second caller without the header gets no answer, and Connect is not asked.
    const anonymous = await gql(app.url, MINE);
    expect(anonymous.body.data).toEqual({ a: null, b: null });
    expect(anonymous.body.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      provider: 'connect',
    });
    expect(anonymous.body.errors?.[0]?.message).toContain('x-connect-user-token');
    expect(count(await connectCounters(), USER_INFO_CALL)).toBe(1);

    // Another user gets their own record, not the cached answer of the first.
    const other = await gql<{ a: { customerNumber: number } }>(
      app.url,
      MINE,
      {},
      {
        'x-connect-user-token': await userToken(1),
      },
    );
    expect(other.body.errors).toBeUndefined();
    expect(other.body.data?.a.customerNumber).toBe(563458);

    // The same user again: asked upstream again, since user-mode answers are never cached.
    const again = await gql<{ a: { customerNumber: number } }>(
      app.url,
      MINE,
      {},
      { 'x-connect-user-token': token },
    );
    expect(again.body.data?.a.customerNumber).toBe(563457);
    expect(count(await connectCounters(), USER_INFO_CALL)).toBe(3);
  });

  it('answers UPSTREAM_UNAUTHORIZED when Connect refuses the user token', async () => {
    const { body } = await gql(
      app.url,
      '{ myCustomer { id } }',
      {},
      { 'x-connect-user-token': 'not-a-real-token' },
    );
    expect(body.data).toEqual({ myCustomer: null });
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAUTHORIZED',
      provider: 'connect',
      status: 401,
    });
  });

  it('treats an empty x-connect-user-token header as absent', async () => {
    const { body } = await gql(app.url, '{ myCustomer { id } }', {}, { 'x-connect-user-token': '' });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('Query.credentialCheck', () => {
  const CHECK = `query($c: [String!]!) { credentialCheck(credentials: $c) {
    credential credentialType customer { id customerNumber } } }`;
  type CheckData = {
    credentialCheck:
      | {
          credential: string;
          credentialType: string;
          customer: { id: string; customerNumber: number } | null;
        }[]
      | null;
  };

  it('answers the customers behind emails and mobiles in the order sent, in one upstream call', async () => {
    await resetCounters();
    const { body } = await gql<CheckData>(app.url, CHECK, {
      c: ['KARI.nordmann@example.no', 'nobody@nowhere.example', '+4791234567', '912 34 567'],
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.credentialCheck).toEqual([
      {
        credential: 'KARI.nordmann@example.no',
        credentialType: 'A',
        customer: { id: 'connect:563458', customerNumber: 563458 },
      },
      {
        credential: '+4791234567',
        credentialType: 'B',
        customer: { id: 'connect:563457', customerNumber: 563457 },
      },
    ]);
    // '912 34 567' is +4791234567 spelled differently: one key, answered once.
    expect(count(await connectCounters(), CHECK_CALL)).toBe(1);
  });

  it('answers an empty list for no credentials without calling Connect', async () => {
    await resetCounters();
    const { body } = await gql<CheckData>(app.url, CHECK, { c: [] });
    expect(body).toEqual({ data: { credentialCheck: [] } });
    expect(count(await connectCounters(), CHECK_CALL)).toBe(0);
  });

  it('rejects more than 100 credentials with BAD_USER_INPUT', async () => {
    const c = Array.from({ length: 101 }, (_, i) => `user${i}@example.no`);
    const { body } = await gql<CheckData>(app.url, CHECK, { c });
    expect(body.data?.credentialCheck).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'credentials' });
    expect(body.errors?.[0]?.message).toContain('at most 100');
  });

  it('rejects a value that is no email, mobile number or AID: id', async () => {
    const { body } = await gql<CheckData>(app.url, CHECK, { c: ['ola.nordmann@example.no', 'hello'] });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'credentials' });
  });

  it('checks 100 credentials in one upstream call', async () => {
    const fresh = freshCustomers(100, (c) => c.emails.length > 0);
    await resetCounters();
    const { body } = await gql<CheckData>(app.url, CHECK, { c: fresh.map((c) => c.emails[0]) });
    expect(body.errors).toBeUndefined();
    expect(body.data?.credentialCheck?.length).toBeGreaterThanOrEqual(100);
    expect(count(await connectCounters(), CHECK_CALL)).toBe(1);
  });
});

describe('Person.customers', () => {
  /** Sandbox persons that are Connect customers through a mobile or email credential. */
  async function personsWithCustomers(n: number): Promise<{ nationalId: string; customerNumber: number }[]> {
    const picked = freshCustomers(n, (c) => c.personId !== null && c.credentials.length > 0);
    return Promise.all(
      picked.map(async (c) => {
        const person = (await (await fetch(`${control}/persons/${c.personId}`)).json()) as {
          nationalId: string;
        };
        return { nationalId: person.nationalId, customerNumber: c.customerNumber };
      }),
    );
  }

  it('finds the customers of several persons with ONE credential-check call', async () => {
    const persons = await personsWithCustomers(3);
    const args = persons.map((_, i) => `$p${i}: String!`).join(', ');
    const fields = persons
      .map((_, i) => `p${i}: person(nationalId: $p${i}) { customers { id customerNumber } }`)
      .join('\n');
    const vars = Object.fromEntries(persons.map((p, i) => [`p${i}`, p.nationalId]));
    await resetCounters();
    const { body } = await gql<Record<string, { customers: { customerNumber: number }[] } | null>>(
      app.url,
      `query(${args}) { ${fields} again: person(nationalId: $p0) { customers { id } } }`,
      vars,
    );
    expect(body.errors).toBeUndefined();
    persons.forEach((p, i) => {
      expect(body.data?.[`p${i}`]?.customers.map((c) => c.customerNumber)).toContain(p.customerNumber);
    });
    const counters = await connectCounters();
    expect(count(counters, CHECK_CALL)).toBe(1);
    // At most one info call per distinct customer found (fewer when an earlier test cached one).
    const distinct = new Set(
      Object.values(body.data ?? {}).flatMap((p) => p?.customers.map((c) => c.customerNumber) ?? []),
    );
    expect(distinct.size).toBeGreaterThanOrEqual(persons.length);
    expect(count(counters, INFO_CALL)).toBeGreaterThan(0);
    expect(count(counters, INFO_CALL)).toBeLessThanOrEqual(distinct.size);
  });
});

describe("Connect's rate limit", () => {
  async function fault(config: Record<string, unknown>): Promise<void> {
    await fetch(`${control}/faults/connect`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
  }

  it('retries a 429 after the advised Retry-After and answers', async () => {
    const [c] = freshCustomers(1);
    await fault({ rateLimitRate: 1, retryAfterSeconds: 1, times: 1, pathIncludes: '/capi' });
    await resetCounters();
    const started = Date.now();
    const { body } = await gql(app.url, 'query($n: Int!) { customer(customerNumber: $n) { id } }', {
      n: c!.customerNumber,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({ customer: { id: `connect:${c!.customerNumber}` } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const counters = await connectCounters();
    expect(count(counters, 'GET (fault 429)')).toBe(1);
    expect(count(counters, INFO_CALL)).toBe(1);
  });

  it('fails the field with UPSTREAM_RATE_LIMITED and retryAfterMs when the advised wait is long', async () => {
    const [c] = freshCustomers(1);
    await fault({ rateLimitRate: 1, retryAfterSeconds: 30, times: 1, pathIncludes: '/capi' });
    const { body } = await gql(app.url, 'query($n: Int!) { customer(customerNumber: $n) { id } }', {
      n: c!.customerNumber,
    });
    expect(body.data).toEqual({ customer: null });
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      provider: 'connect',
      status: 429,
      retryAfterMs: 30_000,
    });
  });
});

describe('partial data with Connect failing', () => {
  it('fails only the Connect fields with {code, provider, status}; the rest still arrives', async () => {
    const [c] = freshCustomers(1);
    await fetch(`${control}/faults/connect`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 503, pathIncludes: '/capi' }),
    });
    const { body } = await gql(
      app.url,
      `query($n: Int!) { customer(customerNumber: $n) { id }
        credentialCheck(credentials: ["fault.test@example.no"]) { credential }
        service { name } }`,
      { n: c!.customerNumber },
    );
    expect(body.data).toEqual({ customer: null, credentialCheck: null, service: { name: 'nordgraph' } });
    for (const field of ['customer', 'credentialCheck']) {
      expect(errorAt(body, field)?.extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        provider: 'connect',
        status: 503,
      });
    }
  });

  it('gives Person.customers an error of its own when only Connect fails', async () => {
    const [c] = freshCustomers(1, (x) => x.personId !== null && x.credentials.length > 0);
    const person = (await (await fetch(`${control}/persons/${c!.personId}`)).json()) as {
      nationalId: string;
    };
    await fetch(`${control}/faults/connect`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, errorStatus: 500, pathIncludes: '/capi' }),
    });
    const { body } = await gql(
      app.url,
      `query($id: String!) { person(nationalId: $id) { id customers { id } } service { name } }`,
      {
        id: person.nationalId,
      },
    );
    expect(body.data?.service).toEqual({ name: 'nordgraph' });
    expect(errorAt(body, 'person', 'customers')?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      provider: 'connect',
      status: 500,
    });
  });
});
