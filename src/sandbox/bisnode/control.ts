import { Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import type { Person } from '../population/types.js';
import { ENRICHMENT_VARIABLES, LIFE_EVENT_TRIGGERS } from './schemas.js';
import { NotSubscribedError, type BisnodeState } from './state.js';

const lifeEventBody = z
  .object({
    trigger: z.enum(LIFE_EVENT_TRIGGERS),
    phase: z.string().min(1).max(50).default('PREDICT'),
    probability: z.number().int().min(1).max(99).optional(),
    withinEstimatedDays: z.number().int().min(0).optional(),
  })
  .strict();

/** householdSize follows the register (household members), so it is not set by hand. */
const enrichmentBody = z
  .object({ variable: z.enum(ENRICHMENT_VARIABLES).exclude(['householdSize']) })
  .strict();

const reidentifyBody = z
  .object({
    gedi: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/)
      .optional(),
  })
  .strict();

const rateLimitBody = z.object({ perSecond: z.number().int().min(1).max(1_000_000) }).strict();

function bad(message: string, status: 400 | 404 | 409 = 400): Response {
  return Response.json({ error: message }, { status });
}

async function body(c: { req: { json(): Promise<unknown> } }): Promise<unknown> {
  return (await c.req.json().catch(() => ({}))) ?? {};
}

/**
 * Bisnode-specific control routes, mounted at /_sandbox/bisnode/. They make every event type
 * producible (PERSON_CHANGED comes from the shared POST /_sandbox/persons/{ref}/change) and let
 * tests lower the rate limit. A person is named by gedi (current or earlier), sandbox id or
 * national id. Events need a subscribed person (one with an identified consumer): else 409.
 */
export function createBisnodeControl(ctx: SandboxContext, state: BisnodeState): Hono<SandboxEnv> {
  const control = new Hono<SandboxEnv>();
  const resolve = (ref: string): Person | undefined =>
    state.personByGedi(ref) ??
    ctx.population.personById.get(ref) ??
    ctx.population.personByNationalId.get(ref);

  const withSubscribed = (fn: () => unknown): Response => {
    try {
      return Response.json({ event: fn() });
    } catch (e) {
      if (e instanceof NotSubscribedError) return bad(e.message, 409);
      throw e;
    }
  };

  control.post('/persons/:ref/life-event', async (c) => {
    const person = resolve(c.req.param('ref'));
    if (!person) return bad('no such person', 404);
    const parsed = lifeEventBody.safeParse(await body(c));
    if (!parsed.success) return bad(z.prettifyError(parsed.error));
    return withSubscribed(() => state.lifeEvent(person, parsed.data));
  });

  control.post('/persons/:ref/enrichment', async (c) => {
    const person = resolve(c.req.param('ref'));
    if (!person) return bad('no such person', 404);
    const parsed = enrichmentBody.safeParse(await body(c));
    if (!parsed.success) return bad(z.prettifyError(parsed.error));
    return withSubscribed(() => state.changeEnrichment(person, parsed.data.variable));
  });

  control.post('/persons/:ref/reidentify', async (c) => {
    const person = resolve(c.req.param('ref'));
    if (!person) return bad('no such person', 404);
    const parsed = reidentifyBody.safeParse(await body(c));
    if (!parsed.success) return bad(z.prettifyError(parsed.error));
    if (parsed.data.gedi && state.isGediTaken(parsed.data.gedi)) return bad('gedi already in use', 409);
    return withSubscribed(() => state.reidentify(person, parsed.data.gedi));
  });

  control.get('/rate-limit', (c) => c.json({ perSecond: state.rateLimitPerSecond }));
  control.put('/rate-limit', async (c) => {
    const parsed = rateLimitBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return bad(z.prettifyError(parsed.error));
    state.rateLimitPerSecond = parsed.data.perSecond;
    return c.json({ perSecond: state.rateLimitPerSecond });
  });

  return control;
}
