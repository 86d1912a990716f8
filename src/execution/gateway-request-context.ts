/**
 * Stand-in for @apollo/server's internal `utils/makeGatewayGraphQLRequestContext.js` (Apollo
 * Server 5), put in its place by the esbuild bundles that `npm start` and the benchmarks run
 * (apolloStandInsPlugin, scripts/esbuild-options.ts). Same output, field for field, except where
 * `response.http.status` lives: Apollo's version defines it as a getter/setter pair in an object
 * literal, made anew for every operation; here it is one accessor on a class prototype.
 *
 * Why it matters (issue 7, latency at 200 req/s): V8 keeps a per-call accessor literal, and what
 * it reaches, alive through every young-generation GC until the next full GC. That one literal made
 * each operation's whole request state (context, loaders, upstream answers, result) survive two
 * scavenges and be promoted: with graphql-jit behind Apollo's gateway interface (execution/jit.ts)
 * even `{ __typename }` promoted ~1 MB per scavenge against ~115 KB without a gateway, and S1's
 * scavenges took 9-11 ms (the aggregator's ~0.5 ms). Measured with `--trace-gc-nvp`, see
 * test/bench/open-latency.ts; gateway-request-context.test.ts holds this file to
 * Apollo's original.
 */

/** The parts of Apollo's GraphQLRequestContext read here (typed loosely: Apollo's are internal). */
interface HeaderMapLike {
  has(name: string): boolean;
  get(name: string): string | undefined;
  set(name: string, value: string): unknown;
  delete(name: string): unknown;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
}

interface NewRequestContext {
  request: {
    query?: string;
    operationName?: string;
    variables?: Record<string, unknown>;
    extensions?: Record<string, unknown>;
    http?: { method: string; search: string; headers: HeaderMapLike };
  };
  response: { http: { headers: HeaderMapLike; status?: number } };
  schema: unknown;
  contextValue: unknown;
  queryHash?: string;
  document?: unknown;
  source?: string;
  operationName?: string | null;
  operation?: unknown;
  errors?: unknown;
  metrics: unknown;
  overallCachePolicy: unknown;
  requestIsBatched: boolean;
}

class FetcherHeadersForHeaderMap {
  constructor(readonly map: HeaderMapLike) {}
  append(name: string, value: string): void {
    if (this.map.has(name)) this.map.set(name, `${this.map.get(name)}, ${value}`);
    else this.map.set(name, value);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
  get(name: string): string | null {
    return this.map.get(name) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  set(name: string, value: string): void {
    this.map.set(name, value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/** `response.http` of the gateway request context: `status` reads and writes Apollo's own. */
class GatewayResponseHttp {
  readonly headers: FetcherHeadersForHeaderMap;
  constructor(private readonly rc: NewRequestContext) {
    this.headers = new FetcherHeadersForHeaderMap(rc.response.http.headers);
  }
  get status(): number | undefined {
    return this.rc.response.http.status;
  }
  set status(newStatus: number | undefined) {
    this.rc.response.http.status = newStatus;
  }
}

export function makeGatewayGraphQLRequestContext(
  newRequestContext: NewRequestContext,
  server: { logger: unknown; cache: unknown },
  internals: { includeStacktraceInErrorResponses: boolean },
): Record<string, unknown> {
  const from = newRequestContext.request;
  const request: Record<string, unknown> = {};
  if ('query' in from) request.query = from.query;
  if ('operationName' in from) request.operationName = from.operationName;
  if ('variables' in from) request.variables = from.variables;
  if ('extensions' in from) request.extensions = from.extensions;
  if (from.http) {
    const needQuestion = from.http.search !== '' && !from.http.search.startsWith('?');
    request.http = {
      method: from.http.method,
      url: `https://unknown-url.invalid/${needQuestion ? '?' : ''}${from.http.search}`,
      headers: new FetcherHeadersForHeaderMap(from.http.headers),
    };
  }
  return {
    request,
    response: { http: new GatewayResponseHttp(newRequestContext) },
    logger: server.logger,
    schema: newRequestContext.schema,
    schemaHash: 'schemaHash no longer exists since Apollo Server 4',
    context: newRequestContext.contextValue,
    cache: server.cache,
    queryHash: newRequestContext.queryHash,
    document: newRequestContext.document,
    source: newRequestContext.source,
    operationName: newRequestContext.operationName,
    operation: newRequestContext.operation,
    errors: newRequestContext.errors,
    metrics: newRequestContext.metrics,
    debug: internals.includeStacktraceInErrorResponses,
    overallCachePolicy: newRequestContext.overallCachePolicy,
    requestIsBatched: newRequestContext.requestIsBatched,
  };
}
