import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { UpstreamError } from './providers/errors.js';
import { redactPersonalNumbers } from './security/redact-message.js';

/** Bad arguments beyond their GraphQL types: names the argument and the expected form, never the value. */
export class InputError extends GraphQLError {
  constructor(argument: string, expected: string, extra: Record<string, unknown> = {}) {
    super(`Argument "${argument}" is invalid: expected ${expected}.`, {
      extensions: { code: 'BAD_USER_INPUT', argument, ...extra },
    });
  }
}

/**
 * The one place where failures become GraphQL errors with a stable `extensions.code`: an
 * UpstreamError thrown anywhere below a resolver becomes `{ code, provider, status }` on its
 * field. Anything unknown keeps Apollo's own formatting (internal errors are masked there).
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof UpstreamError) {
    return {
      ...formatted,
      message: original.message,
      extensions: {
        code: original.code,
        provider: original.provider,
        status: original.status,
        ...(original.retryAfterMs !== null ? { retryAfterMs: original.retryAfterMs } : {}),
      },
    };
  }
  // graphql-js may quote the caller's value (a national id, a phone number) in its messages.
  const message = redactPersonalNumbers(formatted.message);
  return message === formatted.message ? formatted : { ...formatted, message };
}
