/**
 * A callback way to take the next value of an async iterator, beside its promise-based `next()`
 * (issue 7, S5). A subscription waiting for its next event through `next()` keeps, for hours, a
 * promise, its resolve and reject functions and their scope, and a reaction with two handlers
 * at every layer it passes (event stream, shared execution, transport): about 600 bytes per idle
 * subscription. Through `[PULL]` each layer instead keeps the one object it hands its value to.
 *
 * The contract: `[PULL](sink)` asks for one value; the source calls exactly one of
 * `sink.pushed(result)` or `sink.failed(err)`, once, never from inside the `[PULL]` call itself
 * (so a consumer that pulls again from `pushed` does not recurse). The next `[PULL]` comes only
 * after that call, as with `next()`. `return()` still ends the source as an iterator's does; a
 * pending pull is then answered `{ done: true }`.
 */
export const PULL: unique symbol = Symbol('nordgraph.pull');

export interface PullSink<T> {
  pushed(result: IteratorResult<T>): void;
  failed(err: unknown): void;
}

export interface Pullable<T> {
  [PULL](sink: PullSink<T>): void;
}

export function isPullable<T>(value: unknown): value is Pullable<T> {
  return (
    typeof value === 'object' && value !== null && typeof (value as Partial<Pullable<T>>)[PULL] === 'function'
  );
}

/** Pulls one value from any async iterator: by `[PULL]` where it has it, else by `next()`. */
export function pullFrom<T>(iterator: AsyncIterator<T>, sink: PullSink<T>): void {
  if (isPullable<T>(iterator)) {
    iterator[PULL](sink);
    return;
  }
  let pending: Promise<IteratorResult<T>>;
  try {
    // Resolved in case next() hands back a plain value or a foreign thenable.
    pending = Promise.resolve(iterator.next());
  } catch (err) {
    queueMicrotask(() => sink.failed(err));
    return;
  }
  pending.then(
    (r) => sink.pushed(r),
    (err: unknown) => sink.failed(err),
  );
}

/** Ends a source (its return()) whose consumer is done with it; what that throws or rejects is logged. */
export function endSource(iterator: AsyncIterator<unknown>): void {
  try {
    Promise.resolve(iterator.return?.()).catch(sourceEndFailed);
  } catch (err) {
    sourceEndFailed(err);
  }
}
function sourceEndFailed(err: unknown): void {
  console.error('Internal error while ending a subscription source.', err);
}

/** A sink that settles a promise: `next()` on top of `[PULL]`. */
export function nextByPull<T>(source: Pullable<T>): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => source[PULL]({ pushed: resolve, failed: reject }));
}
