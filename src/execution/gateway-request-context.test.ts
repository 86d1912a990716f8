import { describe, expect, it } from 'vitest';
import { HeaderMap } from '@apollo/server';
import { apolloStandInsPlugin } from '../../scripts/esbuild-options.js';
import { bundleApolloServer } from '../../test/helpers/apollo-bundle.js';
import { makeGatewayGraphQLRequestContext } from './gateway-request-context.js';

type Make = typeof makeGatewayGraphQLRequestContext;

/** Apollo Server's own version, the one the bundles replace. */
async function apollos(): Promise<Make> {
  const url = new URL(
    '../../node_modules/@apollo/server/dist/esm/utils/makeGatewayGraphQLRequestContext.js',
    import.meta.url,
  );
  return ((await import(url.href)) as { makeGatewayGraphQLRequestContext: Make })
    .makeGatewayGraphQLRequestContext;
}

function requestContext() {
  const requestHeaders = new HeaderMap([
    ['content-type', 'application/json'],
    ['x-purpose', 'development'],
  ]);
  return {
    request: {
      query: '{ __typename }',
      operationName: 'Q',
      variables: { id: '1' },
      extensions: { e: 1 },
      http: { method: 'POST', search: 'a=1', headers: requestHeaders },
    },
    response: { http: { headers: new HeaderMap([['x-one', '1']]), status: undefined as number | undefined } },
    schema: { schema: true },
    contextValue: { caller: 'c' },
    queryHash: 'hash',
    document: { kind: 'Document' },
    source: '{ __typename }',
    operationName: 'Q',
    operation: { kind: 'OperationDefinition' },
    errors: undefined,
    metrics: { m: 1 },
    overallCachePolicy: { p: 1 },
    requestIsBatched: false,
  };
}

const server = { logger: { name: 'logger' }, cache: { name: 'cache' } };
const internals = { includeStacktraceInErrorResponses: true };

/** Everything but the two header wrappers and response.http, as plain data. */
function plain(rc: Record<string, unknown>) {
  const {
    request,
    response: _response,
    ...rest
  } = rc as {
    request: { http?: Record<string, unknown> } & Record<string, unknown>;
    response: unknown;
  };
  const { headers: _headers, ...http } = request.http ?? {};
  return { ...rest, request: { ...request, http } };
}

describe('gateway request context (stand-in for Apollo Server 5 utils/makeGatewayGraphQLRequestContext)', () => {
  it('carries every field Apollo’s own version carries, with the same values', async () => {
    const original = await apollos();
    const ours = makeGatewayGraphQLRequestContext(requestContext(), server, internals);
    const theirs = original(requestContext(), server, internals);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(plain(ours)).toEqual(plain(theirs));
    expect((ours.request as { http: { url: string } }).http.url).toBe('https://unknown-url.invalid/?a=1');
  });

  it('reads and writes Apollo’s response status and headers through response.http, as Apollo’s does', async () => {
    for (const make of [makeGatewayGraphQLRequestContext, await apollos()]) {
      const rc = requestContext();
      const http = (make(rc, server, internals).response as { http: Record<string, unknown> }).http as {
        status: number | undefined;
        headers: {
          append(n: string, v: string): void;
          get(n: string): string | null;
          has(n: string): boolean;
        };
      };
      expect(http.status).toBeUndefined();
      rc.response.http.status = 201;
      expect(http.status).toBe(201);
      http.status = 418;
      expect(rc.response.http.status).toBe(418);
      http.headers.append('x-one', '2');
      http.headers.append('x-two', '3');
      expect(rc.response.http.headers.get('x-one')).toBe('1, 2');
      expect(http.headers.get('x-two')).toBe('3');
      expect(http.headers.get('x-none')).toBeNull();
      expect(http.headers.has('x-two')).toBe(true);
    }
  });

  it('takes Apollo’s place in a bundle made with the plugin, and only there', async () => {
    const patched = await bundleApolloServer([apolloStandInsPlugin]);
    expect(patched).toContain('new GatewayResponseHttp(newRequestContext)');
    expect(patched).not.toMatch(/set status\(newStatus\) \{\s*newRequestContext/);
    expect(await bundleApolloServer([])).toMatch(/set status\(newStatus\) \{\s*newRequestContext/);
  });
});
