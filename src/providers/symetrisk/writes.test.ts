import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../errors.js';
import type { SymetriskHttpClient } from './client.js';
import type { UpstreamAccessRequestItem, UpstreamCreditScorerItem } from './schemas.js';
import { collapseDuplicates, createCreditScorerCompany, requestBorrowerAccess } from './writes.js';

/** Numbers need not be valid here: validation is the resolver's job, these tests cover splitting. */
const numbers = (n: number) => Array.from({ length: n }, (_, i) => String(100_000_000 + i));

const accepted = (orgNr: string): UpstreamAccessRequestItem => ({
  organization_number: orgNr,
  name: `Company ${orgNr}`,
  relationship_state: 'access_requested',
  signup_link: `https://app.symetrisk.com/signup?invitation=${orgNr}`,
  requested_at: '2026-01-01T00:00:00Z',
  already_existed: false,
  error: null,
});

const unavailable = () =>
  new UpstreamError(
    'symetrisk',
    'UPSTREAM_UNAVAILABLE',
    503,
    'symetrisk answered 503',
    'POST /request-borrower-access',
  );

/** A client whose write calls answer from `answer` per call number; the calls are recorded. */
function stub(answer: (call: number, chunk: readonly string[]) => UpstreamAccessRequestItem[]) {
  const calls: string[][] = [];
  const client = {
    ownOrganizationNumber: async () => '910827146',
    requestBorrowerAccess: async (chunk: readonly string[]) => {
      calls.push([...chunk]);
      return answer(calls.length, chunk);
    },
    createCreditScorerCompany: async (chunk: readonly string[]): Promise<UpstreamCreditScorerItem[]> => {
      calls.push([...chunk]);
      return chunk.map((o) => ({
        organization_number: o,
        company: null,
        created: false,
        error: 'new_reason',
      }));
    },
  } as unknown as SymetriskHttpClient; // only the methods these functions call
  return { client, calls };
}

describe('Symetrisk writes in chunks', () => {
  it('sends at most 100 per call, in order', async () => {
    const { client, calls } = stub((_n, chunk) => chunk.map(accepted));
    const payload = await requestBorrowerAccess(client, collapseDuplicates(numbers(250)));
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(payload).toMatchObject({
      upstreamCalls: 3,
      complete: true,
      creditorOrganizationNumber: '910827146',
    });
    expect(payload.results.map((r) => r.organizationNumber)).toEqual(numbers(250));
  });

  it('a failure of the first call is thrown: nothing was written', async () => {
    const { client, calls } = stub(() => {
      throw unavailable();
    });
    await expect(requestBorrowerAccess(client, collapseDuplicates(numbers(150)))).rejects.toBeInstanceOf(
      UpstreamError,
    );
    expect(calls).toHaveLength(1);
  });

  it('a later failure keeps the written ones and marks the rest NOT_CONFIRMED, sending no further call', async () => {
    const { client, calls } = stub((n, chunk) => {
      if (n === 2) throw unavailable();
      return chunk.map(accepted);
    });
    const payload = await requestBorrowerAccess(client, collapseDuplicates(numbers(250)));
    expect(calls).toHaveLength(2);
    expect(payload.complete).toBe(false);
    expect(payload.upstreamCalls).toBe(2);
    const outcomes = payload.results.map((r) => r.outcome);
    expect(outcomes.slice(0, 100).every((o) => o === 'ACCEPTED')).toBe(true);
    expect(outcomes.slice(100).every((o) => o === 'NOT_CONFIRMED')).toBe(true);
    expect(payload.results[100]).toMatchObject({ ok: false, relationshipState: 'NONE', signupLink: null });
  });

  it('matches answers by number, not position, and an item left out is NOT_CONFIRMED', async () => {
    const { client } = stub((_n, chunk) => chunk.slice(1).map(accepted).reverse());
    const payload = await requestBorrowerAccess(client, collapseDuplicates(numbers(3)));
    expect(payload.results.map((r) => [r.organizationNumber, r.outcome])).toEqual([
      ['100000000', 'NOT_CONFIRMED'],
      ['100000001', 'ACCEPTED'],
      ['100000002', 'ACCEPTED'],
    ]);
    expect(payload.complete).toBe(false);
  });

  it('an item error Symetrisk adds later is REJECTED, not a failure of the call', async () => {
    const { client } = stub(() => []);
    const payload = await createCreditScorerCompany(client, collapseDuplicates(numbers(2)));
    expect(payload.results.map((r) => [r.outcome, r.ok])).toEqual([
      ['REJECTED', false],
      ['REJECTED', false],
    ]);
  });
});
