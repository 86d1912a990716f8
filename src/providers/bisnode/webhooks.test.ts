import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  changedFieldsOfPointers,
  normaliseBisnodeEvents,
  parseBisnodeDelivery,
  verifyBisnodeSignature,
} from './webhooks.js';

const sign = (secret: string, ts: string, body: string) =>
  createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');

describe('verifyBisnodeSignature', () => {
  const body = '[{"type":"PING","id":"1","timestamp":"2024-01-01T00:00:00Z"}]';
  const nowMs = 1_700_000_000_000;
  const ts = String(nowMs / 1000);
  const check = (signature: string, timestamp = ts, secrets = ['a', 'b']) =>
    verifyBisnodeSignature({ rawBody: Buffer.from(body), timestamp, signature, secrets, nowMs });

  it('accepts a signature by any of the current secrets', () => {
    expect(check(sign('b', ts, body))).toEqual({ ok: true });
  });
  it('refuses another secret, a malformed signature and missing headers', () => {
    expect(check(sign('c', ts, body))).toEqual({ ok: false, reason: 'mismatch' });
    expect(check('abc')).toEqual({ ok: false, reason: 'mismatch' });
    expect(check(sign('a', ts, body), '')).toEqual({ ok: false, reason: 'missing' });
  });
  it('refuses a timestamp more than 5 minutes away, either way', () => {
    const old = String(nowMs / 1000 - 301);
    const future = String(nowMs / 1000 + 301);
    expect(check(sign('a', old, body), old)).toEqual({ ok: false, reason: 'stale' });
    expect(check(sign('a', future, body), future)).toEqual({ ok: false, reason: 'stale' });
    const edge = String(nowMs / 1000 - 300);
    expect(check(sign('a', edge, body), edge)).toEqual({ ok: true });
  });
});

describe('Bisnode events to domain events', () => {
  it('maps JSON pointers to changed fields', () => {
    expect(changedFieldsOfPointers(['/phoneNumbers'])).toEqual(['MOBILE']);
    expect(changedFieldsOfPointers(['/familyName', '/shortenedFullName'])).toEqual(['LAST_NAME']);
    expect(changedFieldsOfPointers(['/addresses', '/relocationEvents', '/gender'])).toEqual([
      'ADDRESS',
      'OTHER',
    ]);
    expect(changedFieldsOfPointers([])).toEqual(['OTHER']);
  });

  it('skips unknown event types but refuses a known type with missing fields', () => {
    const t = '2024-01-01T00:00:00Z';
    const ok = parseBisnodeDelivery([{ type: 'SOMETHING_NEW', id: '1', timestamp: t }]);
    expect(ok).toEqual({ ok: true, value: { events: [], unknownTypes: ['SOMETHING_NEW'] } });
    const bad = parseBisnodeDelivery([{ type: 'LIFE_EVENT', id: '2', timestamp: t }]);
    expect(bad.ok).toBe(false);
  });

  it('normalises re-identification, enrichment and life events', () => {
    const t = '2024-01-04T10:15:30Z';
    const parsed = parseBisnodeDelivery([
      { type: 'PING', id: 'p', timestamp: t },
      { type: 'CONSUMER_UPLOADED', id: 'u', timestamp: t, consumerId: 'c1', market: 'SE' },
      {
        type: 'PERSON_REIDENTIFIED',
        id: 'r',
        timestamp: t,
        consumerIds: ['c1'],
        market: 'SE',
        previous: { gedi: 'g-old', source: 'SPAR' },
        replacedBy: { gedi: 'g-new', source: 'SPAR' },
      },
      {
        type: 'ENRICHMENT_CHANGED',
        id: 'e',
        timestamp: t,
        consumerIds: ['c1'],
        gedi: 'g-new',
        variable: 'incomeClass',
      },
      {
        type: 'LIFE_EVENT',
        id: 'l',
        timestamp: t,
        phase: 'PREDICT',
        market: 'SE',
        gedi: 'g-new',
        consumerIds: ['c1'],
        trigger: 'HOUSEHOLD_MOVE',
        probability: 75,
        withinEstimatedDays: 120,
      },
    ]);
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    const events = normaliseBisnodeEvents(parsed.value.events);
    expect(events.map((e) => [e.sourceId, e.kind, e.changedFields])).toEqual([
      ['r', 'PERSON_CHANGED', ['IDENTITY']],
      ['e', 'PERSON_CHANGED', ['ENRICHMENT']],
      ['l', 'LIFE_EVENT', undefined],
    ]);
    expect(events[0]!.person).toEqual({ gedi: 'g-new', market: 'SE' });
    expect(events[0]!.details).toMatchObject({ previousGedi: 'g-old' });
    expect(events[2]!.details).toEqual({
      trigger: 'HOUSEHOLD_MOVE',
      phase: 'PREDICT',
      probability: 75,
      withinEstimatedDays: 120,
    });
  });
});
