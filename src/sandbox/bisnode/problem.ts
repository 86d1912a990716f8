import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { TypedResponse } from 'hono';
import type { ErrorFormatter } from '../common/app.js';

/**
 * RFC 7807 Problem Details as Consumer Intelligence writes them: `type` is always about:blank,
 * `instance` carries a trace id, and schema failures are "Constraint Violation" with one
 * violation per failing field.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const violationSchema = z
  .object({
    field: z.string().openapi({
      description: 'Path of the failing field: `data.legalId`, `[3].consumerId` for item 3 of an array body.',
      example: '[3].consumerId',
    }),
    message: z.string().openapi({ example: 'must match "^(?!_)[a-zA-Z0-9@\\-_]+$"' }),
  })
  .openapi('Violation');

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Constraint Violation' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: 'Request body contains one or more errors' }),
    instance: z.string().openapi({ example: 'urn:bisnode:traceid:7a40216a-4506-4e20-a404-0e60854759cb' }),
    violations: z
      .array(violationSchema)
      .optional()
      .openapi({ description: 'Only with title "Constraint Violation" (status 400).' }),
  })
  .openapi('Problem', { description: 'RFC 7807 Problem Details, served as application/problem+json.' });

export type Problem = z.infer<typeof problemSchema>;
export type Violation = z.infer<typeof violationSchema>;

/** Titles from the document's "Problems" table. */
export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemBody(
  status: number,
  title: string,
  detail: string,
  violations?: Violation[],
): Problem {
  return {
    type: 'about:blank',
    title,
    status,
    detail,
    instance: `urn:bisnode:traceid:${randomUUID()}`,
    ...(violations ? { violations } : {}),
  };
}

/** The ErrorFormatter handed to createProviderApp (faults, 404 fallback, unexpected errors). */
export const formatProblem: ErrorFormatter = (status, title, detail) => ({
  body: problemBody(status, TITLES[status] ?? title, detail),
  contentType: PROBLEM_CONTENT_TYPE,
});

type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 415 | 429 | 500;

/** A problem response typed for the route handlers (the routes declare the Problem schema). */
export function problem<S extends ProblemStatus>(
  c: Context,
  status: S,
  detail: string,
  options: { title?: string; violations?: Violation[]; headers?: Record<string, string> } = {},
): Response & TypedResponse<Problem, S, 'json'> {
  const body = problemBody(status, options.title ?? TITLES[status] ?? 'Error', detail, options.violations);
  return c.json(body, status, { 'Content-Type': PROBLEM_CONTENT_TYPE, ...(options.headers ?? {}) });
}

export function constraintViolation(c: Context, violations: Violation[]) {
  return problem(c, 400, 'Request contains one or more errors', {
    title: 'Constraint Violation',
    violations,
  });
}

/** `[3].consumerId`, `data.legalId`, `pageSize`: the field notation Jackson/Spring style APIs use. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** zod issues as violations. An array over its maximum names the first index past the limit. */
export function violationsFromIssues(issues: readonly z.core.$ZodIssue[]): Violation[] {
  return issues.map((i) => {
    if (i.code === 'too_big' && i.origin === 'array' && i.path.length === 0) {
      return { field: `[${String(i.maximum)}]`, message: i.message };
    }
    return { field: fieldPath(i.path), message: i.message };
  });
}
