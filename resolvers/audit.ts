import { InputError } from '../src/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../src/connection.js';
import { AuditCursorError } from '../src/security/audit.js';
import { validateNationalId } from '../src/security/identifiers.js';
import type { Resolvers } from '../src/generated/resolvers-types.js';

const MAX_PAGE = 500;
const DEFAULT_PAGE = 100;

const CURSOR_EXPECTED = 'a cursor returned by auditTrail (pageInfo.endCursor or an edge cursor)';

export const auditResolvers: Resolvers = {
  Query: {
    auditTrail: async (_root, { nationalId, market, first, after }, ctx) => {
      const id = validateNationalId(market ?? 'NO', nationalId);
      if (!id.ok) throw new InputError('nationalId', id.expected);
      const n = pageSize(first, MAX_PAGE, DEFAULT_PAGE);
      // Audit positions (file line, stream id) travel as token cursors, opaque to callers.
      const pos = decodeCursor(after);
      if (pos && (pos.kind !== 'token' || pos.token === null)) throw new InputError('after', CURSOR_EXPECTED);
      let page;
      try {
        page = await ctx.auditSink.listBySubject(ctx.auditSink.ref(id.value), {
          after: pos?.token ?? null,
          first: n,
        });
      } catch (err) {
        if (err instanceof AuditCursorError) throw new InputError('after', CURSOR_EXPECTED);
        throw err;
      }
      const edges = page.items.map(({ id: position, record }) => ({
        cursor: encodeCursor({ kind: 'token', token: position }),
        node: record,
      }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: pos !== null,
          startCursor: edges[0]?.cursor ?? null,
          // At the end the last cursor stays, so a caller can come back later for newer records.
          endCursor: edges.at(-1)?.cursor ?? after ?? null,
        },
      };
    },
  },
};
