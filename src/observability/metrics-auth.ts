import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { secretsEqual } from '../security/callers.js';

/**
 * /metrics protection: with METRICS_TOKEN set, a scrape must send `authorization: Bearer <token>`.
 * Compared in constant time (secretsEqual).
 */
export function metricsAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!m) return false;
  return secretsEqual(m[1]!, token);
}

export const METRICS_OPEN_WARNING =
  'METRICS_TOKEN is not set: /metrics is open to anyone who can reach this port (set it, or keep the port private)';

/** In live mode an open /metrics is worth a line at start; the sandbox is for development. */
export function warnIfMetricsOpen(config: Config, log: Logger): void {
  if (!config.METRICS_TOKEN && config.PROVIDERS_MODE === 'live') log.warn(METRICS_OPEN_WARNING);
}
