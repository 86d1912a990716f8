import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ErrorFormatter } from '../common/app.js';

/**
 * Connect's API errors are `{exceptionType, errorMessage}` (seen in public client code). The
 * exception names are ours: Java-style names per status, since the real service is a Java API.
 */
const EXCEPTION_TYPES: Record<number, string> = {
  400: 'BadRequestException',
  401: 'UnauthorizedException',
  403: 'ForbiddenException',
  404: 'NotFoundException',
  429: 'TooManyRequestsException',
  500: 'InternalServerErrorException',
  502: 'BadGatewayException',
  503: 'ServiceUnavailableException',
  504: 'GatewayTimeoutException',
};

export function exceptionTypeFor(status: number): string {
  return EXCEPTION_TYPES[status] ?? (status >= 500 ? 'InternalServerErrorException' : 'BadRequestException');
}

export const ExceptionResponse = z
  .object({
    exceptionType: z.string().openapi({ example: 'BadRequestException' }),
    errorMessage: z.string().openapi({ example: 'phoneNumber: must follow E.164, e.g. +4712345678' }),
  })
  .openapi('ExceptionResponse', {
    description:
      'Every Connect API error. `exceptionType` is one of BadRequestException (400), ' +
      'UnauthorizedException (401), ForbiddenException (403), NotFoundException (404), ' +
      'TooManyRequestsException (429), InternalServerErrorException (500), ServiceUnavailableException (503).',
  });

export const connectErrorFormatter: ErrorFormatter = (status, _title, detail) => ({
  body: { exceptionType: exceptionTypeFor(status), errorMessage: detail },
  contentType: 'application/json',
});

export type ApiErrorStatus = 400 | 401 | 403 | 404 | 429 | 500;

/** A typed Connect error response, so route handlers stay checked against their declared statuses. */
export function apiError<S extends ApiErrorStatus>(c: Context, status: S, message: string) {
  return c.json({ exceptionType: exceptionTypeFor(status), errorMessage: message }, status);
}

export function apiErrorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ exceptionType: exceptionTypeFor(status), errorMessage: message }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** OAuth 2.0 error body of the login server (RFC 6749 section 5.2). */
export const OAuthError = z
  .object({
    error: z
      .enum([
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'unauthorized_client',
        'unsupported_grant_type',
        'unsupported_response_type',
        'access_denied',
      ])
      .openapi({ example: 'invalid_grant' }),
    error_description: z.string().openapi({ example: 'Authorization code is invalid, used or expired' }),
  })
  .openapi('OAuthError');

export type OAuthErrorCode = z.infer<typeof OAuthError>['error'];

export function oauthErrorResponse(status: 400 | 401, error: OAuthErrorCode, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}
