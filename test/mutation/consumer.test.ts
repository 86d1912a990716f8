import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNordgraph, type Nordgraph } from '../../src/app.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import {
  gql,
  startGatewayOn,
  startTestGateway,
  type GraphQLResponse,
  TEST_HEADERS,
  LIVE_TEST_API_KEYS,
} from '../helpers/gateway.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');

/** Run-unique ids and keys: a shared Redis (idempotency, secrets) outlives earlier runs. */
const run = `${process.pid}-${Date.now()}`;
let seq = 0;
const uid = (prefix: string) => `${prefix}-${run}-${++seq}`;

const UPLOAD = `mutation($consumers: [ConsumerInput!]!, $key: String) {
  uploadConsumers(consumers: $consumers, idempotencyKey: $key) {
    acceptedCount rejectedCount unconfirmedCount upstreamCalls complete
    results { index consumerId accepted state error { code message field upstreamCode status } }
  }
}`;
const DELETE = `mutation($ids: [String!]!, $key: String) {
  deleteConsumers(consumerIds: $ids, idempotencyKey: $key) {
    acceptedCount rejectedCount unconfirmedCount upstreamCalls complete
    results { index consumerId accepted error { code } }
  }
}`;
const CREATE_HOOK = `mutation($url: String!, $events: [BisnodeEventType!]!, $description: String, $key: String) {
  createBisnodeWebhook(url: $url, events: $events, description: $description, idempotencyKey: $key) {
    id url events description
  }
}`;
const DELETE_HOOK = `mutation($id: ID!, $key: String) {
  deleteBisnodeWebhook(id: $id, idempotencyKey: $key) { id url events description }
}`;
const LIST_HOOKS = `{ bisnodeWebhooks { id url events description } }`;

interface WriteError {
  code: 'REJECTED' | 'BATCH_REJECTED' | 'NOT_SENT' | 'UNCONFIRMED';
  message: string;
  field: string | null;
  upstreamCode: string | null;
  status: number | null;
}
interface UploadPayload {
  uploadConsumers: {
    acceptedCount: number;
    rejectedCount: number;
    unconfirmedCount: number;
    upstreamCalls: number;
    complete: boolean;
    results: {
      index: number;
      consumerId: string;
      accepted: boolean | null;
      state: string | null;
      error: WriteError | null;
    }[];
  };
}
interface DeletePayload {
  deleteConsumers: {
    acceptedCount: number;
    rejectedCount: number;
    unconfirmedCount: number;
    upstreamCalls: number;
    complete: boolean;
    results: {
      index: number;
      consumerId: string;
      accepted: boolean | null;
      error: { code: string } | null;
    }[];
  };
}
interface Hook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
}

type Consumer = Record<string, unknown> & { consumerId: string; market: string };

const POST_CONSUMERS = 'POST /consumer-intelligence/v3/consumers';
const DELETE_CONSUMERS = 'DELETE /consumer-intelligence/v3/consumers';
const POST_WEBHOOKS = 'POST /consumer-intelligence/v3/webhooks';

/** Bisnode calls since the last reset, by route (the sandbox labels them `METHOD /path`). */
async function bisnodeCalls(controlUrl: string): Promise<Record<string, number>> {
  const c = (await (await fetch(`${controlUrl}/counters`)).json()) as { bisnode: Record<string, number> };
  return c.bisnode;
}
async function callsOf(controlUrl: string, route: string): Promise<number> {
  return (await bisnodeCalls(controlUrl))[route] ?? 0;
}
async function resetCounters(controlUrl: string): Promise<void> {
  await fetch(`${controlUrl}/counters/reset`, { method: 'POST' });
}

function badInput(body: GraphQLResponse<unknown>, argument: string, index?: number) {
  const ext = body.errors?.[0]?.extensions;
  expect(ext).toMatchObject({ code: 'BAD_USER_INPUT', argument });
  if (index !== undefined) expect(ext?.index).toBe(index);
  expect(body.errors?.[0]?.message).toContain(argument);
}

const plain = (n: number, prefix = uid('c')): Consumer[] =>
  Array.from({ length: n }, (_, i) => ({
    consumerId: `${prefix}-${i}`,
    market: 'SE',
    firstName: 'Test',
    familyName: `Person${i}`,
    dateOfBirth: '1980-01-01',
  }));

