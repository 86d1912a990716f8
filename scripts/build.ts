import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { apolloGatewayContextPlugin } from './esbuild-apollo.js';

/**
 * `npm run build`: dist/main.js, what `npm start` runs. One ESM bundle, code-split so live mode
 * loads neither the sandbox nor OpenTelemetry; bundled CommonJS packages get a `require`.
 */
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __nordgraphRequire } from 'node:module'; const require = __nordgraphRequire(import.meta.url);",
  },
  plugins: [apolloGatewayContextPlugin],
});
