import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { DomainEventInput, EventLog, EventProvider, StoredEvent } from './types.js';
import {
  byndleWebhookDeliverySchema,
  normaliseByndleDelivery,
  verifyByndleAuthorization,
  type BasicCredentials,
} from '../providers/byndle/webhooks.js';
import {
  issuesOf,
  normaliseBisnodeEvents,
  parseBisnodeDelivery,
  verifyBisnodeSignature,
} from '../providers/bisnode/webhooks.js';

/** What became of one webhook request; counted per provider for metrics. */
export type IntakeOutcome =
  | 'stored' // at least one new event appended
  | 'duplicate' // every event was already in the log (a redelivery)
  | 'empty' // authenticated and valid, but nothing to store (PING, CONSUMER_UPLOADED, ...)
  | 'unauthorized'
  | 'invalid'
  | 'too_large'
  | 'unavailable' // the log could not be written: 503, the provider redelivers
  | 'not_found'
  | 'method_not_allowed'
  | 'error';

export type IntakeProvider = Extract<EventProvider, 'byndle' | 'bisnode'>;

export interface IntakeCounters {
  /** Requests by provider and outcome. */
  requests: Record<IntakeProvider | 'unknown', Partial<Record<IntakeOutcome, number>>>;
  /** Domain events by provider: newly stored, and recognised as redeliveries. */
  events: Record<IntakeProvider, { stored: number; duplicates: number }>;
}

export interface WebhookIntakeOptions {
  log: EventLog;
  /** What nordgraph registered at Byndle; null refuses every Byndle delivery. */
  byndle: BasicCredentials | null;
  /** Every currently valid Bisnode webhook secret (several during rotation); asked per delivery. */
  bisnodeSecrets: () => Promise<string[]>;
  /** Called for each newly stored PERSON_CHANGED, before the answer (cache eviction). Failures are logged, not fatal. */
  onPersonChanged?: (event: StoredEvent) => Promise<void>;
  logger: Logger;
  /** Largest accepted body, bytes. */
  maxBodyBytes?: number;
  /** Clock for the signature tolerance (tests). */
  now?: () => number;
}

export interface WebhookIntake {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  counters(): IntakeCounters;
}

class BodyTooLarge extends Error {}

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      // Drain so the connection can be answered cleanly.
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

type Handled =
  | { status: number; outcome: IntakeOutcome; body: unknown; fields?: Record<string, unknown> }
  | { events: DomainEventInput[]; fields?: Record<string, unknown> };

/**
 * The webhook intake: `POST /webhooks/byndle` and `POST /webhooks/bisnode`. Per request: read the
 * raw body (capped, 413), authenticate (401, nothing stored), validate (400), normalise, append
 * to the event log, and only then answer 200; a log that cannot be written answers 503 so the
 * provider redelivers, and a redelivery is answered 200 without being published again (the log
 * dedupes by provider event id). Log lines carry outcomes, counts and event ids, never personal
 * data or the body.
 */