interface SandboxPerson {
  market: string;
  nationalId: string;
  gedi: string;
  firstName: string;
  lastName: string;
  birthDate: string;
  protectedIdentity: boolean;
  deceasedDate: string | null;
  status: number;
}
/** Adults with open identities: the persons Bisnode's search finds. */
async function findablePersons(controlUrl: string, market: string, n: number): Promise<SandboxPerson[]> {
  const r = (await (await fetch(`${controlUrl}/persons?market=${market}&limit=200`)).json()) as {
    persons: SandboxPerson[];
  };
  return r.persons
    .filter((p) => !p.protectedIdentity && !p.deceasedDate && p.status === 1 && p.birthDate < '2000-01-01')
    .slice(0, n);
}

describe('Bisnode consumer and webhook mutations', () => {
  let app: Nordgraph;
  let control: string;
  beforeAll(async () => {
    app = await startTestGateway();
    control = app.sandbox!.controlUrl;
  });
  afterAll(async () => {
    await app?.close();
  });
  beforeEach(async () => {
    await fetch(`${control}/faults`, { method: 'DELETE' });
    await resetCounters(control);
  });

  describe('validation: the whole input before anything goes upstream', () => {
    const upload = (consumers: unknown[]) => gql<UploadPayload>(app.url, UPLOAD, { consumers });
    const ok = (over: Record<string, unknown> = {}) => ({
      consumerId: uid('v'),
      market: 'SE',
      firstName: 'Anna',
      familyName: 'Andersson',
      ...over,
    });

    it.each([
      ['starts with _', '_abc'],
      ['has a space', 'a b'],
      ['has a dot', 'a.b'],
      ['is empty', ''],
      ['is 251 characters long', 'a'.repeat(251)],
    ])('names consumers[i].consumerId when it %s', async (_why, consumerId) => {
      const { body } = await upload([ok(), ok(), ok({ consumerId })]);
      badInput(body, 'consumers[2].consumerId', 2);
    });

    it('accepts a consumerId of exactly 250 characters with @, - and _', async () => {
      const { body } = await upload([ok({ consumerId: `a@-_${'b'.repeat(246)}` })]);
      expect(body.errors).toBeUndefined();
      expect(body.data?.uploadConsumers.acceptedCount).toBe(1);
    });

    it('names the second of two items with the same consumerId', async () => {
      const id = uid('dup');
      const { body } = await upload([ok({ consumerId: id }), ok(), ok({ consumerId: id })]);
      badInput(body, 'consumers[2].consumerId', 2);
      expect(body.errors?.[0]?.message).toContain('consumers[0]');
    });

    it('names a national id that is not valid for the market, without echoing it', async () => {
      // A valid Norwegian fødselsnummer is no Swedish personnummer.
      const { body } = await upload([ok(), ok({ market: 'SE', nationalId: '01010150007' })]);
      badInput(body, 'consumers[1].nationalId', 1);
      expect(JSON.stringify(body)).not.toContain('01010150007');
    });

    it.each([
      ['NO', '12345678901'],
      ['DK', '320101-1234'],
      ['FI', '010101-123X'],
      ['SE', '19800102-2387'],
    ])('rejects an invalid %s national id', async (market, nationalId) => {
      const { body } = await upload([ok({ market, nationalId })]);
      badInput(body, 'consumers[0].nationalId', 0);
    });

    it.each([
      ['not a date', '1980-13-01'],
      ['not a real day', '2023-02-29'],
      ['in the future', '2999-01-01'],
      ['not ISO', '01.02.1980'],
    ])('names a dateOfBirth that is %s', async (_why, dateOfBirth) => {
      const { body } = await upload([ok({ dateOfBirth })]);
      badInput(body, 'consumers[0].dateOfBirth', 0);
    });

    it('names a dateOfBirth that contradicts the national id', async () => {
      const { body } = await upload([ok({ nationalId: '198001022386', dateOfBirth: '1980-01-03' })]);
      badInput(body, 'consumers[0].dateOfBirth', 0);
    });

    it('names a yearOfBirth out of range or contradicting dateOfBirth', async () => {
      badInput((await upload([ok({ yearOfBirth: 1700 })])).body, 'consumers[0].yearOfBirth', 0);
      badInput(
        (await upload([ok({ dateOfBirth: '1980-01-02', yearOfBirth: 1981 })])).body,
        'consumers[0].yearOfBirth',
        0,
      );
    });

    it.each([['0701234567'], ['+46 (0) 70 123'], ['+4712345'], ['phone']])(
      'names a phoneNumber that is not E.164 (%s)',
      async (phoneNumber) => {
        const { body } = await upload([ok({ phoneNumber })]);
        badInput(body, 'consumers[0].phoneNumber', 0);
      },
    );

    it('names text fields that are blank, too long or hold control characters', async () => {
      badInput((await upload([ok({ firstName: '   ' })])).body, 'consumers[0].firstName', 0);
      badInput((await upload([ok({ city: 'x'.repeat(251) })])).body, 'consumers[0].city', 0);
      badInput((await upload([ok({ streetName: 'Storgatan\n1' })])).body, 'consumers[0].streetName', 0);
    });

    it('names an item with no identifying data', async () => {
      const { body } = await upload([ok(), { consumerId: uid('empty'), market: 'NO' }]);
      badInput(body, 'consumers[1]', 1);
    });

    it('refuses a market outside SE, NO, DK and FI by its type', async () => {
      const { body } = await upload([ok({ market: 'XX' })]);
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('refuses an empty list and more than 1000 consumers', async () => {
      badInput((await upload([])).body, 'consumers');
      badInput((await upload(plain(1001))).body, 'consumers');
    });

    it('lists every invalid item in extensions.invalid and sends nothing', async () => {
      const { body } = await upload([
        ok(),
        ok({ consumerId: '_bad' }),
        ok(),
        ok({ phoneNumber: 'nope', dateOfBirth: 'never' }),
      ]);
      badInput(body, 'consumers[1].consumerId', 1);
      const invalid = body.errors?.[0]?.extensions?.invalid as { argument: string; index: number }[];
      expect(invalid.map((i) => i.argument)).toEqual([
        'consumers[1].consumerId',
        'consumers[3].dateOfBirth',
        'consumers[3].phoneNumber',
      ]);
      expect(body.errors?.[0]?.extensions?.invalidCount).toBe(3);
      expect(await callsOf(control, POST_CONSUMERS)).toBe(0);
      expect(await callsOf(control, DELETE_CONSUMERS)).toBe(0);
    });

    it('names bad ids of deleteConsumers and refuses an empty or oversized list', async () => {
      const { body } = await gql(app.url, DELETE, { ids: ['fine', 'also-fine', '_nope'] });
      badInput(body, 'consumerIds[2]', 2);
      badInput((await gql(app.url, DELETE, { ids: [] })).body, 'consumerIds');
      badInput(
        (await gql(app.url, DELETE, { ids: Array.from({ length: 2501 }, (_, i) => `id-${i}`) })).body,
        'consumerIds',
      );
      expect(await callsOf(control, DELETE_CONSUMERS)).toBe(0);
    });

    it.each([
      ['plain http to another host', 'http://example.com/hook'],
      ['not a URL', 'not a url'],
      ['another scheme', 'ftp://example.com/hook'],
      ['credentials in the URL', 'https://user:pw@example.com/hook'],
      ['over 2000 characters', `https://example.com/${'a'.repeat(2000)}`],
    ])('refuses a webhook url with %s', async (_why, url) => {
      const { body } = await gql(app.url, CREATE_HOOK, { url, events: ['ALL'] });
      badInput(body, 'url');
    });

    it('refuses a webhook without events, with a long description, or a malformed id', async () => {
      const url = `https://example.com/${uid('h')}`;
      badInput((await gql(app.url, CREATE_HOOK, { url, events: [] })).body, 'events');
      badInput(
        (await gql(app.url, CREATE_HOOK, { url, events: ['PING'], description: 'd'.repeat(1001) })).body,
        'description',
      );
      badInput((await gql(app.url, DELETE_HOOK, { id: 'a/b' })).body, 'id');
      expect(await callsOf(control, POST_WEBHOOKS)).toBe(0);
    });
  });

  describe('uploads and deletions', () => {
    it('splits 250 consumers into 3 calls of at most 100 and reports each as UPLOADED', async () => {
      const consumers = plain(250);
      const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers });
      expect(body.errors).toBeUndefined();
      const p = body.data!.uploadConsumers;
      expect(p).toMatchObject({
        acceptedCount: 250,
        rejectedCount: 0,
        unconfirmedCount: 0,
        upstreamCalls: 3,
        complete: true,
      });
      expect(p.results.map((r) => r.consumerId)).toEqual(consumers.map((c) => c.consumerId));
      expect(p.results.every((r) => r.accepted === true && r.state === 'UPLOADED' && r.error === null)).toBe(
        true,
      );
      expect(await callsOf(control, POST_CONSUMERS)).toBe(3);
    });

    it('identifies uploaded consumers later, with national ids normalised (SE short form to 12 digits)', async () => {
      const [se] = await findablePersons(control, 'SE', 1);
      const [no] = await findablePersons(control, 'NO', 1);
      const [fi] = await findablePersons(control, 'FI', 1);
      // YYMMDD-NNNC: Bisnode matches legalId exactly, so only the normalised 12 digits can find the person.
      const seShort = `${se!.nationalId.slice(2, 8)}-${se!.nationalId.slice(8)}`;
      const ids = { se: uid('se'), no: uid('no'), fi: uid('fi') };
      const { body } = await gql<UploadPayload>(app.url, UPLOAD, {
        consumers: [
          { consumerId: ids.se, market: 'SE', nationalId: seShort },
          { consumerId: ids.no, market: 'NO', nationalId: no!.nationalId },
          { consumerId: ids.fi, market: 'FI', nationalId: fi!.nationalId.toLowerCase() },
        ],
      });
      expect(body.errors).toBeUndefined();
      expect(body.data!.uploadConsumers.acceptedCount).toBe(3);

      const query = `query($after: String) { consumers(first: 1000, after: $after) {
        edges { node { consumerId state gedi person { firstName lastName } } } pageInfo { hasNextPage endCursor } } }`;
      type Node = {
        consumerId: string;
        state: string;
        gedi: string | null;
        person: { lastName: string } | null;
      };
      type Page = {
        consumers: { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      };
      const read = async (): Promise<Map<string, Node>> => {
        const found = new Map<string, Node>();
        let after: string | null = null;
        for (;;) {
          const r: { body: GraphQLResponse<Page> } = await gql<Page>(app.url, query, { after });
          expect(r.body.errors).toBeUndefined();
          for (const e of r.body.data!.consumers.edges) found.set(e.node.consumerId, e.node);
          if (!r.body.data!.consumers.pageInfo.hasNextPage) return found;
          after = r.body.data!.consumers.pageInfo.endCursor;
        }
      };
      let nodes = await read();
      const deadline = Date.now() + 10_000;
      while (
        Object.values(ids).some((id) => nodes.get(id)?.state !== 'IDENTIFIED') &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 200));
        nodes = await read();
      }
      expect(nodes.get(ids.se)).toMatchObject({
        state: 'IDENTIFIED',
        gedi: se!.gedi,
        person: { lastName: se!.lastName },
      });
      expect(nodes.get(ids.no)).toMatchObject({ state: 'IDENTIFIED', gedi: no!.gedi });
      expect(nodes.get(ids.fi)).toMatchObject({ state: 'IDENTIFIED', gedi: fi!.gedi });
    });

    it('splits 600 ids into 3 deletions of at most 250, sends a repeated id once, and deletes', async () => {
      const consumers = plain(3);
      await gql(app.url, UPLOAD, { consumers });
      await resetCounters(control);
      const ids = [
        ...consumers.map((c) => c.consumerId),
        ...Array.from({ length: 597 }, (_, i) => uid(`gone-${i}`)),
        consumers[0]!.consumerId,
      ];
      const { body } = await gql<DeletePayload>(app.url, DELETE, { ids });
      expect(body.errors).toBeUndefined();
      const p = body.data!.deleteConsumers;
      expect(p).toMatchObject({ acceptedCount: 600, rejectedCount: 0, upstreamCalls: 3, complete: true });
      expect(p.results).toHaveLength(600);
      expect(p.results[0]).toMatchObject({ index: 0, consumerId: consumers[0]!.consumerId, accepted: true });
      expect(await callsOf(control, DELETE_CONSUMERS)).toBe(3);

      const left = await gql<{ consumers: { edges: { node: { consumerId: string } }[] } }>(
        app.url,
        '{ consumers(first: 1000) { edges { node { consumerId } } } }',
      );
      const listed = new Set(left.body.data!.consumers.edges.map((e) => e.node.consumerId));
      for (const c of consumers) expect(listed.has(c.consumerId)).toBe(false);
    });

    it('reports a call Bisnode refuses as a whole, and still sends the other calls', async () => {
      // The sandbox fault answers 400 without violations: the first call's items are refused, not named.
      await fetch(`${control}/faults/bisnode`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 1, errorStatus: 400, pathIncludes: '/consumers', times: 1 }),
      });
      const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers: plain(250) });
      expect(body.errors).toBeUndefined();
      const p = body.data!.uploadConsumers;
      expect(p).toMatchObject({ acceptedCount: 150, rejectedCount: 100, upstreamCalls: 3, complete: false });
      expect(p.results[0]).toMatchObject({
        accepted: false,
        state: null,
        error: { code: 'BATCH_REJECTED', upstreamCode: 'UPSTREAM_REJECTED', status: 400 },
      });
      expect(p.results[99]!.error?.code).toBe('BATCH_REJECTED');
      expect(p.results[100]).toMatchObject({ accepted: true, state: 'UPLOADED', error: null });
      expect(p.results[249]!.accepted).toBe(true);
      // No retry: the refused call is counted once as the fault, the two others reached Bisnode.
      const calls = await bisnodeCalls(control);
      expect(calls['POST (fault 400)']).toBe(1);
      expect(calls[POST_CONSUMERS]).toBe(2);
    });

    it('fails the field with provider and status when Bisnode is down, without a retry or further calls', async () => {
      await fetch(`${control}/faults/bisnode`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 1, errorStatus: 503, pathIncludes: '/consumers' }),
      });
      const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers: plain(250) });
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.path).toEqual(['uploadConsumers']);
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        provider: 'bisnode',
        status: 503,
      });
      // One call, refused by the fault; none of the other two batches was sent.
      const calls = await bisnodeCalls(control);
      expect(calls['POST (fault 503)']).toBe(1);
      expect(calls[POST_CONSUMERS]).toBeUndefined();

      const del = await gql(app.url, DELETE, { ids: ['a', 'b'] });
      expect(del.body.errors?.[0]?.extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        provider: 'bisnode',
      });
      expect((await bisnodeCalls(control))['DELETE (fault 503)']).toBe(1);
    });

    it('replays a retry with the same idempotency key without a second upstream write', async () => {
      const consumers = plain(120);
      const key = uid('key');
      const first = await gql<UploadPayload>(app.url, UPLOAD, { consumers, key });
      const again = await gql<UploadPayload>(app.url, UPLOAD, { consumers, key });
      expect(first.body.errors).toBeUndefined();
      expect(again.body).toEqual(first.body);
      expect(await callsOf(control, POST_CONSUMERS)).toBe(2);

      const other = await gql(app.url, UPLOAD, { consumers: plain(1), key });
      badInput(other.body, 'idempotencyKey');

      const ids = consumers.map((c) => c.consumerId);
      const delKey = uid('del');
      const d1 = await gql<DeletePayload>(app.url, DELETE, { ids, key: delKey });
      const d2 = await gql<DeletePayload>(app.url, DELETE, { ids, key: delKey });
      expect(d2.body).toEqual(d1.body);
      expect(await callsOf(control, DELETE_CONSUMERS)).toBe(1);
    });
  });

  describe('webhooks', () => {
    let receiver: Server;
    let receiverUrl: string;
    const deliveries: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
    beforeAll(async () => {
      receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          deliveries.push({ path: req.url ?? '', headers: req.headers, body });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => receiver?.close(r));
    });

    it('stores the secret for signature checks and never returns it, in the answer or the list', async () => {
      const url = `${receiverUrl}/webhooks/bisnode/${uid('h')}`;
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { ...TEST_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({
          query: CREATE_HOOK,
          variables: { url, events: ['ALL', 'PING', 'ALL'], description: 'nordgraph test' },
        }),
      });
      const raw = await res.text();
      const body = JSON.parse(raw) as GraphQLResponse<{ createBisnodeWebhook: Hook }>;
      expect(body.errors).toBeUndefined();
      const hook = body.data!.createBisnodeWebhook;
      expect(hook).toMatchObject({ url, events: ['*', 'PING'], description: 'nordgraph test' });

      const secret = await app.webhookSecrets.get('bisnode', hook.id);
      expect(secret).toMatch(/.{16,}/);
      expect(await app.webhookSecrets.all('bisnode')).toContainEqual({ webhookId: hook.id, secret });
      expect(raw).not.toContain(secret);

      const listRaw = await (
        await fetch(app.url, {
          method: 'POST',
          headers: { ...TEST_HEADERS, 'content-type': 'application/json' },
          body: JSON.stringify({ query: LIST_HOOKS }),
        })
      ).text();
      expect(listRaw).toContain(hook.id);
      expect(listRaw).not.toContain(secret);
      // The type has no such field to ask for.
      const asked = await gql(app.url, '{ bisnodeWebhooks { id secret } }');
      expect(asked.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

      // The stored secret is the one Bisnode signs with: the PING sent after creation verifies.
      const deadline = Date.now() + 5_000;
      const path = new URL(url).pathname;
      const pingOf = () => deliveries.find((d) => d.path === path && d.body.includes('"PING"'));
      while (!pingOf() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const ping = pingOf();
      expect(ping).toBeDefined();
      const ts = String(ping!.headers['ci-signature-timestamp']);
      const expected = createHmac('sha256', secret!).update(`${ts}.${ping!.body}`).digest('hex');
      expect(ping!.headers['ci-signature-sha256']).toBe(expected);
    });

    it('says which argument to change when the url is already registered', async () => {
      const url = `${receiverUrl}/webhooks/bisnode/${uid('dup')}`;
      const first = await gql<{ createBisnodeWebhook: Hook }>(app.url, CREATE_HOOK, {
        url,
        events: ['PING'],
      });
      expect(first.body.errors).toBeUndefined();
      const second = await gql(app.url, CREATE_HOOK, { url, events: ['PING'] });
      expect(second.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'url',
        provider: 'bisnode',
        status: 409,
      });
    });

    it('deletes a webhook with its stored secret; an unknown id gives null', async () => {
      const url = `${receiverUrl}/webhooks/bisnode/${uid('del')}`;
      const created = await gql<{ createBisnodeWebhook: Hook }>(app.url, CREATE_HOOK, {
        url,
        events: ['CONSUMER_IDENTIFIED', 'PERSON_CHANGED'],
      });
      const hook = created.body.data!.createBisnodeWebhook;
      expect(await app.webhookSecrets.get('bisnode', hook.id)).toBeDefined();

      const deleted = await gql<{ deleteBisnodeWebhook: Hook | null }>(app.url, DELETE_HOOK, { id: hook.id });
      expect(deleted.body.errors).toBeUndefined();
      expect(deleted.body.data!.deleteBisnodeWebhook).toEqual({
        id: hook.id,
        url,
        events: ['CONSUMER_IDENTIFIED', 'PERSON_CHANGED'],
        description: null,
      });
      expect(await app.webhookSecrets.get('bisnode', hook.id)).toBeUndefined();
      const list = await gql<{ bisnodeWebhooks: Hook[] }>(app.url, LIST_HOOKS);
      expect(list.body.data!.bisnodeWebhooks.map((h) => h.id)).not.toContain(hook.id);

      const again = await gql<{ deleteBisnodeWebhook: Hook | null }>(app.url, DELETE_HOOK, { id: hook.id });
      expect(again.body.errors).toBeUndefined();
      expect(again.body.data!.deleteBisnodeWebhook).toBeNull();
    });

    it('registers once for a retried create with the same idempotency key', async () => {
      const url = `${receiverUrl}/webhooks/bisnode/${uid('idem')}`;
      const key = uid('hook-key');
      const a = await gql(app.url, CREATE_HOOK, { url, events: ['PING'], key });
      const b = await gql(app.url, CREATE_HOOK, { url, events: ['PING'], key });
      expect(a.body.errors).toBeUndefined();
      expect(b.body).toEqual(a.body);
      expect(await callsOf(control, POST_WEBHOOKS)).toBe(1);
    });
  });
});

