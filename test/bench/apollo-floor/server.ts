/**
 * Reference point for issue 7's S1 target (nordgraph ≥ 0.8× the hand-written aggregator): Apollo
 * Server alone, on nordgraph's own schema (schema/*.graphql, the same SDL and the same node:http
 * handling as nordgraph), answering S1's query from memory. No upstream call, no DataLoader, no
 * authentication, audit, metrics or logging: only what Apollo Server and graphql-js do per
 * request, the part of nordgraph the issue keeps ("Apollo Server stays the server"). Whatever
 * this costs per request, nordgraph cannot cost less.
 *
 * Run as a child of test/bench/cpu-per-request.ts (bundled like the other servers):
 *   env BENCH_FLOOR_PERSON = JSON of the `person` object of an S1 answer (the aggregator's, which
 *   is byte-equal to nordgraph's)
 *   child → parent { type: 'ready', url, pid }; parent → child { type: 'close' }
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLScalarType, parse } from 'graphql';
import { loadTypeDefs } from '../../../src/schema.js';

const person = JSON.parse(process.env.BENCH_FLOOR_PERSON ?? 'null') as Record<string, unknown> | null;
if (!person) throw new Error('BENCH_FLOOR_PERSON is not set');

const typeDefs = parse(loadTypeDefs().join('\n'), { noLocation: true });
// Custom scalars pass their (already serialised) values through; the answer is canned.
const scalars = Object.fromEntries(
  typeDefs.definitions
    .filter((d) => d.kind === 'ScalarTypeDefinition')
    .map((d) => [d.name.value, new GraphQLScalarType({ name: d.name.value })]),
);
const schema = makeExecutableSchema({
  typeDefs,
  resolvers: { ...scalars, Query: { person: () => person } },
  resolverValidationOptions: { requireResolversForResolveType: 'ignore' },
});
const apollo = new ApolloServer({
  schema,
  plugins: [ApolloServerPluginCacheControlDisabled()],
  introspection: false,
});
await apollo.start();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    apollo
      .executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method!.toUpperCase(),
          headers,
          search: '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        },
        context: () => Promise.resolve({}),
      })
      .then((r) => {
        const h: Record<string, string> = {};
        for (const [k, v] of r.headers) h[k] = v;
        if (r.body.kind !== 'complete') throw new Error('incremental delivery is not used here');
        res.writeHead(r.status ?? 200, h);
        res.end(r.body.string);
      })
      .catch(() => {
        res.writeHead(500);
        res.end();
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
});
process.on('message', (m: { type?: string }) => {
  if (m.type === 'close') server.close(() => process.exit(0));
});
