import type { Resolvers } from '../src/generated/resolvers-types.js';
import { decodeCursor, pageSize, tokenConnection } from '../src/connection.js';
import { InputError } from '../src/errors.js';
import { UpstreamError } from '../src/providers/errors.js';
import {
  checkWebhookUrl,
  createWebhook,
  deleteConsumers,
  deleteWebhook,
  prepareConsumerDelete,
  prepareConsumerUpload,
  uploadConsumers,
  upstreamEvents,
  type InputIssue,
} from '../src/providers/bisnode/index.js';

/** Bisnode pages of consumers, subscribed persons and audit events: 1 to 1000 per page, 100 by default. */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/**
 * The upstream token inside an `after` cursor: undefined when there is no cursor (first page),
 * null when the cursor marks the end of a list whose upstream token ran out (consumers).
 */
function upstreamToken(after: string | null | undefined): string | null | undefined {
  const pos = decodeCursor(after);
  if (pos === null) return undefined;
  if (pos.kind !== 'token') throw new InputError('after', 'a cursor returned by this field');
  return pos.token;
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/** At most this many issues travel in `extensions.invalid`; the first is also the error's own argument. */
const MAX_LISTED_ISSUES = 100;

/** Every invalid item at once: the first names the error, all are listed in `extensions.invalid`. */
function invalidInput(issues: InputIssue[]): InputError {
  const [first] = issues as [InputIssue, ...InputIssue[]];
  return new InputError(first.argument, first.expected, {
    ...(first.index !== null ? { index: first.index } : {}),
    invalid: issues.slice(0, MAX_LISTED_ISSUES),
    invalidCount: issues.length,
  });
}

const WEBHOOK_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Bisnode consumers, subscribed persons, audit events and webhooks (schema/consumer.graphql). */
export const consumerResolvers: Resolvers = {
  Query: {
    consumers: async (_root, { state, first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const token = upstreamToken(after);
      // The cursor after the last consumer carries no upstream token: the list has ended.
      if (token === null) return tokenConnection([], '', null, false);
      const page = await ctx.loaders.bisnode.consumers({
        pageToken: token ?? null,
        pageSize: size,
        state: state ?? null,
      });
      return tokenConnection(page.items, token ?? null, page.nextToken, page.hasNext);
    },

    subscribedPersons: async (_root, { fromDate, first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      // Bisnode takes either a start date or a page token, never both.
      if (fromDate != null && after != null)
        throw new InputError('fromDate', 'no fromDate together with `after`');
      if (fromDate != null && !isIsoDate(fromDate)) throw new InputError('fromDate', 'a date as YYYY-MM-DD');
      const token = upstreamToken(after) ?? null;
      const page = await ctx.loaders.bisnode.subscribedPersons({
        pageToken: token,
        fromDate: fromDate ?? null,
        pageSize: size,
      });
      return tokenConnection(page.items, token, page.nextToken, page.hasNext);
    },

    auditEvents: async (_root, { first, after }, ctx) => {
      const size = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      const token = upstreamToken(after) ?? null;
      const page = await ctx.loaders.bisnode.auditEvents({ pageToken: token, pageSize: size });
      return tokenConnection(page.items, token, page.nextToken, page.hasNext);
    },

    bisnodeWebhooks: (_root, _args, ctx) => ctx.loaders.bisnode.webhooks(),
  },

  Mutation: {
    uploadConsumers: async (_root, { consumers, idempotencyKey }, ctx) => {
      const prepared = prepareConsumerUpload(consumers);
      if (!prepared.ok) throw invalidInput(prepared.issues);
      return ctx.idempotency.run('uploadConsumers', ctx.caller.id, idempotencyKey, prepared.items, () =>
        uploadConsumers(ctx.clients.bisnode, prepared.items),
      );
    },

    deleteConsumers: async (_root, { consumerIds, idempotencyKey }, ctx) => {
      const prepared = prepareConsumerDelete(consumerIds);
      if (!prepared.ok) throw invalidInput(prepared.issues);
      return ctx.idempotency.run('deleteConsumers', ctx.caller.id, idempotencyKey, prepared.ids, () =>
        deleteConsumers(ctx.clients.bisnode, prepared.ids),
      );
    },

    createBisnodeWebhook: async (_root, { url, events, description, idempotencyKey }, ctx) => {
      const urlProblem = checkWebhookUrl(url);
      if (urlProblem) throw new InputError('url', urlProblem);
      if (events.length === 0) throw new InputError('events', 'at least one event type');
      if (description != null && description.length > 1000)
        throw new InputError('description', 'at most 1000 characters');
      const body = {
        url,
        events: upstreamEvents(events),
        ...(description != null ? { description } : {}),
      };
      return ctx.idempotency.run('createBisnodeWebhook', ctx.caller.id, idempotencyKey, body, async () => {
        try {
          return await createWebhook(ctx.clients.bisnode, ctx.webhookSecrets, body);
        } catch (err) {
          // Bisnode keeps one webhook per url: say which argument to change instead of a bare 409.
          if (err instanceof UpstreamError && err.status === 409)
            throw new InputError(
              'url',
              'a url no existing Bisnode webhook uses (delete that webhook first)',
              {
                provider: 'bisnode',
                status: 409,
              },
            );
          throw err;
        }
      });
    },

    deleteBisnodeWebhook: async (_root, { id, idempotencyKey }, ctx) => {
      if (!WEBHOOK_ID.test(id)) throw new InputError('id', 'a webhook id as bisnodeWebhooks lists it');
      return ctx.idempotency.run('deleteBisnodeWebhook', ctx.caller.id, idempotencyKey, id, () =>
        deleteWebhook(ctx.clients.bisnode, ctx.webhookSecrets, id),
      );
    },
  },

  Consumer: {
    person: (parent, _args, ctx) => (parent.gedi ? ctx.loaders.bisnode.personByGedi.load(parent.gedi) : null),
  },

  SubscribedPerson: {
    // The list carries the person; a gedi-only item (none in practice) is fetched by gedi.
    person: (parent, _args, ctx) => parent.person ?? ctx.loaders.bisnode.personByGedi.load(parent.gedi),
  },
};
