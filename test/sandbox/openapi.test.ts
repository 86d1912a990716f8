import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { PROVIDERS } from '../../src/sandbox/common/context.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

describe('each provider serves its OpenAPI 3.1 document', () => {
  it.each(PROVIDERS)('%s: /openapi.json is a valid OpenAPI 3.1 document with paths', async (provider) => {
    const res = await fetch(`${sandbox.urls[provider]}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences and checks against the OpenAPI 3.1 JSON schema; it throws on error.
    const validated = await SwaggerParser.validate(structuredClone(doc) as never);
    expect(Object.keys(validated.paths ?? {}).length).toBeGreaterThan(0);
  });

  it.each(PROVIDERS)('%s: every documented operation is routed (no generic 404)', async (provider) => {
    const doc = (await (await fetch(`${sandbox.urls[provider]}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      for (const method of Object.keys(ops).filter((m) =>
        ['get', 'post', 'put', 'delete', 'patch'].includes(m),
      )) {
        const res = await fetch(`${sandbox.urls[provider]}${concrete}`, {
          method: method.toUpperCase(),
          headers: { 'content-type': 'application/json' },
          body: method === 'get' || method === 'delete' ? undefined : '{}',
        });
        const text = await res.text();
        expect(text, `${method.toUpperCase()} ${path}`).not.toContain('No route');
      }
    }
  });
});
