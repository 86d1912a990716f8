import { HTTPException } from 'hono/http-exception';
import { createProviderApp, sendError, type ErrorFormatter } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';
import { TokenStore } from '../common/tokens.js';
import { createSymetriskControl } from './control.js';
import { registerRoutes } from './routes.js';
import { READ_SCOPE, SECURITY_SCHEME, WRITE_SCOPE } from './schemas.js';
import { SymetriskState } from './state.js';
import { registerTokenRoute, TOKEN_PATH } from './token.js';
import { validationHook } from './validation.js';

/** FastAPI style: `{"detail": "..."}` (Symetrisk pages with FastAPI's limit/skip, so its errors are read the same way). */
const formatError: ErrorFormatter = (_status, _title, detail) => ({
  body: { detail },
  contentType: 'application/json',
});

const DESCRIPTION = `Simulation of the Symetrisk API (https://api.symetrisk.com/api/v1) for nordgraph.

Auth: Amazon Cognito client credentials at POST ${TOKEN_PATH}; scopes ${READ_SCOPE} (every GET) and
${WRITE_SCOPE} (every POST). /ping accepts any valid token.

Errors: FastAPI style \`{"detail": "..."}\`: 401 missing/unknown/expired token (with WWW-Authenticate),
403 missing scope or no approved relationship, 404 unknown organisation or route, 415 body not JSON.
Request validation errors are 422 with \`{"detail": [{"type", "loc", "msg"}]}\` (pydantic style).

Pagination: query limit (1-100, default 100) and skip (default 0); every list answers
\`{metadata: {limit, skip, returnedItems, totalItems}, items: [...]}\`.

Relationship states: access_requested, access_approved, access_rejected, access_revoked. Two kinds:
borrower relationships of the client's own company (accounting data, /relationships, /borrower) and debtor
relationships of a credit-scorer company (list-debtors, get-credit-score). Companies answer on the Symetrisk
dashboard; in the sandbox through /_sandbox/symetrisk/approve, /reject, /revoke. No webhooks: poll /notifications.

Only companies that have connected an accounting system (the population's borrowers) have snapshots and a
score; an approved one without gets an empty accounting list and 404 on the credit score.`;

export function createSymetrisk(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(ctx, 'symetrisk', formatError, {
    title: 'Symetrisk (nordgraph sandbox)',
    version: '1.0.0',
    description: DESCRIPTION,
  });
  // FastAPI answers request validation failures with 422 and a list of problems, not the shared 400.
  app.defaultHook = validationHook;
  app.onError((err, c) => {
    if (c.req.path === TOKEN_PATH) return c.json({ error: 'invalid_request' }, 400);
    if (err instanceof HTTPException && err.status === 400)
      return c.json({ detail: [{ type: 'json_invalid', loc: ['body'], msg: err.message }] }, 422);
    if (err instanceof HTTPException) return sendError(c, formatError, err.status, 'Error', err.message);
    return sendError(c, formatError, 500, 'Internal Server Error', 'Internal Server Error');
  });
  app.openAPIRegistry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'oauth2',
    description: 'Amazon Cognito client credentials; send the access token as `Authorization: Bearer`.',
    flows: {
      clientCredentials: {
        tokenUrl: TOKEN_PATH,
        scopes: {
          [READ_SCOPE]: 'Read data',
          [WRITE_SCOPE]: 'Request access, create credit-scorer companies',
        },
      },
    },
  });

  const tokens = new TokenStore(() => ctx.now());
  const state = new SymetriskState(ctx);
  registerTokenRoute(app, ctx, tokens);
  registerRoutes(app, ctx, tokens, state);

  return {
    name: 'symetrisk',
    app,
    control: createSymetriskControl(ctx, state),
    reset() {
      tokens.reset();
      state.reset();
    },
  };
}
