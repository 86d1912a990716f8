import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, importPKCS8 } from 'jose';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Nordgraph } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createAuthenticator, isCaller, SANDBOX_DEV_API_KEY } from '../src/security/callers.js';
import {
  gql,
  startGatewayOn,
  startTestGateway,
  TEST_HEADERS,
  testApiKey,
  type GraphQLResponse,
} from './helpers/gateway.js';

/**
 * Callers, scopes and purposes (issue 6 "Callers" and "Personal data"), over HTTP and graphql-ws
 * against the sandbox: API keys and JWTs (HS256 and RS256), 401 and 4403, `@requiresScopes`
 * (FORBIDDEN, masking), `@personalData` purposes, and subscribers of different callers never
 * sharing an answer.
 */

const HS_SECRET = 'test-hs256-secret-of-at-least-32-characters';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RS_PUBLIC = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const RS_PRIVATE = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const reader = testApiKey('reader', [], ['customer-service']);
const creditOfficer = testApiKey('credit-officer', ['credit:read', 'nationalid:read'], ['credit-assessment']);

let app: Nordgraph;
let control: string;
let nationalId: string;

const PERSON = 'query($id: String!) { person(nationalId: $id) { nationalId firstName } }';

async function hs256(claims: Record<string, unknown>, expiresIn = '5m', secret = HS_SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://idp.example')
    .setAudience('nordgraph')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

async function raw(headers: Record<string, string>, query = '{ service { name } }') {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse };
}

/** A query as a given caller: its headers only, not the test defaults. */
function as(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) {
  return gql(app.url, query, variables, { 'x-api-key': '', 'x-purpose': '', ...headers });
}

beforeAll(async () => {
  app = await startTestGateway({
    API_KEYS: JSON.stringify([reader.entry, creditOfficer.entry]),
    JWT_HS256_SECRET: HS_SECRET,
    JWT_RS256_PUBLIC_KEY: RS_PUBLIC,
    JWT_ISSUER: 'https://idp.example',
    JWT_AUDIENCE: 'nordgraph',
  });
  control = app.sandbox!.controlUrl;
  const res = await fetch(`${control}/persons?market=NO&limit=5`);
  nationalId = ((await res.json()) as { persons: { nationalId: string }[] }).persons[2]!.nationalId;
});
afterAll(async () => {
  await app?.close();
});

