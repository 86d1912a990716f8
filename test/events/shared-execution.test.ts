import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestGateway, TEST_HEADERS } from '../helpers/gateway.js';
import { personChanged } from '../helpers/events.js';
import type { Nordgraph } from '../../src/app.js';
import { sharedExecutionStats } from '../../src/events/shared-execution.js';

/**
 * Subscribers of one operation (same query text and variables) on one event share one execution
 * (events/shared-execution.ts); different variables do not share, and each subscriber still gets
 * its own filtered stream.
 */

const run = `${process.pid}-${Date.now()}`;
let seq = 0;
const uniqueId = (prefix: string) => `${prefix}-${run}-${++seq}`;

let app: Nordgraph;
let tails = 0;
const clients: Client[] = [];

beforeAll(async () => {
  app = await startTestGateway({ SYMETRISK_POLL_INTERVAL_MS: '0' });
  // Event streams follow the log: one follow() per execution that listens live.
  const follow = app.eventLog.follow.bind(app.eventLog);
  app.eventLog.follow = (subscriber) => {
    tails++;
    follow(subscriber);
  };
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await app?.close();
});

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const QUERY = `subscription($filter: EventFilter) {
  events(filter: $filter) { cursor kind externalId changedFields }
}`;
type Ev = { events: { cursor: string; kind: string; externalId: string; changedFields: string[] } };

/** Subscribes on a connection of its own; resolves once the gateway tails the log for it. */
async function subscribe(variables: Record<string, unknown>) {
  const client = createClient({
    url: app.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { ...TEST_HEADERS },
    retryAttempts: 0,
  });
  clients.push(client);
  const items: Ev[] = [];
  const errors: unknown[] = [];
  const before = tails;
  client.subscribe<Ev['events']>(
    { query: QUERY, variables },
    {
      next: (m) => {
        if (m.errors) errors.push(...m.errors);
        if (m.data) items.push(m.data as unknown as Ev);
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  await waitUntil('the subscription to tail the log', () => tails > before || errors.length > 0);
  expect(errors).toEqual([]);
  return { items, errors };
}

const event = (externalId: string) => personChanged({ externalId });

describe('shared subscription execution', () => {
  it('executes once per event for subscribers of the same operation, apart for other variables', async () => {
    const a = uniqueId('ext');
    const b = uniqueId('ext');
    const same1 = await subscribe({ filter: { externalId: a } });
    const same2 = await subscribe({ filter: { externalId: a } });
    const same3 = await subscribe({ filter: { externalId: a } });
    const other = await subscribe({ filter: { externalId: b } });
    const before = sharedExecutionStats.executions;

    const { stored } = await app.eventLog.append([event(a)]);
    const expected = {
      cursor: stored[0]!.cursor,
      kind: 'PERSON_CHANGED',
      externalId: a,
      changedFields: ['MOBILE'],
    };
    await waitUntil('three deliveries', () => [same1, same2, same3].every((s) => s.items.length === 1));
    for (const s of [same1, same2, same3]) expect(s.items).toEqual([{ events: expected }]);
    // Three subscribers, one execution; the fourth subscriber's filter dropped the event.
    expect(sharedExecutionStats.executions - before).toBe(1);
    expect(other.items).toEqual([]);

    // An event for `b` reaches only the other subscriber, with an execution of its own key.
    const mid = sharedExecutionStats.executions;
    const { stored: s2 } = await app.eventLog.append([event(b)]);
    await waitUntil('the other delivery', () => other.items.length === 1);
    expect(other.items[0]!.events).toMatchObject({ cursor: s2[0]!.cursor, externalId: b });
    expect(sharedExecutionStats.executions - mid).toBe(1);
    for (const s of [same1, same2, same3]) expect(s.items).toHaveLength(1);
    expect(other.errors).toEqual([]);
  });
});
