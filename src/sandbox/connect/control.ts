import { Hono } from 'hono';
import { z } from 'zod';
import type { SandboxEnv } from '../common/context.js';
import type { ConnectState } from './state.js';

const rateLimitBody = z
  .object({
    perSecond: z.number().int().min(1).optional(),
    perMinute: z.number().int().min(1).optional(),
  })
  .strict();

/**
 * Connect's own control routes, mounted at /_sandbox/connect/. Not part of the provider contract:
 * tests and benchmarks use them to change the rate limits at run time. A reset restores the
 * limits given at start (options.connectRateLimit, else 100/s and 2000/min).
 */
export function createConnectControl(state: ConnectState): Hono<SandboxEnv> {
  const control = new Hono<SandboxEnv>();
  control.get('/rate-limit', (c) => c.json(state.limiter.limits));
  control.put('/rate-limit', async (c) => {
    const body = rateLimitBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return c.json({ error: z.prettifyError(body.error) }, 400);
    // New limits start from fresh windows (see RateLimiter.setLimits).
    state.limiter.setLimits(body.data);
    return c.json(state.limiter.limits);
  });
  return control;
}
