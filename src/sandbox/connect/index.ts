import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';

// STUB: to be replaced by the full Connect simulation.
export function createConnect(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(
    ctx,
    'connect',
    (status, title, detail) => ({ body: { status, title, detail }, contentType: 'application/json' }),
    { title: 'Connect (nordgraph sandbox)', version: '0.0.0', description: 'stub' },
  );
  return { name: 'connect', app, reset() {} };
}
