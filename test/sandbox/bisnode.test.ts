import { createHmac } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { Market, Person } from '../../src/sandbox/population/types.js';

type Json = Record<string, unknown>;
interface Event extends Json {
  id: string;
  type: string;
  timestamp: string;
}
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  status: number;
  events: Event[];
}

const SOURCES: Record<Market, string> = { SE: 'SPAR', NO: 'FREG', DK: 'CPR', FI: 'DVV' };

let sandbox: Sandbox;
let api: string;
let token: string;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Per receiver path: how many deliveries to answer with a non-200 status before accepting. */
const rejectFirst = new Map<string, number>();

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function getToken(
  tokenUrl: string,
  body = 'grant_type=client_credentials&scope=bci',
): Promise<Response> {
  const { clientId, clientSecret } = sandbox.credentials.bisnode;
  return fetch(tokenUrl, {
    method: 'POST',
    headers: {
      authorization: basic(clientId, clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body,
  });
}

function call(
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<Response> {
  return fetch(`${api}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token ?? token}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
}

/** The shared control API, or (path starting /bisnode/) Bisnode's own routes, served on the Bisnode port. */
async function control(path: string, body: unknown = {}, method = 'POST'): Promise<Response> {
  const base = path.startsWith('/bisnode/') ? `${sandbox.urls.bisnode}/_sandbox` : sandbox.controlUrl;
  return fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 5_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const eventsAt = (path: string) => received.filter((r) => r.path === path).flatMap((r) => r.events);

let hookSeq = 0;
/** A webhook on its own receiver path; answers its id, secret and path. */
async function createHook(events: string[]): Promise<{ id: string; secret: string; path: string }> {
  const path = `/hook-${++hookSeq}`;
  const res = await call('/webhooks', { method: 'POST', body: { url: `${receiverUrl}${path}`, events } });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { id: string; secret: string };
  return { id: body.id, secret: body.secret, path };
}

const population = () => sandbox.context.population;
const adult = (p: Person) =>
  !p.protectedIdentity && p.status === 1 && p.birthDate < '2000-01-01' && p.birthDate > '1930-01-01';
function pick(pred: (p: Person) => boolean, what: string): Person {
  const p = population().persons.find(pred);
  if (!p) throw new Error(`no test person: ${what}`);
  return p;
}
const uniquePhone = (number: string) =>
  population().persons.filter((x) => x.phones.some((ph) => ph.number === number)).length === 1;
const consumer = (consumerId: string, p: Person) => ({
  consumerId,
  market: p.market,
  data: { legalId: p.nationalId },
});

async function listAllConsumers(pageSize = 1000): Promise<Json[]> {
  const out: Json[] = [];
  let pageToken: string | null = null;
  do {
    const res = await call(`/consumers?pageSize=${pageSize}${pageToken ? `&pageToken=${pageToken}` : ''}`);
    const body = (await res.json()) as { data: Json[]; nextPageToken: string | null };
    out.push(...body.data);
    pageToken = body.nextPageToken;
  } while (pageToken);
  return out;
}

async function consumerState(id: string): Promise<Json | undefined> {
  return (await listAllConsumers()).find((c) => c.consumerId === id);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      const path = req.url ?? '';
      const left = rejectFirst.get(path) ?? 0;
      const status = left > 0 ? 202 : 200;
      if (left > 0) rejectFirst.set(path, left - 1);
      received.push({ path, headers: req.headers, raw, status, events: JSON.parse(raw) as Event[] });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sandbox = await startSandbox({ population: { persons: 3000 }, identificationDelayMs: 30 });
  api = sandbox.apiUrls.bisnode;
  token = ((await (await getToken(sandbox.tokenUrls.bisnode)).json()) as { access_token: string })
    .access_token;
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

describe('token endpoint', () => {
  it('issues a bearer token for client credentials with Basic auth and scope bci', async () => {
    const res = await getToken(sandbox.tokenUrls.bisnode);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ expires_in: 3600, scope: 'bci', token_type: 'bearer' });
    expect(typeof body.access_token).toBe('string');
  });

  it('accepts client_id and client_secret as form fields', async () => {
    const { clientId, clientSecret } = sandbox.credentials.bisnode;
    const res = await fetch(sandbox.tokenUrls.bisnode, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'bci',
        client_id: clientId,
        client_secret: clientSecret,
      }),
    });
    expect(res.status).toBe(200);
  });

  it('answers 401 invalid_client to a wrong secret', async () => {
    const res = await fetch(sandbox.tokenUrls.bisnode, {
      method: 'POST',
      headers: {
        authorization: basic(sandbox.credentials.bisnode.clientId, 'wrong'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=bci',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 400 invalid_scope to another scope and unsupported_grant_type to another grant', async () => {
    const scope = await getToken(sandbox.tokenUrls.bisnode, 'grant_type=client_credentials&scope=admin');
    expect(scope.status).toBe(400);
    expect(await scope.json()).toMatchObject({ error: 'invalid_scope' });
    const grant = await getToken(sandbox.tokenUrls.bisnode, 'grant_type=password&scope=bci');
    expect(grant.status).toBe(400);
    expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('answers 401 problem+json to a missing or unknown bearer token', async () => {
    const missing = await fetch(`${api}/webhooks`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const body = (await missing.json()) as Json;
    expect(body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    expect(String(body.instance)).toMatch(/^urn:bisnode:traceid:[0-9a-f-]{36}$/);
    expect((await call('/webhooks', { token: 'nope' })).status).toBe(401);
  });

  it('answers 401 to an expired token', async () => {
    const short = await startSandbox({ population: { persons: 200 }, tokenTtlSeconds: { bisnode: 1 } });
    try {
      const t = (await (await getToken(short.tokenUrls.bisnode)).json()) as {
        access_token: string;
        expires_in: number;
      };
      expect(t.expires_in).toBe(1);
      const ok = await fetch(`${short.apiUrls.bisnode}/webhooks`, {
        headers: { authorization: `Bearer ${t.access_token}` },
      });
      expect(ok.status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_100));
      const late = await fetch(`${short.apiUrls.bisnode}/webhooks`, {
        headers: { authorization: `Bearer ${t.access_token}` },
      });
      expect(late.status).toBe(401);
      expect(((await late.json()) as Json).detail).toMatch(/expired/);
    } finally {
      await short.close();
    }
  });
});

describe('persons', () => {
  it.each(['SE', 'NO', 'DK', 'FI'] as const)('finds a %s person by legalId', async (market) => {
    const p = pick((x) => x.market === market && adult(x), `adult in ${market}`);
    const res = await call(`/markets/${market}/persons/_find`, {
      method: 'POST',
      body: { legalId: p.nationalId },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json & { legalId: Json; metadata: { sources: Json[] } };
    expect(body.legalId.identityNumber).toBe(p.nationalId);
    expect(body.familyName).toBe(p.lastName);
    expect(body.birthDate).toBe(p.birthDate);
    expect(body.metadata.sources[0]).toMatchObject({ name: SOURCES[market], market });
    expect(body).not.toHaveProperty('gedi');
  });

  it('answers 204 with an empty body when nobody matches', async () => {
    const res = await call('/markets/SE/persons/_find', {
      method: 'POST',
      body: { legalId: '190001010000' },
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('does not find a Swedish person by the 10-digit personnummer', async () => {
    const p = pick((x) => x.market === 'SE' && adult(x), 'SE adult');
    const res = await call('/markets/SE/persons/_find', {
      method: 'POST',
      body: { legalId: p.nationalId.slice(2) },
    });
    expect(res.status).toBe(204);
  });

  it('finds a person by name and birth date, and by name and a parsed fullAddress', async () => {
    const p = pick(
      (x) =>
        x.market === 'SE' &&
        adult(x) &&
        x.addresses[0]!.houseNumber !== '' &&
        x.addresses[0]!.entrance === '',
      'SE adult with a house number',
    );
    const byBirth = await call('/markets/SE/persons/_find', {
      method: 'POST',
      body: { firstName: p.firstName, familyName: p.lastName, dateOfBirth: p.birthDate },
    });
    expect(byBirth.status).toBe(200);
    expect(((await byBirth.json()) as { legalId: Json }).legalId.identityNumber).toBe(p.nationalId);
    const a = p.addresses[0]!;
    const byAddress = await call('/markets/SE/persons/_find', {
      method: 'POST',
      body: {
        firstName: p.firstName,
        familyName: p.lastName,
        fullAddress: `${a.street} ${a.houseNumber}, ${a.postalCode} ${a.city}`,
      },
    });
    expect(byAddress.status).toBe(200);
    expect(((await byAddress.json()) as { legalId: Json }).legalId.identityNumber).toBe(p.nationalId);
  });

  it('does not return a telemarketing-reserved person matched by phone only, but does with a name', async () => {
    const p = pick(
      (x) => adult(x) && x.reservations.phoneSale && x.phones.length > 0 && uniquePhone(x.phones[0]!.number),
      'phone-sale reserved adult',
    );
    const phoneNumber = p.phones[0]!.number;
    const only = await call(`/markets/${p.market}/persons/_find`, { method: 'POST', body: { phoneNumber } });
    expect(only.status).toBe(204);
    const named = await call(`/markets/${p.market}/persons/_find`, {
      method: 'POST',
      body: { phoneNumber, firstName: p.firstName, familyName: p.lastName },
    });
    expect(named.status).toBe(200);
    const free = pick(
      (x) => adult(x) && !x.reservations.phoneSale && x.phones.length > 0 && uniquePhone(x.phones[0]!.number),
      'unreserved adult with phone',
    );
    const open = await call(`/markets/${free.market}/persons/_find`, {
      method: 'POST',
      body: { phoneNumber: free.phones[0]!.number },
    });
    expect(open.status).toBe(200);
  });

  it('never finds protected identities or minors by search, but returns them by gedi', async () => {
    const prot = pick((x) => x.protectedIdentity && x.birthDate < '2000-01-01', 'protected adult');
    expect(
      (
        await call(`/markets/${prot.market}/persons/_find`, {
          method: 'POST',
          body: { legalId: prot.nationalId },
        })
      ).status,
    ).toBe(204);
    const protBody = (await (await call(`/persons/${prot.gedi}`)).json()) as {
      status: Json;
      addresses: unknown[];
    };
    expect(protBody.status.protected).toBe(true);
    expect(protBody.addresses).toEqual([]);

    const minor = pick((x) => !x.protectedIdentity && x.birthDate > '2012-01-01', 'minor');
    expect(
      (
        await call(`/markets/${minor.market}/persons/_find`, {
          method: 'POST',
          body: { legalId: minor.nationalId },
        })
      ).status,
    ).toBe(204);
    const minorRes = await call(`/persons/${minor.gedi}`);
    expect(minorRes.status).toBe(200);
    expect(((await minorRes.json()) as Json).minor).toBe('YES');
  });

  it('gets a person by gedi and answers 404 for an unknown gedi', async () => {
    const p = pick((x) => x.market === 'NO' && adult(x), 'NO adult');
    const res = await call(`/persons/${p.gedi}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json & { addresses: Json[]; phoneNumbers: Json[] };
    expect(body.familyName).toBe(p.lastName);
    expect(body.addresses[0]).toMatchObject({
      streetName: p.addresses[0]!.street,
      postalCode: p.addresses[0]!.postalCode,
    });
    expect(body.phoneNumbers.map((x) => x.number)).toEqual(p.phones.map((x) => x.number));
    const missing = await call('/persons/gedi-does-not-exist');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ title: 'Not Found', status: 404 });
  });

  it('answers 403 for a market without access and 400 Constraint Violation for a malformed one', async () => {
    const xx = await call('/markets/XX/persons/_find', { method: 'POST', body: { legalId: '1' } });
    expect(xx.status).toBe(403);
    expect(await xx.json()).toMatchObject({ title: 'Forbidden', status: 403 });
    const lower = await call('/markets/se/persons/_find', { method: 'POST', body: { legalId: '1' } });
    expect(lower.status).toBe(400);
    expect(await lower.json()).toMatchObject({
      title: 'Constraint Violation',
      violations: [{ field: 'market' }],
    });
  });
});