describe('authentication over HTTP', () => {
  it('answers a request without credentials with 401, UNAUTHENTICATED and WWW-Authenticate', async () => {
    const res = await raw({});
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.body.errors?.[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/x-api-key.*Authorization: Bearer/),
    });
    expect(res.body.data).toBeUndefined();
  });

  it('refuses an unknown API key without echoing it', async () => {
    const key = `ng_unknown_${'z'.repeat(40)}`;
    const res = await raw({ 'x-api-key': key });
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain(key);
  });

  it('accepts a configured API key, in x-api-key or as a bearer token', async () => {
    expect((await raw({ 'x-api-key': reader.key })).body).toEqual({
      data: { service: { name: 'nordgraph' } },
    });
    expect((await raw({ authorization: `Bearer ${reader.key}` })).status).toBe(200);
  });

  it('accepts an HS256 JWT with the configured issuer and audience, and refuses expired or forged ones', async () => {
    const good = await hs256({ sub: 'app-1', scope: 'credit:read' });
    expect((await raw({ authorization: `Bearer ${good}` })).status).toBe(200);

    const expired = await hs256({ sub: 'app-1' }, '-1m');
    const e = await raw({ authorization: `Bearer ${expired}` });
    expect(e.status).toBe(401);
    expect(e.body.errors?.[0]?.message).toMatch(/expired/);

    const forged = await hs256({ sub: 'app-1' }, '5m', 'another-secret-that-is-32-characters-long');
    expect((await raw({ authorization: `Bearer ${forged}` })).status).toBe(401);

    const wrongAudience = await new SignJWT({ sub: 'app-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('someone-else')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(HS_SECRET));
    const a = await raw({ authorization: `Bearer ${wrongAudience}` });
    expect(a.status).toBe(401);
    expect(a.body.errors?.[0]?.message).toMatch(/"aud"/);
  });

  it('accepts an RS256 JWT signed by the configured key pair; its scopes and purposes apply', async () => {
    const token = await new SignJWT({ sub: 'bank-app', scope: 'nationalid:read', purposes: ['onboarding'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer('https://idp.example')
      .setAudience('nordgraph')
      .setExpirationTime('5m')
      .sign(await importPKCS8(RS_PRIVATE, 'RS256'));
    const { body } = await as({ authorization: `Bearer ${token}`, 'x-purpose': 'onboarding' }, PERSON, {
      id: nationalId,
    });
    expect(body.errors).toBeUndefined();
    expect((body.data as { person: { nationalId: string } }).person.nationalId).toBe(nationalId);
  });

  it('never accepts the sandbox development key in live mode', async () => {
    const live = await createAuthenticator({ ...loadConfig({ NODE_ENV: 'test' }), PROVIDERS_MODE: 'live' });
    const result = await live.authenticate({ 'x-api-key': SANDBOX_DEV_API_KEY });
    expect(isCaller(result)).toBe(false);
    const sandbox = await createAuthenticator(loadConfig({ NODE_ENV: 'test' }));
    expect(isCaller(await sandbox.authenticate({ 'x-api-key': SANDBOX_DEV_API_KEY }))).toBe(true);
  });
});

describe('scopes (@requiresScopes)', () => {
  it('masks a national id for a caller without nationalid:read and shows it in clear with it', async () => {
    const masked = await as({ 'x-api-key': reader.key, 'x-purpose': 'customer-service' }, PERSON, {
      id: nationalId,
    });
    expect(masked.body.errors).toBeUndefined();
    const person = (masked.body.data as { person: { nationalId: string; firstName: string } }).person;
    expect(person.nationalId).toBe(`${nationalId.slice(0, 6)}*****`);
    expect(person.firstName).toBeTruthy();

    const clear = await as({ 'x-api-key': creditOfficer.key, 'x-purpose': 'credit-assessment' }, PERSON, {
      id: nationalId,
    });
    expect((clear.body.data as { person: { nationalId: string } }).person.nationalId).toBe(nationalId);
  });

  it('gives FORBIDDEN on a credit score without credit:read, naming the scope, while the rest arrives', async () => {
    const res = await fetch(`${control}/borrowers?limit=1`);
    const orgNr = ((await res.json()) as { borrowers: { orgNr: string }[] }).borrowers[0]!.orgNr;
    const own = app.sandbox!.credentials.symetrisk.ownOrgNr;
    const query = `query($c: String!, $o: String!) {
      service { name }
      creditScore(creditorOrganizationNumber: $c, debtorOrganizationNumber: $o) { score }
    }`;
    const { body } = await as({ 'x-api-key': reader.key }, query, { c: own, o: orgNr });
    expect(body.data).toMatchObject({ service: { name: 'nordgraph' }, creditScore: null });
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({
      path: ['creditScore'],
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringContaining('"credit:read"'),
    });
  });

  it('refuses a mutation without the write scope before anything goes upstream', async () => {
    await fetch(`${control}/counters/reset`, { method: 'POST' });
    const { body } = await as(
      { 'x-api-key': reader.key },
      'mutation { uploadConsumers(consumers: [{ consumerId: "c-1", market: SE, firstName: "A", familyName: "B" }]) { acceptedCount } }',
    );
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, path: ['uploadConsumers'] });
    expect(body.errors?.[0]?.message).toContain('"write"');
    const counters = (await (await fetch(`${control}/counters`)).json()) as {
      bisnode: Record<string, number>;
    };
    expect(Object.keys(counters.bisnode).filter((k) => k.startsWith('POST'))).toEqual([]);
  });

  it('keeps erasure for callers with the admin scope', async () => {
    const m = 'mutation($id: String!) { forgetPerson(nationalId: $id) { evictedEntries } }';
    const denied = await as({ 'x-api-key': creditOfficer.key }, m, { id: nationalId });
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const allowed = await gql(app.url, m, { id: nationalId });
    expect(allowed.body.errors).toBeUndefined();
  });
});

describe('purposes of processing (@personalData)', () => {
  it('gives FORBIDDEN naming the field and the header when no purpose is declared; other fields still answer', async () => {
    const { body } = await as(
      { 'x-api-key': reader.key },
      `query($id: String!) { service { name } person(nationalId: $id) { firstName } }`,
      {
        id: nationalId,
      },
    );
    expect(body.data).toEqual({ service: { name: 'nordgraph' }, person: null });
    expect(body.errors?.[0]).toMatchObject({ path: ['person'], extensions: { code: 'FORBIDDEN' } });
    expect(body.errors?.[0]?.message).toMatch(
      /Query\.person returns personal data.*x-purpose.*customer-service/,
    );
  });

  it('gives FORBIDDEN for a purpose the caller may not declare, and makes no upstream call', async () => {
    await fetch(`${control}/counters/reset`, { method: 'POST' });
    const { body } = await as({ 'x-api-key': reader.key, 'x-purpose': 'marketing' }, PERSON, {
      id: nationalId,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toMatch(/"marketing" is not one caller "reader" may declare/);
    const counters = (await (await fetch(`${control}/counters`)).json()) as {
      byndle: Record<string, number>;
    };
    expect(Object.values(counters.byndle).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('needs a purpose for a union that may hold a person (business role holders), not for the business itself', async () => {
    const res = await fetch(`${control}/businesses?minRoles=5&limit=1`);
    const orgNr = ((await res.json()) as { businesses: { orgNr: string }[] }).businesses[0]!.orgNr;
    const q = `query($o: String!) { business(organizationNumber: $o) { name roles { role holder { __typename } } } }`;
    const { body } = await as({ 'x-api-key': reader.key }, q, { o: orgNr });
    const business = (body.data as { business: { name: string; roles: unknown[] } }).business;
    expect(business.name).toBeTruthy();
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(body.errors!.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
    expect(body.errors![0]!.message).toContain('BusinessRole.holder');
  });
});

describe('review findings: no way around purposes, expiry or the failed-attempt limit', () => {
  it('needs a purpose for ajourhold entries, which hold names, birth dates and addresses', async () => {
    const added = await gql(
      app.url,
      'mutation($input: AddAjourholdEntryInput!) { addAjourholdEntry(input: $input) { outcome } }',
      {
        input: {
          externalId: `AUTH-${Date.now()}`,
          firstName: 'Ola',
          lastName: 'Nordman',
          street: 'Storgata',
          houseNumber: '10',
          postalCode: '0182',
          city: 'OSLO',
          birthDate: '1980-05-15',
        },
      },
    );
    expect(added.body.errors).toBeUndefined();
    const q = '{ ajourholdEntries(first: 1) { edges { node { externalId firstName } } } }';
    const { body } = await as({ 'x-api-key': reader.key }, q);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toContain('AjourholdEntryEdge.node returns personal data');
  });

  it('refuses a JWT without expiry, and ignores a "*" purposes claim', async () => {
    const noExp = await new SignJWT({ sub: 'app-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://idp.example')
      .setAudience('nordgraph')
      .sign(new TextEncoder().encode(HS_SECRET));
    expect((await raw({ authorization: `Bearer ${noExp}` })).status).toBe(401);

    const star = await hs256({ sub: 'app-2', purposes: ['*'] });
    const { body } = await as({ authorization: `Bearer ${star}`, 'x-purpose': 'marketing' }, PERSON, {
      id: nationalId,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('limits failed attempts per client address, however many made-up keys it sends', async () => {
    const limited = await startGatewayOn(app.sandbox!, { RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(limited.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': `ng_made_up_${i}_${'q'.repeat(40)}` },
          body: JSON.stringify({ query: '{ service { name } }' }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('graphql-ws connections', () => {
  function client(params: Record<string, string>): Client {
    return createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: params,
      retryAttempts: 0,
      lazy: true,
    });
  }

  it('closes a connection without valid credentials with 4403 Forbidden', async () => {
    for (const params of [{}, { 'x-api-key': `ng_bad_${'x'.repeat(40)}` }]) {
      const ws = new WebSocket(app.wsUrl, 'graphql-transport-ws');
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(JSON.stringify({ type: 'connection_init', payload: params }));
      expect(await closed).toBe(4403);
    }
  });

  it('applies each subscriber’s scopes and purpose to the same event: masked, clear, or refused', async () => {
    const persons = (await (await fetch(`${control}/persons?market=NO&limit=20`)).json()) as {
      persons: { byndleId: string | null; nationalId: string }[];
    };
    const p = persons.persons.find((x) => x.byndleId)!;
    const externalId = `auth-${Date.now()}`;
    const query = `subscription($f: PersonChangeFilter) { personChanges(filter: $f) { person { nationalId } } }`;
    type R = {
      data?: { personChanges: { person: { nationalId: string } | null } };
      errors?: GraphQLResponse['errors'];
    };
    const callers = {
      masked: client({ 'x-api-key': reader.key, 'x-purpose': 'customer-service' }),
      clear: client({ ...TEST_HEADERS }),
      noPurpose: client({ 'x-api-key': reader.key }),
    };
    const got: Record<string, R> = {};
    const subscribed = Object.entries(callers).map(
      ([name, c]) =>
        new Promise<void>((resolve, reject) => {
          c.subscribe<R['data']>(
            { query, variables: { f: { externalId } } },
            {
              next: (m) => {
                got[name] = m as R;
                resolve();
              },
              // A refused subscription ends with its errors (graphql-ws `error` message).
              error: (e: unknown) => {
                if (Array.isArray(e)) {
                  got[name] = { errors: e as NonNullable<R['errors']> };
                  resolve();
                } else reject(e instanceof Error ? e : new Error(String(e)));
              },
              complete: () => undefined,
            },
          );
        }),
    );
    try {
      // Let the three subscriptions reach the log's tail before the event is appended.
      await new Promise((r) => setTimeout(r, 300));
      await app.eventLog.append([
        {
          provider: 'byndle',
          sourceId: `auth-evt-${Date.now()}`,
          kind: 'PERSON_CHANGED',
          occurredAt: new Date().toISOString(),
          person: { byndleId: p.byndleId!, market: 'NO' },
          market: 'NO',
          changedFields: ['MOBILE'],
          sourceTypes: ['mobNr.changed'],
          externalId,
        },
      ]);
      await Promise.all(subscribed);
      expect(got.clear?.data?.personChanges.person?.nationalId).toBe(p.nationalId);
      expect(got.masked?.data?.personChanges.person?.nationalId).toBe(`${p.nationalId.slice(0, 6)}*****`);
      // Without a purpose the subscription itself is refused: its events are about persons.
      expect(got.noPurpose?.data).toBeUndefined();
      expect(got.noPurpose?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(got.noPurpose?.errors?.[0]?.message).toContain(
        'Subscription.personChanges returns personal data',
      );
      // Both deliveries of the person are in the audit trail, each under its own caller and purpose.
      type Trail = {
        auditTrail: { edges: { node: { callerId: string; purpose: string; field: string } }[] };
      };
      const trail = async () =>
        (
          await gql<Trail>(
            app.url,
            'query($id: String!) { auditTrail(nationalId: $id, first: 500) { edges { node { callerId purpose field } } } }',
            { id: p.nationalId },
          )
        ).body.data?.auditTrail.edges.map((e) => e.node) ?? [];
      const ofEvent = async () => (await trail()).filter((r) => r.field === 'PersonChangeEvent.person');
      let records = await ofEvent();
      for (let i = 0; i < 50 && records.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        records = await ofEvent();
      }
      expect(records).toEqual(
        expect.arrayContaining([
          { callerId: 'sandbox-dev', purpose: 'testing', field: 'PersonChangeEvent.person' },
          { callerId: 'reader', purpose: 'customer-service', field: 'PersonChangeEvent.person' },
        ]),
      );
    } finally {
      await Promise.all(Object.values(callers).map((c) => c.dispose()));
    }
  });
});
