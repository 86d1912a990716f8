import type { Population, Person } from '../population/types.js';
import type { Counters } from './counters.js';
import type { Faults } from './faults.js';
import type { WebhookSender } from './webhooks.js';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';

export type ProviderName = 'byndle' | 'bisnode' | 'connect' | 'symetrisk';
export const PROVIDERS: readonly ProviderName[] = ['byndle', 'bisnode', 'connect', 'symetrisk'];

/** Hono environment of every sandbox app: the raw Node request is reachable (for connection resets). */
export type SandboxEnv = { Bindings: HttpBindings };

/** Fields a control-API person change can touch; each provider maps them to its own event names. */
export type ChangedField =
  'firstName' | 'lastName' | 'mobile' | 'landline' | 'address' | 'status' | 'reservations' | 'buildingType';
export const CHANGED_FIELDS: readonly ChangedField[] = [
  'firstName',
  'lastName',
  'mobile',
  'landline',
  'address',
  'status',
  'reservations',
  'buildingType',
];

export interface PersonChange {
  person: Person;
  /** The person as it was before the change (a structured clone). */
  before: Person;
  fields: ChangedField[];
  /** ISO timestamp of the change. */
  at: string;
}

/** Test credentials of the sandbox, printed by `npm run sandbox` and written in the README. */
export interface SandboxCredentials {
  byndle: { username: string; password: string; ajourholdId: string };
  bisnode: { clientId: string; clientSecret: string };
  connect: {
    clientId: string;
    clientSecret: string;
    /** Test users for the authorization-code stand-in: username, password, and their customer. */
    users: { username: string; password: string; customerNumber: number }[];
  };
  symetrisk: {
    clientId: string;
    clientSecret: string;
    /** A second client with only the read scope, to test 403 on writes. */
    readOnlyClientId: string;
    readOnlyClientSecret: string;
    /** The organisation number of the company behind the client (the creditor / bank). */
    ownOrgNr: string;
  };
}

export interface SandboxOptions {
  seed?: number;
  host?: string;
  /** Fixed ports; 0 or absent picks a free port. */
  ports?: Partial<Record<ProviderName, number>>;
  /** Token lifetimes in seconds (defaults: Byndle 7 days, Bisnode 3600, Connect 12 h, Symetrisk 3600). */
  tokenTtlSeconds?: Partial<Record<ProviderName, number>>;
  /** Population sizes (defaults in PopulationOptions). Tests may shrink them for speed. */
  population?: {
    persons?: number;
    businesses?: number;
    vehicles?: number;
    customers?: number;
    borrowers?: number;
  };
  /** Bisnode consumer identification steps: delay between UPLOADED → IDENTIFYING → result. */
  identificationDelayMs?: number;
  /** Webhook redelivery schedule. */
  webhookRetryDelaysMs?: number[];
  /** Connect rate limits per client (defaults 100/s and 2000/min, as documented). */
  connectRateLimit?: { perSecond?: number; perMinute?: number };
}

/** Everything a provider module needs; owned by the sandbox, shared by its four servers. */
export interface SandboxContext {
  readonly options: Required<Pick<SandboxOptions, 'seed' | 'host'>> & SandboxOptions;
  /** Read it on every request: a reset swaps in a fresh population. */
  population: Population;
  readonly credentials: SandboxCredentials;
  readonly faults: Record<ProviderName, Faults>;
  readonly counters: Record<ProviderName, Counters>;
  readonly webhooks: WebhookSender;
  /** Base URL of each provider once listening, e.g. http://127.0.0.1:41234 */
  readonly urls: Record<ProviderName, string>;
  now(): number;
}

/** What each simulated provider exposes to the sandbox. */
export interface ProviderModule {
  name: ProviderName;
  app: OpenAPIHono<SandboxEnv>;
  /** Extra control routes for this provider, mounted at `/_sandbox/<name>/`. */
  control?: Hono<SandboxEnv>;
  /** Drop all mutable state (tokens, uploads, webhooks, relationships...). */
  reset(): void;
  /** A person in the population changed (control API); emit this provider's webhooks. */
  onPersonChanged?(change: PersonChange): void;
  /** Byndle's nightly update: process everything pending and notify. */
  nightly?(): Promise<void> | void;
  /** Stop timers. */
  close?(): void;
}
