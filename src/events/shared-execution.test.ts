import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { COUNT_OPEN, type SelfCounting } from '../observability/open-count.js';
import { PULL, type Pullable } from './pull.js';
import { sharedSubscribe } from './shared-execution.js';

/** A source of numbers that records whether it was ended. */
function numbers() {
  const state = { returned: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (let i = 1; ; i++) yield i;
    } finally {
      state.returned = true;
    }
  }
  return { state, source: generate() };
}

async function subscribed() {
  const { state, source } = numbers();
  const schema = makeExecutableSchema({
    typeDefs: `type Query { "-" ok: Boolean } type Subscription { "-" n: Int }`,
    resolvers: { Subscription: { n: { subscribe: () => source, resolve: (v: number) => v } } },
  });
  const args: ExecutionArgs = { schema, document: parse('subscription { n }'), contextValue: {} };
  const results = (await sharedSubscribe(args)) as AsyncGenerator<ExecutionResult> &
    Pullable<ExecutionResult> &
    SelfCounting;
  const counted = { open: 0 };
  results[COUNT_OPEN]({ opened: () => counted.open++, closed: () => counted.open-- });
  return { args, results, state, counted };
}

function pull(results: Pullable<ExecutionResult>) {
  return new Promise<{ pushed?: IteratorResult<ExecutionResult>; failed?: unknown }>((resolve) =>
    results[PULL]({ pushed: (r) => resolve({ pushed: r }), failed: (e) => resolve({ failed: e }) }),
  );
}

describe('shared subscription results, pulled', () => {
  it('hands on each event executed, and ends its source and its count on return()', async () => {
    const { results, state, counted } = await subscribed();
    expect(counted.open).toBe(1);
    expect(await pull(results)).toEqual({ pushed: { value: { data: { n: 1 } }, done: false } });
    expect(await results.next()).toEqual({ value: { data: { n: 2 } }, done: false });
    await results.return(undefined);
    expect(state.returned).toBe(true);
    expect(counted.open).toBe(0);
  });

  it('ends its source and its count when executing an event fails, and says why', async () => {
    const { args, results, state, counted } = await subscribed();
    // The next execution fails before it starts (graphql-js refuses the arguments).
    (args as { variableValues: unknown }).variableValues = 'not an object';
    const answer = await pull(results);
    expect(answer.pushed).toBeUndefined();
    expect(String(answer.failed)).toContain('Variables must be provided as an Object');
    await new Promise((r) => setTimeout(r, 10));
    expect(state.returned).toBe(true);
    expect(counted.open).toBe(0);
  });
});
