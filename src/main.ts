import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startNordgraph } from './app.js';

/** Entry point: configuration → sandbox (by default) → gateway. */
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`nordgraph cannot start. ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(config.LOG_LEVEL);
const started = Date.now();
const app = await startNordgraph(config, log);
log.info(
  { url: app.url, mode: config.PROVIDERS_MODE, startMs: Date.now() - started },
  `nordgraph listening on ${app.url} (graphql-ws on ${app.wsUrl})`,
);
if (app.sandbox) {
  const c = app.sandbox.credentials;
  log.info(
    { sandbox: app.sandbox.urls, control: app.sandbox.controlUrl },
    `sandbox providers: byndle ${app.sandbox.apiUrls.byndle}, bisnode ${app.sandbox.apiUrls.bisnode}, connect ${app.sandbox.apiUrls.connect}, symetrisk ${app.sandbox.apiUrls.symetrisk}; test users ${c.connect.users.map((u) => u.username).join(', ')}`,
  );
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: finishing in-flight requests');
  app.close().then(
    () => {
      log.info('shutdown complete');
      log.flush();
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
