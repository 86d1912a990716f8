import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { WebSocketServer } from 'ws';
import { ownTransport, useWsTransport } from './events/ws-transport.js';
import { drainHttpServerPlugin } from './http-drain.js';
import { flatString } from './flat-strings.js';
import { DocumentCache, sharedExecutionEnabled, sharedSubscribe } from './events/shared-execution.js';
import type { GraphQLSchema } from 'graphql';
import type { Config } from './config.js';
import { CONTEXT_HEADERS, type ContextFactory, type GatewayContext } from './context.js';
import type { Logger } from './log.js';
import { formatGraphQLError } from './errors.js';
import { sendExplorerPage, serveExplorerAsset, wantsExplorer } from './explorer.js';
import type { Metrics } from './observability/metrics.js';
import { accessRecord, linkContext, routePattern, startAccessLog } from './observability/http-log.js';
import { checkOperation, limitParseOptions, limitRules, requestLimits } from './security/limits.js';
import { createRateLimiter } from './security/rate-limit.js';
import { limitSubscribe, wsVerifyClient } from './security/ws-rate-limit.js';
import { metricsAuthorized } from './observability/metrics-auth.js';
import type { Tracing } from './observability/tracing.js';
import { auditPlugin } from './security/audit.js';
import { auditIfMade } from './context-layers.js';
import { clientAddress } from './security/client-address.js';
import { jitGateway } from './execution/jit.js';
import { isCaller, SANDBOX_DEV_API_KEY, type Authenticator, type Caller } from './security/callers.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface GatewayServerOptions {
  config: Config;
  log: Logger;
  schema: GraphQLSchema;
  createContext: ContextFactory;
  /** What /readyz reports; called per probe. */
  readiness: () => Promise<ReadinessReport>;
  /** Provider webhook receiver for `/webhooks/<provider>` (see events/intake.ts); 404 when absent. */
  webhooks?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Prometheus metrics: served at /metrics, fed by an Apollo plugin and graphql-ws (see observability/). */
  metrics?: Metrics;
  /** OpenTelemetry tracing when configured (observability/tracing.ts); null/absent: off. */
  tracing?: Tracing | null;
  /** Who is calling: every /graphql request and graphql-ws connection must authenticate. */
  authenticator: Authenticator;
}

