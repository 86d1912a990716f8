import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { PersonChange, SandboxContext } from '../common/context.js';
import { TokenStore } from '../common/tokens.js';
import type { Market, Person } from '../population/types.js';
import { findPerson } from './matching.js';
import { changedPointers, invalidateHouseholds, toV3Person, type PersonOverlay } from './person.js';
import {
  MARKETS,
  SOURCE_BY_MARKET,
  type BisnodeMarket,
  type ConsumerData,
  type ConsumerState,
  type EnrichmentVariable,
  type EventInput,
  type EventMarket,
  type SourceName,
  type V3Person,
  type WebhookEvent,
  type WebhookEventType,
} from './schemas.js';

export const DEFAULT_RATE_LIMIT_PER_SECOND = 200;
export const DEFAULT_IDENTIFICATION_DELAY_MS = 200;
/** Events per delivery body; more queued events go out in further deliveries. */
const MAX_EVENTS_PER_DELIVERY = 100;

export interface ConsumerRec {
  consumerId: string;
  market: string;
  data: ConsumerData;
  state: ConsumerState;
  /** Shown while IDENTIFIED. */
  gedi: string | null;
  source: SourceName | null;
  /** The person this consumer keeps subscribed; survives a re-upload until it is identified anew. */
  linkedPersonId: string | null;
  /** Upload order (a re-upload moves the consumer to the end). */
  seq: number;
  uploadedTimestamp: string;
  updatedTimestamp: string;
}

interface SubscriptionRec {
  personId: string;
  market: Market;
  consumerIds: Set<string>;
  /** Position in the changed-timestamp order of /subscriptions/persons. */
  seq: number;
  changedTimestamp: string;
}

export interface WebhookRec {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret: string;
  queue: WebhookEvent[];
  flushTimer: NodeJS.Timeout | null;
}

export const isServedMarket = (m: string): m is BisnodeMarket => (MARKETS as readonly string[]).includes(m);
const eventMarket = (m: string): EventMarket => (isServedMarket(m) ? m : 'XX');

