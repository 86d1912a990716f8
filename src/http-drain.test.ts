import { createServer, Agent, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drainHttpServerPlugin } from './http-drain.js';

/** Runs the plugin's drain hook as Apollo's stop() does. */
async function drain(plugin: ReturnType<typeof drainHttpServerPlugin>): Promise<void> {
  // serverWillStart is called without its context here: the hook reads none of it.
  const hooks = await plugin.serverWillStart?.({} as never);
  await hooks?.drainServer?.();
}

function request(port: number, agent: Agent): Promise<{ body: string; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    get({ port, host: '127.0.0.1', agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += String(d)));
      res.on('end', () => resolve({ body, res }));
    }).on('error', reject);
  });
}

describe('drainHttpServerPlugin', () => {
  it('lets an in-flight request finish, then ends its keep-alive connection without waiting for the grace period', async () => {
    // A keep-alive timeout far beyond the test's: a connection left open would hold close() up.
    const server = createServer({ keepAliveTimeout: 120_000 }, (_req, res) => {
      setTimeout(() => res.end('answered'), 200);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    // One idle keep-alive connection, and one request in flight when the drain starts.
    await request(port, agent);
    const inFlight = request(port, agent);
    await new Promise((r) => setTimeout(r, 50));
    const sockets: string[] = [];
    server.on('connection', () => sockets.push('new'));
    const drained = drain(drainHttpServerPlugin(server, 60_000));
    const { body, res } = await inFlight;
    expect(res.statusCode).toBe(200);
    expect(body).toBe('answered');
    await drained;
    expect(server.listening).toBe(false);
    // No connection was accepted after the drain began, and none is left.
    expect(sockets).toEqual([]);
    const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    expect(open).toBe(0);
    agent.destroy();
  });

  it('closes a connection still busy when the grace period ends', async () => {
    // Never answers.
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    const hung = request(port, agent).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    await new Promise((r) => setTimeout(r, 50));
    await drain(drainHttpServerPlugin(server, 200));
    expect(await hung).toBe('ECONNRESET');
    agent.destroy();
  });
});

describe('drainHttpServerPlugin and a slow reader', () => {
  it('lets an answer finished during the drain reach a slow reader whole', async () => {
    const size = 8 * 1024 * 1024;
    // The answer ends 300 ms into the drain; the client reads it slowly.
    const server = createServer({ keepAliveTimeout: 120_000 }, (_req, res) => {
      setTimeout(() => res.end(Buffer.alloc(size, 7)), 300);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true });
    const received = new Promise<number>((resolve, reject) => {
      get({ port, host: '127.0.0.1', agent }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          // A pause after each chunk: the rest waits in the server's buffers meanwhile.
          res.pause();
          setTimeout(() => res.resume(), 2);
        });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      }).on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 50));
    const drained = drain(drainHttpServerPlugin(server, 60_000));
    expect(await received).toBe(size);
    await drained;
    expect(server.listening).toBe(false);
    agent.destroy();
  });
});
