import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@keyv/redis';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { gql, startGatewayOn } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

const redisUrl = process.env.REDIS_URL;
if (process.env.CI === 'true' && !redisUrl) throw new Error('REDIS_URL must be set under CI=true');
// A salt of this run only, so entries of earlier runs in the same Redis never satisfy a lookup.
const salt = `cache-test-salt-${process.pid}-${Date.now()}`;

describe.skipIf(!redisUrl)('the upstream cache in Redis mode', () => {
  let sandbox: Sandbox;
  let a: Nordgraph;
  let b: Nordgraph;
  beforeAll(async () => {
    sandbox = await startSandbox();
    a = await startGatewayOn(sandbox, { REDIS_URL: redisUrl!, CACHE_KEY_SALT: salt });
    b = await startGatewayOn(sandbox, { REDIS_URL: redisUrl!, CACHE_KEY_SALT: salt });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sandbox?.close();
  });

  const lookups = async () => {
    const c = (await (await fetch(`${sandbox.controlUrl}/counters`)).json()) as Record<
      string,
      Record<string, number>
    >;
    return Object.entries(c.byndle ?? {})
      .filter(([k]) => k.includes('/v1/lookup/'))
      .reduce((s, [, n]) => s + n, 0);
  };

  it('shares answers between two instances, and no key holds a raw national id', async () => {
    const person = sandbox.context.population.persons.find((p) => p.market === 'NO' && p.id !== 'p000001')!;
    const query = 'query($id: String!) { person(nationalId: $id) { firstName lastName } }';
    const first = await gql<{ person: { firstName: string } }>(a.url, query, { id: person.nationalId });
    expect(first.body.data?.person.firstName).toBe(person.firstName);
    const afterA = await lookups();
    const second = await gql<{ person: { firstName: string } }>(b.url, query, { id: person.nationalId });
    expect(second.body.data?.person.firstName).toBe(person.firstName);
    expect(await lookups()).toBe(afterA); // B was served from the cache A filled

    const client = createClient({ url: redisUrl! });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: '*', COUNT: 1000 }))
        keys.push(...[batch].flat().map(String));
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.some((k) => k.includes(person.nationalId))).toBe(false);
      expect(keys.some((k) => k.includes(person.byndleId!))).toBe(false);
    } finally {
      await client.close();
    }
  });
});
