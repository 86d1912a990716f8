import { InputError } from '../src/errors.js';
import { validateNationalId } from '../src/security/identifiers.js';
import { UpstreamError } from '../src/providers/errors.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export const commonResolvers: Resolvers = {
  Query: {
    providerStatus: async (_root, _args, ctx) =>
      Promise.all(
        (['BYNDLE', 'BISNODE', 'CONNECT', 'SYMETRISK'] as const).map(async (provider) => {
          const started = performance.now();
          const client = ctx.clients[provider.toLowerCase() as Lowercase<typeof provider>];
          try {
            await client.ping();
            return { provider, up: true, latencyMs: performance.now() - started, error: null };
          } catch (err) {
            const code = err instanceof UpstreamError ? err.code : 'INTERNAL_SERVER_ERROR';
            return { provider, up: false, latencyMs: performance.now() - started, error: code };
          }
        }),
      ),
    service: (_root, _args, ctx) => ({
      name: 'nordgraph',
      version: ctx.version,
      mode: ctx.config.PROVIDERS_MODE === 'live' ? 'LIVE' : 'SANDBOX',
      startedAt: ctx.startedAt,
    }),
  },
  Mutation: {
    forgetPerson: async (_root, { nationalId, market }, ctx) => {
      const id = validateNationalId(market ?? 'NO', nationalId);
      if (!id.ok) throw new InputError('nationalId', id.expected);
      return { evictedEntries: await ctx.cache.evictSubject(ctx.cache.ref(id.value)) };
    },
  },
  Subscription: {
    heartbeat: {
      subscribe: async function* (_root, { intervalMs, count }) {
        const interval = Math.min(Math.max(intervalMs ?? 1000, 10), 60_000);
        const total = count == null ? Number.POSITIVE_INFINITY : Math.min(Math.max(count, 1), 10_000);
        for (let sequence = 1; sequence <= total; sequence += 1) {
          await sleep(interval);
          yield { heartbeat: { sequence, at: new Date().toISOString() } };
        }
      },
    },
  },
};