export function sign(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Everything Consumer Intelligence remembers for the (single) sandbox client: tokens, consumers
 * and their identification, subscriptions, the audit log, webhooks and their queues, and the
 * overlays the control routes put on population persons (re-identified gedis, enrichment).
 */
export class BisnodeState implements PersonOverlay {
  readonly tokens: TokenStore;
  rateLimitPerSecond = DEFAULT_RATE_LIMIT_PER_SECOND;
  private readonly rateWindows = new Map<string, { start: number; count: number }>();

  readonly consumers = new Map<string, ConsumerRec>();
  private uploadSeq = 0;
  private readonly subs = new Map<string, SubscriptionRec>();
  private subSeq = 0;
  readonly audit: WebhookEvent[] = [];
  readonly webhooks = new Map<string, WebhookRec>();

  private readonly gedis = new Map<string, string>();
  private readonly gediAlias = new Map<string, string>();
  private readonly enrichmentRevs = new Map<string, Map<EnrichmentVariable, number>>();
  private readonly updated = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly ctx: SandboxContext) {
    this.tokens = new TokenStore(() => ctx.now());
  }

  private iso(): string {
    return new Date(this.ctx.now()).toISOString();
  }

  // ------------------------------------------------------------------ overlay

  gediOf(person: Person): string {
    return this.gedis.get(person.id) ?? person.gedi;
  }

  enrichmentRevision(person: Person, variable: EnrichmentVariable): number {
    return this.enrichmentRevs.get(person.id)?.get(variable) ?? 0;
  }

  updatedAt(person: Person): string | undefined {
    return this.updated.get(person.id);
  }

  /** By current gedi, an earlier gedi of a re-identified person, or the population gedi. */
  personByGedi(gedi: string): Person | undefined {
    const pop = this.ctx.population;
    const id = this.gediAlias.get(gedi);
    return id ? pop.personById.get(id) : pop.personByGedi.get(gedi);
  }

  v3(person: Person): V3Person {
    return toV3Person(person, this.ctx.population, this, this.ctx.now());
  }

  // ------------------------------------------------------------------ rate limit

  /** Fixed one-second windows per client; answers the seconds to wait when over the limit. */
  takeRequest(client: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.ctx.now();
    let w = this.rateWindows.get(client);
    if (!w || now - w.start >= 1_000) {
      w = { start: now, count: 0 };
      this.rateWindows.set(client, w);
    }
    w.count += 1;
    if (w.count <= this.rateLimitPerSecond) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + 1_000 - now) / 1_000)) };
  }

  // ------------------------------------------------------------------ events and delivery

  emit(input: EventInput): WebhookEvent {
    // Keys in the document's order: type, id, timestamp, then the event's own fields.
    const { type, ...rest } = input;
    const event = { type, id: randomUUID(), timestamp: this.iso(), ...rest } as WebhookEvent;
    if (event.type !== 'PING') this.audit.push(event);
    for (const hook of this.webhooks.values()) {
      if (hook.events.includes('*') || hook.events.includes(event.type)) this.enqueue(hook, event);
    }
    return event;
  }

  /** Events of one tick go out together, as one JSON array per webhook. */
  enqueue(hook: WebhookRec, event: WebhookEvent): void {
    hook.queue.push(event);
    if (hook.flushTimer) return;
    hook.flushTimer = this.schedule(0, () => {
      hook.flushTimer = null;
      this.flush(hook);
    });
  }

  private flush(hook: WebhookRec): void {
    while (hook.queue.length > 0) {
      const body = JSON.stringify(hook.queue.splice(0, MAX_EVENTS_PER_DELIVERY));
      const secret = hook.secret;
      this.ctx.webhooks.send(
        'bisnode',
        hook.url,
        body,
        () => {
          // A fresh timestamp per attempt, as the receiver is expected to reject stale ones.
          const ts = String(Math.floor(this.ctx.now() / 1000));
          return { 'ci-signature-timestamp': ts, 'ci-signature-sha256': sign(secret, ts, body) };
        },
        (status) => status === 200,
      );
    }
  }

  createWebhook(url: string, events: WebhookEventType[], description: string | null): WebhookRec {
    const hook: WebhookRec = {
      id: randomUUID(),
      url,
      events: [...new Set(events)],
      description,
      secret: randomBytes(32).toString('hex'),
      queue: [],
      flushTimer: null,
    };
    this.webhooks.set(hook.id, hook);
    this.enqueue(hook, { type: 'PING', id: randomUUID(), timestamp: this.iso() });
    return hook;
  }

  deleteWebhook(id: string): WebhookRec | undefined {
    const hook = this.webhooks.get(id);
    if (!hook) return undefined;
    this.webhooks.delete(id);
    if (hook.flushTimer) {
      clearTimeout(hook.flushTimer);
      this.timers.delete(hook.flushTimer);
    }
    return hook;
  }

  // ------------------------------------------------------------------ consumers

  upload(items: { consumerId: string; market: string; data: ConsumerData }[]): void {
    const now = this.iso();
    const batch: ConsumerRec[] = [];
    for (const item of items) {
      const previous = this.consumers.get(item.consumerId);
      const rec: ConsumerRec = {
        consumerId: item.consumerId,
        market: item.market,
        data: item.data,
        state: 'UPLOADED',
        gedi: null,
        source: null,
        linkedPersonId: previous?.linkedPersonId ?? null,
        seq: ++this.uploadSeq,
        uploadedTimestamp: now,
        updatedTimestamp: now,
      };
      this.consumers.set(rec.consumerId, rec);
      batch.push(rec);
      this.emit({ type: 'CONSUMER_UPLOADED', consumerId: rec.consumerId, market: eventMarket(rec.market) });
    }
    const delay = this.ctx.options.identificationDelayMs ?? DEFAULT_IDENTIFICATION_DELAY_MS;
    const current = () => batch.filter((r) => this.consumers.get(r.consumerId) === r);
    this.schedule(delay, () => {
      for (const rec of current()) {
        rec.state = 'IDENTIFYING';
        rec.updatedTimestamp = this.iso();
      }
      this.schedule(delay, () => {
        for (const rec of current()) this.identify(rec);
      });
    });
  }

  private identify(rec: ConsumerRec): void {
    rec.updatedTimestamp = this.iso();
    const market = rec.market;
    const outcome = isServedMarket(market)
      ? findPerson(this.ctx.population, market, rec.data, this.ctx.now())
      : ({ kind: 'none', reason: 'no source for market' } as const);
    if (outcome.kind === 'none' || !isServedMarket(market)) {
      rec.state = 'NOT_IDENTIFIED';
      this.emit({
        type: 'CONSUMER_NOT_IDENTIFIED',
        consumerId: rec.consumerId,
        market: eventMarket(market),
        sources: isServedMarket(market) ? [SOURCE_BY_MARKET[market]] : [],
      });
      this.unlink(rec);
      return;
    }
    const person = outcome.person;
    rec.state = 'IDENTIFIED';
    rec.gedi = this.gediOf(person);
    rec.source = SOURCE_BY_MARKET[market];
    this.emit({
      type: 'CONSUMER_IDENTIFIED',
      consumerId: rec.consumerId,
      market,
      gedi: rec.gedi,
      source: rec.source,
    });
    if (rec.linkedPersonId !== person.id) {
      this.unlink(rec);
      this.link(rec, person);
    }
  }

  private link(rec: ConsumerRec, person: Person): void {
    rec.linkedPersonId = person.id;
    const sub = this.subs.get(person.id);
    if (sub) {
      sub.consumerIds.add(rec.consumerId);
      this.touch(sub);
      return;
    }
    const created: SubscriptionRec = {
      personId: person.id,
      market: person.market,
      consumerIds: new Set([rec.consumerId]),
      seq: 0,
      changedTimestamp: '',
    };
    this.touch(created);
    this.subs.set(person.id, created);
    this.emit({
      type: 'PERSON_SUBSCRIBED',
      consumerIds: [rec.consumerId],
      market: person.market,
      gedi: this.gediOf(person),
      source: SOURCE_BY_MARKET[person.market],
    });
  }

  private unlink(rec: ConsumerRec): void {
    const personId = rec.linkedPersonId;
    rec.linkedPersonId = null;
    if (!personId) return;
    const sub = this.subs.get(personId);
    if (!sub) return;
    sub.consumerIds.delete(rec.consumerId);
    if (sub.consumerIds.size > 0) {
      this.touch(sub);
      return;
    }
    this.subs.delete(personId);
    const person = this.ctx.population.personById.get(personId);
    this.emit({
      type: 'PERSON_UNSUBSCRIBED',
      consumerIds: [rec.consumerId],
      market: sub.market,
      gedi: person ? this.gediOf(person) : (this.gedis.get(personId) ?? ''),
      source: SOURCE_BY_MARKET[sub.market],
    });
  }

  /** Unknown ids are ignored. Answers how many consumers were deleted. */
  deleteConsumers(ids: string[]): number {
    let deleted = 0;
    for (const id of new Set(ids)) {
      const rec = this.consumers.get(id);
      if (!rec) continue;
      this.consumers.delete(id);
      deleted += 1;
      this.emit({ type: 'CONSUMER_DELETED', consumerId: id, market: eventMarket(rec.market) });
      this.unlink(rec);
    }
    return deleted;
  }

  listConsumers(
    afterSeq: number,
    pageSize: number,
    state?: ConsumerState,
  ): { items: ConsumerRec[]; more: boolean } {
    const all = [...this.consumers.values()]
      .filter((r) => r.seq > afterSeq && (!state || r.state === state))
      .sort((a, b) => a.seq - b.seq);
    return { items: all.slice(0, pageSize), more: all.length > pageSize };
  }

  // ------------------------------------------------------------------ subscriptions

  private touch(sub: SubscriptionRec): void {
    sub.seq = ++this.subSeq;
    sub.changedTimestamp = this.iso();
  }

  subscription(person: Person): SubscriptionRec | undefined {
    return this.subs.get(person.id);
  }

  /** The cursor that starts at a date: just before the first subscription changed at or after it. */
  cursorAt(dateIso: string): number {
    const from = Date.parse(dateIso);
    let cursor = this.subSeq;
    for (const s of this.subs.values()) {
      if (Date.parse(s.changedTimestamp) >= from) cursor = Math.min(cursor, s.seq - 1);
    }
    return cursor;
  }

  listSubscriptions(
    afterSeq: number,
    pageSize: number,
  ): {
    items: {
      gedi: string;
      market: string;
      consumerIds: string[];
      changedTimestamp: string;
      person: V3Person;
    }[];
    cursor: number;
  } {
    const pop = this.ctx.population;
    const page = [...this.subs.values()]
      .filter((s) => s.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, pageSize);
    const items = [];
    for (const s of page) {
      const person = pop.personById.get(s.personId);
      if (!person) continue;
      items.push({
        gedi: this.gediOf(person),
        market: s.market,
        consumerIds: [...s.consumerIds],
        changedTimestamp: s.changedTimestamp,
        person: this.v3(person),
      });
    }
    return { items, cursor: page.at(-1)?.seq ?? afterSeq };
  }

  // ------------------------------------------------------------------ changes (control API)

  onPersonChanged(change: PersonChange): void {
    const { person, before } = change;
    invalidateHouseholds(this.ctx.population);
    const beforeV3 = toV3Person(before, this.ctx.population, this, this.ctx.now());
    this.updated.set(person.id, change.at);
    const sub = this.subs.get(person.id);
    if (!sub) return;
    const afterV3 = this.v3(person);
    const diff = changedPointers(beforeV3, afterV3);
    let pointers = diff.person;
    let enrichment = diff.enrichment;
    if (pointers.length === 0 && enrichment.length === 0) {
      // The population change left no visible trace in the V3 body; name what the change says.
      pointers = [...new Set(change.fields.flatMap((f) => FIELD_POINTERS[f] ?? []))];
      if (change.fields.includes('buildingType')) enrichment = ['buildingType'];
    }
    this.touch(sub);
    const consumerIds = [...sub.consumerIds];
    const gedi = this.gediOf(person);
    if (pointers.length > 0) {
      this.emit({
        type: 'PERSON_CHANGED',
        consumerIds,
        gedi,
        source: SOURCE_BY_MARKET[person.market],
        jsonPointers: pointers,
        changedId: randomUUID(),
      });
    }
    for (const variable of enrichment) this.emit({ type: 'ENRICHMENT_CHANGED', consumerIds, gedi, variable });
  }

  changeEnrichment(person: Person, variable: EnrichmentVariable): WebhookEvent {
    const sub = this.requireSub(person);
    const revs = this.enrichmentRevs.get(person.id) ?? new Map<EnrichmentVariable, number>();
    revs.set(variable, (revs.get(variable) ?? 0) + 1);
    this.enrichmentRevs.set(person.id, revs);
    this.updated.set(person.id, this.iso());
    this.touch(sub);
    return this.emit({
      type: 'ENRICHMENT_CHANGED',
      consumerIds: [...sub.consumerIds],
      gedi: this.gediOf(person),
      variable,
    });
  }

  lifeEvent(
    person: Person,
    body: {
      trigger: Extract<WebhookEvent, { type: 'LIFE_EVENT' }>['trigger'];
      phase: string;
      probability?: number;
      withinEstimatedDays?: number;
    },
  ): WebhookEvent {
    const sub = this.requireSub(person);
    return this.emit({
      type: 'LIFE_EVENT',
      phase: body.phase,
      market: person.market,
      gedi: this.gediOf(person),
      consumerIds: [...sub.consumerIds],
      trigger: body.trigger,
      ...(body.probability !== undefined ? { probability: body.probability } : {}),
      ...(body.withinEstimatedDays !== undefined ? { withinEstimatedDays: body.withinEstimatedDays } : {}),
    });
  }

  reidentify(person: Person, newGedi?: string): WebhookEvent {
    const sub = this.requireSub(person);
    const source = SOURCE_BY_MARKET[person.market];
    const previous = this.gediOf(person);
    let next = newGedi;
    if (!next) {
      let n = 2;
      while (this.gediAlias.has(`${person.gedi}-${n}`)) n += 1;
      next = `${person.gedi}-${n}`;
    }
    this.gedis.set(person.id, next);
    this.gediAlias.set(next, person.id);
    this.gediAlias.set(previous, person.id);
    for (const id of sub.consumerIds) {
      const rec = this.consumers.get(id);
      if (rec?.state === 'IDENTIFIED') rec.gedi = next;
    }
    this.updated.set(person.id, this.iso());
    this.touch(sub);
    return this.emit({
      type: 'PERSON_REIDENTIFIED',
      consumerIds: [...sub.consumerIds],
      market: person.market,
      previous: { gedi: previous, source },
      replacedBy: { gedi: next, source },
    });
  }

  isGediTaken(gedi: string): boolean {
    return this.gediAlias.has(gedi) || this.ctx.population.personByGedi.has(gedi);
  }

  private requireSub(person: Person): SubscriptionRec {
    const sub = this.subs.get(person.id);
    if (!sub) throw new NotSubscribedError();
    return sub;
  }

  // ------------------------------------------------------------------ lifecycle

  schedule(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const hook of this.webhooks.values()) hook.flushTimer = null;
  }

  reset(): void {
    this.stopTimers();
    this.tokens.reset();
    this.rateLimitPerSecond = DEFAULT_RATE_LIMIT_PER_SECOND;
    this.rateWindows.clear();
    this.consumers.clear();
    this.uploadSeq = 0;
    this.subs.clear();
    this.subSeq = 0;
    this.audit.length = 0;
    this.webhooks.clear();
    this.gedis.clear();
    this.gediAlias.clear();
    this.enrichmentRevs.clear();
    this.updated.clear();
  }
}

export class NotSubscribedError extends Error {
  constructor() {
    super('the person has no identified consumers (not subscribed)');
  }
}

/** Fallback pointers when a change is not visible in the rendered body. */
const FIELD_POINTERS: Partial<Record<PersonChange['fields'][number], string[]>> = {
  firstName: ['/firstNames', '/preferredFirstName', '/shortenedFullName'],
  lastName: ['/familyName', '/shortenedFullName'],
  mobile: ['/phoneNumbers'],
  landline: ['/phoneNumbers'],
  address: ['/addresses', '/relocationEvents'],
  status: ['/status'],
  reservations: ['/directMarketingRestriction', '/charityMarketingRestriction', '/phoneNumbers'],
};
