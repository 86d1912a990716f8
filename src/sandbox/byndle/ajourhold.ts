import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { PersonChange, SandboxContext, SandboxEnv } from '../common/context.js';
import type { Person } from '../population/types.js';
import { fail, fullAddress, landlineOf, mobileOf, reservationsJson, statusOf } from './format.js';
import { findBestMatch, isMaintained, reindexLastName } from './matching.js';
import {
  EVENT_NAMES,
  EntryInputSchema,
  EntrySchema,
  EventSchema,
  PageMeta,
  PageQuery,
  WebhookInputSchema,
  WebhookSchema,
  bearerSecurity,
  errors,
  json,
  type EventName,
} from './schemas.js';

type EntryInput = z.infer<typeof EntryInputSchema>;
type Entry = z.infer<typeof EntrySchema> & { input: EntryInput; personId: string | null };
type Scalar = string | number | boolean | null;
export type AjourholdEvent = z.infer<typeof EventSchema>;

interface Webhook {
  url: string;
  username: string;
  password: string;
  events: EventName[];
  createdAt: string;
}

/** Every mutable thing of Byndle's ajourhold simulation; `reset()` drops it all. */
export class AjourholdState {
  readonly entries = new Map<string, Map<string, Entry>>();
  readonly events = new Map<string, AjourholdEvent[]>();
  readonly webhooks = new Map<string, Webhook>();
  constructor(private readonly ctx: SandboxContext) {}

  private nowIso(): string {
    return new Date(this.ctx.now()).toISOString();
  }

  exists(ajourholdId: string): boolean {
    return ajourholdId === this.ctx.credentials.byndle.ajourholdId;
  }

  list(ajourholdId: string): Map<string, Entry> {
    let m = this.entries.get(ajourholdId);
    if (!m) {
      m = new Map();
      this.entries.set(ajourholdId, m);
    }
    return m;
  }

  /** Entry fields from the customer's input, overlaid with the matched person's data. */
  private build(
    ajourholdId: string,
    input: EntryInput,
    match: { person: Person; level: number } | null,
    addedAt: string,
  ): Entry {
    const p = match?.person ?? null;
    const corrected = p && isMaintained(match?.level ?? null);
    const a = p?.addresses[0];
    const entry: Entry = {
      ajourholdId,
      externalId: input.externalId,
      byndleId: p?.byndleId ?? null,
      matchLevel: match?.level ?? null,
      maintained: isMaintained(match?.level ?? null),
      status: p ? statusOf(p.status) : null,
      firstName: input.firstName,
      middleName: null,
      lastName: input.lastName,
      street: input.street,
      houseNumber: input.houseNumber,
      entrance: '',
      dwellingNumber: '',
      postalCode: input.postalCode,
      city: input.city,
      birthDate: input.birthDate,
      nationalId: input.nationalId ?? null,
      mobile: input.mobile ?? null,
      landline: null,
      reservations: p ? reservationsJson(p) : null,
      buildingType: p?.buildingType ?? null,
      corrections: [],
      addedAt,
      updatedAt: this.nowIso(),
      input,
      personId: p?.id ?? null,
    };
    // Only matches good enough to be maintained (2-9) overwrite what the customer sent: a level
    // 10-12 match is a hint, not an identification.
    if (corrected && p) {
      const canonical: Partial<Record<keyof Entry, Scalar>> = {
        firstName: p.firstName,
        middleName: p.middleName,
        lastName: p.lastName,
        street: a?.street ?? input.street,
        houseNumber: a?.houseNumber ?? input.houseNumber,
        entrance: a?.entrance ?? '',
        dwellingNumber: a?.dwellingNumber ?? '',
        postalCode: a?.postalCode ?? input.postalCode,
        city: a?.city ?? input.city,
        birthDate: p.birthDate,
        mobile: mobileOf(p),
        landline: landlineOf(p),
      };
      for (const [field, value] of Object.entries(canonical) as [keyof Entry, Scalar][]) {
        const sent = (entry[field] as Scalar) ?? null;
        // "12B" sent and 12 + entrance B registered is the same house, not a correction.
        const same =
          field === 'houseNumber'
            ? String(sent).toUpperCase() === `${String(value)}${a?.entrance ?? ''}`.toUpperCase() ||
              sent === value
            : sent === value;
        if (
          !same &&
          !(
            field === 'middleName' ||
            field === 'entrance' ||
            field === 'dwellingNumber' ||
            field === 'landline'
          )
        )
          entry.corrections.push({ field, sent, corrected: value });
        (entry as Record<string, unknown>)[field] = value;
      }
    }
    return entry;
  }

