import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNordgraph, type Nordgraph } from '../../src/app.js';
import type { Sandbox } from '../../src/sandbox/index.js';

/** Starts nordgraph + sandbox on free ports, as `npm start` would, with extra env on top. */
export async function startTestGateway(env: Record<string, string> = {}): Promise<Nordgraph> {
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
  return startNordgraph(config, createLogger(config.LOG_LEVEL));
}

/** A gateway on an already running sandbox (closing it leaves the sandbox running): two instances, one sandbox. */
export async function startGatewayOn(sandbox: Sandbox, env: Record<string, string> = {}): Promise<Nordgraph> {
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
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
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
}
