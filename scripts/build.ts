import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { GATEWAY_BUNDLE_OPTIONS } from './esbuild-options.js';

/**
 * `npm run build`: dist/main.js, what `npm start` runs. One ESM bundle, code-split so live mode
 * loads neither the sandbox nor OpenTelemetry; bundled CommonJS packages get a `require`.
 */
rmSync('dist', { recursive: true, force: true });
await build({
  ...GATEWAY_BUNDLE_OPTIONS,
  entryPoints: ['src/main.ts'],
  splitting: true,
  outdir: 'dist',
  banner: {
    js: "import { createRequire as __nordgraphRequire } from 'node:module'; const require = __nordgraphRequire(import.meta.url);",
  },
});
