import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNordgraph, type Nordgraph } from '../../src/app.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { SANDBOX_DEV_API_KEY, SCOPES, sha256Hex } from '../../src/security/callers.js';

/** Credentials of the sandbox development key and a declared purpose: send on every raw request and WebSocket connection. */
export const TEST_HEADERS: Readonly<Record<string, string>> = {
  'x-api-key': SANDBOX_DEV_API_KEY,
  'x-purpose': 'testing',
};

/** A fresh audit trail file per test gateway, outside the repository. */
export function testAuditFile(): string {
  return join(tmpdir(), `nordgraph-test-audit-${process.pid}-${randomUUID()}.jsonl`);
}

/**
 * API_KEYS for a gateway in live mode (where the sandbox development key is refused): the same
 * key as TEST_HEADERS, configured by its digest with every scope and the purpose 'testing'.
 */
export const LIVE_TEST_API_KEYS = JSON.stringify([
  { id: 'test', sha256: sha256Hex(SANDBOX_DEV_API_KEY), scopes: [...SCOPES], purposes: ['testing'] },
]);

/** An API key entry for API_KEYS plus the key itself, for tests of scopes and purposes. */
export function testApiKey(
  id: string,
  scopes: string[],
  purposes: string[],
): { key: string; entry: { id: string; sha256: string; scopes: string[]; purposes: string[] } } {
  const key = `ng_test_${id}_${'k'.repeat(32)}`;
  return { key, entry: { id, sha256: sha256Hex(key), scopes, purposes } };
}

/**
 * Starts nordgraph + sandbox on free ports, as `npm start` would, with extra env on top.
 * `logDestination` receives every log line (LOG_LEVEL then defaults to `info`, not `silent`).
 */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: { logDestination?: DestinationStream } = {},
): Promise<Nordgraph> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logDestination ? 'info' : 'silent',
    AUDIT_LOG_FILE: testAuditFile(),
    ...env,
  });
  return startNordgraph(config, createLogger(config.LOG_LEVEL, 'nordgraph', options.logDestination));
}

/** A gateway on an already running sandbox (closing it leaves the sandbox running): two instances, one sandbox. */
export async function startGatewayOn(sandbox: Sandbox, env: Record<string, string> = {}): Promise<Nordgraph> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    AUDIT_LOG_FILE: testAuditFile(),
    ...env,
  });
  return startNordgraph(config, createLogger(config.LOG_LEVEL), { sandbox });
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLResponse<T> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...TEST_HEADERS,
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
}
