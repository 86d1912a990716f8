import { execFileSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { Pool } from 'undici';
import { createByndleClient } from '../../src/providers/byndle/index.js';
import { UpstreamCache } from '../../src/cache.js';
import { createLogger } from '../../src/log.js';
import { startBenchSandbox } from './http.js';

/**
 * CPU of one upstream call, layer by layer, in this process (the sandbox in its own, on CPU 0;
 * this one on CPU 1): raw undici `pool.request`, then nordgraph's Byndle client (ProviderHttp:
 * resilience, token, dispatch, contract). Same endpoint and subjects, 16 calls in flight.
 *   npx tsx test/bench/upstream-call.ts [calls=20000] [rounds=3]
 */
const CALLS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 16;

const { sandbox, sb, subjects } = await startBenchSandbox();
try {
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)]);
} catch {
  // No taskset: unpinned.
}
const ids = subjects.S1.map((s) => s.nationalId);
const log = createLogger('warn');
const cache = new UpstreamCache({ keySalt: 'bench-salt' });
const byndle = createByndleClient(
  {
    baseUrl: sb.apiUrls.byndle!,
    tokenUrl: sb.tokenUrls.byndle!,
    clientId: sb.credentials.byndle.username,
    clientSecret: sb.credentials.byndle.password,
    ajourholdId: sb.credentials.byndle.ajourholdId,
    timeoutMs: 3_000,
  },
  { cache, log },
);
await byndle.personExtended({ nationalId: ids[0]! });
const base = new URL(sb.apiUrls.byndle!);
const pool = new Pool(base.origin, { connections: 32, pipelining: 1 });
const tokenRes = await fetch(sb.tokenUrls.byndle!, {
  headers: { auth: `${sb.credentials.byndle.username}:${sb.credentials.byndle.password}` },
});
const token = ((await tokenRes.json()) as { token: string }).token;
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const path = `${base.pathname.replace(/\/$/, '')}/v1/lookup/person/extended?nationalId=`;

const variants: Record<string, (i: number) => Promise<unknown>> = {
  'undici pool.request + json': async (i) => {
    const res = await pool.request({
      method: 'GET',
      path: path + encodeURIComponent(ids[i % ids.length]!),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    return res.body.json();
  },
  'nordgraph byndle.personExtended': (i) => byndle.personExtended({ nationalId: ids[i % ids.length]! }),
  'node:http keep-alive + JSON.parse': (i) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          agent,
          host: base.hostname,
          port: base.port,
          path: path + encodeURIComponent(ids[i % ids.length]!),
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    }),
};

async function run(fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < CALLS) await fn(next++);
  };
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / CALLS;
}

for (const fn of Object.values(variants)) await run(fn); // warm-up
for (let r = 1; r <= ROUNDS; r++) {
  for (const [name, fn] of Object.entries(variants)) {
    console.log(`round ${r} ${name.padEnd(34)} ${(await run(fn)).toFixed(1)} µs CPU per call`);
  }
}
await pool.close();
await sandbox.close();
process.exit(0);
