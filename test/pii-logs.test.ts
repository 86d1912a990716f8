import { createHmac, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient as createRedisClient } from '@keyv/redis';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SANDBOX_BYNDLE_WEBHOOK, type Nordgraph } from '../src/app.js';
import { gql, startTestGateway, TEST_HEADERS, type GraphQLResponse } from './helpers/gateway.js';

/**
 * No national id, phone number or credit score in any log line, metric label, GraphQL error
 * message or Redis key: they are sent through bad input, failing upstreams, bad webhooks and
 * successful reads, with every log line (LOG_LEVEL=trace) captured.
 */

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const run = randomUUID().slice(0, 8);
const EVENTS_PREFIX = `pii-test:${run}:events:`;
const AUDIT_PREFIX = `pii-test:${run}:`;
const BISNODE_SECRET = `pii-test-secret-${run}`;

/** Sandbox persons for the default seed (as in examples/). */
const NO_ID = '15058027984';
const SE_ID = '19890812-8591';
const SE_ID_DIGITS = '198908128591';
const PHONE = '+4791234567';
/** Bad input: a broken check digit, a short number, a malformed phone and a D-number-like id. */
const NO_ID_BAD = '15058027985';
const NO_ID_SHORT = '1505802798';
const PHONE_BAD = '+4791234';
const PHONE_LOCAL = '91234567';

const SECRETS = [
  NO_ID,
  SE_ID,
  SE_ID_DIGITS,
  PHONE,
  PHONE.slice(1),
  NO_ID_BAD,
  NO_ID_SHORT,
  PHONE_BAD,
  PHONE_LOCAL,
];

const PERSON = `query Person($nationalId: String!) { person(nationalId: $nationalId, market: NO) { id firstName phones { number } } }`;
const BY_PHONE = `query PersonByPhone($phoneNumber: String!) { personByPhone(phoneNumber: $phoneNumber) { id firstName } }`;
const BISNODE_FIND = `query Find($nationalId: String!) { bisnodeFindPerson(market: SE, input: { nationalId: $nationalId }) { id firstName } }`;
const CREDIT = `query CreditScore($creditor: String!, $debtor: String!) {
  creditScore(creditorOrganizationNumber: $creditor, debtorOrganizationNumber: $debtor) { score riskClass probabilityOfDefault }
}`;
/** Filled once the sandbox runs: our own company as creditor (see examples/credit-score.graphql). */
const CREDIT_VARS = { creditor: '', debtor: '965219951' };

const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, cb) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  },
});
/** Every GraphQL error message nordgraph answered with. */
const errorMessages: string[] = [];
let app: Nordgraph;
let control: string;
/** Credit score values read in this run (filled by the credit test). */
const scores: { score?: number; probabilityOfDefault?: number } = {};

async function ask(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> {
  const { body } = await gql(app.url, query, variables);
  for (const e of body.errors ?? []) errorMessages.push(e.message);
  return body;
}

async function fault(provider: string, config: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${control}/faults/${provider}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  expect(res.status).toBe(200);
}

const origin = () => app.url.replace(/\/graphql$/, '');

beforeAll(async () => {
  app = await startTestGateway(
    {
      LOG_LEVEL: 'trace',
      REDIS_URL: redisUrl,
      EVENTS_KEY_PREFIX: EVENTS_PREFIX,
      AUDIT_KEY_PREFIX: AUDIT_PREFIX,
      CACHE_KEY_SALT: `pii-test-salt-${run}`,
      BISNODE_WEBHOOK_SECRETS: BISNODE_SECRET,
      // Short upstream deadlines: the reset and stall faults fail fast.
      BYNDLE_TIMEOUT_MS: '1000',
      BISNODE_TIMEOUT_MS: '1000',
      SYMETRISK_TIMEOUT_MS: '1000',
    },
    { logDestination: logStream },
  );
  control = app.sandbox!.controlUrl;
  CREDIT_VARS.creditor = app.sandbox!.credentials.symetrisk.ownOrgNr;
  // Credit scores need the debtor's approval of our company.
  await fetch(`${control}/symetrisk/seed-approved`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      count: 20,
      creditor_organization_number: app.sandbox!.credentials.symetrisk.ownOrgNr,
    }),
  });
}, 60_000);

afterAll(async () => {
  await fetch(`${control}/faults`, { method: 'DELETE' }).catch(() => undefined);
  await app?.close();
});

