import { z } from 'zod';
import { apiKeysSchema } from './security/callers.js';

/**
 * Every setting comes from the environment and is validated here, once, at start. A bad or
 * missing variable stops the process with one message that lists every problem; secret values
 * are never echoed (only the variable names are).
 */

const port = z.coerce.number().int().min(0).max(65_535);
const ms = z.coerce.number().int().min(1).max(600_000);
const url = z.url({ protocol: /^https?$/ });

const base = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `sandbox` starts the simulated providers in-process and points the clients at them. */
  PROVIDERS_MODE: z.enum(['sandbox', 'live']).default('sandbox'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /**
   * Key for hashing lookup arguments into cache keys and subject references (no national id
   * ever appears in a key). Instances sharing a Redis must share it; set it in live mode.
   */
  CACHE_KEY_SALT: z.string().min(16).default('nordgraph-sandbox-cache-salt'),
  /**
   * Upstream answers the memory cache keeps at most (without REDIS_URL); the least recently used
   * go first. Each is one provider answer, a few KB.
   */
  CACHE_MAX_ENTRIES: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  /** Largest accepted HTTP request body. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(50_000_000).default(1_000_000),
  /** Fixed sandbox ports (sandbox mode only); 0 picks free ports. */
  SANDBOX_BYNDLE_PORT: port.default(0),
  SANDBOX_BISNODE_PORT: port.default(0),
  SANDBOX_CONNECT_PORT: port.default(0),
  SANDBOX_SYMETRISK_PORT: port.default(0),
  SANDBOX_SEED: z.coerce.number().int().default(20261121),
  BYNDLE_TIMEOUT_MS: ms.default(3_000),
  BISNODE_TIMEOUT_MS: ms.default(3_000),
  CONNECT_TIMEOUT_MS: ms.default(3_000),
  SYMETRISK_TIMEOUT_MS: ms.default(3_000),
  /**
   * Consecutive failed upstream calls (5xx, reset, timeout, after retries) that open a provider's
   * circuit breaker. Unset: 5, except with NODE_ENV=test, where the breaker stays closed so tests
   * that inject faults see each field's upstream status whatever ran before them (the resilience
   * tests set it). See providers/resilience.ts.
   */
  UPSTREAM_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** How long an open breaker fails fast before it lets one probe call through. */
  UPSTREAM_BREAKER_COOLDOWN_MS: ms.default(10_000),
  /** Connect calls per second per client, queued on our side (the partner allows 100). */
  CONNECT_CALLS_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(100),
  /**
   * How often Symetrisk notifications (access approved, ...) are polled: Symetrisk sends no
   * webhooks. 0 turns polling off. Unset: 30000, except with NODE_ENV=test, where it is off so
   * background polls do not disturb other tests' upstream call counts (see events/pollers.ts).
   */
  SYMETRISK_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).optional(),
  /**
   * How often Byndle ajourhold changes and Bisnode audit events are read back so a lost webhook
   * still becomes an event (events/reconcile.ts); also once at start. 0 turns it off. Unset:
   * 300000, except with NODE_ENV=test, where it is off (as SYMETRISK_POLL_INTERVAL_MS).
   */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  /**
   * Prefix of the event log's Redis keys (stream, dedupe, cursors); default `nordgraph:events:`.
   * Instances that should share one stream must share it; tests use a unique one per run.
   */
  EVENTS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_{}.-]{1,100}$/)
    .optional(),
  /**
   * Basic credentials Byndle must present on webhook deliveries: nordgraph's own choice, given to
   * Byndle when the webhook is registered. Sandbox mode has defaults; live mode without them
   * refuses every Byndle delivery (401).
   */
  BYNDLE_WEBHOOK_USERNAME: z.string().min(1).max(200).optional(),
  BYNDLE_WEBHOOK_PASSWORD: z.string().min(12).max(200).optional(),
  /**
   * Comma-separated Bisnode webhook signing secrets accepted besides those stored when nordgraph
   * registered the webhook itself (several during rotation).
   */
  BISNODE_WEBHOOK_SECRETS: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  /**
   * Audit trail of personal-data reads without REDIS_URL (security/audit.ts): an append-only JSON
   * Lines file, one write per request, never rewritten. With REDIS_URL the trail is a Redis stream.
   */
  AUDIT_LOG_FILE: z.string().min(1).default('./var/audit.jsonl'),
  /**
   * Prefix of the audit trail's Redis keys (`<prefix>audit`, `<prefix>audit:subject:<ref>`);
   * instances sharing one trail share it; tests use a unique one per run.
   */
  AUDIT_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_{}.-]{1,100}$/)
    .default('nordgraph:'),
  /** Request limits (security/limits.ts, README "Request limits"): HTTP and WebSocket alike. */
  LIMIT_MAX_DEPTH: z.coerce.number().int().min(1).max(1_000).default(12),
  LIMIT_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(30),
  LIMIT_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(20),
  LIMIT_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
  LIMIT_MAX_COST: z.coerce.number().int().min(1).max(1_000_000_000).default(100_000),
  /**
   * Callers (security/callers.ts, README "Callers and scopes"): a JSON array of
   * `{id, sha256, scopes, purposes}`, where sha256 is the hex SHA-256 of the key (never the key).
   */
  API_KEYS: apiKeysSchema,
  /** HS256 secret for caller JWTs (at least 32 characters). */
  JWT_HS256_SECRET: z.string().min(32).optional(),
  /** RS256 public key (PEM, SPKI) for caller JWTs. */
  JWT_RS256_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY').optional(),
  /** JWKS URL with the RS256 keys of caller JWTs (fetched and cached by jose). */
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** A JWKS document given inline (JSON), instead of a URL. */
  JWT_JWKS: z.string().startsWith('{').optional(),
  /** Required `iss` of caller JWTs (checked when set). */
  JWT_ISSUER: z.string().min(1).optional(),
  /** Required `aud` of caller JWTs (checked when set). */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /**
   * How HTTP operations are executed: `jit` compiles each operation once with graphql-jit (behind
   * Apollo's gateway interface, execution/jit.ts); `graphql-js` interprets it every time.
   */
  EXECUTOR: z.enum(['jit', 'graphql-js']).default('jit'),
  /** Schema introspection; unset: on in sandbox mode, off in live mode. */
  INTROSPECTION: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  /**
   * Requests per minute per caller (x-api-key header, else client IP); 429 with Retry-After past
   * it; shared in Redis with REDIS_URL. 0 turns it off. Unset: 600, except with NODE_ENV=test
   * (off, so suites are not throttled; test/limits.test.ts sets it). See security/rate-limit.ts.
   */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).optional(),
  /**
   * Bearer token /metrics requires (`authorization: Bearer <token>`, else 401). Unset: /metrics
   * is open, with a startup warning in live mode. See observability/metrics-auth.ts.
   */
  METRICS_TOKEN: z.string().min(16).max(500).optional(),
  /**
   * Proxies in front of nordgraph whose X-Forwarded-For is believed (hops counted from us). 0:
   * the header is ignored and the socket's peer is the client (rate limit keys, access logs).
   */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** OpenTelemetry (standard variables): tracing is on only when an OTLP endpoint is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  /** Full traces URL; overrides `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(200).default('nordgraph'),
});

/** What live mode needs for each provider; sandbox mode fills these from the sandbox itself. */
const live = z.object({
  BYNDLE_BASE_URL: url,
  BYNDLE_TOKEN_URL: url,
  BYNDLE_USERNAME: z.string().min(1),
  BYNDLE_PASSWORD: z.string().min(1),
  BYNDLE_AJOURHOLD_ID: z.string().min(1),
  BISNODE_BASE_URL: url,
  BISNODE_TOKEN_URL: url,
  BISNODE_CLIENT_ID: z.string().min(1),
  BISNODE_CLIENT_SECRET: z.string().min(1),
  CONNECT_BASE_URL: url,
  CONNECT_TOKEN_URL: url,
  CONNECT_CLIENT_ID: z.string().min(1),
  CONNECT_CLIENT_SECRET: z.string().min(1),
  SYMETRISK_BASE_URL: url,
  SYMETRISK_TOKEN_URL: url,
  SYMETRISK_CLIENT_ID: z.string().min(1),
  SYMETRISK_CLIENT_SECRET: z.string().min(1),
});

