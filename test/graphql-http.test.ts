import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAudits, type AuditResult } from 'graphql-http';
import type { Nordgraph } from '../src/app.js';
import { startTestGateway, TEST_HEADERS } from './helpers/gateway.js';

/**
 * GraphQL-over-HTTP conformance: the MUST rules of the specification, as audited by the
 * `graphql-http` package (the reference implementation's audit suite), against /graphql with the
 * sandbox development key and a purpose on every request.
 */
let app: Nordgraph;
beforeAll(async () => {
  app = await startTestGateway();
}, 60_000);
afterAll(async () => {
  await app?.close();
});

/** Sends TEST_HEADERS with every audit request, keeping the audit's own headers. */
const fetchWithCredentials: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  for (const [k, v] of Object.entries(TEST_HEADERS)) headers.set(k, v);
  return fetch(input, { ...init, headers });
};

describe('GraphQL over HTTP: MUST rules', () => {
  const audits = serverAudits({ url: () => app.url, fetchFn: fetchWithCredentials }).filter((a) =>
    a.name.startsWith('MUST'),
  );
  it('has MUST audits to run', () => {
    expect(audits.length).toBeGreaterThan(10);
  });
  for (const audit of audits) {
    it(audit.name, async () => {
      const result: AuditResult = await audit.fn();
      expect(result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`).toBe('ok');
    });
  }
});
