import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql ships ESM (.mjs) and CJS builds; @graphql-tools loads the CJS one, so tests must too,
  // or instanceof checks fail across the two copies ("from another module or realm").
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Runs in every test file first: turns on the contract shadow check (src/providers/contract.ts).
    setupFiles: ['test/setup.ts'],
  },
});
