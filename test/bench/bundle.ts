import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { GATEWAY_BUNDLE_OPTIONS } from '../../scripts/esbuild-options.js';

/**
 * Benchmark children as deployed code: `npm start` runs the esbuild bundle (dist/main.js, see the
 * `build` script), not tsx. tsx compiles with esbuild's keepNames, which wraps every function in
 * a `__name(fn, "…")` call that gives each closure a property dictionary of its own: ~2 KB per
 * idle graphql-ws subscription that production never pays (issue 7, S5). So the servers under
 * test are bundled with the build script's options, into a temporary directory.
 *
 * The bundle is written outside the repository (so lint and git never see it), but code in it
 * that resolves files from `import.meta.url` (schema/*.graphql, package.json, createRequire)
 * must resolve them as dist/main.js does, from one directory below the repository root: every
 * `import.meta.url` is replaced by the URL the file would have at <root>/dist-bench/<name>.js.
 */
export interface BundledChild {
  /** The bundled script to fork (plain Node, no loader). */
  readonly path: string;
  /** Deletes the temporary directory. */
  dispose(): void;
}

/** `sourcemap`: a linked source map beside the bundle (profiles mapped back, see topSelfTime). */
export async function bundleChild(
  root: string,
  entry: string,
  options: { sourcemap?: boolean } = {},
): Promise<BundledChild> {
  const dir = mkdtempSync(join(tmpdir(), 'nordgraph-bench-'));
  const name = entry.replace(/^.*\//, '').replace(/\.ts$/, '.js');
  const virtualUrl = pathToFileURL(join(root, 'dist-bench', name)).href;
  const keepMap = process.env.BENCH_SOURCEMAP === '1';
  try {
    await build({
      // The build script's options (Apollo's gateway request context swapped in included).
      ...GATEWAY_BUNDLE_OPTIONS,
      entryPoints: [entry],
      outdir: dir,
      // BENCH_SOURCEMAP=1: a linked source map, and the bundle kept after the child exits, so that
      // CPU and heap profiles of the bundled child can be mapped back to src/ and node_modules/.
      ...(keepMap || options.sourcemap ? { sourcemap: 'linked' as const } : {}),
      define: { 'import.meta.url': '__benchImportMetaUrl' },
      // As the build script's banner: bundled CommonJS packages call require().
      banner: {
        js: `import { createRequire as __benchRequire } from 'node:module'; const __benchImportMetaUrl = ${JSON.stringify(virtualUrl)}; const require = __benchRequire(__benchImportMetaUrl);`,
      },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    path: join(dir, name),
    dispose: () => {
      if (keepMap) process.stderr.write(`bundle kept for its source map: ${join(dir, name)}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}
