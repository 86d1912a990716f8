import { readFileSync } from 'node:fs';
import type { Config, ProvidersConfig } from './config.js';
import type { Logger } from './log.js';
import { buildSchema } from './schema.js';
import { createGatewayServer, type ReadinessReport } from './server.js';
import type { Sandbox } from './sandbox/index.js';
import { UpstreamCache } from './cache.js';
import { closeProviderClients, createLoaders, createProviderClients } from './providers/index.js';
import { resilienceDeps } from './providers/resilience.js';
import type { ContextFactory } from './context.js';
import { layeredContexts, type SharedContext } from './context-layers.js';
import { Idempotency, MemoryIdempotencyStore, RedisIdempotencyStore } from './idempotency.js';
import { WebhookSecrets } from './webhook-secrets.js';
import { createEventLog, MEMORY_LOG_WARNING } from './events/log.js';
import type { EventLog } from './events/types.js';
import { createWebhookIntake, type WebhookIntake } from './events/intake.js';
import { evictForEvent } from './events/evict.js';
import { EventPersonMemo } from './events/subscribe.js';
import {
  createPollCursorStore,
  SymetriskNotificationPoller,
  symetriskPollIntervalMs,
} from './events/pollers.js';
import { createReconcileCursorStore, reconcileIntervalMs, Reconciler } from './events/reconcile.js';
import { createMetrics } from './observability/metrics.js';
import { bothCallHooks, createTracing } from './observability/tracing.js';
import { warnIfMetricsOpen } from './observability/metrics-auth.js';
import { tokenChecks } from './observability/readiness.js';
import type { ProviderHttp } from './providers/http.js';
import { createAuditSink, createRequestAudit, type AuditSink } from './security/audit.js';
import { callerKey, createAuthenticator, purposeAllowed, SANDBOX_DEV_API_KEY } from './security/callers.js';

/** A declared purpose: lower-case letters, digits and dashes (anything else counts as none). */
const PURPOSE_SHAPE = /^[a-z0-9][a-z0-9-]{0,63}$/;

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface Nordgraph {
  /** http://host:port/graphql */
  url: string;
  /** ws://host:port/graphql */
  wsUrl: string;
  port: number;
  config: Config;
  providers: ProvidersConfig;
  /** The in-process sandbox in sandbox mode. */
  sandbox: Sandbox | null;
  /** Where provider webhooks land (memory, or a Redis stream with REDIS_URL). */
  eventLog: EventLog;
  /** The `/webhooks/<provider>` receiver; `counters()` reports requests by outcome. */
  webhookIntake: WebhookIntake;
  /** Signing secrets of webhooks nordgraph registered at providers (never returned over GraphQL). */
  webhookSecrets: WebhookSecrets;
  /** The audit trail of personal-data reads (file, or a Redis stream with REDIS_URL). */
  auditSink: AuditSink;
  close(): Promise<void>;
}

/** nordgraph's own Byndle webhook credentials in sandbox mode (not secrets: sandbox only). */
export const SANDBOX_BYNDLE_WEBHOOK = {
  username: 'nordgraph-sandbox',
  password: 'sandbox-webhook-pw',
} as const;

/** Provider endpoints and credentials taken from a running sandbox. */
export function providersFromSandbox(sandbox: Sandbox, config: Config): ProvidersConfig {
  const c = sandbox.credentials;
  return {
    byndle: {
      baseUrl: sandbox.apiUrls.byndle,
      tokenUrl: sandbox.tokenUrls.byndle,
      clientId: c.byndle.username,
      clientSecret: c.byndle.password,
      ajourholdId: c.byndle.ajourholdId,
      timeoutMs: config.BYNDLE_TIMEOUT_MS,
    },
    bisnode: {
      baseUrl: sandbox.apiUrls.bisnode,
      tokenUrl: sandbox.tokenUrls.bisnode,
      clientId: c.bisnode.clientId,
      clientSecret: c.bisnode.clientSecret,
      timeoutMs: config.BISNODE_TIMEOUT_MS,
    },
    connect: {
      baseUrl: sandbox.apiUrls.connect,
      tokenUrl: sandbox.tokenUrls.connect,
      clientId: c.connect.clientId,
      clientSecret: c.connect.clientSecret,
      timeoutMs: config.CONNECT_TIMEOUT_MS,
    },
    symetrisk: {
      baseUrl: sandbox.apiUrls.symetrisk,
      tokenUrl: sandbox.tokenUrls.symetrisk,
      clientId: c.symetrisk.clientId,
      clientSecret: c.symetrisk.clientSecret,
      timeoutMs: config.SYMETRISK_TIMEOUT_MS,
    },
  };
}