describe('personal data sent through nordgraph', () => {
  it('rejects bad national ids and phone numbers without echoing them', async () => {
    for (const nationalId of [NO_ID_BAD, NO_ID_SHORT, `${NO_ID}x`]) {
      const body = await ask(PERSON, { nationalId });
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    for (const phoneNumber of [PHONE_BAD, PHONE_LOCAL]) {
      const body = await ask(BY_PHONE, { phoneNumber });
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    // Inline literals too (they travel in the query text, not in variables).
    const inline = await ask(`{ person(nationalId: "${NO_ID_BAD}", market: NO) { id } }`, {});
    expect(inline.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // A validation error on a document carrying a national id (unknown field next to it).
    const invalid = await ask(`{ person(nationalId: "${NO_ID}", market: NO) { id noSuchField } }`, {});
    expect(invalid.errors?.length).toBeGreaterThan(0);
    // A wrong type: the literal is an Int where a String is expected (graphql-js quotes it).
    const wrongType = await ask(`{ personByPhone(phoneNumber: ${PHONE.slice(1)}) { id } }`, {});
    expect(wrongType.errors?.length).toBeGreaterThan(0);
    // A variable of the wrong type: coercion errors quote the value too.
    const coercion = await ask(BY_PHONE, { phoneNumber: Number(PHONE.slice(1)) });
    expect(coercion.errors?.length).toBeGreaterThan(0);
    const syntax = await ask(`{ person(nationalId: ${NO_ID}x) { id } }`, {});
    expect(syntax.errors?.length).toBeGreaterThan(0);
  });

  for (const [name, config] of [
    ['500', { errorRate: 1, errorStatus: 500 }],
    ['malformed JSON', { malformedJsonRate: 1 }],
    ['connection reset', { resetRate: 1 }],
    ['stall past the deadline', { latencyMs: 1_200 }],
  ] as const) {
    it(`fails upstream reads with personal data in the request (${name}) without logging it`, async () => {
      await fault('byndle', config);
      await fault('bisnode', config);
      await fault('symetrisk', config);
      try {
        // Before any successful read: nothing is cached, every provider is asked (and fails).
        const person = await ask(PERSON, { nationalId: NO_ID });
        const byPhone = await ask(BY_PHONE, { phoneNumber: PHONE });
        const se = await ask(BISNODE_FIND, { nationalId: SE_ID });
        const credit = await ask(CREDIT, CREDIT_VARS);
        // Each failed with a typed upstream error, not a crash.
        for (const body of [person, byPhone, se, credit]) {
          expect(body.errors?.length).toBeGreaterThan(0);
          for (const e of body.errors ?? []) expect(String(e.extensions?.code)).toMatch(/^UPSTREAM_[A-Z_]+$/);
        }
      } finally {
        await fetch(`${control}/faults`, { method: 'DELETE' });
      }
    });
  }

  it('reads people successfully (cached in Redis) by national id and phone', async () => {
    const person = await ask(PERSON, { nationalId: NO_ID });
    expect(person.errors).toBeUndefined();
    expect(person.data?.person).not.toBeNull();
    const byPhone = await ask(BY_PHONE, { phoneNumber: PHONE });
    expect(byPhone.errors).toBeUndefined();
    const se = await ask(BISNODE_FIND, { nationalId: SE_ID });
    expect(se.errors).toBeUndefined();
  });

  it('reads a credit score', async () => {
    const body = await ask(CREDIT, CREDIT_VARS);
    expect(body.errors).toBeUndefined();
    const score = (body.data?.creditScore ?? null) as { score: number; probabilityOfDefault: number } | null;
    expect(score).not.toBeNull();
    scores.score = score!.score;
    scores.probabilityOfDefault = score!.probabilityOfDefault;
  });

  it('forgets a person (erasure) without logging the national id', async () => {
    const body = await ask(
      `mutation Forget($nationalId: String!) { forgetPerson(nationalId: $nationalId, market: NO) { evictedEntries } }`,
      { nationalId: NO_ID },
    );
    expect(body.errors).toBeUndefined();
  });

  it('refuses bad webhooks that carry personal data', async () => {
    const byndleAuth = `Basic ${Buffer.from(`${SANDBOX_BYNDLE_WEBHOOK.username}:${SANDBOX_BYNDLE_WEBHOOK.password}`).toString('base64')}`;
    const bodies = [
      // Wrong shape, personal data as values and as a key.
      JSON.stringify({
        ajourholdId: NO_ID,
        deliveryId: PHONE,
        events: [
          { eventId: 1, eventName: PHONE, nationalId: NO_ID, [NO_ID]: PHONE, newValue: { [PHONE]: NO_ID } },
        ],
      }),
      // Not JSON at all.
      `{"nationalId": "${NO_ID}", "mobile": "${PHONE}"`,
    ];
    for (const body of bodies) {
      const res = await fetch(`${origin()}/webhooks/byndle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: byndleAuth },
        body,
      });
      expect(res.status).toBe(400);
      // Wrong credentials: 401.
      const unauth = await fetch(`${origin()}/webhooks/byndle`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${NO_ID}:${PHONE}`).toString('base64')}`,
        },
        body,
      });
      expect(unauth.status).toBe(401);
    }
    const bisnodeBodies = [
      JSON.stringify([{ type: NO_ID, id: PHONE, gedi: NO_ID, data: { phone: PHONE } }]),
      JSON.stringify([{ type: 'PERSON_CHANGED', id: 1, personId: NO_ID, [SE_ID]: PHONE }]),
      JSON.stringify({ nationalId: SE_ID }),
      `[{"type": "PERSON_CHANGED", "nationalId": "${SE_ID}"`,
    ];
    for (const body of bisnodeBodies) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = createHmac('sha256', BISNODE_SECRET).update(`${timestamp}.${body}`).digest('hex');
      const res = await fetch(`${origin()}/webhooks/bisnode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ci-signature-timestamp': timestamp,
          'ci-signature-sha256': signature,
        },
        body,
      });
      expect([200, 400]).toContain(res.status);
      const badSignature = await fetch(`${origin()}/webhooks/bisnode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ci-signature-timestamp': NO_ID,
          'ci-signature-sha256': PHONE,
        },
        body,
      });
      expect(badSignature.status).toBe(401);
    }
  });

  it('rejects bad input over WebSocket without echoing it', async () => {
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { ...TEST_HEADERS },
      retryAttempts: 0,
    });
    try {
      const outcome = await new Promise<{ message: string }[]>((resolve) => {
        let errors: { message: string }[] = [];
        client.subscribe(
          { query: `{ personByPhone(phoneNumber: ${PHONE.slice(1)}) { id } }` },
          {
            next: (v) => (errors = (v.errors ?? []) as { message: string }[]),
            error: (e) => resolve(Array.isArray(e) ? (e as { message: string }[]) : [{ message: String(e) }]),
            complete: () => resolve(errors),
          },
        );
      });
      expect(outcome.length).toBeGreaterThan(0);
      errorMessages.push(...outcome.map((e) => e.message));
    } finally {
      await client.dispose();
    }
  });
});

describe('what nordgraph keeps and shows', () => {
  function leaks(texts: string[], values: string[]): string[] {
    return texts.filter((t) => values.some((v) => t.includes(v)));
  }

  it('logged many lines (the capture works)', () => {
    expect(lines.length).toBeGreaterThan(30);
    expect(lines.some((l) => l.includes('"msg":"request"'))).toBe(true);
  });

  it('has no national id or phone number in any log line', () => {
    expect(leaks(lines, SECRETS)).toEqual([]);
  });

  it('has no credit score in any log line', () => {
    expect(scores.score).toBeTypeOf('number');
    const pd = String(scores.probabilityOfDefault);
    // The score is a small number: looked for as a whole value in every field except those that
    // are numbers of their own (timestamps, durations, pids, levels, statuses, request ids).
    const own = new Set(['time', 'ms', 'pid', 'level', 'status', 'hostname', 'requestId']);
    const token = new RegExp(`(^|[^0-9A-Za-z.-])${scores.score}([^0-9A-Za-z.]|$)`);
    const holds = (v: unknown): boolean =>
      typeof v === 'number'
        ? v === scores.score || v === scores.probabilityOfDefault
        : typeof v === 'string'
          ? token.test(v) || (pd.length > 3 && v.includes(pd))
          : typeof v === 'object' && v !== null
            ? Object.values(v).some(holds)
            : false;
    const found = lines.filter((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      return Object.entries(record).some(([k, v]) => !own.has(k) && holds(v));
    });
    expect(found).toEqual([]);
  });

  it('has no personal data in any error message it answered with', () => {
    expect(errorMessages.length).toBeGreaterThan(5);
    expect(leaks(errorMessages, SECRETS)).toEqual([]);
  });

  it('has no personal data in any metric label', async () => {
    const res = await fetch(`${origin()}/metrics`);
    const text = await res.text();
    expect(text).toContain('nordgraph_upstream_requests_total');
    const labelled = text.split('\n').filter((l) => !l.startsWith('#') && l.includes('{'));
    expect(leaks(labelled, SECRETS)).toEqual([]);
    expect(
      labelled.filter((l) => l.slice(0, l.lastIndexOf('}')).includes(String(scores.probabilityOfDefault))),
    ).toEqual([]);
  });

  it('has no personal data in any Redis key it wrote', async () => {
    const redis = createRedisClient({ url: redisUrl });
    await redis.connect();
    try {
      const keys: string[] = [];
      for (const match of [`${AUDIT_PREFIX}*`, 'nordgraph:*']) {
        for await (const batch of redis.scanIterator({ MATCH: match, COUNT: 1000 }))
          keys.push(...[batch].flat().map(String));
      }
      // The answers cached in this run are among them (the cache namespace is shared).
      expect(keys.some((k) => k.startsWith('nordgraph:cache'))).toBe(true);
      expect(leaks(keys, SECRETS)).toEqual([]);
      const mine = keys.filter((k) => k.startsWith(AUDIT_PREFIX));
      if (mine.length > 0) await redis.del(mine);
    } finally {
      await redis.close();
    }
  });
});
