import { HTTPException } from 'hono/http-exception';
import type { Context } from 'hono';
import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext, SandboxEnv } from '../common/context.js';
import { createBisnodeControl } from './control.js';
import { constraintViolation, formatProblem, problem, violationsFromIssues } from './problem.js';
import { API, ROUTES, TOKEN_PATH, registerRoutes } from './routes.js';
import { BisnodeState } from './state.js';

/**
 * Bisnode / Dun & Bradstreet Consumer Intelligence V3, simulated: OAuth2 client credentials,
 * person search and lookup over all four markets, consumer upload with asynchronous
 * identification, subscriptions, audit events and signed webhooks. Errors are RFC 7807
 * problem+json; everything the document leaves open is described in /openapi.json.
 */
export function createBisnode(ctx: SandboxContext): ProviderModule {
  const state = new BisnodeState(ctx);
  const app = createProviderApp(ctx, 'bisnode', formatProblem, {
    title: 'Consumer Intelligence V3 (nordgraph sandbox)',
    version: '1.0.0',
    description:
      'Simulation of Bisnode / Dun & Bradstreet Consumer Intelligence V3 over a synthetic population of SE, NO, DK and FI persons. ' +
      `API under ${API}, token endpoint ${TOKEN_PATH}. Errors are RFC 7807 (application/problem+json) with a urn:bisnode:traceid instance; ` +
      'schema failures are "Constraint Violation" with violations [{field, message}]. A known path called with another method answers 405 with Allow. ' +
      'Rate limit: 200 requests per second per client by default (429 with Retry-After). Sandbox control routes: /_sandbox/bisnode/*.',
  });

  // Validation failures are Constraint Violations naming each field, not the shared "Bad Request".
  app.defaultHook = (result, c) => {
    if (result.success) return undefined;
    if (c.req.path === TOKEN_PATH) {
      return c.json({ error: 'invalid_request', error_description: 'Malformed token request.' }, 400);
    }
    return constraintViolation(c, violationsFromIssues(result.error.issues));
  };

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // Malformed JSON and unsupported content types: the document lists 400 for "failed parsing".
      if (c.req.path === TOKEN_PATH) {
        return c.json({ error: 'invalid_request', error_description: err.message }, 400);
      }
      return problem(c, 400, err.message || 'The request could not be parsed.');
    }
    return problem(c, 500, 'A critical error has occurred.');
  });

  app.notFound((c: Context<SandboxEnv>) => {
    const path = c.req.path;
    const allowed = ROUTES.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      return problem(c, 405, `${c.req.method} is not available for ${path}.`, {
        headers: { allow: allowed.join(', ') },
      });
    }
    return problem(c, 404, 'The requested entity was not found.');
  });

  registerRoutes(app, ctx, state);

  return {
    name: 'bisnode',
    app,
    control: createBisnodeControl(ctx, state),
    reset: () => state.reset(),
    onPersonChanged: (change) => state.onPersonChanged(change),
    close: () => state.stopTimers(),
  };
}
