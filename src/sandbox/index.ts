import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Counters } from './common/counters.js';
import { Faults } from './common/faults.js';
import { WebhookSender } from './common/webhooks.js';
import {
  PROVIDERS,
  type ProviderModule,
  type ProviderName,
  type SandboxContext,
  type SandboxCredentials,
  type SandboxOptions,
} from './common/context.js';
import { createControl } from './control.js';
import { generatePopulation } from './population/generate.js';
import { createByndle } from './byndle/index.js';
import { createBisnode } from './bisnode/index.js';
import { createConnect } from './connect/index.js';
import { createSymetrisk } from './symetrisk/index.js';

export type { SandboxOptions, SandboxCredentials, ProviderName } from './common/context.js';

/** The sandbox's fixed test credentials (also in the README). Not secrets: sandbox only. */
export const SANDBOX_CREDENTIALS: SandboxCredentials = {
  byndle: { username: 'sandbox', password: 'sandbox-byndle-pw', ajourholdId: 'AJ-SANDBOX-1' },
  bisnode: { clientId: 'sandbox-bci-client', clientSecret: 'sandbox-bci-secret' },
  connect: {
    clientId: 'no.nordgraph.sandbox',
    clientSecret: 'sandbox-connect-secret',
    users: [
      { username: 'ola.nordmann@example.no', password: 'sandbox-user-1', customerNumber: 563457 },
      { username: 'kari.nordmann@example.no', password: 'sandbox-user-2', customerNumber: 563458 },
    ],
  },
  symetrisk: {
    clientId: 'sandbox-symetrisk-client',
    clientSecret: 'sandbox-symetrisk-secret',
    readOnlyClientId: 'sandbox-symetrisk-readonly',
    readOnlyClientSecret: 'sandbox-symetrisk-readonly-secret',
    ownOrgNr: '',
  },
};

/** Where the real providers mount their APIs; the sandbox mounts the same paths. */
export const BASE_PATHS: Record<ProviderName, { api: string; token: string }> = {
  byndle: { api: '', token: '/v1/auth/token' },
  bisnode: { api: '/consumer-intelligence/v3', token: '/as/token.oauth2' },
  connect: { api: '/capi', token: '/login/oauth/token' },
  symetrisk: { api: '/api/v1', token: '/oauth2/token' },
};

export interface Sandbox {
  /** Origin of each provider, e.g. http://127.0.0.1:41234 */
  urls: Record<ProviderName, string>;
  /** API base URL of each provider (origin + base path), what the gateway is configured with. */
  apiUrls: Record<ProviderName, string>;
  /** Token endpoint of each provider. */
  tokenUrls: Record<ProviderName, string>;
  /** Control API base (on the Byndle port; every provider port serves it). */
  controlUrl: string;
  credentials: SandboxCredentials;
  context: SandboxContext;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const ready = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    if (server.listening) ready();
    else server.once('listening', ready);
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const seed = options.seed ?? 20261121;
  const host = options.host ?? '127.0.0.1';
  const population = generatePopulation({ seed, ...options.population });
  const credentials = structuredClone(SANDBOX_CREDENTIALS);
  // The Symetrisk client belongs to a bank; pick the first borrower-free business deterministically.
  credentials.symetrisk.ownOrgNr =
    population.businesses.find((b) => !population.borrowerByOrgNr.has(b.orgNr))?.orgNr ?? '';

  const urls = { byndle: '', bisnode: '', connect: '', symetrisk: '' } as Record<ProviderName, string>;
  const ctx: SandboxContext = {
    options: { ...options, seed, host },
    population,
    credentials,
    faults: Object.fromEntries(PROVIDERS.map((p, i) => [p, new Faults(seed + i)])) as Record<
      ProviderName,
      Faults
    >,
    counters: Object.fromEntries(PROVIDERS.map((p) => [p, new Counters()])) as Record<ProviderName, Counters>,
    webhooks: new WebhookSender({ retryDelaysMs: options.webhookRetryDelaysMs }),
    urls,
    now: () => Date.now(),
  };

  const modules: Record<ProviderName, ProviderModule> = {
    byndle: createByndle(ctx),
    bisnode: createBisnode(ctx),
    connect: createConnect(ctx),
    symetrisk: createSymetrisk(ctx),
  };

  const reset = () => {
    ctx.population = generatePopulation({ seed, ...options.population });
    for (const p of PROVIDERS) {
      modules[p].reset();
      ctx.faults[p].clear();
      ctx.counters[p].reset();
    }
    ctx.webhooks.reset();
  };
  const control = createControl(ctx, modules, reset);

  const servers: Server[] = [];
  for (const p of PROVIDERS) {
    const m = modules[p];
    // Every port serves the whole control API, so one control URL reaches every provider's controls.
    for (const q of PROVIDERS) {
      const extra = modules[q].control;
      if (extra) m.app.route(`/_sandbox/${q}`, extra);
    }
    m.app.route('/_sandbox', control);
    const server = serve({ fetch: m.app.fetch, port: options.ports?.[p] ?? 0, hostname: host }) as Server;
    // Keep-alive sockets from clients must not hold close() hostage.
    server.keepAliveTimeout = 5_000;
    servers.push(server);
    const port = await listen(server);
    urls[p] = `http://${host}:${port}`;
  }

  const apiUrls = Object.fromEntries(PROVIDERS.map((p) => [p, urls[p] + BASE_PATHS[p].api])) as Record<
    ProviderName,
    string
  >;
  const tokenUrls = Object.fromEntries(PROVIDERS.map((p) => [p, urls[p] + BASE_PATHS[p].token])) as Record<
    ProviderName,
    string
  >;

  return {
    urls,
    apiUrls,
    tokenUrls,
    controlUrl: `${urls.byndle}/_sandbox`,
    credentials,
    context: ctx,
    async close() {
      for (const p of PROVIDERS) modules[p].close?.();
      ctx.webhooks.reset();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