export interface GatewayServer {
  server: Server;
  /** Listen on config.PORT/HOST (0 picks a free port); resolves with the bound port. */
  listen(): Promise<number>;
  /** Marks the start of shutdown: /readyz answers 503 from now on. */
  beginShutdown(): void;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Request headers as single strings (repeated headers joined, as HTTP allows). */
function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** graphql-ws connection_init params as lower-cased string headers (other values are ignored). */
function paramsAsHeaders(
  params: Readonly<Record<string, unknown>> | undefined,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  return out;
}

/**
 * One HTTP server: /graphql (queries and mutations over HTTP, subscriptions over graphql-ws on
 * the same path), /healthz (process alive) and /readyz (ready to serve).
 */
export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  const { config, log, schema, createContext } = options;
  // Idle keep-alive connections stay open longer than clients and proxies keep theirs (Node's 5 s
  // default closes them while a client may be reusing one: the client sees ECONNRESET). The
  // headers timeout must stay above it, as Node requires.
  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 });
  // Request limits (security/limits.ts): one rule list for HTTP and WebSocket alike.
  const limits = requestLimits(config);
  const rules = limitRules(limits);
  const rateLimiter = createRateLimiter(config, log);

  // Subscriptions: documents parsed+checked once per query text, and one execution per event
  // shared by subscribers of the same operation (events/shared-execution.ts).
  const shared = sharedExecutionEnabled();
  const documents = new DocumentCache((q) => checkOperation(schema, limits, rules, q));
  // Sandbox mode: the explorer sends the development key and a purpose, so it works as opened.
  const explorerHeaders: Record<string, string> =
    config.PROVIDERS_MODE === 'sandbox'
      ? { 'x-api-key': SANDBOX_DEV_API_KEY, 'x-purpose': 'development' }
      : {};
  /** The caller of each authenticated graphql-ws connection, and its params (purpose, Connect token). */
  const wsCallers = new WeakMap<object, { caller: Caller; headers: Record<string, string | undefined> }>();
  // Connection attempts count against the HTTP rate limit (429 at the upgrade; ws-rate-limit.ts).
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    // The transport keeps its own set of connections; ws's tracking added a closure per socket.
    clientTracking: !ownTransport(),
    ...(rateLimiter ? { verifyClient: wsVerifyClient(rateLimiter) } : {}),
  });
  // graphql-ws's protocol on `ws`, with one serialisation per shared result (events/ws-transport.ts).
  const wsServer = useWsTransport(
    {
      schema,
      ...(shared ? { subscribe: sharedSubscribe } : {}),
      // Parsed and validated with the HTTP limits; graphql-ws fills in the context.
      onSubscribe: async (ctx, _id, payload) => {
        // Each subscribe counts against its caller's budget, shared with HTTP (ws-rate-limit.ts).
        const known = rateLimiter ? wsCallers.get(ctx) : undefined;
        const limited =
          known && rateLimiter ? await limitSubscribe(rateLimiter, `caller:${known.caller.id}`) : null;
        if (limited) return limited;
        const checked = shared
          ? documents.get(payload.query)
          : checkOperation(schema, limits, rules, payload.query);
        if ('errors' in checked) return checked.errors;
        return {
          schema,
          document: checked.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      // Authenticates in connection_init like HTTP does (params first, then the upgrade request's
      // headers for clients that can set them): without a caller, graphql-ws closes the socket
      // with 4403 Forbidden, as its protocol defines.
      onConnect: async (ctx) => {
        const params = paramsAsHeaders(ctx.connectionParams);
        const auth = await options.authenticator.authenticate({
          ...flatHeaders(ctx.extra.request),
          ...params,
        });
        if (!isCaller(auth)) {
          // A refused connection costs its client address, as a refused HTTP request does.
          await rateLimiter?.consume(`ip:${clientAddress(ctx.extra.request, config.TRUST_PROXY)}`);
          return false;
        }
        // Kept for the connection's life: only what its operations' contexts read (issue 7, S5).
        const kept: Record<string, string | undefined> = {};
        for (const name of CONTEXT_HEADERS) if (params[name] !== undefined) kept[name] = params[name];
        wsCallers.set(ctx, { caller: auth, headers: kept });
        return true;
      },
      context: (ctx) => {
        const known = wsCallers.get(ctx);
        // onConnect ran first (graphql-ws refuses subscribe before connection_ack with 4401).
        if (!known) throw new Error('graphql-ws context before an authenticated connection');
        // Flat: a subscription keeps its context for hours (flat-strings.ts, issue 7 S5).
        const requestId = flatString(randomUUID());
        return createContext({ requestId, headers: known.headers, caller: known.caller });
      },
      // Counts open subscriptions until they end, however they end.
      onOperation: (_ctx, _id, _payload, _args, result) => options.metrics?.trackSubscription(result),
      // Same error shape on WebSocket as over HTTP.
      // Audit: what this event's execution read is written now (a shared execution's reads land
      // on the context that ran it, once per event and caller key; the others have none).
      onNext: (_ctx, _id, _payload, args, result) => {
        void auditIfMade(args.contextValue)?.flush();
        return result.errors
          ? { ...result, errors: result.errors.map((e) => formatGraphQLError(e.toJSON(), e)) }
          : undefined;
      },
    },
    wss,
  );
  // Disposed by close() before the HTTP drain (so subscribers get 1001 before their socket ends)
  // and again by Apollo's drain hook: once only, as a second ws close() rejects.
  let wsDisposed: Promise<void> | null = null;
  const disposeWs = () => (wsDisposed ??= Promise.resolve(wsServer.dispose()));
  let closing = false;
  /** Webhook requests being handled: close() waits for them so their events are written. */
  const webhooksInFlight = new Set<Promise<void>>();

  // Execution: graphql-jit behind Apollo's gateway interface (execution/jit.ts), or graphql-js.
  const apollo = new ApolloServer<GatewayContext>({
    ...(config.EXECUTOR === 'jit' ? { gateway: jitGateway(schema) } : { schema }),
    csrfPrevention: true,
    validationRules: rules,
    parseOptions: limitParseOptions(limits),
    introspection: limits.introspection,
    hideSchemaDetailsFromClientErrors: limits.hideSuggestions,
    allowBatchedHttpRequests: false,
    // main.ts stops on SIGINT/SIGTERM (app.close(): subscribers, then HTTP, then the stores);
    // Apollo's own handler would run apollo.stop() beside it, draining HTTP before subscribers.
    stopOnTerminationSignals: false,
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: config.NODE_ENV === 'development',
    plugins: [
      drainHttpServerPlugin(server),
      ApolloServerPluginLandingPageDisabled(),
      // No HTTP cache hints are served; left on, it wraps every field resolver of every request.
      ApolloServerPluginCacheControlDisabled(),
      ...(options.metrics ? [options.metrics.apolloPlugin()] : []),
      auditPlugin(),
      ...(options.tracing ? [options.tracing.apolloPlugin()] : []),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await disposeWs();
            },
          };
        },
      },
    ],
  });

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const plainHeaders = flatHeaders(req);
    const auth = await options.authenticator.authenticate(plainHeaders);
    // Failed attempts are limited per client address (not per presented key: a fresh made-up key
    // per attempt must not buy a fresh budget); authenticated requests per caller.
    const retryAfter = isCaller(auth)
      ? await rateLimiter?.consume(`caller:${auth.id}`)
      : await rateLimiter?.consume(`ip:${clientAddress(req, config.TRUST_PROXY)}`);
    if (retryAfter) {
      res.setHeader('retry-after', String(retryAfter));
      sendJson(res, 429, {
        errors: [
          { message: `Too many requests; retry in ${retryAfter} s`, extensions: { code: 'RATE_LIMITED' } },
        ],
      });
      return;
    }
    if (!isCaller(auth)) {
      res.setHeader('www-authenticate', 'Bearer realm="nordgraph"');
      sendJson(res, 401, { errors: [{ message: auth.message, extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    const caller = auth;
    let raw = '';
    try {
      raw = req.method === 'POST' ? await readBody(req, config.MAX_BODY_BYTES) : '';
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        sendJson(res, 413, {
          errors: [
            {
              message: `Request body larger than ${config.MAX_BODY_BYTES} bytes`,
              extensions: { code: 'PAYLOAD_TOO_LARGE' },
            },
          ],
        });
        return;
      }
      throw err;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        sendJson(res, 400, {
          errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
        });
        return;
      }
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search: url.search,
      body,
    };
    const requestId = accessRecord(req)?.requestId ?? randomUUID();
    const execute = () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest,
        context: async () => linkContext(createContext({ requestId, headers: plainHeaders, caller }), req),
      });
    // With tracing on, the operation runs inside its span (parent of its upstream calls).
    const response = await (options.tracing ? options.tracing.operation(execute) : execute());
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.setHeader('x-request-id', requestId);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname;
    startAccessLog(log, req, res, config.TRUST_PROXY);
    const done = (err: unknown) => {
      // The route pattern, not the raw path: a caller controls the path.
      log.error({ err, route: routePattern(route) }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error' }] });
      else res.end();
    };
    if (route === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (route === '/readyz' && closing)
      return sendJson(res, 503, {
        ready: false,
        checks: { shutdown: { ok: false, detail: 'shutting down' } },
      });
    if (route === '/metrics' && options.metrics && req.method === 'GET') {
      if (!metricsAuthorized(req, config.METRICS_TOKEN)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        return sendJson(res, 401, { error: 'metrics need authorization: Bearer <METRICS_TOKEN>' });
      }
      options.metrics.handle(req, res).catch(done);
      return;
    }
    if (route === '/readyz') {
      options.readiness().then((r) => sendJson(res, r.ready ? 200 : 503, r), done);
      return;
    }
    // GraphiQL for browsers, assets served from node_modules (works offline); see explorer.ts.
    try {
      if (route === '/graphql' && wantsExplorer(req.method, req.headers.accept, url))
        return sendExplorerPage(res, { headers: explorerHeaders });
      if (req.method === 'GET' && serveExplorerAsset(route, res, req.headers['if-none-match'])) return;
    } catch (err) {
      return done(err);
    }
    if (route === '/graphql') {
      handleGraphQL(req, res, url).catch(done);
      return;
    }
    if (options.webhooks && route.startsWith('/webhooks/')) {
      const handling = options.webhooks(req, res).catch(done);
      webhooksInFlight.add(handling);
      void handling.finally(() => webhooksInFlight.delete(handling));
      return;
    }
    sendJson(res, 404, { error: `No route ${route}; GraphQL is served at /graphql` });
  });

  return {
    server,
    async listen() {
      await apollo.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.PORT, config.HOST, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    beginShutdown() {
      closing = true;
    },
    async close() {
      closing = true;
      // Subscribers first (close code 1001 "Going away"), then apollo.stop() stops accepting and
      // drains HTTP (in-flight requests finish); webhook handlers are awaited so their writes land.
      await disposeWs();
      await apollo.stop();
      await Promise.all(webhooksInFlight);
      wss.close();
      await rateLimiter?.close();
    },
  };
}
