import {
  GraphQLError,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type SourceLocation,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';

/**
 * A compiled executor inside Apollo Server (issue 7): graphql-jit turns each operation into a
 * JavaScript function once, and later requests with the same document run that function instead
 * of graphql-js's interpreter. Apollo stays the server: it still parses, validates (with the
 * request limits), runs every plugin and formats errors; only execution is swapped, through
 * Apollo's gateway interface, its one supported hook for a custom executor.
 *
 * Compiled operations are kept per DocumentNode (Apollo's document store hands out the same node
 * for the same query text) and operation name, in a small LRU so a client sending endless
 * distinct queries cannot grow memory without bound.
 */

export interface JitOptions {
  /** Compiled operations kept (least recently used dropped first). */
  maxEntries?: number;
}

class CompiledCache {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, CompiledQuery>>();
  /** Insertion-ordered set of (document, name) for LRU eviction. */
  private readonly order = new Map<string, { document: DocumentNode; name: string }>();
  private seq = 0;
  private readonly ids = new WeakMap<DocumentNode, number>();

  constructor(private readonly maxEntries: number) {}

  private keyOf(document: DocumentNode, name: string): string {
    let id = this.ids.get(document);
    if (id === undefined) {
      id = ++this.seq;
      this.ids.set(document, id);
    }
    return `${id}:${name}`;
  }

  get(document: DocumentNode, name: string): CompiledQuery | undefined {
    const hit = this.byDocument.get(document)?.get(name);
    if (hit) {
      const key = this.keyOf(document, name);
      const entry = this.order.get(key);
      if (entry) {
        this.order.delete(key);
        this.order.set(key, entry);
      }
    }
    return hit;
  }

  set(document: DocumentNode, name: string, compiled: CompiledQuery): void {
    let perDoc = this.byDocument.get(document);
    if (!perDoc) {
      perDoc = new Map();
      this.byDocument.set(document, perDoc);
    }
    perDoc.set(name, compiled);
    this.order.set(this.keyOf(document, name), { document, name });
    while (this.order.size > this.maxEntries) {
      const [oldestKey, oldest] = this.order.entries().next().value as [
        string,
        { document: DocumentNode; name: string },
      ];
      this.order.delete(oldestKey);
      this.byDocument.get(oldest.document)?.delete(oldest.name);
    }
  }
}

/**
 * graphql-jit's errors are GraphQLError look-alikes with frozen fields and no `extensions` object
 * when the thrown error had none, which Apollo's error formatting does not expect. Each becomes a
 * plain GraphQLError with the same message, path, locations and original error, so error
 * formatting (errors.ts: UpstreamError → {code, provider, status}) works as with graphql-js.
 */
function normaliseErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  // No data at all: execution never started, i.e. the variables did not coerce (the document
  // was validated already). graphql-js + Apollo call that BAD_USER_INPUT; so do we.
  const badVariables = result.data === undefined;
  const errors = result.errors.map((e) => {
    const error = new GraphQLError(e.message, {
      path: e.path,
      originalError: e.originalError,
      extensions: badVariables ? { ...e.extensions, code: 'BAD_USER_INPUT' } : (e.extensions ?? {}),
    });
    // The constructor derives locations from AST nodes, which graphql-jit does not keep.
    if (e.locations) (error as { locations?: readonly SourceLocation[] }).locations = e.locations;
    return error;
  });
  return { ...result, errors };
}

/** An Apollo gateway that serves `schema` and executes with graphql-jit. */
export function jitGateway(schema: GraphQLSchema, options: JitOptions = {}): GatewayInterface {
  const cache = new CompiledCache(options.maxEntries ?? 1_000);
  const executor: GatewayExecutor = async (rc) => {
    const name = rc.operationName ?? '';
    let compiled = cache.get(rc.document, name);
    if (!compiled) {
      const result = compileQuery(schema, rc.document, rc.operationName ?? undefined);
      // Not compilable (graphql-jit reports why as errors): answer as graphql-js would.
      if (!isCompiledQuery(result)) return normaliseErrors(result as ExecutionResult);
      compiled = result;
      cache.set(rc.document, name, compiled);
    }
    return normaliseErrors(
      (await compiled.query(undefined, rc.context, rc.request.variables ?? {})) as ExecutionResult,
    );
  };
  let sdl: string | null = null;
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      // Apollo reads the schema from here; the SDL is only used for its schema hash.
      callback({ apiSchema: schema, coreSupergraphSdl: (sdl ??= printSchema(schema)) });
      return () => undefined;
    },
    async stop() {},
  };
}
