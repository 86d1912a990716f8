import { build, type Plugin } from 'esbuild';

/**
 * Apollo Server bundled in memory, as the gateway's bundles include it, with the given esbuild
 * plugins (scripts/esbuild-options.ts): the tests of Apollo's stand-ins read what went in.
 */
export async function bundleApolloServer(plugins: Plugin[]): Promise<string> {
  const out = await build({
    stdin: { contents: "export { ApolloServer } from '@apollo/server';", resolveDir: process.cwd() },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    plugins,
  });
  return out.outputFiles[0]!.text;
}
