import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * JSON logs. Redaction is a safety net, not the policy: code must not put secrets or personal
 * numbers in log fields in the first place.
 */
export function createLogger(level: string, name = 'nordgraph', destination?: DestinationStream): Logger {
  const options: LoggerOptions<never> = {
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
  };
  // Tests pass a stream to read what would have been logged.
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
