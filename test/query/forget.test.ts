import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway } from '../helpers/gateway.js';
import type { Nordgraph } from '../../src/app.js';

let app: Nordgraph;
beforeAll(async () => {
  app = await startTestGateway();
});
afterAll(async () => {
  await app?.close();
});

async function byndleCalls(): Promise<number> {
  const c = (await (await fetch(`${app.sandbox!.controlUrl}/counters`)).json()) as Record<
    string,
    Record<string, number>
  >;
  return Object.entries(c.byndle ?? {})
    .filter(([k]) => k.includes('/v1/lookup/'))
    .reduce((sum, [, n]) => sum + n, 0);
}

describe('forgetPerson (erasure)', () => {
  it('evicts every cached answer about the person, so the next read goes upstream again', async () => {
    const res = await fetch(`${app.sandbox!.controlUrl}/persons?market=NO&limit=5`);
    const { persons } = (await res.json()) as { persons: { nationalId: string }[] };
    const nationalId = persons[3]!.nationalId;
    const query = 'query($id: String!) { person(nationalId: $id) { firstName lastName } }';

    expect((await gql(app.url, query, { id: nationalId })).body.errors).toBeUndefined();
    const afterFirst = await byndleCalls();
    await gql(app.url, query, { id: nationalId });
    expect(await byndleCalls()).toBe(afterFirst); // served from cache

    const forgot = await gql<{ forgetPerson: { evictedEntries: number } }>(
      app.url,
      'mutation($id: String!) { forgetPerson(nationalId: $id) { evictedEntries } }',
      { id: nationalId },
    );
    expect(forgot.body.errors).toBeUndefined();
    expect(forgot.body.data?.forgetPerson.evictedEntries).toBeGreaterThan(0);

    await gql(app.url, query, { id: nationalId });
    expect(await byndleCalls()).toBe(afterFirst + 1);
  });

  it('rejects a malformed national id with BAD_USER_INPUT naming the argument', async () => {
    const { body } = await gql(
      app.url,
      'mutation { forgetPerson(nationalId: "12345678901") { evictedEntries } }',
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'nationalId' });
    expect(body.errors?.[0]?.message).not.toContain('12345678901');
  });
});
