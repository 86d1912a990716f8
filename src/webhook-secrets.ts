import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { ProviderName } from './config.js';

export interface WebhookSecretsOptions {
  /** Redis in shared mode (every instance verifies every delivery); memory otherwise. */
  redisUrl?: string;
  namespace?: string;
}

interface Entry {
  provider: ProviderName;
  webhookId: string;
  secret: string;
}

/** One stored secret of a webhook registered at a provider. */
export interface StoredWebhookSecret {
  webhookId: string;
  secret: string;
}

/**
 * The signing secrets of webhooks nordgraph registered at providers. A provider shows a secret
 * once, in the answer to the registration, and signs every delivery with it; the webhook intake
 * needs it to verify signatures, on whichever instance a delivery lands, so in Redis mode the
 * secrets live in Redis (namespace `nordgraph:webhook-secrets`). Entries never expire: a secret
 * is needed for as long as its webhook exists, and goes with `delete` when the webhook is deleted.
 * Secrets never leave through the GraphQL API.
 */
export class WebhookSecrets {
  // The value carries its own provider and id: keyv's memory iterator mangles namespaced keys
  // that contain ':' (it cuts at the first one), so keys are not parsed back.
  private readonly keyv: Keyv<Entry>;

  constructor(options: WebhookSecretsOptions = {}) {
    const namespace = options.namespace ?? 'nordgraph:webhook-secrets';
    this.keyv = options.redisUrl
      ? new Keyv<Entry>({ store: new KeyvRedis(options.redisUrl), namespace, useKeyPrefix: false })
      : new Keyv<Entry>({ namespace });
  }

  private static key(provider: ProviderName, webhookId: string): string {
    return `${provider}:${webhookId}`;
  }

  async put(provider: ProviderName, webhookId: string, secret: string): Promise<void> {
    // keyv reports a failed write as false rather than throwing; a lost secret must not pass silently.
    const ok = await this.keyv.set(WebhookSecrets.key(provider, webhookId), { provider, webhookId, secret });
    if (!ok) throw new Error(`could not store the secret of ${provider} webhook ${webhookId}`);
  }

  async get(provider: ProviderName, webhookId: string): Promise<string | undefined> {
    return (await this.keyv.get(WebhookSecrets.key(provider, webhookId)))?.secret;
  }

  /** Every stored secret of the provider (a delivery may come from any of its webhooks). */
  async all(provider: ProviderName): Promise<StoredWebhookSecret[]> {
    const out: StoredWebhookSecret[] = [];
    if (!this.keyv.iterator) throw new Error('the webhook secret store cannot list its entries');
    for await (const [, entry] of this.keyv.iterator(undefined)) {
      const e = entry as Entry | undefined;
      if (e && e.provider === provider) out.push({ webhookId: e.webhookId, secret: e.secret });
    }
    return out.sort((a, b) => a.webhookId.localeCompare(b.webhookId));
  }

  /** True when a secret was stored for the webhook. */
  async delete(provider: ProviderName, webhookId: string): Promise<boolean> {
    return this.keyv.delete(WebhookSecrets.key(provider, webhookId));
  }

  async close(): Promise<void> {
    await this.keyv.disconnect();
  }
}