  add(ajourholdId: string, input: EntryInput): Entry | 'duplicate' {
    const list = this.list(ajourholdId);
    if (list.has(input.externalId)) return 'duplicate';
    const match = findBestMatch(this.ctx.population, input);
    const entry = this.build(ajourholdId, input, match, this.nowIso());
    list.set(input.externalId, entry);
    this.emit(ajourholdId, [this.event('entry.added', entry, null, null, entry.matchLevel)]);
    return entry;
  }

  remove(ajourholdId: string, pick: (e: Entry) => boolean): Entry[] {
    const list = this.list(ajourholdId);
    const removed = [...list.values()].filter(pick);
    for (const e of removed) list.delete(e.externalId);
    if (removed.length > 0)
      this.emit(
        ajourholdId,
        removed.map((e) => this.event('entry.removed', e, null, e.matchLevel, null)),
      );
    return removed;
  }

  private event(
    eventName: EventName,
    entry: Entry,
    field: string | null,
    oldValue: Scalar,
    newValue: Scalar,
    occurredAt = this.nowIso(),
  ): AjourholdEvent {
    return {
      eventId: `evt-${randomUUID()}`,
      eventName,
      occurredAt,
      externalId: entry.externalId,
      byndleId: entry.byndleId,
      field,
      oldValue,
      newValue,
    };
  }

  /** Record events for "changes since" and post them (filtered by subscription) to the webhook. */
  private emit(ajourholdId: string, events: AjourholdEvent[]): void {
    if (events.length === 0) return;
    let log = this.events.get(ajourholdId);
    if (!log) {
      log = [];
      this.events.set(ajourholdId, log);
    }
    log.push(...events);
    const hook = this.webhooks.get(ajourholdId);
    if (!hook) return;
    const wanted = events.filter((e) => hook.events.includes(e.eventName));
    // Large nightly runs are split so no single POST grows without bound.
    for (let i = 0; i < wanted.length; i += 500) {
      const body = JSON.stringify({
        ajourholdId,
        deliveryId: randomUUID(),
        sentAt: this.nowIso(),
        events: wanted.slice(i, i + 500),
      });
      const auth = `Basic ${Buffer.from(`${hook.username}:${hook.password}`).toString('base64')}`;
      this.ctx.webhooks.send('byndle', hook.url, body, () => ({
        authorization: auth,
        'user-agent': 'Byndle-Webhooks/1.0',
      }));
    }
  }

  /** Data values an event compares, read from a person. */
  private static values(p: Person) {
    const a = p.addresses[0];
    return {
      mobile: mobileOf(p),
      landline: landlineOf(p),
      firstName: p.firstName,
      lastName: p.lastName,
      street: a?.street ?? null,
      streetNr: a ? `${a.houseNumber}${a.entrance}` : null,
      postalCode: a?.postalCode ?? null,
      dwellingNumber: a?.dwellingNumber ?? null,
      full: a ? fullAddress(a) : null,
      status: p.status,
      reservedDm: p.reservations.directMail,
      reservedPhoneSale: p.reservations.phoneSale,
      reservedHumOrg: p.reservations.humanitarian,
      buildingType: p.buildingType,
    };
  }

