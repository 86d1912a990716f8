import type { ApolloServerPlugin } from '@apollo/server';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ProviderHttpOptions } from '../providers/http.js';

/**
 * OpenTelemetry tracing, on only when an OTLP endpoint is configured (the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). This file imports no
 * OpenTelemetry code: the SDK is loaded by a dynamic import when tracing is on, so with it off
 * nothing of OpenTelemetry is loaded or runs on the request path (callers check for `null`).
 *
 * What a trace holds (tracing-otel.ts): one span per GraphQL operation over HTTP, named
 * `<type> <operation name>`, with the operation's name and type, and a child span per upstream
 * call with the provider, the endpoint's route pattern, the method and the status. Never the
 * query text, variables, upstream URLs (which carry ids) or query strings.
 */
export interface Tracing {
  /** Runs one GraphQL HTTP request inside its operation span (the parent of its upstream calls). */
  operation<T>(run: () => Promise<T>): Promise<T>;
  /** Names the current operation span once Apollo has resolved the operation. */
  apolloPlugin(): ApolloServerPlugin;
  /** ProviderHttp `onCall` hook: one client span per upstream call, under the current operation. */
  onUpstreamCall: NonNullable<ProviderHttpOptions['onCall']>;
  /** Exports what is buffered and stops (called at shutdown). */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL from the configuration, or null when tracing is off. */
export function tracesUrl(config: Config): string | null {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return null;
}

export async function createTracing(config: Config, log: Logger): Promise<Tracing | null> {
  const url = tracesUrl(config);
  if (!url) return null;
  const { createOtelTracing } = await import('./tracing-otel.js');
  const tracing = createOtelTracing({ url, serviceName: config.OTEL_SERVICE_NAME });
  // The origin only: a collector URL may carry credentials in its path or query.
  log.info({ otlp: new URL(url).origin }, 'OpenTelemetry tracing on');
  return tracing;
}

/** Both hooks in one (metrics and tracing observe the same upstream calls). */
export function bothCallHooks(
  a: NonNullable<ProviderHttpOptions['onCall']>,
  b: ProviderHttpOptions['onCall'] | undefined,
): NonNullable<ProviderHttpOptions['onCall']> {
  if (!b) return a;
  return (call) => {
    a(call);
    b(call);
  };
}
