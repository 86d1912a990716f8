import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';

// STUB: to be replaced by the full Bisnode simulation.
export function createBisnode(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(
    ctx,
    'bisnode',
    (status, title, detail) => ({ body: { status, title, detail }, contentType: 'application/json' }),
    { title: 'Bisnode (nordgraph sandbox)', version: '0.0.0', description: 'stub' },
  );
  return { name: 'bisnode', app, reset() {} };
}