  onPersonChanged(change: PersonChange): void {
    if (change.fields.includes('lastName'))
      reindexLastName(this.ctx.population, change.person, change.before.lastName);
    const before = AjourholdState.values(change.before);
    const after = AjourholdState.values(change.person);
    // [event, field name in the event, key in values()]
    const plan: [EventName, string, keyof typeof before][] = [];
    for (const f of change.fields) {
      if (f === 'mobile') plan.push(['mobNr.changed', 'mobile', 'mobile']);
      if (f === 'landline') plan.push(['telNr.changed', 'landline', 'landline']);
      if (f === 'firstName') plan.push(['name.first.changed', 'firstName', 'firstName']);
      if (f === 'lastName') plan.push(['name.last.changed', 'lastName', 'lastName']);
      if (f === 'address')
        plan.push(
          ['address.streetName.changed', 'street', 'street'],
          ['address.streetNr.changed', 'houseNumber', 'streetNr'],
          ['address.postNr.changed', 'postalCode', 'postalCode'],
          ['address.dwellingNr.changed', 'dwellingNumber', 'dwellingNumber'],
          ['address.full.changed', 'fullAddress', 'full'],
        );
      if (f === 'status') plan.push(['status.changed', 'status', 'status']);
      if (f === 'reservations')
        plan.push(
          ['reservedDm.changed', 'reservedDm', 'reservedDm'],
          ['reservedPhoneSale.changed', 'reservedPhoneSale', 'reservedPhoneSale'],
          ['reservedHumOrg.changed', 'reservedHumOrg', 'reservedHumOrg'],
        );
      if (f === 'buildingType') plan.push(['buildingType.changed', 'buildingType', 'buildingType']);
    }
    const diffs = plan.filter(([, , k]) => before[k] !== after[k]);
    if (diffs.length === 0) return;
    for (const [ajourholdId, list] of this.entries) {
      const events: AjourholdEvent[] = [];
      for (const entry of list.values()) {
        if (entry.personId !== change.person.id || !isMaintained(entry.matchLevel)) continue;
        for (const [name, field, k] of diffs)
          events.push(this.event(name, entry, field, before[k], after[k], change.at));
        this.refresh(entry, change.person);
      }
      this.emit(ajourholdId, events);
    }
  }

  /** A maintained entry follows the person's registered data. */
  private refresh(entry: Entry, p: Person): void {
    const a = p.addresses[0];
    Object.assign(entry, {
      byndleId: p.byndleId,
      status: statusOf(p.status),
      firstName: p.firstName,
      middleName: p.middleName,
      lastName: p.lastName,
      street: a?.street ?? entry.street,
      houseNumber: a?.houseNumber ?? entry.houseNumber,
      entrance: a?.entrance ?? entry.entrance,
      dwellingNumber: a?.dwellingNumber ?? entry.dwellingNumber,
      postalCode: a?.postalCode ?? entry.postalCode,
      city: a?.city ?? entry.city,
      mobile: mobileOf(p),
      landline: landlineOf(p),
      reservations: reservationsJson(p),
      buildingType: p.buildingType,
      updatedAt: this.nowIso(),
    });
  }

  /** Byndle's nightly run: re-match every entry's original input against today's registers. */
  nightly(): void {
    for (const [ajourholdId, list] of this.entries) {
      const events: AjourholdEvent[] = [];
      for (const [externalId, entry] of list) {
        const match = findBestMatch(this.ctx.population, entry.input);
        const level = match?.level ?? null;
        const personId = match?.person.id ?? null;
        if (level === entry.matchLevel && personId === entry.personId) {
          if (match && isMaintained(level)) this.refresh(entry, match.person);
          continue;
        }
        const updated = this.build(ajourholdId, entry.input, match, entry.addedAt);
        updated.corrections = entry.corrections;
        list.set(externalId, updated);
        events.push(this.event('sourceMatchLevel.changed', updated, 'matchLevel', entry.matchLevel, level));
      }
      this.emit(ajourholdId, events);
    }
  }

  reset(): void {
    this.entries.clear();
    this.events.clear();
    this.webhooks.clear();
  }
}

