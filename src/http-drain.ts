import type { Server } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Apollo's drain hook for the HTTP server, on Node's own connection tracking: stop accepting,
 * let in-flight requests finish, close each keep-alive connection once it is idle, and after
 * `graceMs` close whatever HTTP connection is still open.
 *
 * Apollo's ApolloServerPluginDrainHttpServer does the same with a Map entry and a
 * `once('close')` listener (a closure, its scope and a bound wrapper) for every socket, upgraded
 * WebSockets included, and a `once('finish')` per request: ~250 bytes per idle subscription and
 * a little work per request (issue 7, S5 and S1). Node's http.Server already tracks its
 * connections (closeIdleConnections/closeAllConnections), so nothing is kept per socket here.
 *
 * WebSocket connections are not HTTP connections any more: the transport closes them (1001)
 * before this runs (server.ts).
 */
export function drainHttpServerPlugin(server: Server, graceMs = 10_000, pollMs = 50): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          // close() ends the connections idle now; those serving a request end once it is
          // answered (Node keeps them open for keep-alive otherwise).
          const idle = setInterval(() => server.closeIdleConnections(), pollMs);
          const hard = setTimeout(() => server.closeAllConnections(), graceMs);
          try {
            await closed;
          } finally {
            clearInterval(idle);
            clearTimeout(hard);
          }
        },
      };
    },
  };
}
