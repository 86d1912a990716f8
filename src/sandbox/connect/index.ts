import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';
import { createConnectControl } from './control.js';
import { connectErrorFormatter } from './errors.js';
import { registerOAuth } from './oauth.js';
import { registerApi } from './routes.js';
import { ConnectState } from './state.js';

const DESCRIPTION = `Simulation of Connect, the partner customer datastore (Unite / Mediaconnect), served from the
sandbox's synthetic population.

* API server: \`/capi\` (production \`https://api.mediaconnect.no/capi\`); login server: \`/login\`
  (production \`https://connectid.no/user\`).
* Client mode (\`/v1/client/...\`) takes a client-credentials token; user mode (\`/v1/customer/...\`) takes a
  user token from the authorization-code flow (\`GET /login/oauth/authorize\`, a sandbox stand-in that
  approves a test user at once), the refresh_token grant, or the sandbox-only password grant.
* API errors are \`{exceptionType, errorMessage}\`; OAuth errors are \`{error, error_description}\`.
* Rate limits per client id: 100 calls/s and 2000 calls/min by default (sandbox option connectRateLimit,
  or \`PUT /_sandbox/connect/rate-limit {perSecond, perMinute}\` at run time). Every /capi response carries
  \`X-RateLimit-Remaining\` (calls left in the tighter window) and \`X-RateLimit-Reset\` (whole seconds until
  that window resets; a window opens with the client's first call). Beyond the limit: 429 with Retry-After.
* No pagination: search answers at most 5 customers (more is a 403), the credential check at most one item
  per credential and customer for 1-100 credentials.`;

export function createConnect(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(ctx, 'connect', connectErrorFormatter, {
    title: 'Connect partner customer API (nordgraph sandbox)',
    version: '1.0.0',
    description: DESCRIPTION,
  });
  const state = new ConnectState(ctx);
  registerOAuth(app, ctx, state);
  registerApi(app, ctx, state);
  return {
    name: 'connect',
    app,
    control: createConnectControl(state),
    reset() {
      state.reset();
    },
  };
}
