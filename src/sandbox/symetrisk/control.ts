import { Hono } from 'hono';
import { z } from 'zod';
import type { SandboxContext, SandboxEnv } from '../common/context.js';
import type { Relationship, SymetriskState } from './state.js';

const answerBody = z
  .object({
    organization_number: z.string().regex(/^\d{9}$/),
    /** Present: the debtor relationship with this creditor; absent: the own company's borrower relationship. */
    creditor_organization_number: z
      .string()
      .regex(/^\d{9}$/)
      .optional(),
  })
  .strict();

const seedBody = z
  .object({
    count: z.number().int().min(1).max(10_000),
    creditor_organization_number: z
      .string()
      .regex(/^\d{9}$/)
      .optional(),
    /** Seeding is for benchmarks; notifications would only flood the poller, so they are opt-in. */
    notify: z.boolean().default(false),
  })
  .strict();

function bad(message: string, status: 400 | 404 | 409 = 400): Response {
  return Response.json({ error: message }, { status });
}

const view = (r: Relationship) => ({
  kind: r.kind,
  creditor_organization_number: r.creditor,
  organization_number: r.orgNr,
  relationship_state: r.state,
  requested_at: r.requestedAt,
  approved_at: r.approvedAt,
  signup_link: r.signupLink,
});

/**
 * Symetrisk's control routes (mounted at /_sandbox/symetrisk/): they play the companies' side of
 * the dashboard (approve, reject, revoke), which the API client can never do itself.
 */
export function createSymetriskControl(ctx: SandboxContext, state: SymetriskState): Hono<SandboxEnv> {
  const control = new Hono<SandboxEnv>();

  const answer =
    (to: 'access_approved' | 'access_rejected' | 'access_revoked') =>
    async (c: { req: { json: () => Promise<unknown> } }): Promise<Response> => {
      const body = answerBody.safeParse(await c.req.json().catch(() => undefined));
      if (!body.success) return bad(z.prettifyError(body.error));
      const { organization_number: orgNr, creditor_organization_number: creditorGiven } = body.data;
      const pop = ctx.population;
      if (!pop.businessByOrgNr.has(orgNr)) return bad(`no business ${orgNr}`, 404);
      if (creditorGiven && !pop.businessByOrgNr.has(creditorGiven))
        return bad(`no business ${creditorGiven}`, 404);
      const kind = creditorGiven ? 'debtor' : 'borrower';
      const creditor = creditorGiven ?? ctx.credentials.symetrisk.ownOrgNr;
      const result = state.answer(kind, creditor, orgNr, to);
      if (!result) {
        const current = state.get(kind, creditor, orgNr)?.state ?? 'no relationship';
        return bad(`cannot go from ${current} to ${to}`, 409);
      }
      return Response.json({ changed: result.changed, relationship: view(result.relationship) });
    };

  control.post('/approve', (c) => answer('access_approved')(c));
  control.post('/reject', (c) => answer('access_rejected')(c));
  control.post('/revoke', (c) => answer('access_revoked')(c));

  control.post('/approve-all-pending', (c) => {
    const approved = state
      .pending()
      .map((r) => state.answer(r.kind, r.creditor, r.orgNr, 'access_approved')?.relationship)
      .filter((r): r is Relationship => r !== undefined);
    return c.json({ approved: approved.length, relationships: approved.map(view) });
  });

  /** Approved relationships with the first N borrowers that have accounting data, in population order. */
  control.post('/seed-approved', async (c) => {
    const body = seedBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) return bad(z.prettifyError(body.error));
    const pop = ctx.population;
    const creditorGiven = body.data.creditor_organization_number;
    if (creditorGiven && !pop.businessByOrgNr.has(creditorGiven))
      return bad(`no business ${creditorGiven}`, 404);
    const kind = creditorGiven ? 'debtor' : 'borrower';
    const creditor = creditorGiven ?? ctx.credentials.symetrisk.ownOrgNr;
    const orgNrs = pop.borrowers
      .map((b) => b.orgNr)
      .filter((o) => o !== creditor && pop.businessByOrgNr.has(o))
      .slice(0, body.data.count);
    for (const orgNr of orgNrs) {
      state.request(kind, creditor, orgNr);
      state.answer(kind, creditor, orgNr, 'access_approved', body.data.notify);
    }
    return c.json({
      kind,
      creditor_organization_number: creditor,
      count: orgNrs.length,
      organization_numbers: orgNrs,
    });
  });

  control.get('/relationships', (c) => c.json({ relationships: state.all().map(view) }));

  return control;
}