/**
 * Bisnode rejecting named items: nordgraph's validation covers every rule of the contract
 * (consumerId pattern and length, market, field lengths, dates, duplicates in a call), so no
 * input passes it and is then refused by Bisnode (the sandbox). A scripted proxy in front of the
 * sandbox plays those refusals, so the mapping of violations back to input items, the one
 * resubmission of the rest of the call, and a failure midway are tested over real HTTP.
 */
describe('per-item outcomes when Bisnode refuses part of an upload', () => {
  let sandbox: Sandbox;
  let app: Nordgraph;
  let proxy: Server;
  /** What the proxy does with the next POST /consumers calls, in order; then it forwards. */
  const script: ({ status: number; body?: unknown } | 'forward')[] = [];
  const uploads: { status: number; consumerIds: string[] }[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    const upstream = new URL(sandbox.apiUrls.bisnode);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks);
          const isUpload = req.method === 'POST' && req.url?.endsWith('/consumers');
          const step = isUpload ? (script.shift() ?? 'forward') : 'forward';
          const ids = isUpload
            ? (JSON.parse(raw.toString('utf8')) as { consumerId: string }[]).map((c) => c.consumerId)
            : [];
          if (step !== 'forward') {
            uploads.push({ status: step.status, consumerIds: ids });
            res.writeHead(step.status, { 'content-type': 'application/problem+json' });
            res.end(
              JSON.stringify(step.body ?? { type: 'about:blank', title: 'Bad Gateway', status: step.status }),
            );
            return;
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers))
            if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
          const r = await fetch(`${upstream.origin}${req.url}`, {
            method: req.method,
            headers,
            body: raw.length > 0 ? raw : undefined,
          });
          if (isUpload) uploads.push({ status: r.status, consumerIds: ids });
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        })();
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const c = sandbox.credentials;
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PROVIDERS_MODE: 'live',
      API_KEYS: LIVE_TEST_API_KEYS,
      BYNDLE_BASE_URL: sandbox.apiUrls.byndle,
      BYNDLE_TOKEN_URL: sandbox.tokenUrls.byndle,
      BYNDLE_USERNAME: c.byndle.username,
      BYNDLE_PASSWORD: c.byndle.password,
      BYNDLE_AJOURHOLD_ID: c.byndle.ajourholdId,
      BISNODE_BASE_URL: `${proxyOrigin}${upstream.pathname}`,
      BISNODE_TOKEN_URL: sandbox.tokenUrls.bisnode,
      BISNODE_CLIENT_ID: c.bisnode.clientId,
      BISNODE_CLIENT_SECRET: c.bisnode.clientSecret,
      CONNECT_BASE_URL: sandbox.apiUrls.connect,
      CONNECT_TOKEN_URL: sandbox.tokenUrls.connect,
      CONNECT_CLIENT_ID: c.connect.clientId,
      CONNECT_CLIENT_SECRET: c.connect.clientSecret,
      SYMETRISK_BASE_URL: sandbox.apiUrls.symetrisk,
      SYMETRISK_TOKEN_URL: sandbox.tokenUrls.symetrisk,
      SYMETRISK_CLIENT_ID: c.symetrisk.clientId,
      SYMETRISK_CLIENT_SECRET: c.symetrisk.clientSecret,
    });
    app = await startNordgraph(config, createLogger(config.LOG_LEVEL));
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((r) => proxy?.close(r));
    await sandbox?.close();
  });
  beforeEach(() => {
    script.length = 0;
    uploads.length = 0;
  });

  const violation = (...fields: string[]) => ({
    status: 400,
    body: {
      type: 'about:blank',
      title: 'Constraint Violation',
      status: 400,
      detail: 'Request contains one or more errors',
      instance: 'urn:bisnode:traceid:test',
      violations: fields.map((field) => ({ field, message: 'must be valid, not 19800102-2386' })),
    },
  });

  it('maps violations to input items, reports the rest accepted, and resubmits the rest of each call once', async () => {
    const consumers = plain(150);
    script.push(
      violation('[3].data.legalId', '[7].consumerId'),
      'forward',
      violation('[5].market'),
      'forward',
    );
    const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers });
    expect(body.errors).toBeUndefined();
    const p = body.data!.uploadConsumers;
    expect(p).toMatchObject({ acceptedCount: 147, rejectedCount: 3, upstreamCalls: 4, complete: false });
    expect(p.results[3]).toMatchObject({
      index: 3,
      accepted: false,
      state: null,
      error: {
        code: 'REJECTED',
        field: 'consumers[3].nationalId',
        upstreamCode: 'UPSTREAM_REJECTED',
        status: 400,
      },
    });
    expect(p.results[7]!.error).toMatchObject({ code: 'REJECTED', field: 'consumers[7].consumerId' });
    expect(p.results[105]!.error).toMatchObject({ code: 'REJECTED', field: 'consumers[105].market' });
    // Bisnode's message reaches the caller without anything that looks like a personal number.
    expect(p.results[3]!.error!.message).not.toMatch(/\d{6}/);
    for (const i of [0, 4, 99, 100, 104, 106, 149])
      expect(p.results[i]).toMatchObject({ accepted: true, state: 'UPLOADED' });

    expect(uploads.map((u) => [u.status, u.consumerIds.length])).toEqual([
      [400, 100],
      [202, 98],
      [400, 50],
      [202, 49],
    ]);
    expect(uploads[1]!.consumerIds).not.toContain(consumers[3]!.consumerId);
    expect(uploads[1]!.consumerIds).not.toContain(consumers[7]!.consumerId);
    expect(uploads[3]!.consumerIds).not.toContain(consumers[105]!.consumerId);
  });

  it('does not resubmit a second time when the rest is refused again', async () => {
    script.push(violation('[0].consumerId'), violation('[0].data.phoneNumber'));
    const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers: plain(120) });
    const p = body.data!.uploadConsumers;
    expect(p.results[0]!.error).toMatchObject({ code: 'REJECTED', field: 'consumers[0].consumerId' });
    // Position 0 of the resubmission is input item 1.
    expect(p.results[1]!.error).toMatchObject({ code: 'REJECTED', field: 'consumers[1].phoneNumber' });
    expect(p.results[2]!.error).toMatchObject({ code: 'BATCH_REJECTED', status: 400 });
    expect(p.results[99]!.error?.code).toBe('BATCH_REJECTED');
    expect(p.results[100]).toMatchObject({ accepted: true });
    expect(p).toMatchObject({ acceptedCount: 20, rejectedCount: 100, upstreamCalls: 3 });
  });

  it('treats a violation naming no item of the call as a refusal of the whole call', async () => {
    script.push(violation('[100]'));
    const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers: plain(130) });
    const p = body.data!.uploadConsumers;
    expect(p).toMatchObject({ acceptedCount: 30, rejectedCount: 100, upstreamCalls: 2 });
    expect(p.results[50]!.error?.code).toBe('BATCH_REJECTED');
  });

  it('reports a failure midway: earlier calls accepted, that call UNCONFIRMED, later ones NOT_SENT', async () => {
    script.push('forward', { status: 502 });
    const { body } = await gql<UploadPayload>(app.url, UPLOAD, { consumers: plain(250) });
    expect(body.errors).toBeUndefined();
    const p = body.data!.uploadConsumers;
    expect(p).toMatchObject({
      acceptedCount: 100,
      unconfirmedCount: 100,
      rejectedCount: 50,
      upstreamCalls: 2,
      complete: false,
    });
    expect(p.results[100]).toMatchObject({
      accepted: null,
      state: null,
      error: { code: 'UNCONFIRMED', upstreamCode: 'UPSTREAM_UNAVAILABLE', status: 502 },
    });
    expect(p.results[200]).toMatchObject({ accepted: false, error: { code: 'NOT_SENT', status: 502 } });
    expect(uploads).toHaveLength(2);
  });
});

