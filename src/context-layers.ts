import type { GatewayContext } from './context.js';
import { StringInterner } from './flat-strings.js';

/**
 * How app.ts builds a GatewayContext cheaply: one made per HTTP operation and one kept for the
 * whole life of every graphql-ws subscription (issue 7, S5: memory per idle subscription).
 *
 * - Process-wide values (config, clients, cache, …) sit on one shared object, the root of the
 *   prototype chain; nothing of them is copied per operation.
 * - The lazy parts (logger, audit trail, DataLoaders) are getters on one prototype made once per
 *   gateway, not closures per operation. Most operations never log, and subscriptions never read
 *   loaders (~28 DataLoaders each when eager).
 * - Per operation there are only two small objects: the context, with its handful of own values
 *   always set in the same order (so every context shares one hidden class; a prototype per
 *   operation would give each context a hidden class, and a descriptor array, of its own), and
 *   the slots where the lazy parts land once made.
 * Apollo copies each context's own enumerable properties into a fresh object per request
 * (`Object.assign(Object.create(proto), ctx)`): the slots object is copied by reference, so the
 * copy and the original share one logger, one audit trail and one loader set, as they must (the
 * server flushes the audit trail of the context it made).
 */

/** The context's own values: per operation, plain data. */
export type OwnContext = Pick<
  GatewayContext,
  'requestId' | 'connectUserToken' | 'caller' | 'purpose' | 'purposeAllowed' | 'callerKey'
>;
type LazyKey = 'log' | 'audit' | 'loaders';
/** Process-wide values every context reads through its prototype. */
export type SharedContext = Omit<GatewayContext, keyof OwnContext | LazyKey>;
/** Makers of the lazy parts, called at most once per operation, with the operation's own values. */
export type LazyMakers = { [K in LazyKey]: (own: OwnContext) => GatewayContext[K] };

const SLOTS = Symbol('nordgraph.lazyContextParts');
const callerKeys = new StringInterner(1_024);
type Slots = { [K in LazyKey]: GatewayContext[K] | undefined };
type WithSlots = OwnContext & { [SLOTS]: Slots };

/**
 * The audit trail of a context if the operation made one (it read personal data), without
 * making one: flushing after every subscription event must not give each subscriber an audit
 * object it never needed.
 */
export function auditIfMade(ctx: unknown): GatewayContext['audit'] | undefined {
  if (typeof ctx !== 'object' || ctx === null) return undefined;
  return (ctx as Partial<WithSlots>)[SLOTS]?.audit;
}

/** Returns the per-operation factory: `own` values in, a full GatewayContext out. */
export function layeredContexts(
  shared: SharedContext,
  make: LazyMakers,
): (own: OwnContext) => GatewayContext {
  const lazy = <K extends LazyKey>(key: K): PropertyDescriptor => ({
    get(this: WithSlots): GatewayContext[K] {
      const slots = this[SLOTS] as Pick<Slots, K>;
      return (slots[key] ??= make[key](this));
    },
  });
  const proto: object = Object.create(shared, {
    log: lazy('log'),
    audit: lazy('audit'),
    loaders: lazy('loaders'),
  });
  return (own) => {
    const ctx = Object.create(proto) as WithSlots;
    // Always the same properties in the same order: one hidden class for all contexts.
    ctx.requestId = own.requestId;
    ctx.connectUserToken = own.connectUserToken;
    ctx.caller = own.caller;
    ctx.purpose = own.purpose;
    ctx.purposeAllowed = own.purposeAllowed;
    // Interned: every subscription of one caller and purpose keeps the same key string.
    ctx.callerKey = callerKeys.get(own.callerKey);
    ctx[SLOTS] = { log: undefined, audit: undefined, loaders: undefined };
    return ctx as unknown as GatewayContext;
  };
}
