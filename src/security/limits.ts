import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { redactPersonalNumbers } from './redact-message.js';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { Config } from '../config.js';

/**
 * Request limits, written once and applied to HTTP (Apollo's validationRules and parseOptions,
 * see server.ts) and to graphql-ws subscriptions (`checkOperation` in onSubscribe) alike.
 *
 * Depth, aliases, directives and cost are GraphQL Armor validation rules; the token limit is
 * graphql-js's own `maxTokens` parse option (the same lexer count Armor's max-tokens plugin
 * makes, but usable with Apollo's parser). Defaults (README "Request limits") leave room for
 * every operation in examples/ and the test suites: see test/limits.test.ts.
 */
export interface RequestLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  introspection: boolean;
  /** Strip "Did you mean ...?" from validation errors (everywhere but NODE_ENV=development). */
  hideSuggestions: boolean;
}

export function requestLimits(config: Config): RequestLimits {
  return {
    maxDepth: config.LIMIT_MAX_DEPTH,
    maxAliases: config.LIMIT_MAX_ALIASES,
    maxDirectives: config.LIMIT_MAX_DIRECTIVES,
    maxTokens: config.LIMIT_MAX_TOKENS,
    maxCost: config.LIMIT_MAX_COST,
    // Unset: on with the sandbox, off against the real providers.
    introspection: config.INTROSPECTION ?? config.PROVIDERS_MODE === 'sandbox',
    hideSuggestions: config.NODE_ENV !== 'development',
  };
}

/**
 * The limit rules added to graphql-js's specified rules (Apollo adds those itself, and its own
 * introspection rule from `introspection`; checkOperation adds graphql-js's for WebSocket).
 */
export function limitRules(limits: RequestLimits): ValidationRule[] {
  // Report as validation errors (Armor's default throws out of validate()).
  const report = {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, ...report }),
    maxAliasesRule({ n: limits.maxAliases, ...report }),
    maxDirectivesRule({ n: limits.maxDirectives, ...report }),
    costLimitRule({ maxCost: limits.maxCost, ...report }),
  ];
  return rules;
}

export function limitParseOptions(limits: RequestLimits): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

const SUGGESTION = / ?Did you mean .*\?$/;

/** Removes "Did you mean ...?" (schema hints) from an error message. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * Parses and validates one operation with the same limits as HTTP (for graphql-ws onSubscribe):
 * the document, or the errors to send back, coded as Apollo codes them over HTTP.
 */
export function checkOperation(
  schema: GraphQLSchema,
  limits: RequestLimits,
  rules: readonly ValidationRule[],
  query: string,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode;
  try {
    document = parse(query, limitParseOptions(limits));
  } catch (err) {
    const message = err instanceof GraphQLError ? redactPersonalNumbers(err.message) : 'Syntax Error';
    return { errors: [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
  }
  const errors = validate(schema, document, [
    ...specifiedRules,
    ...rules,
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ]);
  if (errors.length === 0) return { document };
  return {
    errors: errors.map(
      (e) =>
        new GraphQLError(
          redactPersonalNumbers(limits.hideSuggestions ? withoutSuggestions(e.message) : e.message),
          {
            nodes: e.nodes,
            extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ),
    ),
  };
}