const publicEntry = (e: Entry): z.infer<typeof EntrySchema> => {
  const { input: _input, personId: _personId, ...rest } = e;
  return rest;
};

function page<T>(items: T[], p: number, size: number) {
  return {
    page: p,
    pageSize: size,
    totalCount: items.length,
    totalPages: Math.ceil(items.length / size),
    items: items.slice((p - 1) * size, p * size),
  };
}

const AjourholdParam = z.object({
  ajourholdId: z.string().openapi({
    param: { name: 'ajourholdId', in: 'path' },
    example: 'AJ-SANDBOX-1',
    description: 'Configured for your account by Byndle',
  }),
});

export function registerAjourholdRoutes(app: OpenAPIHono<SandboxEnv>, state: AjourholdState): void {
  const base = '/v1/ajourhold/{ajourholdId}';
  const unknownAjourhold = 'No ajourhold with that id is configured for your account';

  const addRoute = createRoute({
    method: 'post',
    path: `${base}/entries`,
    tags: ['Ajourhold'],
    summary: 'Add person',
    security: bearerSecurity,
    description: [
      'Adds one entry. The person is added regardless of matching, since the record may match later (the nightly run re-matches).',
      'Matching uses the match-level table (levels 2-12, best level wins; first and last name by SOUNDEX, street by its first three letters,',
      'house number equal, postal code by 1/2/4 leading digits, birth date equal) among persons registered in Norway.',
      "The answer is the record with Byndle's corrections applied: for match levels 2-9 (maintained) names, address, birth date and",
      'phones are replaced by the registered values and listed in `corrections`; for levels 10-12 the record keeps what you sent but',
      'carries `byndleId` and `matchLevel`; without a match `byndleId`, `matchLevel` and `status` are null.',
      '`externalId` is unique per ajourhold (409 when it exists). Emits `entry.added`.',
    ].join(' '),
    request: {
      params: AjourholdParam,
      body: { content: { 'application/json': { schema: EntryInputSchema } }, required: true },
    },
    responses: {
      201: json(EntrySchema, 'The entry as stored, with corrections'),
      ...errors(400, 401, 404, 409),
    },
  });
  app.openapi(addRoute, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const r = state.add(ajourholdId, c.req.valid('json'));
    if (r === 'duplicate') return fail(c, 409, 'Conflict', 'An entry with this externalId already exists');
    return c.json(publicEntry(r), 201);
  });

  const RemovedSchema = z
    .object({ ajourholdId: z.string(), removed: z.array(EntrySchema) })
    .openapi('ByndleAjourholdRemoved');

  const removeByExternal = createRoute({
    method: 'delete',
    path: `${base}/entries/externalId/{externalId}`,
    tags: ['Ajourhold'],
    summary: 'Remove person by externalId',
    security: bearerSecurity,
    description: 'Removes the entry with your identifier. Emits `entry.removed`. 404 when absent.',
    request: {
      params: AjourholdParam.extend({
        externalId: z.string().openapi({ param: { name: 'externalId', in: 'path' }, example: 'CUST-1001' }),
      }),
    },
    responses: { 200: json(RemovedSchema, 'The removed entry'), ...errors(401, 404) },
  });
  app.openapi(removeByExternal, (c) => {
    const { ajourholdId, externalId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const removed = state.remove(ajourholdId, (e) => e.externalId === externalId);
    if (removed.length === 0) return fail(c, 404, 'NotFound', 'No entry with that externalId');
    return c.json({ ajourholdId, removed: removed.map(publicEntry) }, 200);
  });

  const removeByByndle = createRoute({
    method: 'delete',
    path: `${base}/entries/byndleId/{byndleId}`,
    tags: ['Ajourhold'],
    summary: 'Remove person by Byndle id',
    security: bearerSecurity,
    description:
      'Removes every entry matched to this Byndle person id (several of your records may match the same person). Emits `entry.removed` for each. 404 when none.',
    request: {
      params: AjourholdParam.extend({
        byndleId: z.string().openapi({ param: { name: 'byndleId', in: 'path' }, example: 'BY4662EF92' }),
      }),
    },
    responses: { 200: json(RemovedSchema, 'The removed entries'), ...errors(401, 404) },
  });
  app.openapi(removeByByndle, (c) => {
    const { ajourholdId, byndleId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const removed = state.remove(ajourholdId, (e) => e.byndleId === byndleId);
    if (removed.length === 0) return fail(c, 404, 'NotFound', 'No entry matched to that byndleId');
    return c.json({ ajourholdId, removed: removed.map(publicEntry) }, 200);
  });

  const entriesRoute = createRoute({
    method: 'get',
    path: `${base}/entries`,
    tags: ['Ajourhold'],
    summary: 'Get entries',
    security: bearerSecurity,
    description:
      'All entries in insertion order, paginated: `page` (1-based, default 1), `pageSize` (default 100, max 1000). The answer carries `totalCount` and `totalPages`; a page past the end has no items.',
    request: { params: AjourholdParam, query: z.object(PageQuery) },
    responses: {
      200: json(
        z
          .object({ ajourholdId: z.string(), ...PageMeta, items: z.array(EntrySchema) })
          .openapi('ByndleAjourholdEntryPage'),
        'One page of entries',
      ),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(entriesRoute, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const q = c.req.valid('query');
    const all = [...state.list(ajourholdId).values()].map(publicEntry);
    return c.json({ ajourholdId, ...page(all, q.page, q.pageSize) }, 200);
  });

  const ChangeItem = z
    .object({
      externalId: z.string(),
      byndleId: z.string().nullable(),
      lastChangedAt: z.string(),
      removed: z.boolean().openapi({ description: 'true when the entry has since been removed' }),
      changes: z.array(EventSchema).openapi({ description: 'What changed, oldest first' }),
      entry: EntrySchema.nullable().openapi({ description: 'The entry as it is now; null when removed' }),
    })
    .openapi('ByndleAjourholdChange');

  const changesRoute = createRoute({
    method: 'get',
    path: `${base}/changes`,
    tags: ['Ajourhold'],
    summary: 'Get changes',
    security: bearerSecurity,
    description:
      'Entries changed at or after `since` (ISO 8601 date or date-time), paginated like Get entries, ordered by their first change. Each item lists the changes (the same events the webhook carries: eventName, field, oldValue, newValue, occurredAt).',
    request: {
      params: AjourholdParam,
      query: z.object({
        since: z.string().openapi({ example: '2024-01-01T00:00:00+01:00' }),
        ...PageQuery,
      }),
    },
    responses: {
      200: json(
        z
          .object({ ajourholdId: z.string(), since: z.string(), ...PageMeta, items: z.array(ChangeItem) })
          .openapi('ByndleAjourholdChangePage'),
        'One page of changed entries',
      ),
      ...errors(400, 401, 404),
    },
  });
  app.openapi(changesRoute, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const q = c.req.valid('query');
    const since = Date.parse(q.since);
    if (Number.isNaN(since)) return fail(c, 400, 'BadRequest', 'since must be an ISO 8601 date or date-time');
    const groups = new Map<string, AjourholdEvent[]>();
    for (const e of state.events.get(ajourholdId) ?? []) {
      if (Date.parse(e.occurredAt) < since) continue;
      const g = groups.get(e.externalId);
      if (g) g.push(e);
      else groups.set(e.externalId, [e]);
    }
    const list = state.list(ajourholdId);
    const items = [...groups].map(([externalId, changes]) => {
      const entry = list.get(externalId);
      const last = changes[changes.length - 1] as AjourholdEvent;
      return {
        externalId,
        byndleId: entry?.byndleId ?? last.byndleId,
        lastChangedAt: last.occurredAt,
        removed: !entry,
        changes,
        entry: entry ? publicEntry(entry) : null,
      };
    });
    return c.json({ ajourholdId, since: q.since, ...page(items, q.page, q.pageSize) }, 200);
  });

  const webhookDescription = [
    'Webhook of the ajourhold. Byndle POSTs JSON `{ajourholdId, deliveryId, sentAt, events: [ByndleAjourholdEvent]}` with',
    '`Authorization: Basic base64(username:password)` and `Content-Type: application/json`. Any 2xx answer accepts the delivery;',
    'anything else (or no answer) is redelivered with backoff, with the same body, so `eventId` is stable across redeliveries.',
    'Events: entry.added, entry.removed, and for entries matched at levels 2-9 the data changes (mobNr, telNr, name.first, name.last,',
    'address.streetName/streetNr/postNr/dwellingNr plus address.full carrying the full address, status, reservedDm, reservedPhoneSale,',
    'reservedHumOrg, buildingType), and sourceMatchLevel.changed after the nightly re-match.',
    'Only https URLs are accepted, except http on localhost/127.0.0.1 (a sandbox allowance for local receivers).',
  ].join(' ');

  const putWebhook = createRoute({
    method: 'put',
    path: `${base}/webhook`,
    tags: ['Webhooks'],
    summary: 'Configure webhook',
    security: bearerSecurity,
    description: `${webhookDescription} \`events\` limits the events sent (all when absent). Replaces any earlier configuration.`,
    request: {
      params: AjourholdParam,
      body: { content: { 'application/json': { schema: WebhookInputSchema } }, required: true },
    },
    responses: { 200: json(WebhookSchema, 'The configured webhook'), ...errors(400, 401, 404) },
  });
  app.openapi(putWebhook, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const body = c.req.valid('json');
    const url = new URL(body.url);
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local))
      return fail(c, 400, 'BadRequest', 'Webhooks can only be sent to SSL secured (https) endpoints');
    const hook: Webhook = {
      url: body.url,
      username: body.username,
      password: body.password,
      events: body.events ?? [...EVENT_NAMES],
      createdAt: new Date().toISOString(),
    };
    state.webhooks.set(ajourholdId, hook);
    return c.json(
      { ajourholdId, url: hook.url, username: hook.username, events: hook.events, createdAt: hook.createdAt },
      200,
    );
  });

  const getWebhook = createRoute({
    method: 'get',
    path: `${base}/webhook`,
    tags: ['Webhooks'],
    summary: 'Get webhook',
    security: bearerSecurity,
    description: `The configured webhook (without the password); 404 when none. ${webhookDescription}`,
    request: { params: AjourholdParam },
    responses: { 200: json(WebhookSchema, 'The configured webhook'), ...errors(401, 404) },
  });
  app.openapi(getWebhook, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    const hook = state.webhooks.get(ajourholdId);
    if (!hook) return fail(c, 404, 'NotFound', 'No webhook configured');
    return c.json(
      { ajourholdId, url: hook.url, username: hook.username, events: hook.events, createdAt: hook.createdAt },
      200,
    );
  });

  const deleteWebhook = createRoute({
    method: 'delete',
    path: `${base}/webhook`,
    tags: ['Webhooks'],
    summary: 'Delete webhook',
    security: bearerSecurity,
    description:
      'Stops deliveries (changes are still recorded for Get changes). 404 when none is configured.',
    request: { params: AjourholdParam },
    responses: {
      200: json(
        z.object({ ajourholdId: z.string(), deleted: z.boolean() }).openapi('ByndleWebhookDeleted'),
        'Deleted',
      ),
      ...errors(401, 404),
    },
  });
  app.openapi(deleteWebhook, (c) => {
    const { ajourholdId } = c.req.valid('param');
    if (!state.exists(ajourholdId)) return fail(c, 404, 'NotFound', unknownAjourhold);
    if (!state.webhooks.delete(ajourholdId)) return fail(c, 404, 'NotFound', 'No webhook configured');
    return c.json({ ajourholdId, deleted: true }, 200);
  });
}
