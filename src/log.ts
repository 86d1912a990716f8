import { pino, type Logger } from 'pino';

/**
 * JSON logs. Redaction is a safety net, not the policy: code must not put secrets or personal
 * numbers in log fields in the first place.
 */
export function createLogger(level: string, name = 'nordgraph'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        '*.authorization',
        '*.Authorization',
        '*.password',
        '*.clientSecret',
        '*.secret',
        '*.token',
        '*.nationalId',
        '*.legalId',
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
