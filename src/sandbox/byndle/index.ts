import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';

// STUB: to be replaced by the full Byndle simulation.
export function createByndle(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(
    ctx,
    'byndle',
    (status, title, detail) => ({ body: { status, title, detail }, contentType: 'application/json' }),
    { title: 'Byndle (nordgraph sandbox)', version: '0.0.0', description: 'stub' },
  );
  return { name: 'byndle', app, reset() {} };
}