export function createWebhookIntake(options: WebhookIntakeOptions): WebhookIntake {
  const { log: eventLog, logger, onPersonChanged } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const now = options.now ?? Date.now;
  const log = logger.child({ component: 'webhook-intake' });

  const requests: IntakeCounters['requests'] = { byndle: {}, bisnode: {}, unknown: {} };
  const eventCounts: IntakeCounters['events'] = {
    byndle: { stored: 0, duplicates: 0 },
    bisnode: { stored: 0, duplicates: 0 },
  };
  const count = (provider: IntakeProvider | 'unknown', outcome: IntakeOutcome) => {
    requests[provider][outcome] = (requests[provider][outcome] ?? 0) + 1;
  };

  const parseJson = (raw: Buffer): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(raw.toString('utf8')) as unknown };
    } catch {
      return { ok: false };
    }
  };

  async function byndle(req: IncomingMessage, raw: Buffer): Promise<Handled> {
    if (!verifyByndleAuthorization(header(req, 'authorization'), options.byndle))
      return { status: 401, outcome: 'unauthorized', body: { error: 'Invalid credentials' } };
    const json = parseJson(raw);
    if (!json.ok) return { status: 400, outcome: 'invalid', body: { error: 'The body is not valid JSON' } };
    const parsed = byndleWebhookDeliverySchema.safeParse(json.value);
    if (!parsed.success)
      return {
        status: 400,
        outcome: 'invalid',
        body: { error: 'The body is not an ajourhold webhook delivery', issues: issuesOf(parsed.error) },
      };
    return {
      events: normaliseByndleDelivery(parsed.data),
      fields: { deliveryId: parsed.data.deliveryId.slice(0, 100), received: parsed.data.events.length },
    };
  }

  async function bisnode(req: IncomingMessage, raw: Buffer): Promise<Handled> {
    const secrets = await options.bisnodeSecrets();
    const verdict = verifyBisnodeSignature({
      rawBody: raw,
      timestamp: header(req, 'ci-signature-timestamp'),
      signature: header(req, 'ci-signature-sha256'),
      secrets,
      nowMs: now(),
    });
    if (!verdict.ok)
      return {
        status: 401,
        outcome: 'unauthorized',
        body: {
          error: verdict.reason === 'stale' ? 'Signature timestamp out of tolerance' : 'Invalid signature',
        },
        fields: { reason: verdict.reason, secrets: secrets.length },
      };
    const json = parseJson(raw);
    if (!json.ok) return { status: 400, outcome: 'invalid', body: { error: 'The body is not valid JSON' } };
    const parsed = parseBisnodeDelivery(json.value);
    if (!parsed.ok)
      return {
        status: 400,
        outcome: 'invalid',
        body: { error: 'The body is not an array of webhook events', issues: parsed.issues.slice(0, 20) },
      };
    const { events, unknownTypes } = parsed.value;
    return {
      events: normaliseBisnodeEvents(events),
      fields: {
        received: events.length,
        types: [...new Set(events.map((e) => e.type))],
        ...(unknownTypes.length ? { unknownTypes: [...new Set(unknownTypes)] } : {}),
      },
    };
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = now();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const name = path.slice('/webhooks/'.length);
    const provider: IntakeProvider | null = name === 'byndle' || name === 'bisnode' ? name : null;
    const finish = (
      p: IntakeProvider | 'unknown',
      status: number,
      outcome: IntakeOutcome,
      body: unknown,
      fields: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ) => {
      count(p, outcome);
      const level = outcome === 'error' ? 'error' : status >= 500 || status === 401 ? 'warn' : 'info';
      log[level]({ provider: p, outcome, status, ms: now() - started, ...fields }, 'webhook');
      if (!res.headersSent) send(res, status, body, headers);
    };

    if (!provider) {
      // The path is not echoed back into the log: it is caller-controlled.
      req.resume();
      return finish('unknown', 404, 'not_found', { error: 'No webhook receiver at this path' });
    }
    if (req.method !== 'POST') {
      req.resume();
      return finish(provider, 405, 'method_not_allowed', { error: 'Use POST' }, {}, { allow: 'POST' });
    }
    let raw: Buffer;
    try {
      raw = await readRaw(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge)
        return finish(
          provider,
          413,
          'too_large',
          { error: `Body larger than ${maxBodyBytes} bytes` },
          {},
          {
            connection: 'close',
          },
        );
      throw err;
    }

    try {
      const handled = provider === 'byndle' ? await byndle(req, raw) : await bisnode(req, raw);
      if ('status' in handled)
        return finish(provider, handled.status, handled.outcome, handled.body, handled.fields);
      const events = handled.events;
      if (events.length === 0)
        return finish(provider, 200, 'empty', { received: true, stored: 0, duplicates: 0 }, handled.fields);

      let result;
      try {
        result = await eventLog.append(events);
      } catch (err) {
        return finish(
          provider,
          503,
          'unavailable',
          { error: 'Events could not be persisted; deliver again later' },
          { ...handled.fields, err: err instanceof Error ? err.message : String(err) },
          { 'retry-after': '5' },
        );
      }
      eventCounts[provider].stored += result.stored.length;
      eventCounts[provider].duplicates += result.duplicates;

      if (onPersonChanged) {
        for (const e of result.stored) {
          if (e.kind !== 'PERSON_CHANGED') continue;
          try {
            await onPersonChanged(e);
          } catch (err) {
            // The event is persisted: answering non-200 now would only bring a duplicate back.
            log.warn(
              { provider, cursor: e.cursor, err: err instanceof Error ? err.message : String(err) },
              'person-change hook failed',
            );
          }
        }
      }
      const outcome: IntakeOutcome = result.stored.length > 0 ? 'stored' : 'duplicate';
      return finish(
        provider,
        200,
        outcome,
        { received: true, stored: result.stored.length, duplicates: result.duplicates },
        {
          ...handled.fields,
          stored: result.stored.length,
          duplicates: result.duplicates,
          kinds: [...new Set(events.map((e) => e.kind))],
        },
      );
    } catch (err) {
      return finish(
        provider,
        500,
        'error',
        { error: 'Internal error' },
        {
          err: err instanceof Error ? err.message : String(err),
        },
      );
    }
  };

  return Object.assign(handler, {
    counters: (): IntakeCounters => structuredClone({ requests, events: eventCounts }),
  });
}
