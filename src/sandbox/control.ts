import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { faultConfigSchema } from './common/faults.js';
import {
  CHANGED_FIELDS,
  PROVIDERS,
  type ChangedField,
  type ProviderModule,
  type ProviderName,
  type SandboxContext,
  type SandboxEnv,
} from './common/context.js';
import { applyPersonChange } from './population/change.js';
import type { Person } from './population/types.js';

const providerParam = z.enum(PROVIDERS as [ProviderName, ...ProviderName[]]);

const changeBody = z
  .object({
    fields: z
      .array(z.enum(CHANGED_FIELDS as [ChangedField, ...ChangedField[]]))
      .min(1)
      .default(['mobile']),
  })
  .strict();

function bad(message: string, status: 400 | 404 = 400): Response {
  return Response.json({ error: message }, { status });
}

/**
 * The sandbox's own control API, served at `/_sandbox/...` on every provider port. It is not
 * part of any provider's contract; it is how tests, benchmarks and frontend developers steer the
 * simulation (faults, person changes, nightly runs, counters, reset).
 */
export function createControl(
  ctx: SandboxContext,
  modules: Record<ProviderName, ProviderModule>,
  reset: () => void,
): Hono<SandboxEnv> {
  const control = new Hono<SandboxEnv>();
  let changeSeq = 0;

  control.get('/health', (c) => c.json({ ok: true, urls: ctx.urls }));

  control.post('/reset', (c) => {
    reset();
    changeSeq = 0;
    return c.json({ ok: true });
  });

  control.get('/counters', (c) =>
    c.json(Object.fromEntries(PROVIDERS.map((p) => [p, ctx.counters[p].snapshot()]))),
  );
  control.post('/counters/reset', (c) => {
    for (const p of PROVIDERS) ctx.counters[p].reset();
    return c.json({ ok: true });
  });

  control.get('/faults', (c) => c.json(Object.fromEntries(PROVIDERS.map((p) => [p, ctx.faults[p].get()]))));
  control.put('/faults/:provider', async (c) => {
    const provider = providerParam.safeParse(c.req.param('provider'));
    if (!provider.success) return bad(`provider must be one of ${PROVIDERS.join(', ')}`);
    const body = faultConfigSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return bad(z.prettifyError(body.error));
    ctx.faults[provider.data].set(body.data);
    return c.json({ provider: provider.data, faults: body.data });
  });
  control.delete('/faults/:provider', (c) => {
    const provider = providerParam.safeParse(c.req.param('provider'));
    if (!provider.success) return bad(`provider must be one of ${PROVIDERS.join(', ')}`);
    ctx.faults[provider.data].clear();
    return c.json({ ok: true });
  });
  control.delete('/faults', (c) => {
    for (const p of PROVIDERS) ctx.faults[p].clear();
    return c.json({ ok: true });
  });

  /** Test data for tests and frontend work: ?offset=0&limit=20 (at most 500), plus a filter per list. */
  const page = <T>(c: Context<SandboxEnv>, name: string, list: T[]) => {
    const offset = Math.max(0, Number(c.req.query('offset') ?? 0) || 0);
    const limit = Math.min(Math.max(1, Number(c.req.query('limit') ?? 20) || 20), 500);
    return c.json({ total: list.length, [name]: list.slice(offset, offset + limit) });
  };
  control.get('/persons', (c) => {
    const market = c.req.query('market');
    return page(
      c,
      'persons',
      ctx.population.persons.filter((p) => !market || p.market === market),
    );
  });
  control.get('/persons/:ref', (c) => {
    const person = findPerson(ctx, c.req.param('ref'));
    return person ? c.json(person) : bad('no such person', 404);
  });
  control.get('/businesses', (c) => {
    const minRoles = Number(c.req.query('minRoles') ?? 0);
    return page(
      c,
      'businesses',
      ctx.population.businesses.filter((b) => b.roles.length >= minRoles),
    );
  });
  control.get('/vehicles', (c) => page(c, 'vehicles', ctx.population.vehicles));
  control.get('/customers', (c) => page(c, 'customers', ctx.population.customers));
  control.get('/borrowers', (c) =>
    // The monthly series is long; the list says how many snapshots there are.
    page(
      c,
      'borrowers',
      ctx.population.borrowers.map((b) => ({ ...b, accounting: b.accounting.length })),
    ),
  );

  /** Change a person (by sandbox id, national id or gedi); every provider emits its webhooks. */
  control.post('/persons/:ref/change', async (c) => {
    const person = findPerson(ctx, c.req.param('ref'));
    if (!person) return bad('no such person', 404);
    const body = changeBody.safeParse((await c.req.json().catch(() => ({}))) ?? {});
    if (!body.success) return bad(z.prettifyError(body.error));
    const before = structuredClone(person);
    changeSeq += 1;
    applyPersonChange(ctx.population, person, body.data.fields, changeSeq);
    const change = { person, before, fields: body.data.fields, at: new Date(ctx.now()).toISOString() };
    for (const p of PROVIDERS) modules[p].onPersonChanged?.(change);
    return c.json({ id: person.id, fields: body.data.fields, person });
  });

  control.post('/nightly', async (c) => {
    for (const p of PROVIDERS) await modules[p].nightly?.();
    return c.json({ ok: true });
  });

  control.get('/webhooks/deliveries', (c) => c.json({ deliveries: ctx.webhooks.deliveries() }));
  control.put('/webhooks/config', async (c) => {
    const body = z
      .object({
        retryDelaysMs: z.array(z.number().int().min(0)).min(1).optional(),
        maxAttempts: z.number().int().min(1).max(100).optional(),
        duplicateRate: z.number().min(0).max(1).optional(),
        timeoutMs: z.number().int().min(1).optional(),
      })
      .strict()
      .safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return bad(z.prettifyError(body.error));
    ctx.webhooks.configure(body.data);
    return c.json({ ok: true });
  });

  return control;
}

function findPerson(ctx: SandboxContext, ref: string): Person | undefined {
  const pop = ctx.population;
  return pop.personById.get(ref) ?? pop.personByNationalId.get(ref) ?? pop.personByGedi.get(ref);
}