describe.skipIf(!redisUrl)('two instances sharing Redis', () => {
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

  it('replays an upload retried on the other instance without a second upstream write', async () => {
    await resetCounters(sandbox.controlUrl);
    const consumers = plain(150);
    const key = uid('shared');
    const first = await gql<UploadPayload>(a.url, UPLOAD, { consumers, key });
    const second = await gql<UploadPayload>(b.url, UPLOAD, { consumers, key });
    expect(first.body.errors).toBeUndefined();
    expect(second.body).toEqual(first.body);
    expect(await callsOf(sandbox.controlUrl, POST_CONSUMERS)).toBe(2);
  });

  it('registers a webhook once across instances, and both see its stored secret', async () => {
    await resetCounters(sandbox.controlUrl);
    const url = `http://127.0.0.1:9/webhooks/bisnode/${uid('shared')}`;
    const key = uid('shared-hook');
    const first = await gql<{ createBisnodeWebhook: Hook }>(a.url, CREATE_HOOK, {
      url,
      events: ['ALL'],
      key,
    });
    const second = await gql<{ createBisnodeWebhook: Hook }>(b.url, CREATE_HOOK, {
      url,
      events: ['ALL'],
      key,
    });
    expect(first.body.errors).toBeUndefined();
    expect(second.body).toEqual(first.body);
    expect(await callsOf(sandbox.controlUrl, POST_WEBHOOKS)).toBe(1);
    const id = first.body.data!.createBisnodeWebhook.id;
    const secret = await b.webhookSecrets.get('bisnode', id);
    expect(secret).toBeDefined();
    expect(await a.webhookSecrets.get('bisnode', id)).toBe(secret);

    const deleted = await gql(b.url, DELETE_HOOK, { id });
    expect(deleted.body.errors).toBeUndefined();
    expect(await a.webhookSecrets.get('bisnode', id)).toBeUndefined();
  });
});
