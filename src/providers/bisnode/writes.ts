import type {
  BisnodeEventType,
  BisnodeWebhook,
  ConsumerDeleteResult,
  ConsumerInput,
  ConsumerUploadResult,
  ConsumerWriteError,
  DeleteConsumersPayload,
  UploadConsumersPayload,
} from '../../generated/resolvers-types.js';
import {
  EXPECTED,
  validateConsumerId,
  validateNationalId,
  validatePhoneE164,
} from '../../security/identifiers.js';
import type { WebhookSecrets } from '../../webhook-secrets.js';
import { UpstreamError } from '../errors.js';
import type { BisnodeClient } from './client.js';
import { toWebhook } from './mapping.js';
import {
  MAX_CONSUMER_IDS_PER_DELETE,
  MAX_CONSUMERS_PER_UPLOAD,
  constraintViolationSchema,
  type ConsumerData,
  type ConsumerUploadItem,
} from './schemas.js';

/**
 * Bisnode writes: consumer uploads and deletions split into upstream-sized calls with an outcome
 * per item, and webhook registration with its secret kept out of every answer.
 *
 * Nothing here retries a failed write: POST /consumers restarts identification and DELETE
 * /consumers unsubscribes persons, so a blind repeat is not harmless. The one exception is the
 * remainder of a call Bisnode refused with a Constraint Violation naming items: a 400 means the
 * request failed validation and nothing of it was stored, so sending the valid remainder is its
 * first write, not a repeat. It is done once.
 *
 * No cache eviction is needed: the consumer list and the webhooks are read per request, never
 * cached, and the cached person answers (GET /persons/{gedi}, _find) do not depend on consumers.
 */

/** Upper bounds per mutation, so one request makes at most 10 upstream calls in a row. */
export const MAX_CONSUMERS_PER_MUTATION = 1000;
export const MAX_CONSUMER_IDS_PER_MUTATION = 2500;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** One invalid input field: `argument` like `consumers[3].nationalId`; never the value. */
export interface InputIssue {
  argument: string;
  index: number | null;
  expected: string;
}

const TEXT_FIELDS = [
  'firstName',
  'familyName',
  'streetName',
  'streetNumber',
  'postalCode',
  'city',
  'entrance',
  'floor',
  'apartment',
  'fullAddress',
] as const;
const MAX_TEXT = 250;
// Control characters never belong in a name or address; they usually mean a broken export.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function isoDateParts(s: string): { y: number; m: number; d: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return { y, m: mo, d };
}

/**
 * Validates and normalises every consumer of an upload. Either all items, ready to send, or
 * every issue found (an upload is all or nothing at this stage: nothing goes upstream while any
 * item is invalid).
 */
export function prepareConsumerUpload(
  consumers: readonly ConsumerInput[],
  now: Date = new Date(),
): { ok: true; items: ConsumerUploadItem[] } | { ok: false; issues: InputIssue[] } {
  if (consumers.length < 1 || consumers.length > MAX_CONSUMERS_PER_MUTATION) {
    return {
      ok: false,
      issues: [
        { argument: 'consumers', index: null, expected: `1 to ${MAX_CONSUMERS_PER_MUTATION} consumers` },
      ],
    };
  }
  const issues: InputIssue[] = [];
  const items: ConsumerUploadItem[] = [];
  const firstIndexOf = new Map<string, number>();
  const today = now.toISOString().slice(0, 10);
  const thisYear = now.getUTCFullYear();

  consumers.forEach((c, i) => {
    const issue = (field: string, expected: string) =>
      issues.push({ argument: field ? `consumers[${i}].${field}` : `consumers[${i}]`, index: i, expected });
    const data: ConsumerData = {};

    const id = validateConsumerId(c.consumerId);
    if (!id.ok) issue('consumerId', id.expected);
    else {
      const first = firstIndexOf.get(c.consumerId);
      if (first !== undefined)
        issue('consumerId', `a consumerId no other item uses (consumers[${first}] has it)`);
      else firstIndexOf.set(c.consumerId, i);
    }

    let birthFromId: string | null = null;
    if (c.nationalId != null) {
      const r = validateNationalId(c.market, c.nationalId, now);
      if (!r.ok) issue('nationalId', r.expected);
      else {
        data.legalId = r.value;
        birthFromId = r.birthDate;
      }
    }

    for (const f of TEXT_FIELDS) {
      const v = c[f];
      if (v == null) continue;
      const t = v.trim();
      if (t.length < 1 || t.length > MAX_TEXT || CONTROL_CHARS.test(t))
        issue(f, `1 to ${MAX_TEXT} characters, not blank, without control characters`);
      else data[f] = t;
    }

    if (c.dateOfBirth != null) {
      const p = isoDateParts(c.dateOfBirth);
      if (!p || p.y < 1800 || c.dateOfBirth > today)
        issue('dateOfBirth', 'a date as YYYY-MM-DD, from 1800 and not in the future');
      else if (birthFromId && birthFromId !== c.dateOfBirth)
        issue('dateOfBirth', 'the birth date the nationalId holds (or leave dateOfBirth out)');
      else data.dateOfBirth = c.dateOfBirth;
    }

    if (c.yearOfBirth != null) {
      if (!Number.isInteger(c.yearOfBirth) || c.yearOfBirth < 1800 || c.yearOfBirth > thisYear)
        issue('yearOfBirth', `a year from 1800 to ${thisYear}`);
      else if (data.dateOfBirth && Number(data.dateOfBirth.slice(0, 4)) !== c.yearOfBirth)
        issue('yearOfBirth', 'the year of dateOfBirth (or leave one of them out)');
      else data.yearOfBirth = c.yearOfBirth;
    }

    if (c.phoneNumber != null) {
      const r = validatePhoneE164(c.phoneNumber);
      if (!r.ok) issue('phoneNumber', r.expected);
      else data.phoneNumber = r.value;
    }

    if (c.gender != null) data.gender = c.gender;

    const anyData =
      c.nationalId != null ||
      TEXT_FIELDS.some((f) => c[f] != null) ||
      c.dateOfBirth != null ||
      c.yearOfBirth != null ||
      c.phoneNumber != null ||
      c.gender != null;
    if (!anyData)
      issue(
        '',
        'identifying data besides consumerId and market: a nationalId, phone number, name, birth date or address',
      );

    items.push({ consumerId: c.consumerId, market: c.market, data });
  });

  return issues.length > 0 ? { ok: false, issues } : { ok: true, items };
}

