import { startSandbox } from './index.js';
import { PROVIDERS } from './common/context.js';

/** `npm run sandbox`: the four simulated providers alone, for frontend developers working offline. */
const ports = Object.fromEntries(
  PROVIDERS.map((p) => [p, Number(process.env[`SANDBOX_${p.toUpperCase()}_PORT`] ?? 0)]),
);
const started = Date.now();
const sandbox = await startSandbox({ ports, host: process.env.SANDBOX_HOST ?? '127.0.0.1' });
const c = sandbox.credentials;
const lines = [
  `nordgraph sandbox ready in ${Date.now() - started} ms (seed ${sandbox.context.options.seed}, ${sandbox.context.population.persons.length} persons)`,
  '',
  `Byndle     ${sandbox.apiUrls.byndle}  token: GET ${sandbox.tokenUrls.byndle} with header "Auth: ${c.byndle.username}:${c.byndle.password}"  ajourhold ${c.byndle.ajourholdId}`,
  `Bisnode    ${sandbox.apiUrls.bisnode}  token: POST ${sandbox.tokenUrls.bisnode} client ${c.bisnode.clientId} / ${c.bisnode.clientSecret} scope=bci`,
  `Connect    ${sandbox.apiUrls.connect}  token: POST ${sandbox.tokenUrls.connect} client ${c.connect.clientId} / ${c.connect.clientSecret}; users ${c.connect.users.map((u) => `${u.username} / ${u.password}`).join(', ')}`,
  `Symetrisk  ${sandbox.apiUrls.symetrisk}  token: POST ${sandbox.tokenUrls.symetrisk} client ${c.symetrisk.clientId} / ${c.symetrisk.clientSecret}`,
  '',
  `OpenAPI    ${PROVIDERS.map((p) => `${sandbox.urls[p]}/openapi.json`).join('  ')}`,
  `Control    ${sandbox.controlUrl}  (persons, faults, counters, nightly, reset)`,
];
console.log(lines.join('\n'));

const stop = async () => {
  await sandbox.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
