import {
  defaultFieldResolver,
  getNamedType,
  GraphQLError,
  isAbstractType,
  isObjectType,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import type { GatewayContext } from '../context.js';
import type { AjourholdEntryModel, CustomerModel, PersonModel } from '../domain.js';
import { auditSubject } from './audit.js';
import { ANY_PURPOSE, type Caller } from './callers.js';
import { maskNationalId, subjectRef } from './identifiers.js';

/**
 * Field-level access control from the schema's directives (schema/access.graphql), applied once
 * when the schema is built by wrapping only the fields that carry a rule; every other field keeps
 * its resolver untouched, so the rules cost nothing where they do not apply.
 *
 * - `@requiresScopes(scopes, otherwise)`: the caller needs every scope of one inner list; else
 *   a FORBIDDEN error on the field, or (MASK) the value masked.
 * - `@personalData` on a type (or field): every field that returns it, or a union that may hold
 *   it, needs a declared purpose the caller may use; each value read is reported to the
 *   request's audit trail (ctx.audit) with its subject reference, the sub-fields selected and the
 *   provider it came from.
 */

type Denied = 'ERROR' | 'MASK';

interface ScopeRule {
  anyOf: string[][];
  otherwise: Denied;
}

export const hasScopes = (caller: Caller, anyOf: readonly (readonly string[])[]): boolean =>
  anyOf.some((all) => all.every((s) => caller.scopes.has(s)));

const describeScopes = (anyOf: readonly (readonly string[])[]): string =>
  anyOf.map((all) => all.map((s) => `"${s}"`).join(' and ')).join(', or ');

function forbidden(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', field } });
}

/** The FORBIDDEN error for a personal-data field read without an allowed purpose. */
export function purposeError(field: string, caller: Caller, purpose: string | null): GraphQLError {
  const allowed = caller.purposes.has(ANY_PURPOSE)
    ? 'any purpose'
    : caller.purposes.size > 0
      ? [...caller.purposes].sort().join(', ')
      : 'none configured';
  const why = purpose
    ? `the purpose "${purpose}" is not one caller "${caller.id}" may declare (allowed: ${allowed})`
    : `declare a purpose of processing in the x-purpose header (graphql-ws: the x-purpose connection parameter); allowed for caller "${caller.id}": ${allowed}`;
  return forbidden(`Field ${field} returns personal data: ${why}`, field);
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** Top-level field names selected under a field (fragments expanded), computed once per AST node. */
const selectedCache = new WeakMap<readonly FieldNode[], string[]>();
function selectedFields(info: GraphQLResolveInfo): string[] {
  const hit = selectedCache.get(info.fieldNodes);
  if (hit) return hit;
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined, seen: Set<string>) => {
    for (const s of set?.selections ?? []) {
      if (s.kind === 'Field') {
        if (s.name.value !== '__typename') names.add(s.name.value);
      } else if (s.kind === 'InlineFragment') visit(s.selectionSet, seen);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        visit(info.fragments[s.name.value]?.selectionSet, seen);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, new Set());
  const list = [...names].sort();
  selectedCache.set(info.fieldNodes, list);
  return list;
}

/** Subject reference and provider of a personal-data value of a given type, for the audit trail. */
function auditFacts(
  typeName: string,
  value: unknown,
  salt: string,
): { subject: string; provider: string } | null {
  if (typeName === 'Person') {
    const p = value as PersonModel;
    const subject = auditSubject(p, salt);
    if (!subject) return null;
    const provider = p.sources[0]?.provider ?? (p.id.startsWith('bisnode:') ? 'BISNODE' : 'BYNDLE');
    return { subject, provider };
  }
  if (typeName === 'Customer') {
    const c = value as CustomerModel;
    return { subject: subjectRef(`connect-customer:${c.customerNumber}`, salt), provider: 'CONNECT' };
  }
  if (typeName === 'AjourholdEntry') {
    // Named by Byndle's id when matched (as a Person without national id is), else by our own id.
    const e = value as AjourholdEntryModel;
    return { subject: subjectRef(e.byndleId ?? `ajourhold:${e.externalId}`, salt), provider: 'BYNDLE' };
  }
  if (typeName === 'PhoneReservation') {
    const r = value as { phoneNumber?: string };
    return r.phoneNumber ? { subject: subjectRef(r.phoneNumber, salt), provider: 'BYNDLE' } : null;
  }
  return null;
}

export function applyAccessControl(schema: GraphQLSchema): GraphQLSchema {
  const personalTypes = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && getDirective(schema, type, 'personalData')?.length)
      personalTypes.add(type.name);
  }
  /** The personal types a field's return type is or may be (through a union or interface). */
  const personalIn = (named: GraphQLNamedType): string[] => {
    if (isObjectType(named)) return personalTypes.has(named.name) ? [named.name] : [];
    if (isAbstractType(named))
      return schema
        .getPossibleTypes(named)
        .map((t) => t.name)
        .filter((n) => personalTypes.has(n));
    return [];
  };

  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const coordinate = `${typeName}.${fieldName}`;
      const scopeArgs = getDirective(schema, field, 'requiresScopes')?.[0] as
        { scopes: string[][]; otherwise?: Denied } | undefined;
      const scopes: ScopeRule | null = scopeArgs
        ? { anyOf: scopeArgs.scopes, otherwise: scopeArgs.otherwise ?? 'ERROR' }
        : null;
      const named = getNamedType(field.type);
      const personal = personalIn(named);
      const markedPersonal = Boolean(getDirective(schema, field, 'personalData')?.length);
      if (!scopes && personal.length === 0 && !markedPersonal) return field;

      const inner: GraphQLFieldResolver<unknown, GatewayContext> = field.resolve ?? defaultFieldResolver;
      const abstract = isAbstractType(named) ? named : null;
      const scopeMessage = scopes
        ? `Field ${coordinate} needs the scope ${describeScopes(scopes.anyOf)}, which the caller does not hold`
        : '';

      /** Reports each personal value (lists flattened) to the request's audit trail. */
      const audit = (value: unknown, ctx: GatewayContext, info: GraphQLResolveInfo): void => {
        if (value === null || value === undefined) return;
        if (Array.isArray(value)) {
          for (const v of value) audit(v, ctx, info);
          return;
        }
        let typeName: string | null = personal.length === 1 && !abstract ? personal[0]! : null;
        if (abstract) {
          const resolved = abstract.resolveType?.(value, ctx, info, abstract);
          typeName = typeof resolved === 'string' && personalTypes.has(resolved) ? resolved : null;
        }
        if (!typeName) return;
        const facts = auditFacts(typeName, value, ctx.config.CACHE_KEY_SALT);
        if (facts) ctx.audit.read({ ...facts, field: coordinate, fields: selectedFields(info) });
      };

      const resolve: GraphQLFieldResolver<unknown, GatewayContext> = (source, args, ctx, info) => {
        if (scopes && !hasScopes(ctx.caller, scopes.anyOf)) {
          if (scopes.otherwise === 'ERROR') throw forbidden(scopeMessage, coordinate);
          const value = inner(source, args, ctx, info);
          const mask = (v: unknown) => (typeof v === 'string' ? maskNationalId(v) : v);
          return isPromiseLike(value) ? Promise.resolve(value).then(mask) : mask(value);
        }
        if (personal.length === 0 && !markedPersonal) return inner(source, args, ctx, info);
        if (!ctx.purposeAllowed) throw purposeError(coordinate, ctx.caller, ctx.purpose);
        const value = inner(source, args, ctx, info);
        if (personal.length === 0) return value;
        if (isPromiseLike(value))
          return Promise.resolve(value).then((v) => {
            audit(v, ctx, info);
            return v;
          });
        audit(value, ctx, info);
        return value;
      };
      // A subscription marked personal streams facts about persons (changed fields, life events)
      // in every event: its purpose is checked once, when it starts.
      const innerSubscribe = field.subscribe;
      const subscribe: typeof innerSubscribe =
        innerSubscribe && markedPersonal
          ? (source, args, ctx: GatewayContext, info) => {
              if (!ctx.purposeAllowed) throw purposeError(coordinate, ctx.caller, ctx.purpose);
              return innerSubscribe(source, args, ctx, info);
            }
          : innerSubscribe;
      return { ...field, resolve, subscribe };
    },
  });
}
