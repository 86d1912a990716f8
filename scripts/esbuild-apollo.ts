import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

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
