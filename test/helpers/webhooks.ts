/**
 * Shared set-up of the webhook tests: test persons, nordgraph's webhooks registered at the
 * sandbox's Byndle and Bisnode (pointing at the gateway or at a relay in front of it), and the
 * small probes those tests poll (sandbox deliveries, the event log).
 */
import { expect } from 'vitest';
import { ByndleSandbox, mobileOf, type SandboxPerson } from './byndle.js';
import { SANDBOX_BYNDLE_WEBHOOK, type Nordgraph } from '../../src/app.js';
import type { StoredEvent } from '../../src/events/types.js';

/** A sandbox person as the control API lists it for any market (test data only). */
export interface AnyPerson {
  id: string;
  market: 'NO' | 'SE' | 'DK' | 'FI';
  nationalId: string;
  gedi: string;
  birthDate: string;
  status: number;
  protectedIdentity: boolean;
}

/** One outbound webhook delivery as the sandbox logs it. */
export interface Delivery {
  provider: string;
  url: string;
  body: string;
  attempts: number;
  state: 'pending' | 'delivered' | 'failed';
  lastStatus: number | null;
}

export const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class WebhookHarness {
  readonly sb: ByndleSandbox;
  readonly control: string;
  bisnodeToken = '';
  bisnodeSecret = '';
  byndlePersons: SandboxPerson[] = [];
  sePersons: AnyPerson[] = [];
  private readonly run = `${process.pid}-${Date.now()}`;
  private seq = 0;

  constructor(readonly app: Nordgraph) {
    this.sb = new ByndleSandbox(app);
    this.control = app.sandbox!.controlUrl;
  }

  uniqueId(prefix: string): string {
    return `${prefix}-${this.run}-${++this.seq}`;
  }

  allEvents(): Promise<StoredEvent[]> {
    return this.app.eventLog.readAfter(null, 100_000);
  }

  async deliveries(provider: string): Promise<Delivery[]> {
    const res = await fetch(`${this.control}/webhooks/deliveries`);
    return ((await res.json()) as { deliveries: Delivery[] }).deliveries.filter(
      (d) => d.provider === provider,
    );
  }

  /** Waits until every delivery of the provider was answered as the provider demands (nothing pending). */
  allDelivered(provider: string, timeoutMs?: number): Promise<boolean> {
    return waitFor(
      `${provider} deliveries`,
      async () =>
        (await this.deliveries(provider)).every((d) => d.state === 'delivered') ? true : undefined,
      timeoutMs,
    );
  }

  /** A call to the sandbox's Bisnode API with the token `setup` obtained. */
  bisnode(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    return fetch(`${this.app.sandbox!.apiUrls.bisnode}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${this.bisnodeToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  }

  /** Adds a sandbox person to the ajourhold as our records hold them: matched and maintained. */
  async addEntry(p: SandboxPerson): Promise<string> {
    const a = p.addresses[0]!;
    const externalId = this.uniqueId('E');
    const res = await this.sb.byndle('POST', '/v1/ajourhold/{ajourholdId}/entries', {
      externalId,
      firstName: p.firstName,
      lastName: p.lastName,
      street: a.street,
      houseNumber: a.houseNumber,
      postalCode: a.postalCode,
      city: a.city.toUpperCase(),
      birthDate: p.birthDate,
      nationalId: p.nationalId,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { maintained: boolean }).maintained).toBe(true);
    return externalId;
  }

  /**
   * Picks test persons, makes the sandbox redeliver quickly, and registers nordgraph's webhooks
   * at Byndle (its own Basic credentials) and Bisnode (the secret, shown once, handed to
   * nordgraph's secret store), both delivering to `baseUrl` (the gateway or a relay).
   */
  async setup(baseUrl: string, retryDelayMs: number): Promise<void> {
    await fetch(`${this.control}/webhooks/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ retryDelaysMs: [retryDelayMs], maxAttempts: 100 }),
    });

    this.byndlePersons = (await this.sb.persons(500)).filter(
      (p) => p.byndleId && p.nationalIdKind === 'FNR' && p.addresses[0] && mobileOf(p) && p.status === 1,
    );
    const se = await fetch(`${this.control}/persons?market=SE&limit=300`);
    this.sePersons = ((await se.json()) as { persons: AnyPerson[] }).persons.filter(
      (p) => p.birthDate < '2000-01-01' && p.status === 1 && !p.protectedIdentity,
    );

    const hook = await this.sb.byndle('PUT', '/v1/ajourhold/{ajourholdId}/webhook', {
      url: `${baseUrl}/webhooks/byndle`,
      username: SANDBOX_BYNDLE_WEBHOOK.username,
      password: SANDBOX_BYNDLE_WEBHOOK.password,
    });
    expect(hook.status).toBe(200);

    const { clientId, clientSecret } = this.app.sandbox!.credentials.bisnode;
    const tokenRes = await fetch(this.app.sandbox!.tokenUrls.bisnode, {
      method: 'POST',
      headers: {
        authorization: basic(clientId, clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=bci',
    });
    this.bisnodeToken = ((await tokenRes.json()) as { access_token: string }).access_token;
    const created = await this.bisnode('/webhooks', {
      method: 'POST',
      body: { url: `${baseUrl}/webhooks/bisnode`, events: ['*'] },
    });
    expect(created.status).toBe(201);
    const webhook = (await created.json()) as { id: string; secret: string };
    this.bisnodeSecret = webhook.secret;
    await this.app.webhookSecrets.put('bisnode', webhook.id, webhook.secret);
  }
}
