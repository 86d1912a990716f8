import type { Server } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';

/**
 * Apollo's drain hook for the HTTP server, on Node's own connection tracking: stop accepting,
 * let in-flight requests finish, close each keep-alive connection once its answer is written, and
 * after `graceMs` close whatever HTTP connection is still open.
 *
 * Apollo's ApolloServerPluginDrainHttpServer does the same with a Map entry and a
 * `once('close')` listener (a closure, its scope and a bound wrapper) for every socket, upgraded
 * WebSockets included, and a `once('finish')` per request: ~250 bytes per idle subscription and
 * a little work per request (issue 7, S5 and S1). Node's http.Server already tracks its
 * connections (closeIdleConnections/closeAllConnections), so nothing is kept per socket here.
 *
 * WebSocket connections are not HTTP connections any more: the transport closes them (1001,
 * cutting off after its own grace period a client that does not answer) before this runs
 * (server.ts close()).
 */
export function drainHttpServerPlugin(server: Server, graceMs = 10_000): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          // Node arms a connection's keep-alive timeout once its response has been handed to the
          // operating system ('finish'): at 1 ms, each connection serving a request ends shortly
          // after its answer is fully written (within about a second: Node's socket timer is
          // coarse for a connection whose timeout was armed before). Ending it as soon as
          // res.end() is called would cut a large answer still being written to a slow reader.
          server.keepAliveTimeout = 1;
          // close() stops accepting and ends the connections idle now.
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          const hard = setTimeout(() => server.closeAllConnections(), graceMs);
          try {
            await closed;
          } finally {
            clearTimeout(hard);
          }
        },
      };
    },
  };
}
