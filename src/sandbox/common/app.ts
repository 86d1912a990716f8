import { OpenAPIHono } from '@hono/zod-openapi';
import { routePath } from 'hono/route';
import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import type { ProviderName, SandboxContext, SandboxEnv } from './context.js';

/** How one provider writes an error body: Bisnode problem+json, Connect exception JSON, ... */
export type ErrorFormatter = (
  status: number,
  title: string,
  detail: string,
) => { body: unknown; contentType: string; headers?: Record<string, string> };

export function sendError(
  c: Context,
  format: ErrorFormatter,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const e = format(status, title, detail);
  return new Response(JSON.stringify(e.body), {
    status,
    headers: { 'content-type': e.contentType, ...(e.headers ?? {}), ...headers },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Hono app every simulated provider starts from: request counters keyed by route
 * pattern, fault injection, request validation errors in the provider's own format, and
 * `/openapi.json` generated from the very route definitions it serves (so the document
 * describes exactly what is served). Control routes (`/_sandbox/...`) are never faulted.
 */
export function createProviderApp(
  ctx: SandboxContext,
  provider: ProviderName,
  format: ErrorFormatter,
  info: { title: string; version: string; description: string },
): OpenAPIHono<SandboxEnv> {
  const app = new OpenAPIHono<SandboxEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const detail = result.error.issues
          .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
          .join('; ');
        return sendError(c, format, 400, 'Bad Request', detail);
      }
      return undefined;
    },
  });

  app.use('*', async (c, next) => {
    const path = c.req.path;
    if (path.startsWith('/_sandbox') || path === '/openapi.json') return next();
    const action = ctx.faults[provider].draw(path);
    if (action.latencyMs > 0) await sleep(action.latencyMs);
    switch (action.kind) {
      case 'reset':
        ctx.counters[provider].increment(`${c.req.method} ${path} (reset)`);
        c.env.incoming.socket.destroy();
        return new Response(null, { status: 500 });
      case 'rateLimit':
        ctx.counters[provider].increment(`${c.req.method} (fault 429)`);
        return sendError(c, format, 429, 'Too Many Requests', 'Rate limit exceeded (injected fault)', {
          'retry-after': String(action.retryAfterSeconds),
        });
      case 'error':
        ctx.counters[provider].increment(`${c.req.method} (fault ${action.status})`);
        return sendError(c, format, action.status, 'Service Unavailable', 'Injected fault');
      case 'malformedJson':
        await next();
        ctx.counters[provider].increment(`${c.req.method} ${routePath(c, -1)}`);
        // Replace the real answer after the handler ran, so the call had its real side effects.
        c.res = new Response('{"truncated": [1, 2', {
          status: 200,
          headers: { 'content-type': 'application/json' },
        });
        return;
      case 'none':
        await next();
        ctx.counters[provider].increment(`${c.req.method} ${routePath(c, -1)}`);
        return;
    }
  });

  app.onError((err, c) => {
    // Hono throws HTTPException for malformed JSON or an unsupported media type: that is the
    // client's fault (4xx), never the provider's 500.
    if (err instanceof HTTPException && err.status < 500) {
      return sendError(
        c,
        format,
        err.status,
        err.status === 415 ? 'Unsupported Media Type' : 'Bad Request',
        err.message,
      );
    }
    // Bad input must never crash the sandbox: an unexpected throw is the provider's 500.
    return sendError(c, format, 500, 'Internal Server Error', err instanceof Error ? err.message : 'error');
  });
  app.notFound((c) => sendError(c, format, 404, 'Not Found', `No route ${c.req.method} ${c.req.path}`));

  // The document is generated from the registered routes; servers point at where it was fetched.
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info,
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  return app;
}
