import { z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createProviderApp, sendError } from '../common/app.js';
import type { ProviderModule, SandboxContext, SandboxEnv } from '../common/context.js';
import { AjourholdState, registerAjourholdRoutes } from './ajourhold.js';
import { ByndleTokens, bearerAuth, registerTokenRoute } from './auth.js';
import { byndleErrorFormatter } from './format.js';
import { registerLookupRoutes } from './lookup.js';
import { EventSchema } from './schemas.js';

const DESCRIPTION = `Simulation of Byndle's open API (api.byndle.no): token, 1-1 lookups of Norwegian persons,
businesses and vehicles, and ajourhold (maintained customer lists with match levels and webhooks).

Authentication: GET /v1/auth/token with header \`Auth: username:password\`; send the returned token as
\`Authorization: Bearer <token>\` on every other call. Tokens live 7 days.

Errors: every error status answers \`{"status": <http status>, "error": "<PascalCase code>", "message": "<text>"}\`
(codes BadRequest, Unauthorized, NotFound, Conflict, TooManyRequests, InternalServerError, ServiceUnavailable).

Pagination: \`page\` (1-based) and \`pageSize\` (max 1000) in; \`page\`, \`pageSize\`, \`totalCount\`, \`totalPages\`, \`items\` out.

Only the first part of Byndle's documentation is public; paths and field names beyond it are this sandbox's design.`;

export function createByndle(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(ctx, 'byndle', byndleErrorFormatter, {
    title: 'Byndle (nordgraph sandbox)',
    version: '1.0.0',
    description: DESCRIPTION,
  });
  const tokens = new ByndleTokens(ctx);
  const ajourhold = new AjourholdState(ctx);

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Token from GET /v1/auth/token',
  });
  app.openAPIRegistry.register(
    'ByndleWebhookDelivery',
    z
      .object({
        ajourholdId: z.string(),
        deliveryId: z
          .string()
          .openapi({ description: 'New per delivery; redeliveries repeat the same body' }),
        sentAt: z.string(),
        events: z.array(EventSchema),
      })
      .openapi({
        description:
          'Body Byndle POSTs to the configured webhook URL, with Authorization: Basic base64(username:password). 2xx accepts; anything else is redelivered.',
      }),
  );

  // Hono's body validator throws for malformed JSON or a non-JSON content type; that is the
  // caller's fault (400), not the 500 the shared handler would make of it.
  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) {
      const detail = err.status === 415 ? 'Content-Type must be application/json' : err.message;
      return sendError(c, byndleErrorFormatter, 400, 'Bad Request', detail);
    }
    return sendError(c, byndleErrorFormatter, 500, 'Internal Server Error', 'Unexpected error');
  });

  // Auth runs before request validation, so a caller without a token gets 401, not 400.
  const auth = bearerAuth(tokens);
  app.use('/v1/lookup/*', auth);
  app.use('/v1/ajourhold/*', auth);

  registerTokenRoute(app, ctx, tokens);
  registerLookupRoutes(app, ctx);
  registerAjourholdRoutes(app, ajourhold);

  const control = new Hono<SandboxEnv>();
  /** Inspect an ajourhold without a token: entries with their match levels, and the event log. */
  control.get('/ajourhold', (c) =>
    c.json({
      ajourholds: [...ajourhold.entries].map(([id, list]) => ({
        ajourholdId: id,
        entries: list.size,
        events: ajourhold.events.get(id)?.length ?? 0,
        webhook: ajourhold.webhooks.get(id)?.url ?? null,
      })),
    }),
  );

  return {
    name: 'byndle',
    app,
    control,
    reset() {
      tokens.reset();
      ajourhold.reset();
    },
    onPersonChanged(change) {
      ajourhold.onPersonChanged(change);
    },
    nightly() {
      ajourhold.nightly();
    },
  };
}
