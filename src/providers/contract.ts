import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { z } from 'zod';

/**
 * Checks an upstream body against its zod contract (schemas.ts of each provider stay the one
 * statement of each contract). Each schema is turned once, on first use, into JSON Schema
 * (`z.toJSONSchema`) and compiled by Ajv into a validator that only reads the parsed JSON:
 * a valid body is passed on as it is, where zod's `safeParse` builds a copy of every object and
 * array in it. That copy was ~20% of what the gateway allocated in benchmark S3 (301 bodies per
 * query) and its garbage collection a large part of the gap to hand-written code (issue 7).
 *
 * The two can only differ in the gateway's favour:
 * - a body Ajv refuses goes to zod, which names the fields that broke the contract (and accepts
 *   it after all if only the JSON Schema translation was stricter);
 * - a schema JSON Schema cannot express (a transform, a refinement: none today, all schemas are
 *   plain shapes) or Ajv cannot compile is checked by zod, as before;
 * - unknown properties are kept instead of stripped: mapping.ts picks the fields it uses, GraphQL
 *   answers only what was selected, and a body sent back upstream (Connect's read-before-write,
 *   connect/update.ts) is rebuilt field by field, never spread.
 * test/providers/contract.test.ts checks broken bodies and the fallbacks; with the shadow check
 * below, every test that reaches the sandbox also checks the two agree on its real answers.
 */

export type ContractResult<T> = { success: true; data: T } | { success: false; error: z.ZodError };

// strict: an unknown keyword makes compile() throw, so that schema falls back to zod instead of
// being checked less than its contract says.
// String lengths: Ajv's default counts code points, as zod 4 does (test/providers/contract.test.ts).
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: false, validateFormats: true });
const validators = new WeakMap<z.ZodType, ValidateFunction | null>();

/** Schema kinds whose output is not their input: a validator that only reads cannot stand in. */
const RESHAPING = new Set(['transform', 'pipe', 'default', 'prefault', 'catch', 'success', 'readonly']);

/**
 * Refuses (so zod keeps the schema) what JSON Schema cannot stand for faithfully: anything that
 * reshapes the data (a transform, a default, coercion, `.trim()`-style overwrites: the input
 * schema would pass the raw value on), and `.refine()`/`.superRefine()` checks, which
 * toJSONSchema leaves out without a word.
 */
function refuseNonShapes(ctx: {
  zodSchema: { _zod: { def: { type: string; checks?: unknown[]; coerce?: boolean } } };
}): void {
  const def = ctx.zodSchema._zod.def;
  if (RESHAPING.has(def.type) || def.coerce === true) throw new Error(`${def.type}: checked by zod`);
  for (const check of def.checks ?? []) {
    const kind = (check as { _zod?: { def?: { check?: string } } })._zod?.def?.check;
    // 'custom': .refine(); 'overwrite': .trim(), .toLowerCase() and the like, which change the value.
    if (kind === 'custom' || kind === 'overwrite') throw new Error(`a ${kind} check: checked by zod`);
  }
}

/** The compiled validator of a schema, or null when zod must check it itself. */
export function compiledContract(schema: z.ZodType): ValidateFunction | null {
  let validate = validators.get(schema);
  if (validate === undefined) {
    try {
      validate = ajv.compile(
        z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw', override: refuseNonShapes }),
      );
    } catch {
      validate = null;
    }
    validators.set(schema, validate);
  }
  return validate;
}

let shadow = false;

/**
 * Tests only (test/setup.ts turns it on in every test file): each body the compiled
 * validator accepts is also given to zod, and a body zod refuses fails loudly. So the whole suite,
 * on the sandbox's real answers, checks that the fast path never lets through what zod would not.
 */
export function enableContractShadowCheck(): void {
  shadow = true;
}

/** `schema.safeParse(json)`, without the copy when the body holds to the contract. */
export function checkContract<S extends z.ZodType>(schema: S, json: unknown): ContractResult<z.infer<S>> {
  const validate = compiledContract(schema);
  if (validate?.(json)) {
    if (shadow && !schema.safeParse(json).success) {
      throw new Error('contract check: the compiled validator accepted a body zod refuses');
    }
    return { success: true, data: json as z.infer<S> };
  }
  return schema.safeParse(json);
}
