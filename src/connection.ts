import { InputError } from './errors.js';

/**
 * Relay connections over whatever the upstream pages with. A cursor is opaque to callers:
 * base64url of the upstream position (an offset for limit/skip and page/pageSize APIs, a token
 * for nextPageToken APIs), plus the index within the page.
 */
export type UpstreamPosition = { kind: 'offset'; offset: number } | { kind: 'token'; token: string | null };

export function encodeCursor(pos: UpstreamPosition): string {
  return Buffer.from(JSON.stringify(pos.kind === 'offset' ? { o: pos.offset } : { t: pos.token })).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string | null | undefined, argument = 'after'): UpstreamPosition | null {
  if (cursor == null) return null;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; t?: unknown };
    if (typeof v.o === 'number' && Number.isInteger(v.o) && v.o >= 0) return { kind: 'offset', offset: v.o };
    if (typeof v.t === 'string' || v.t === null) return { kind: 'token', token: v.t as string | null };
  } catch {
    /* fall through to the error below */
  }
  throw new InputError(argument, 'a cursor returned by this API (pageInfo.endCursor or an edge cursor)');
}

/** Validates `first` against its bounds with a message that names the argument. */
export function pageSize(first: number | null | undefined, max: number, fallback: number): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InputError('first', `an integer from 1 to ${max}`);
  return n;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number | null;
}

/** An edge of an offset-paged connection; its cursor is encoded only if a query asks for it. */
class OffsetEdge<T> {
  constructor(
    readonly node: T,
    private readonly position: number,
  ) {}

  get cursor(): string {
    return encodeCursor({ kind: 'offset', offset: this.position });
  }
}

/**
 * pageInfo of an offset-paged connection: its cursors are the first and last edges' own lazy
 * cursors. Getters on a class, not in an object literal: V8 keeps a literal's per-call accessors,
 * and what they reach (here every edge and node of the page), alive through young-generation GCs
 * until the next full GC (see execution/gateway-request-context.ts).
 */
class OffsetPageInfo<T> {
  constructor(
    private readonly edges: OffsetEdge<T>[],
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
  ) {}

  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }

  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

/** A connection from an offset-paged upstream (limit/skip, page/pageSize). */
export function offsetConnection<T>(
  items: T[],
  offset: number,
  totalCount: number | null,
  hasNext?: boolean,
): Connection<T> {
  // Cursors are encoded when read (getters): most queries select nodes only, and a page of
  // accounting snapshots per borrower (benchmark S3: 1,200 edges) would encode one per edge.
  const edges = items.map((node, i) => new OffsetEdge(node, offset + i + 1));
  const more = hasNext ?? (totalCount !== null ? offset + items.length < totalCount : false);
  return {
    edges,
    pageInfo: new OffsetPageInfo(edges, more, offset > 0),
    totalCount,
  };
}

/**
 * A connection from a token-paged upstream (Bisnode's nextPageToken). Only page boundaries
 * are addressable upstream, so every edge of a page carries the cursor of the next page;
 * `endCursor` stays set at the end where the upstream keeps a cursor for later changes.
 */
export function tokenConnection<T>(
  items: T[],
  currentToken: string | null,
  nextToken: string | null,
  hasNext: boolean,
): Connection<T> {
  const end = encodeCursor({ kind: 'token', token: nextToken });
  const edges = items.map((node) => ({ cursor: end, node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: hasNext,
      hasPreviousPage: currentToken !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: nextToken === null ? (edges.at(-1)?.cursor ?? null) : end,
    },
    totalCount: null,
  };
}
