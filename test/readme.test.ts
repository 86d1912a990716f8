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