/** Validates the ids of a deletion; repeated ids are sent once and reported once. */
export function prepareConsumerDelete(
  consumerIds: readonly string[],
): { ok: true; ids: { consumerId: string; index: number }[] } | { ok: false; issues: InputIssue[] } {
  if (consumerIds.length < 1 || consumerIds.length > MAX_CONSUMER_IDS_PER_MUTATION) {
    return {
      ok: false,
      issues: [
        {
          argument: 'consumerIds',
          index: null,
          expected: `1 to ${MAX_CONSUMER_IDS_PER_MUTATION} consumer ids`,
        },
      ],
    };
  }
  const issues: InputIssue[] = [];
  const ids: { consumerId: string; index: number }[] = [];
  const seen = new Set<string>();
  consumerIds.forEach((id, i) => {
    if (!validateConsumerId(id).ok)
      issues.push({ argument: `consumerIds[${i}]`, index: i, expected: EXPECTED.consumerId });
    else if (!seen.has(id)) {
      seen.add(id);
      ids.push({ consumerId: id, index: i });
    }
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, ids };
}

// ---------------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------------

interface Outcome {
  accepted: boolean | null;
  error: ConsumerWriteError | null;
}

/** A violation mapped back to an item of the call: its position in the call and our field name. */
interface MappedViolation {
  position: number;
  field: string | null;
  message: string;
}

/**
 * Bisnode's violation messages describe constraints; digit runs are cut out all the same, in
 * case a message ever quotes the value (a national id or phone number).
 */
function safeMessage(message: string | undefined): string {
  return (message ?? 'invalid').replace(/\+?\d[\d\s-]{4,}\d/g, '…').slice(0, 200);
}

/**
 * The violations of a 400, each mapped to an item of the call; null when the body has none or
 * any violation names no item of this call (then the call is treated as refused as a whole).
 */
function mapViolations(
  err: UpstreamError,
  size: number,
  parse: (field: string) => { position: number; field: string | null } | null,
): MappedViolation[] | null {
  if (err.status !== 400) return null;
  const body = constraintViolationSchema.safeParse(err.detail);
  if (!body.success || body.data.violations.length === 0) return null;
  const out: MappedViolation[] = [];
  for (const v of body.data.violations) {
    const p = parse(v.field);
    if (!p || p.position < 0 || p.position >= size) return null;
    out.push({ ...p, message: safeMessage(v.message) });
  }
  return out;
}

/** Statuses after which the next call would fail the same way: stop sending. */
function stopsTheRun(err: UpstreamError): boolean {
  return (
    err.status === null || err.status === 401 || err.status === 403 || err.status === 429 || err.status >= 500
  );
}

function failureOutcome(err: UpstreamError): Outcome {
  // A 2xx that failed only on its body (malformed JSON on a 202) was stored all the same.
  if (err.status !== null && err.status >= 200 && err.status < 300) return { accepted: true, error: null };
  const unknown = err.status === null || err.status >= 500;
  return {
    accepted: unknown ? null : false,
    error: {
      code: unknown ? 'UNCONFIRMED' : 'BATCH_REJECTED',
      message: unknown
        ? `The Bisnode call carrying this item failed (${err.code}); it may or may not have been stored.`
        : `Bisnode refused the call carrying this item (${err.code}); it was not stored.`,
      field: null,
      upstreamCode: err.code,
      status: err.status,
    },
  };
}

interface BatchRun {
  outcomes: Outcome[];
  calls: number;
  /** The failure that stopped the run or refused a call as a whole, for the all-failed case. */
  firstFailure: UpstreamError | null;
  /** True when some item was named in a violation (then a per-item answer is due in any case). */
  itemLevel: boolean;
}

/**
 * Sends `items` in calls of `size`, one after another, with an outcome per item. A call refused
 * with violations naming items: those are REJECTED and the rest of the call is sent once more. A
 * call refused as a whole (4xx): its items are BATCH_REJECTED and the next calls still go. A
 * failure that the next call would repeat (no answer, 5xx, 401, 403, 429): its items are
 * UNCONFIRMED or BATCH_REJECTED and the calls not yet made are NOT_SENT.
 */
async function writeInBatches<T>(
  items: readonly T[],
  size: number,
  send: (batch: T[]) => Promise<void>,
  parseField: (field: string) => { position: number; field: string | null } | null,
  fieldName: (itemIndex: number, field: string | null) => string | null,
): Promise<BatchRun> {
  const outcomes: Outcome[] = new Array<Outcome>(items.length);
  let calls = 0;
  let firstFailure: UpstreamError | null = null;
  let itemLevel = false;
  let stopped: UpstreamError | null = null;

  const attempt = async (indexes: number[], resubmission: boolean): Promise<void> => {
    if (stopped) {
      for (const i of indexes)
        outcomes[i] = {
          accepted: false,
          error: {
            code: 'NOT_SENT',
            message: `Not sent: an earlier Bisnode call of this mutation failed (${stopped.code}).`,
            field: null,
            upstreamCode: stopped.code,
            status: stopped.status,
          },
        };
      return;
    }
    calls += 1;
    try {
      await send(indexes.map((i) => items[i] as T));
      for (const i of indexes) outcomes[i] = { accepted: true, error: null };
      return;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      const violations = mapViolations(err, indexes.length, parseField);
      if (violations) {
        itemLevel = true;
        const named = new Map<number, MappedViolation>();
        for (const v of violations) if (!named.has(v.position)) named.set(v.position, v);
        const rest: number[] = [];
        indexes.forEach((itemIndex, position) => {
          const v = named.get(position);
          if (!v) return rest.push(itemIndex);
          const field = fieldName(itemIndex, v.field);
          outcomes[itemIndex] = {
            accepted: false,
            error: {
              code: 'REJECTED',
              message: `Bisnode rejected ${field ?? 'this item'}: ${v.message}`,
              field,
              upstreamCode: err.code,
              status: err.status,
            },
          };
        });
        if (rest.length === 0) return;
        if (!resubmission) return attempt(rest, true);
        // A second refusal of the remainder: not sent a third time.
        for (const i of rest) outcomes[i] = failureOutcome(err);
        return;
      }
      firstFailure ??= err;
      for (const i of indexes) outcomes[i] = failureOutcome(err);
      if (stopsTheRun(err)) stopped = err;
    }
  };

  for (let start = 0; start < items.length; start += size) {
    const indexes = Array.from({ length: Math.min(size, items.length - start) }, (_, k) => start + k);
    await attempt(indexes, false);
  }
  return { outcomes, calls, firstFailure, itemLevel };
}

function counts(outcomes: readonly Outcome[]) {
  const acceptedCount = outcomes.filter((o) => o.accepted === true).length;
  const unconfirmedCount = outcomes.filter((o) => o.accepted === null).length;
  return {
    acceptedCount,
    unconfirmedCount,
    rejectedCount: outcomes.length - acceptedCount - unconfirmedCount,
    complete: acceptedCount === outcomes.length,
  };
}

/**
 * When nothing was accepted and no item was singled out, the upload failed as a whole: that is
 * an error on the mutation field (with provider and status), not a list of identical results.
 */
function throwIfWholeCallFailed(run: BatchRun): void {
  if (run.firstFailure && !run.itemLevel && run.outcomes.every((o) => o.accepted !== true))
    throw run.firstFailure;
}

/** Upstream field names of ConsumerDataDto → ConsumerInput. */
function inputField(upstream: string | null): string | null {
  if (upstream === null) return null;
  if (upstream === 'data.legalId') return 'nationalId';
  return upstream.startsWith('data.') ? upstream.slice('data.'.length) : upstream;
}

/** `[3].data.legalId` → item 3, field `data.legalId`; `[3]` → item 3. */
function parseUploadField(field: string): { position: number; field: string | null } | null {
  const m = /^\[(\d+)\](?:\.(.+))?$/.exec(field);
  return m ? { position: Number(m[1]), field: m[2] ?? null } : null;
}

/** `consumerIds[3]` → item 3. */
function parseDeleteField(field: string): { position: number; field: string | null } | null {
  const m = /^consumerIds\[(\d+)\]$/.exec(field);
  return m ? { position: Number(m[1]), field: null } : null;
}

/** Uploads prepared consumers in calls of at most 100, with a result per consumer in input order. */
export async function uploadConsumers(
  client: BisnodeClient,
  items: ConsumerUploadItem[],
): Promise<UploadConsumersPayload> {
  const run = await writeInBatches(
    items,
    MAX_CONSUMERS_PER_UPLOAD,
    (batch) => client.uploadConsumers(batch),
    parseUploadField,
    (i, field) => {
      const f = inputField(field);
      return f ? `consumers[${i}].${f}` : `consumers[${i}]`;
    },
  );
  throwIfWholeCallFailed(run);
  const results: ConsumerUploadResult[] = items.map((item, i) => {
    const o = run.outcomes[i] as Outcome;
    return {
      index: i,
      consumerId: item.consumerId,
      accepted: o.accepted,
      state: o.accepted === true ? 'UPLOADED' : null,
      error: o.error,
    };
  });
  return { results, upstreamCalls: run.calls, ...counts(run.outcomes) };
}

/** Deletes validated ids in calls of at most 250, with a result per distinct id. */
export async function deleteConsumers(
  client: BisnodeClient,
  ids: { consumerId: string; index: number }[],
): Promise<DeleteConsumersPayload> {
  const run = await writeInBatches(
    ids,
    MAX_CONSUMER_IDS_PER_DELETE,
    (batch) => client.deleteConsumers(batch.map((b) => b.consumerId)),
    parseDeleteField,
    (i) => `consumerIds[${(ids[i] as { index: number }).index}]`,
  );
  throwIfWholeCallFailed(run);
  const results: ConsumerDeleteResult[] = ids.map((id, i) => {
    const o = run.outcomes[i] as Outcome;
    return { index: id.index, consumerId: id.consumerId, accepted: o.accepted, error: o.error };
  });
  return { results, upstreamCalls: run.calls, ...counts(run.outcomes) };
}

// ---------------------------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------------------------

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The webhook url rule: https, or http to this machine (development); no credentials in it. */
export function checkWebhookUrl(url: string): string | null {
  const expected =
    'an https URL (http only for localhost or 127.0.0.1) of at most 2000 characters, without credentials';
  if (url.length > 2000) return expected;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return expected;
  }
  if (u.username || u.password) return expected;
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && LOCAL_HOSTS.has(u.hostname)) return null;
  return expected;
}

