import type { Logger } from './log.js';
import type { Config } from './config.js';

/** Per operation: made fresh for every HTTP request and every WebSocket subscription. */
export interface GatewayContext {
  config: Config;
  log: Logger;
  requestId: string;
  startedAt: string;
  version: string;
}
