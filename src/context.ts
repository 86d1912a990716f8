import type { Logger } from './log.js';
import type { Config } from './config.js';
import type { UpstreamCache } from './cache.js';
import type { Loaders, ProviderClients } from './providers/index.js';
import type { Idempotency } from './idempotency.js';
import type { WebhookSecrets } from './webhook-secrets.js';
import type { EventLog } from './events/types.js';
import type { EventPersonMemo } from './events/subscribe.js';
import type { Caller } from './security/callers.js';
import type { AuditSink, AuditTrail } from './security/audit.js';

/** Per operation: made fresh for every HTTP request and every WebSocket subscription. */
export interface GatewayContext {
  config: Config;
  log: Logger;
  requestId: string;
  startedAt: string;
  version: string;
  /** Process-wide provider clients (pools, tokens); resolvers go through `loaders` instead. */
  clients: ProviderClients;
  /** Per-request DataLoaders: batched, deduplicated, cached. */
  loaders: Loaders;
  cache: UpstreamCache;
  /** Replays mutations sent again with the same idempotency key (shared through Redis when configured). */
  idempotency: Idempotency;
  /** Signing secrets of the webhooks nordgraph registered (never returned to callers; Redis when configured). */
  webhookSecrets: WebhookSecrets;
  /** The event log subscriptions replay from and tail (process-wide; memory or a Redis stream). */
  events: EventLog;
  /** Process-wide: `person` of an event is resolved once for all subscribers (see events/subscribe.ts). */
  eventPersons: EventPersonMemo;
  /** Who is calling (authenticated before the operation starts): scopes, purposes, idempotency scope. */
  caller: Caller;
  /** The purpose of processing the caller declared (header or connection param `x-purpose`). */
  purpose: string | null;
  /** Whether `purpose` is one the caller may declare: personal-data fields need it (security/directives.ts). */
  purposeAllowed: boolean;
  /** Names what this caller may see (caller, scopes, purpose): subscribers with the same key share executions. */
  callerKey: string;
  /** This operation's audit trail of personal-data reads (security/audit.ts); flushed when it answers. */
  audit: AuditTrail;
  /** Process-wide audit store (file or Redis stream): the `auditTrail` admin query reads it. */
  auditSink: AuditSink;
  /** The end user's own Connect token (header `x-connect-user-token`), for user-mode calls. */
  connectUserToken: string | null;
}

/**
 * The only headers (or graphql-ws connection params) a context reads: the purpose of processing
 * and the end user's Connect token. A graphql-ws connection keeps just these for its later
 * operations, not every param it sent (its API key among them).
 */
export const CONTEXT_HEADERS = ['x-purpose', 'x-connect-user-token'] as const;

/** What the transport knows when an operation starts. */
export interface ContextInput {
  requestId: string;
  /** Lower-cased header names (HTTP) or connection params (WebSocket); read: CONTEXT_HEADERS. */
  headers: Record<string, string | undefined>;
  /** The authenticated caller (server.ts refuses the request or connection without one). */
  caller: Caller;
}

export type ContextFactory = (input: ContextInput) => GatewayContext;