/** ALL is Bisnode's `*`; repeats are sent once. */
export function upstreamEvents(events: readonly BisnodeEventType[]): string[] {
  return [...new Set(events.map((e) => (e === 'ALL' ? '*' : e)))];
}

/**
 * POST /webhooks, then the secret into the store. A webhook whose secret could not be stored
 * could never be verified, so it is deleted again (a compensating write, not a retry) and the
 * mutation fails. The answer is the webhook without its secret.
 */
export async function createWebhook(
  client: BisnodeClient,
  secrets: WebhookSecrets,
  body: { url: string; events: string[]; description?: string },
): Promise<BisnodeWebhook> {
  const created = await client.createWebhook(body);
  try {
    await secrets.put('bisnode', created.id, created.secret);
  } catch (err) {
    await client.deleteWebhook(created.id).catch(() => undefined);
    throw new Error('The webhook secret could not be stored; the webhook was deleted again at Bisnode.', {
      cause: err,
    });
  }
  return toWebhook(created);
}

/** DELETE /webhooks/{id}, then its stored secret (also when Bisnode no longer knows the id). */
export async function deleteWebhook(
  client: BisnodeClient,
  secrets: WebhookSecrets,
  id: string,
): Promise<BisnodeWebhook | null> {
  const deleted = await client.deleteWebhook(id);
  await secrets.delete('bisnode', id);
  return deleted ? toWebhook(deleted) : null;
}