export type ProviderName = 'byndle' | 'bisnode' | 'connect' | 'symetrisk';

export interface ProviderEndpoint {
  /** API base, e.g. https://api.bisnode.com/consumer-intelligence/v3 */
  baseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

export interface ProvidersConfig {
  byndle: ProviderEndpoint & { ajourholdId: string };
  bisnode: ProviderEndpoint;
  connect: ProviderEndpoint;
  symetrisk: ProviderEndpoint;
}

export type BaseConfig = z.infer<typeof base>;

export interface Config extends BaseConfig {
  /** Present in live mode; in sandbox mode it is filled once the sandbox is listening. */
  providers: ProvidersConfig | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function problemsOf(error: z.ZodError, env: Record<string, string | undefined>): string[] {
  return error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const value = env[name];
    // Say what was expected and whether something arrived, never what: it may be a secret.
    const arrived =
      value === undefined ? 'it is not set' : `it is set to a value of ${value.length} characters`;
    return `${name}: ${issue.message} (${arrived})`;
  });
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const b = base.safeParse(env);
  if (!b.success) problems.push(...problemsOf(b.error, env));
  let providers: ProvidersConfig | null = null;
  if ((env.PROVIDERS_MODE ?? 'sandbox') === 'live') {
    const l = live.safeParse(env);
    if (!l.success) problems.push(...problemsOf(l.error, env));
    else if (b.success) {
      const v = l.data;
      const c = b.data;
      providers = {
        byndle: {
          baseUrl: v.BYNDLE_BASE_URL,
          tokenUrl: v.BYNDLE_TOKEN_URL,
          clientId: v.BYNDLE_USERNAME,
          clientSecret: v.BYNDLE_PASSWORD,
          ajourholdId: v.BYNDLE_AJOURHOLD_ID,
          timeoutMs: c.BYNDLE_TIMEOUT_MS,
        },
        bisnode: {
          baseUrl: v.BISNODE_BASE_URL,
          tokenUrl: v.BISNODE_TOKEN_URL,
          clientId: v.BISNODE_CLIENT_ID,
          clientSecret: v.BISNODE_CLIENT_SECRET,
          timeoutMs: c.BISNODE_TIMEOUT_MS,
        },
        connect: {
          baseUrl: v.CONNECT_BASE_URL,
          tokenUrl: v.CONNECT_TOKEN_URL,
          clientId: v.CONNECT_CLIENT_ID,
          clientSecret: v.CONNECT_CLIENT_SECRET,
          timeoutMs: c.CONNECT_TIMEOUT_MS,
        },
        symetrisk: {
          baseUrl: v.SYMETRISK_BASE_URL,
          tokenUrl: v.SYMETRISK_TOKEN_URL,
          clientId: v.SYMETRISK_CLIENT_ID,
          clientSecret: v.SYMETRISK_CLIENT_SECRET,
          timeoutMs: c.SYMETRISK_TIMEOUT_MS,
        },
      };
    }
  }
  if (problems.length > 0 || !b.success) throw new ConfigError(problems);
  return { ...b.data, providers };
}
