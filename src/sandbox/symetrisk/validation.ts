import type { OpenAPIHono } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { SandboxEnv } from '../common/context.js';

type Hook = NonNullable<OpenAPIHono<SandboxEnv>['defaultHook']>;

const LOCATION: Record<string, string> = {
  param: 'path',
  query: 'query',
  json: 'body',
  form: 'body',
  header: 'header',
};

/** One zod issue in pydantic v2's words, so a client written against FastAPI's 422 reads it. */
function toPydantic(issue: z.core.$ZodIssue): { type: string; msg: string } {
  switch (issue.code) {
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return { type: 'missing', msg: 'Field required' };
      if (issue.expected === 'number' || issue.expected === 'int')
        return { type: 'int_parsing', msg: 'Input should be a valid integer' };
      if (issue.expected === 'array') return { type: 'list_type', msg: 'Input should be a valid list' };
      if (issue.expected === 'object')
        return { type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object' };
      return { type: `${issue.expected}_type`, msg: `Input should be a valid ${issue.expected}` };
    case 'invalid_format':
      return issue.format === 'regex'
        ? { type: 'string_pattern_mismatch', msg: `String should match pattern '${issue.pattern ?? ''}'` }
        : { type: 'value_error', msg: issue.message };
    case 'too_big':
      return issue.origin === 'array'
        ? { type: 'too_long', msg: `List should have at most ${String(issue.maximum)} items` }
        : { type: 'less_than_equal', msg: `Input should be less than or equal to ${String(issue.maximum)}` };
    case 'too_small':
      return issue.origin === 'array'
        ? { type: 'too_short', msg: `List should have at least ${String(issue.minimum)} item` }
        : {
            type: 'greater_than_equal',
            msg: `Input should be greater than or equal to ${String(issue.minimum)}`,
          };
    default:
      return { type: 'value_error', msg: issue.message };
  }
}

export const validationHook: Hook = (result, c) => {
  if (result.success) return undefined;
  const where = LOCATION[result.target] ?? result.target;
  const detail = result.error.issues.map((issue) => ({
    ...toPydantic(issue),
    loc: [where, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
  }));
  return c.json({ detail }, 422);
};
