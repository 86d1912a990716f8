/**
 * Counting open subscriptions without wrapping them (issue 7, S5: memory per idle subscription).
 *
 * metrics.trackSubscription used to wrap every subscription's async iterator in a delegating
 * iterator of its own: an object, four closures and a suspended async frame per waiting `next()`,
 * per subscription, only to keep a gauge. An iterator that can count itself (events/
 * shared-execution.ts's SharedResults, which every subscription goes through) implements
 * `[COUNT_OPEN]` instead: it is handed the process-wide counter once, calls `opened()` at once
 * and `closed()` exactly once when it ends (done, error, return or throw), and keeps nothing but
 * a reference to the shared counter. Other iterators are still wrapped.
 */
export interface OpenCounter {
  opened(): void;
  closed(): void;
}

/** Method of a self-counting iterator: takes the counter and calls `opened()` right away. */
export const COUNT_OPEN: unique symbol = Symbol('nordgraph.countOpen');

export interface SelfCounting {
  [COUNT_OPEN](counter: OpenCounter): void;
}

export function isSelfCounting(value: unknown): value is SelfCounting {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<SelfCounting>)[COUNT_OPEN] === 'function'
  );
}
