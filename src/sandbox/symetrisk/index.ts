import { createProviderApp } from '../common/app.js';
import type { ProviderModule, SandboxContext } from '../common/context.js';

// STUB: to be replaced by the full Symetrisk simulation.
export function createSymetrisk(ctx: SandboxContext): ProviderModule {
  const app = createProviderApp(
    ctx,
    'symetrisk',
    (status, title, detail) => ({ body: { status, title, detail }, contentType: 'application/json' }),
    { title: 'Symetrisk (nordgraph sandbox)', version: '0.0.0', description: 'stub' },
  );
  return { name: 'symetrisk', app, reset() {} };
}