/** Starts nordgraph (and, in sandbox mode, the sandbox first) as configured. */
export async function startNordgraph(
  config: Config,
  log: Logger,
  options: {
    /** Use this running sandbox (not closed with the gateway), e.g. two gateways on one sandbox. */ sandbox?: Sandbox;
  } = {},
): Promise<Nordgraph> {
  let sandbox: Sandbox | null = options.sandbox ?? null;
  const ownsSandbox = !options.sandbox;
  let providers = config.providers;
  if (sandbox) {
    providers = providersFromSandbox(sandbox, config);
  } else if (config.PROVIDERS_MODE === 'sandbox') {
    // Imported only here: live mode never loads the sandbox (hono, zod-openapi, the population).
    const { startSandbox } = await import('./sandbox/index.js');
    sandbox = await startSandbox({
      seed: config.SANDBOX_SEED,
      ports: {
        byndle: config.SANDBOX_BYNDLE_PORT,
        bisnode: config.SANDBOX_BISNODE_PORT,
        connect: config.SANDBOX_CONNECT_PORT,
        symetrisk: config.SANDBOX_SYMETRISK_PORT,
      },
    });
    providers = providersFromSandbox(sandbox, config);
  }
  if (!providers) throw new Error('live mode without provider configuration');
  const resolved = providers;

  const readiness = async (): Promise<ReadinessReport> => {
    const checks: ReadinessReport['checks'] = { config: { ok: true } };
    if (sandbox) {
      const results = await Promise.all(
        Object.entries(sandbox.urls).map(async ([name, origin]) => {
          try {
            const res = await fetch(`${origin}/_sandbox/health`, { signal: AbortSignal.timeout(1_000) });
            return [name, { ok: res.ok, detail: res.ok ? undefined : `status ${res.status}` }] as const;
          } catch (err) {
            return [name, { ok: false, detail: err instanceof Error ? err.name : 'unreachable' }] as const;
          }
        }),
      );
      for (const [name, r] of results) checks[`sandbox.${name}`] = r;
    }
    // Webhooks are acknowledged only once stored: without a writable log we are not ready.
    const logOk = await eventLog.healthy().catch(() => false);
    checks.eventLog = { ok: logOk, detail: logOk ? undefined : 'event log not writable' };
    // Upstream tokens: each provider's token cached or obtainable now (observability/readiness.ts).
    Object.assign(checks, await tokenChecks(providerHttp));
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const metrics = createMetrics();
  warnIfMetricsOpen(config, log);
  // null unless an OTLP endpoint is configured: then no OpenTelemetry code is even loaded.
  const tracing = await createTracing(config, log);
  const auditSink = createAuditSink({
    file: config.AUDIT_LOG_FILE,
    redisUrl: config.REDIS_URL,
    prefix: config.AUDIT_KEY_PREFIX,
    salt: config.CACHE_KEY_SALT,
    log,
    onWrite: (outcome) => metrics.onAuditWrite(outcome),
  });
  const providerHttp: ProviderHttp[] = [];
  metrics.observeBreakers(() => Object.fromEntries(providerHttp.map((h) => [h.provider, h.state()])));
  const cache = new UpstreamCache({
    redisUrl: config.REDIS_URL,
    keySalt: config.CACHE_KEY_SALT,
    maxEntries: config.CACHE_MAX_ENTRIES,
    onLookup: metrics.onCacheLookup,
  });
  const webhookSecrets = new WebhookSecrets({ redisUrl: config.REDIS_URL });
  const clients = createProviderClients(resolved, {
    cache,
    log,
    ...resilienceDeps(config),
    onCall: bothCallHooks(metrics.onUpstreamCall, tracing?.onUpstreamCall),
    onHttp: (h) => providerHttp.push(h),
  });
  const idempotency = new Idempotency(
    config.REDIS_URL ? new RedisIdempotencyStore(config.REDIS_URL) : new MemoryIdempotencyStore(),
  );
  const startedAt = new Date().toISOString();

  const eventLog = createEventLog({
    redisUrl: config.REDIS_URL,
    prefix: config.EVENTS_KEY_PREFIX,
    onTailError: (err) => log.error({ err }, 'event log tail failed'),
    // One subscriber failing to take an event does not stop the others; it is said here.
    onListenerError: (err) => log.error({ err }, 'event delivery to one subscriber failed'),
  });
  if (!config.REDIS_URL) log.warn(MEMORY_LOG_WARNING);
  // In sandbox mode nordgraph picks its own Byndle webhook credentials (and registers them at
  // the sandbox); in live mode they must be configured or every Byndle delivery is refused.
  const byndleWebhook =
    config.BYNDLE_WEBHOOK_USERNAME && config.BYNDLE_WEBHOOK_PASSWORD
      ? { username: config.BYNDLE_WEBHOOK_USERNAME, password: config.BYNDLE_WEBHOOK_PASSWORD }
      : sandbox
        ? { ...SANDBOX_BYNDLE_WEBHOOK }
        : null;
  if (!byndleWebhook) log.warn('BYNDLE_WEBHOOK_USERNAME/PASSWORD not set: Byndle webhooks are refused');
  const webhookIntake = createWebhookIntake({
    log: eventLog,
    byndle: byndleWebhook,
    // Secrets of webhooks nordgraph registered (the store), plus any configured by hand.
    bisnodeSecrets: async () => [
      ...(await webhookSecrets.all('bisnode')).map((s) => s.secret),
      ...config.BISNODE_WEBHOOK_SECRETS,
    ],
    onPersonChanged: async (event) => {
      await evictForEvent(cache, event);
    },
    logger: log,
    maxBodyBytes: config.MAX_BODY_BYTES,
  });
  metrics.observeWebhookIntake(() => webhookIntake.counters());
  // Subscriptions: one upstream person resolution per event, shared by every subscriber.
  const eventPersons = new EventPersonMemo({
    createLoaders: () => createLoaders(clients, { cache, connectUserToken: null }),
  });
  // Contexts in layers (context-layers.ts): shared values on the prototype, lazy parts made on
  // first use, a handful of own values (issue 7, S5).
  const shared: SharedContext = {
    config,
    startedAt,
    version: VERSION,
    clients,
    cache,
    idempotency,
    webhookSecrets,
    events: eventLog,
    eventPersons,
    auditSink,
  };
  const layered = layeredContexts(shared, {
    log: ({ requestId }) => log.child({ requestId }),
    audit: ({ caller, purpose, requestId }) =>
      createRequestAudit({ caller, purpose, requestId, sink: auditSink }),
    loaders: ({ connectUserToken }) => createLoaders(clients, { cache, connectUserToken }),
  });
  const createContext: ContextFactory = ({ requestId, headers, caller }) => {
    const declared = headers['x-purpose']?.trim().toLowerCase() ?? '';
    // A malformed purpose counts as none declared (and is never written to the audit trail).
    const purpose = PURPOSE_SHAPE.test(declared) ? declared : null;
    return layered({
      requestId,
      connectUserToken: headers['x-connect-user-token'] ?? null,
      caller,
      purpose,
      purposeAllowed: purposeAllowed(caller, purpose),
      callerKey: callerKey(caller, purpose),
    });
  };

  const authenticator = await createAuthenticator(config);
  if (!authenticator.configured)
    log.warn('no API_KEYS and no JWT verification key configured: every /graphql request is refused (401)');
  const gateway = createGatewayServer({
    authenticator,
    config,
    log,
    schema: buildSchema(),
    createContext,
    readiness,
    webhooks: webhookIntake,
    metrics,
    tracing,
  });
  const port = await gateway.listen();
  if (sandbox)
    // Not a secret: the sandbox's own key, refused in live mode (README "Callers and scopes").
    log.info(
      `sandbox development API key (all scopes, any purpose): send "x-api-key: ${SANDBOX_DEV_API_KEY}" and an "x-purpose" header`,
    );

  // Symetrisk sends no webhooks: its notifications are polled into the event log once listening.
  const pollCursors = createPollCursorStore(config.REDIS_URL);
  const pollIntervalMs = symetriskPollIntervalMs(config);
  const symetriskPoller = new SymetriskNotificationPoller({
    client: clients.symetrisk,
    log: eventLog,
    cursors: pollCursors,
    intervalMs: pollIntervalMs,
    onError: (err) => log.warn({ err }, 'symetrisk notification poll failed'),
  });
  if (pollIntervalMs > 0) symetriskPoller.start();
  // Lost webhooks: Byndle changes and Bisnode audit events read back into the log (deduped).
  const reconcileCursors = createReconcileCursorStore(config.REDIS_URL, config.EVENTS_KEY_PREFIX);
  const reconcileMs = reconcileIntervalMs(config);
  const reconciler = new Reconciler({
    byndle: clients.byndle,
    bisnode: clients.bisnode,
    log: eventLog,
    cursors: reconcileCursors,
    intervalMs: reconcileMs,
    onPersonChanged: (event) => evictForEvent(cache, event),
    onError: (err, provider) => log.warn({ err, provider }, 'reconciliation failed'),
  });
  if (reconcileMs > 0) reconciler.start();
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    config,
    providers: resolved,
    sandbox,
    eventLog,
    webhookIntake,
    webhookSecrets,
    auditSink,
    async close() {
      gateway.beginShutdown();
      await symetriskPoller.stop();
      await reconciler.stop();
      await reconcileCursors.close();
      await pollCursors.close();
      await gateway.close();
      await tracing?.shutdown();
      await eventLog.close();
      await closeProviderClients(clients);
      await cache.close();
      await webhookSecrets.close();
      await idempotency.close();
      await auditSink.close();
      if (ownsSandbox) await sandbox?.close();
    },
  };
}
