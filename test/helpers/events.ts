import type { DomainEventInput } from '../../src/events/types.js';

const run = `${process.pid}-${Date.now()}`;
let seq = 0;

/**
 * A Byndle PERSON_CHANGED event (a mobile number changed) about nobody in particular, with a
 * source id of its own so the log never takes it for a redelivery; `over` replaces fields.
 */
export function personChanged(over: Partial<DomainEventInput> = {}): DomainEventInput {
  return {
    provider: 'byndle',
    sourceId: `evt-${run}-${++seq}`,
    kind: 'PERSON_CHANGED',
    occurredAt: new Date().toISOString(),
    person: { byndleId: 'nobody', market: 'NO' },
    market: 'NO',
    changedFields: ['MOBILE'],
    sourceTypes: ['mobNr.changed'],
    ...over,
  };
}
