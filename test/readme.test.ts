import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('the README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it('lists every example operation', () => {
    const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.graphql'));
    const missing = examples.filter((f) => !readme.includes(`examples/${f}`));
    expect(missing).toEqual([]);
  });

  it('has a Quick start of exactly the two commands', () => {
    const quick = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    const commands = [...quick.matchAll(/^(npm [^#\n]*?)\s*(#.*)?$/gm)].map((m) => m[1]!.trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });
});

describe('the README configuration table', () => {
  it('documents every environment variable that src/config.ts reads', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const config = readFileSync(join(root, 'src', 'config.ts'), 'utf8');
    const vars = [...new Set([...config.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!))];
    const documented = (v: string) =>
      readme.includes(v) ||
      readme.includes(v.replace(/^(BYNDLE|BISNODE|CONNECT|SYMETRISK)_/, '<PROVIDER>_')) ||
      readme.includes(v.replace(/^SANDBOX_(BYNDLE|BISNODE|CONNECT|SYMETRISK)_/, 'SANDBOX_<PROVIDER>_'));
    expect(vars.length).toBeGreaterThan(20);
    expect(vars.filter((v) => !documented(v))).toEqual([]);
  });
});
