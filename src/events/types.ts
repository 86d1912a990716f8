/**
 * Domain events: what providers' webhooks and polled changes become, what the event log
 * stores, and what subscriptions deliver. Provider-neutral: nothing here knows Byndle's or
 * Bisnode's wire format (their webhooks.ts files translate).
 */

export type EventProvider = 'byndle' | 'bisnode' | 'symetrisk';

export type DomainEventKind =
  | 'PERSON_CHANGED'
  | 'CONSUMER_IDENTIFIED'
  | 'CONSUMER_NOT_IDENTIFIED'
  | 'LIFE_EVENT'
  | 'PERSON_SUBSCRIBED'
  | 'PERSON_UNSUBSCRIBED'
  | 'AJOURHOLD_ENTRY_ADDED'
  | 'AJOURHOLD_ENTRY_REMOVED'
  | 'BORROWER_ACCESS_CHANGED';

/** Which part of a person changed, normalised over Byndle's field events and Bisnode's pointers. */
export type ChangedPersonField =
  | 'FIRST_NAME'
  | 'LAST_NAME'
  | 'MOBILE'
  | 'LANDLINE'
  | 'ADDRESS'
  | 'STATUS'
  | 'MARKETING_RESTRICTIONS'
  | 'BUILDING_TYPE'
  | 'MATCH_LEVEL'
  | 'ENRICHMENT'
  | 'IDENTITY'
  | 'OTHER';

/** What a provider event becomes before it is stored; `sourceId` is the provider's own event id (dedupe key). */
export interface DomainEventInput {
  provider: EventProvider;
  /** The provider's event id, stable across redeliveries. Dedupe is by (provider, sourceId). */
  sourceId: string;
  kind: DomainEventKind;
  /** ISO-8601: when the provider says it happened. */
  occurredAt: string;
  /** Person references, when the event is about a person. Never logged in clear. */
  person?: {
    byndleId?: string | null;
    gedi?: string | null;
    nationalId?: string | null;
    market?: 'NO' | 'SE' | 'DK' | 'FI' | null;
  };
  consumerIds?: string[];
  /** Ajourhold external id, for ajourhold events and Byndle person changes. */
  externalId?: string | null;
  organizationNumber?: string | null;
  market?: 'NO' | 'SE' | 'DK' | 'FI' | null;
  changedFields?: ChangedPersonField[];
  /** The provider's own event names behind this event, e.g. ["mobNr.changed"] or ["PERSON_CHANGED"]. */
  sourceTypes?: string[];
  /** Small kind-specific details (life-event trigger and probability, relationship state, ...). */
  details?: Record<string, string | number | boolean | null>;
}

/** A stored event: the log assigns a cursor, totally ordered within one log. */
export interface StoredEvent extends DomainEventInput {
  /** Opaque, ordered position in the log; a subscriber passes the last one it saw to resume. */
  cursor: string;
  /** ISO-8601: when nordgraph stored it. */
  receivedAt: string;
}

export interface AppendResult {
  /** Events newly stored (in input order), each with its cursor. */
  stored: StoredEvent[];
  /** How many inputs were already in the log (redeliveries): acknowledged, not stored or published again. */
  duplicates: number;
}

/** Receives tailed events by method (see EventLog.follow). */
export interface EventSubscriber {
  onEvent(event: StoredEvent): void;
}

/**
 * The event log: persist before acknowledging; dedupe by (provider, sourceId) over at least the
 * providers' retry window (72 h); read from a cursor in order; and tail live events. One
 * implementation in memory (single instance, lost on restart), one on Redis (a stream shared by
 * every instance: an event appended on A is tailed by B exactly once).
 */
export interface EventLog {
  /** Throws when the log cannot be written: the webhook intake then answers 503. */
  append(events: DomainEventInput[]): Promise<AppendResult>;
  /** Events strictly after `cursor` (from the start when null), oldest first, at most `limit`. */
  readAfter(cursor: string | null, limit: number): Promise<StoredEvent[]>;
  /** The newest cursor, or null when empty. */
  head(): Promise<string | null>;
  /** Live events from any instance, in log order; returns an unsubscribe function. */
  tail(listener: (event: StoredEvent) => void): () => void;
  /**
   * The same for a long-lived subscriber object (an event stream), kept as it is: no wrapper and
   * no unsubscribe closure per subscriber (issue 7, S5). `unfollow` stops it; twice is harmless.
   */
  follow(subscriber: EventSubscriber): void;
  unfollow(subscriber: EventSubscriber): void;
  /** Whether the log can be written now (for /readyz). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