describe('consumers and webhooks', () => {
  it('creates a webhook whose secret is shown once, and sends it a signed PING', async () => {
    const hook = await createHook(['*']);
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    const list = (await (await call('/webhooks')).json()) as { webhooks: Json[] };
    const listed = list.webhooks.find((w) => w.id === hook.id);
    expect(listed).toMatchObject({ url: `${receiverUrl}${hook.path}`, events: ['*'] });
    expect(listed).not.toHaveProperty('secret');

    const delivery = await waitFor(() => received.find((r) => r.path === hook.path), 'PING');
    expect(delivery.events).toEqual([
      { type: 'PING', id: expect.any(String), timestamp: expect.any(String) },
    ]);
    const ts = String(delivery.headers['ci-signature-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    const expected = createHmac('sha256', hook.secret).update(`${ts}.${delivery.raw}`).digest('hex');
    expect(delivery.headers['ci-signature-sha256']).toBe(expected);
  });

  it('identifies uploaded consumers asynchronously and sends the events in order', async () => {
    const hook = await createHook(['*']);
    await waitFor(() => eventsAt(hook.path).length > 0, 'PING');
    const p = pick((x) => x.market === 'DK' && adult(x), 'DK adult');
    const res = await call('/consumers', {
      method: 'POST',
      body: [consumer('flow-1', p), { consumerId: 'flow-2', market: 'FI', data: { legalId: '010101-000X' } }],
    });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect((await consumerState('flow-1'))?.state).toBe('UPLOADED');
    await waitFor(
      async () => (await consumerState('flow-1'))?.state === 'IDENTIFYING' || undefined,
      'IDENTIFYING',
    );

    const done = await waitFor(async () => {
      const c = await consumerState('flow-1');
      return c?.state === 'IDENTIFIED' ? c : undefined;
    }, 'IDENTIFIED');
    expect(done).toMatchObject({
      market: 'DK',
      gedi: p.gedi,
      source: 'CPR',
      data: { legalId: p.nationalId },
    });
    expect((await consumerState('flow-2'))?.state).toBe('NOT_IDENTIFIED');

    const events = await waitFor(() => {
      const e = eventsAt(hook.path);
      return e.length >= 6 ? e : undefined;
    }, 'six events');
    expect(
      events.map(
        (e) => `${e.type}:${String(e.consumerId ?? (e.consumerIds as string[] | undefined)?.join())}`,
      ),
    ).toEqual([
      'PING:undefined',
      'CONSUMER_UPLOADED:flow-1',
      'CONSUMER_UPLOADED:flow-2',
      'CONSUMER_IDENTIFIED:flow-1',
      'PERSON_SUBSCRIBED:flow-1',
      'CONSUMER_NOT_IDENTIFIED:flow-2',
    ]);
    expect(events[3]).toEqual({
      type: 'CONSUMER_IDENTIFIED',
      id: expect.any(String),
      timestamp: expect.any(String),
      consumerId: 'flow-1',
      market: 'DK',
      gedi: p.gedi,
      source: 'CPR',
    });
    expect(events[5]).toMatchObject({ consumerId: 'flow-2', market: 'FI', sources: ['DVV'] });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('rejects more than 100 consumers with a violation naming the first extra index', async () => {
    const p = pick(adult, 'adult');
    const body = Array.from({ length: 101 }, (_, i) => consumer(`many-${i}`, p));
    const res = await call('/consumers', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as Json & { violations: Json[] };
    expect(problem).toMatchObject({ type: 'about:blank', title: 'Constraint Violation', status: 400 });
    expect(problem.violations).toEqual([{ field: '[100]', message: expect.stringContaining('100') }]);
  });

  it('rejects an invalid consumerId with a violation naming its index', async () => {
    const p = pick(adult, 'adult');
    const body = [0, 1, 2].map((i) => consumer(`ok-${i}`, p));
    body.push(consumer('_leading-underscore', p));
    const res = await call('/consumers', { method: 'POST', body });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { violations: Json[] };
    expect(problem.violations).toEqual([{ field: '[3].consumerId', message: expect.any(String) }]);
    expect(await consumerState('ok-0')).toBeUndefined();
  });

  it('deletes consumers, unsubscribes the person, and ignores unknown ids', async () => {
    const hook = await createHook(['CONSUMER_DELETED', 'PERSON_UNSUBSCRIBED']);
    const p = pick((x) => x.market === 'NO' && adult(x) && x.id !== 'p000001', 'NO adult');
    await call('/consumers', { method: 'POST', body: [consumer('del-1', p)] });
    await waitFor(
      async () => (await consumerState('del-1'))?.state === 'IDENTIFIED' || undefined,
      'identified',
    );
    const res = await call('/consumers', {
      method: 'DELETE',
      body: { consumerIds: ['del-1', 'never-uploaded'] },
    });
    expect(res.status).toBe(202);
    expect(await consumerState('del-1')).toBeUndefined();
    const events = await waitFor(() => {
      const e = eventsAt(hook.path).filter((x) => x.type !== 'PING');
      return e.length >= 2 ? e : undefined;
    }, 'delete events');
    expect(events).toEqual([
      {
        type: 'CONSUMER_DELETED',
        id: expect.any(String),
        timestamp: expect.any(String),
        consumerId: 'del-1',
        market: 'NO',
      },
      {
        type: 'PERSON_UNSUBSCRIBED',
        id: expect.any(String),
        timestamp: expect.any(String),
        consumerIds: ['del-1'],
        market: 'NO',
        gedi: p.gedi,
        source: 'FREG',
      },
    ]);
    const empty = await call('/consumers', { method: 'DELETE', body: { consumerIds: [] } });
    expect(empty.status).toBe(400);
  });

  it('pages through consumers to the end, where nextPageToken is null', async () => {
    const persons = population().persons.filter(adult).slice(10, 15);
    await call('/consumers', { method: 'POST', body: persons.map((p, i) => consumer(`page-${i}`, p)) });
    const all = await listAllConsumers();
    const seen: string[] = [];
    let pageToken: string | null = null;
    let pages = 0;
    do {
      const res = await call(`/consumers?pageSize=2${pageToken ? `&pageToken=${pageToken}` : ''}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: Json[]; nextPageToken: string | null };
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((c) => String(c.consumerId)));
      pageToken = body.nextPageToken;
      pages += 1;
    } while (pageToken);
    expect(seen).toEqual(all.map((c) => c.consumerId));
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect(seen.slice(-5)).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const bad = await call('/consumers?pageToken=garbage');
    expect(bad.status).toBe(400);
    const tooBig = (await (await call('/consumers?pageSize=1001')).json()) as { violations: Json[] };
    expect(tooBig.violations[0]).toMatchObject({ field: 'pageSize' });
  });

  it('lists subscribed persons with a cursor that stays usable at the end', async () => {
    const p = pick((x) => x.market === 'FI' && adult(x), 'FI adult');
    await call('/consumers', { method: 'POST', body: [consumer('sub-1', p)] });
    await waitFor(
      async () => (await consumerState('sub-1'))?.state === 'IDENTIFIED' || undefined,
      'identified',
    );

    let pageToken = '';
    const gedis: string[] = [];
    for (;;) {
      const res = await call(
        `/subscriptions/persons?pageSize=1${pageToken ? `&pageToken=${pageToken}` : ''}`,
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { gedi: string }[]; nextPageToken: string | null };
      expect(body.nextPageToken).toEqual(expect.any(String));
      pageToken = body.nextPageToken!;
      if (body.data.length === 0) break;
      gedis.push(...body.data.map((d) => d.gedi));
    }
    expect(gedis).toContain(p.gedi);
    expect(new Set(gedis).size).toBe(gedis.length);

    // Later: a change to the person shows up behind the stored cursor.
    await control(`/persons/${p.id}/change`, { fields: ['lastName'] });
    const later = (await (await call(`/subscriptions/persons?pageToken=${pageToken}`)).json()) as {
      data: { gedi: string; consumerIds: string[]; person: Json }[];
      nextPageToken: string;
    };
    expect(later.data.map((d) => d.gedi)).toEqual([p.gedi]);
    expect(later.data[0]!.consumerIds).toEqual(['sub-1']);
    expect(later.data[0]!.person.familyName).toBe(p.lastName);
    expect(later.nextPageToken).not.toBe(pageToken);

    const both = await call(`/subscriptions/persons?pageToken=${pageToken}&fromDate=2024-01-01`);
    expect(both.status).toBe(400);
    const today = new Date().toISOString().slice(0, 10);
    const fromToday = (await (await call(`/subscriptions/persons?fromDate=${today}`)).json()) as {
      data: { gedi: string }[];
    };
    expect(fromToday.data.map((d) => d.gedi)).toContain(p.gedi);
  });

  it('lists audit events in insertion order with a cursor that is never null', async () => {
    const all: Event[] = [];
    let pageToken = '';
    for (;;) {
      const body = (await (
        await call(`/audit-events?pageSize=7${pageToken ? `&pageToken=${pageToken}` : ''}`)
      ).json()) as {
        data: Event[];
        nextPageToken: string | null;
      };
      expect(body.nextPageToken).toEqual(expect.any(String));
      pageToken = body.nextPageToken!;
      if (body.data.length === 0) break;
      all.push(...body.data);
    }
    const types = all.map((e) => e.type);
    expect(types).not.toContain('PING');
    expect(types.indexOf('CONSUMER_UPLOADED')).toBeLessThan(types.indexOf('CONSUMER_IDENTIFIED'));
    expect(all.find((e) => e.type === 'CONSUMER_IDENTIFIED' && e.consumerId === 'flow-1')).toBeDefined();

    const p = pick((x) => x.market === 'SE' && adult(x) && x.id > 'p000100', 'SE adult');
    await call('/consumers', { method: 'POST', body: [consumer('audit-1', p)] });
    const next = (await (await call(`/audit-events?pageToken=${pageToken}`)).json()) as { data: Event[] };
    expect(next.data).toEqual([
      {
        type: 'CONSUMER_UPLOADED',
        id: expect.any(String),
        timestamp: expect.any(String),
        consumerId: 'audit-1',
        market: 'SE',
      },
    ]);
  });

  it('redelivers an event not answered with exactly 200, with the same event id', async () => {
    await control('/webhooks/config', { retryDelaysMs: [50] }, 'PUT');
    const path = `/hook-${++hookSeq}`;
    rejectFirst.set(path, 1);
    const res = await call('/webhooks', {
      method: 'POST',
      body: { url: `${receiverUrl}${path}`, events: ['PING'] },
    });
    expect(res.status).toBe(201);
    const deliveries = await waitFor(() => {
      const d = received.filter((r) => r.path === path);
      return d.length >= 2 ? d : undefined;
    }, 'redelivery');
    expect(deliveries.map((d) => d.status)).toEqual([202, 200]);
    expect(deliveries[1]!.events[0]!.id).toBe(deliveries[0]!.events[0]!.id);
    expect(deliveries[1]!.raw).toBe(deliveries[0]!.raw);
  });

  it('delivers only the event types a webhook subscribed to', async () => {
    const hook = await createHook(['LIFE_EVENT']);
    const p = pick((x) => x.market === 'SE' && adult(x) && x.id > 'p000200', 'SE adult');
    await call('/consumers', { method: 'POST', body: [consumer('filter-1', p)] });
    await waitFor(
      async () => (await consumerState('filter-1'))?.state === 'IDENTIFIED' || undefined,
      'identified',
    );
    expect(
      (await control(`/bisnode/persons/${p.gedi}/life-event`, { trigger: 'HOUSEHOLD_MOVE' })).status,
    ).toBe(200);
    const events = await waitFor(() => {
      const e = eventsAt(hook.path).filter((x) => x.type !== 'PING');
      return e.length >= 1 ? e : undefined;
    }, 'life event');
    await new Promise((r) => setTimeout(r, 100));
    expect(eventsAt(hook.path).map((e) => e.type)).toEqual(['PING', 'LIFE_EVENT']);
    expect(events[0]).toMatchObject({
      gedi: p.gedi,
      consumerIds: ['filter-1'],
      market: 'SE',
      phase: 'PREDICT',
    });
  });

  it('deletes a webhook and answers 404 for an unknown one', async () => {
    const hook = await createHook(['PING']);
    const res = await call(`/webhooks/${hook.id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ id: hook.id, events: ['PING'] });
    expect(body).not.toHaveProperty('secret');
    expect((await call(`/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('errors', () => {
  it('answers 405 with Allow to a known path called with another method', async () => {
    const res = await call('/webhooks', { method: 'PUT', body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD');
    expect(await res.json()).toMatchObject({ title: 'Method Not Allowed', status: 405 });
    const find = await call('/markets/SE/persons/_find');
    expect(find.status).toBe(405);
    expect(find.headers.get('allow')).toBe('POST');
  });

  it('answers 409 to a second webhook with the same url', async () => {
    const url = `${receiverUrl}/hook-conflict`;
    expect((await call('/webhooks', { method: 'POST', body: { url, events: ['PING'] } })).status).toBe(201);
    const again = await call('/webhooks', { method: 'POST', body: { url, events: ['*'] } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ title: 'Conflict', status: 409 });
  });

  it('answers 429 with Retry-After above the per-client rate limit', async () => {
    expect((await control('/bisnode/rate-limit', { perSecond: 3 }, 'PUT')).status).toBe(200);
    try {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 6; i++) {
        const r = await call('/webhooks');
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      expect(statuses).toContain(429);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited!.json()).toMatchObject({ title: 'Too Many Requests', status: 429 });
    } finally {
      await control('/bisnode/rate-limit', { perSecond: 200 }, 'PUT');
    }
  });

  it('answers 400 problem+json to malformed JSON', async () => {
    const res = await fetch(`${api}/consumers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '[{"consumerId":',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ title: 'Bad Request', status: 400 });
  });
});

describe('subscribed person events', () => {
  let person: Person;
  let hook: { path: string };
  const after = (type: string) => eventsAt(hook.path).filter((e) => e.type === type);

  beforeAll(async () => {
    hook = await createHook(['PERSON_CHANGED', 'ENRICHMENT_CHANGED', 'PERSON_REIDENTIFIED', 'LIFE_EVENT']);
    person = pick(
      (x) => x.market === 'NO' && adult(x) && x.id > 'p000300' && x.phones.length > 0,
      'NO adult',
    );
    await call('/consumers', {
      method: 'POST',
      body: [consumer('evt-1', person), consumer('evt-2', person)],
    });
    await waitFor(
      async () => (await consumerState('evt-2'))?.state === 'IDENTIFIED' || undefined,
      'identified',
    );
  });

  it('emits PERSON_CHANGED with JSON pointers when a subscribed person changes', async () => {
    const res = await control(`/persons/${person.id}/change`, { fields: ['mobile'] });
    expect(res.status).toBe(200);
    const [e] = await waitFor(
      () => (after('PERSON_CHANGED').length > 0 ? after('PERSON_CHANGED') : undefined),
      'PERSON_CHANGED',
    );
    expect(e).toMatchObject({
      gedi: person.gedi,
      source: 'FREG',
      consumerIds: ['evt-1', 'evt-2'],
      changedId: expect.any(String),
    });
    expect(e!.jsonPointers).toContain('/phoneNumbers');
  });

  it('emits LIFE_EVENT from the control route', async () => {
    const res = await control(`/bisnode/persons/${person.gedi}/life-event`, {
      trigger: 'SINGLE_TO_COUPLE',
      phase: 'PREDICT',
      probability: 75,
      withinEstimatedDays: 120,
    });
    expect(res.status).toBe(200);
    const [e] = await waitFor(
      () => (after('LIFE_EVENT').length > 0 ? after('LIFE_EVENT') : undefined),
      'LIFE_EVENT',
    );
    expect(e).toEqual({
      type: 'LIFE_EVENT',
      id: expect.any(String),
      timestamp: expect.any(String),
      phase: 'PREDICT',
      market: 'NO',
      gedi: person.gedi,
      consumerIds: ['evt-1', 'evt-2'],
      trigger: 'SINGLE_TO_COUPLE',
      probability: 75,
      withinEstimatedDays: 120,
    });
  });

  it('emits ENRICHMENT_CHANGED and changes the variable in the person body', async () => {
    const before = ((await (await call(`/persons/${person.gedi}`)).json()) as { enrichment: Json })
      .enrichment;
    const res = await control(`/bisnode/persons/${person.gedi}/enrichment`, { variable: 'incomeClass' });
    expect(res.status).toBe(200);
    const [e] = await waitFor(
      () => (after('ENRICHMENT_CHANGED').length > 0 ? after('ENRICHMENT_CHANGED') : undefined),
      'ENRICHMENT_CHANGED',
    );
    expect(e).toMatchObject({ gedi: person.gedi, variable: 'incomeClass', consumerIds: ['evt-1', 'evt-2'] });
    const now = ((await (await call(`/persons/${person.gedi}`)).json()) as { enrichment: Json }).enrichment;
    expect(now.incomeClass).not.toBe(before.incomeClass);
  });

  it('emits PERSON_REIDENTIFIED and serves the person under the new gedi', async () => {
    const res = await control(`/bisnode/persons/${person.gedi}/reidentify`, {});
    expect(res.status).toBe(200);
    const [e] = await waitFor(
      () => (after('PERSON_REIDENTIFIED').length > 0 ? after('PERSON_REIDENTIFIED') : undefined),
      'PERSON_REIDENTIFIED',
    );
    const replacedBy = (e!.replacedBy as { gedi: string }).gedi;
    expect(e).toMatchObject({
      consumerIds: ['evt-1', 'evt-2'],
      market: 'NO',
      previous: { gedi: person.gedi, source: 'FREG' },
      replacedBy: { source: 'FREG' },
    });
    expect(replacedBy).not.toBe(person.gedi);
    expect((await call(`/persons/${replacedBy}`)).status).toBe(200);
    expect((await consumerState('evt-1'))?.gedi).toBe(replacedBy);
  });

  it('refuses control events for a person without consumers', async () => {
    const lonely = pick((x) => x.market === 'FI' && adult(x) && x.id > 'p002000', 'FI adult');
    const res = await control(`/bisnode/persons/${lonely.gedi}/life-event`, { trigger: 'HOUSEHOLD_MOVE' });
    expect(res.status).toBe(409);
  });
});

describe('openapi', () => {
  it('serves a document describing every route with its error statuses', async () => {
    const doc = (await (await fetch(`${sandbox.urls.bisnode}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/as/token.oauth2',
      '/consumer-intelligence/v3/audit-events',
      '/consumer-intelligence/v3/consumers',
      '/consumer-intelligence/v3/markets/{market}/persons/_find',
      '/consumer-intelligence/v3/persons/{gedi}',
      '/consumer-intelligence/v3/subscriptions/persons',
      '/consumer-intelligence/v3/webhooks',
      '/consumer-intelligence/v3/webhooks/{id}',
    ]);
    expect(
      Object.keys(
        doc.paths['/consumer-intelligence/v3/markets/{market}/persons/_find']!.post!.responses,
      ).sort(),
    ).toEqual(['200', '204', '400', '401', '403', '429']);
    const raw = (await (await fetch(`${sandbox.urls.bisnode}/openapi.json`)).json()) as Parameters<
      typeof SwaggerParser.validate
    >[0];
    await expect(SwaggerParser.validate(raw)).resolves.toBeDefined();
  });
});
