import { createHash as nodeCreateHash, type Hash } from 'node:crypto';

/**
 * Stand-in for `@apollo/utils.createhash` in the gateway's bundles (scripts/esbuild-options.ts).
 * Apollo's version uses Node's crypto only when `module.require` exists, which it does not inside
 * an esbuild bundle's CommonJS wrapper: bundled, every operation's query hash (requestPipeline) was
 * computed by sha.js in JavaScript, ~7 µs for S1's query against ~1 µs here (measured on the bench
 * machine). Same digests: apollo-stand-ins.test.ts compares them with Apollo's own function and
 * with sha.js.
 */
export function createHash(kind: string): Hash {
  return nodeCreateHash(kind);
}
