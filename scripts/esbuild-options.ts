import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Modules Apollo Server imports that every bundle of the gateway (`npm run build`, which `npm
 * start` runs, and the benchmark children, test/bench/bundle.ts) replaces with a stand-in of ours:
 * the same behaviour without a cost the bundle would otherwise pay per operation (each file says
 * which, and its test holds it to the original). Only imports made by @apollo/server itself are
 * redirected; tsx and vitest run Apollo's own modules.
 * - `utils/makeGatewayGraphQLRequestContext.js` (Apollo's internal): its per-operation
 *   getter/setter literal kept every operation's state alive through young-generation GCs.
 * - `@apollo/utils.createhash`: falls back to sha.js (JavaScript SHA-256) inside a bundle.
 * - `negotiator`: parses the same Accept header twice per operation.
 */
const STAND_INS: { filter: RegExp; path: string }[] = [
  {
    filter: /\/makeGatewayGraphQLRequestContext\.js$/,
    path: here('../src/execution/gateway-request-context.ts'),
  },
  { filter: /^@apollo\/utils\.createhash$/, path: here('../src/execution/apollo-createhash.ts') },
  { filter: /^negotiator$/, path: here('../src/execution/negotiator-memo.ts') },
];

export const apolloStandInsPlugin: Plugin = {
  name: 'nordgraph-apollo-stand-ins',
  setup(build) {
    for (const { filter, path } of STAND_INS) {
      build.onResolve({ filter }, (args) =>
        /[\\/]@apollo[\\/]server[\\/]/.test(args.importer) ? { path } : undefined,
      );
    }
  },
};

/**
 * What every bundle of the gateway shares: `npm run build` (scripts/build.ts) adds code splitting
 * and its banner, the benchmark children (test/bench/bundle.ts) their own banner and output place.
 */
export const GATEWAY_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [apolloStandInsPlugin],
} satisfies BuildOptions;
