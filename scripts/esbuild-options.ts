import { fileURLToPath } from 'node:url';
import type { BuildOptions, Plugin } from 'esbuild';

/**
 * esbuild plugin for every bundle of the gateway (`npm run build`, which `npm start` runs, and the
 * benchmark children, test/bench/bundle.ts): Apollo Server's internal
 * `utils/makeGatewayGraphQLRequestContext.js` is replaced by src/execution/gateway-request-context.ts,
 * which builds the same object without a per-operation getter/setter literal (that literal kept
 * every operation's state alive through young-generation GCs; see that file). Only imports made by
 * @apollo/server itself are redirected.
 */
const SHIM = fileURLToPath(new URL('../src/execution/gateway-request-context.ts', import.meta.url));

export const apolloGatewayContextPlugin: Plugin = {
  name: 'nordgraph-apollo-gateway-context',
  setup(build) {
    build.onResolve({ filter: /\/makeGatewayGraphQLRequestContext\.js$/ }, (args) =>
      /[\\/]@apollo[\\/]server[\\/]/.test(args.importer) ? { path: SHIM } : undefined,
    );
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
  plugins: [apolloGatewayContextPlugin],
} satisfies BuildOptions;
