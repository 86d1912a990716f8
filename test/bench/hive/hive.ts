/**
 * Baseline (b) of `npm run bench`: Hive Gateway 2 over a supergraph that GraphQL Mesh composes
 * from the sandbox's own OpenAPI documents (mesh.config.ts in this folder). The packages live in
 * this folder's package.json, installed here on first use, never by the top-level `npm ci`.
 *
 * What it can express (checked by test/bench/http.ts against the answers' values):
 *  - S1: person extended → credential check (a POST, so a Mutation field, reached with
 *    `@resolveTo`) → customer info per checked credential. It does not deduplicate: a customer
 *    found through both the mobile and the email is fetched twice (4 calls where 3 suffice).
 *    `addressHistory.validTo` is left out: the current address has validTo null and the gateway
 *    fails that field ("Unexpected error") although the document allows null.
 *  - S3: relationships → per borrower business (Byndle), credit score and 12 snapshots via
 *    `@resolveTo`; the creditor (our own organisation number) is fixed at composition.
 *  - S2 is not run against it (the brief asks for S1 and S3).
 * Upstream tokens are fetched by the harness and baked into the supergraph's transport headers:
 * Mesh's OpenAPI source has no client-credentials flow of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { RemoteSandbox } from '../sandbox-child.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BIN = `${HERE}node_modules/.bin/`;

export const HIVE_QUERIES = {
  S1: /* GraphQL */ `
    query ($id: String!) {
      v1_lookup_person_extended(nationalId: $id) {
        ... on Byndle_ByndlePersonExtended {
          person {
            byndleId
            firstName
            lastName
            birthDate
            address {
              fullAddress
            }
            reservations {
              reservedDm
              reservedPhoneSale
              reservedHumOrg
            }
          }
          addressHistory {
            fullAddress
            validFrom
          }
          phones {
            number
            type
          }
          customers {
            ... on Connect_CredentialCheckResponse {
              customers {
                customerNumber
                customer {
                  ... on Connect_CustomerInfo {
                    customerNumber
                    name {
                      firstName
                      lastName
                    }
                    emails
                  }
                }
              }
            }
          }
        }
      }
    }
  `,
  S3: /* GraphQL */ `
    {
      api_v1_relationships(limit: 100) {
        ... on Symetrisk_RelationshipList {
          metadata {
            totalItems
          }
          items {
            organization_number
            name
            relationship_state
            business {
              ... on Byndle_ByndleBusiness {
                orgNr
                name
                employees
              }
            }
            creditScore {
              ... on Symetrisk_CreditScore {
                score
                risk_class
                probability_of_default
              }
            }
            accounting(limit: 12) {
              ... on Symetrisk_AccountingDataList {
                items {
                  data {
                    snapshot_date
                    revenue
                    net_result
                    equity
                  }
                }
              }
            }
          }
        }
      }
    }
  `,
};

export interface HiveGateway {
  origin: string;
  pid: number;
  close(): Promise<void>;
}

/** Installs this folder's packages when missing. Throws with npm's last lines on failure. */
export function ensureInstalled(log: (l: string) => void): void {
  if (existsSync(`${BIN}hive-gateway`) && existsSync(`${BIN}mesh-compose`)) return;
  log('hive: installing @graphql-hive/gateway and the Mesh composer into test/bench/hive (first run only)');
  // The lock file pins the tree that was checked to install on Node 20 (see STACK.md overrides).
  const args = existsSync(`${HERE}package-lock.json`) ? ['ci'] : ['install'];
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund'], { cwd: HERE, encoding: 'utf8' });
  if (r.status !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-6).join(' | ');
    throw new Error(`npm ${args[0]} in test/bench/hive failed (exit ${r.status}): ${tail}`);
  }
}

async function token(url: string, init: RequestInit, field: 'token' | 'access_token'): Promise<string> {
  // Once more on a network failure: a keep-alive socket the sandbox closed while this process was
  // busy fails the first POST on it (fetch retries no POST by itself).
  const res = await fetch(url, init).catch(() => fetch(url, init));
  if (!res.ok) throw new Error(`token endpoint ${url} answered ${res.status}`);
  return ((await res.json()) as Record<string, string>)[field]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Composes the supergraph against this sandbox and starts one Hive Gateway process (no workers). */
export async function startHive(sb: RemoteSandbox, ownOrgNr: string, workDir: string): Promise<HiveGateway> {
  mkdirSync(workDir, { recursive: true });
  const c = sb.credentials;
  const form = (body: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
  const env = {
    ...process.env,
    HIVE_BYNDLE_ORIGIN: sb.urls.byndle!,
    HIVE_CONNECT_ORIGIN: sb.urls.connect!,
    HIVE_SYMETRISK_ORIGIN: sb.urls.symetrisk!,
    HIVE_SYMETRISK_OWN_ORG_NR: ownOrgNr,
    HIVE_BYNDLE_TOKEN: await token(
      sb.tokenUrls.byndle!,
      { headers: { auth: `${c.byndle.username}:${c.byndle.password}` } },
      'token',
    ),
    HIVE_CONNECT_TOKEN: await token(
      sb.tokenUrls.connect!,
      form({
        grant_type: 'client_credentials',
        client_id: c.connect.clientId,
        client_secret: c.connect.clientSecret,
      }),
      'access_token',
    ),
    HIVE_SYMETRISK_TOKEN: await token(
      sb.tokenUrls.symetrisk!,
      form(
        { grant_type: 'client_credentials' },
        {
          authorization: `Basic ${Buffer.from(`${c.symetrisk.clientId}:${c.symetrisk.clientSecret}`).toString('base64')}`,
        },
      ),
      'access_token',
    ),
  };
  const supergraph = `${workDir}/supergraph.graphql`;
  const compose = spawnSync(`${BIN}mesh-compose`, ['-o', supergraph], { cwd: HERE, env, encoding: 'utf8' });
  if (compose.status !== 0) {
    const tail = `${compose.stdout}\n${compose.stderr}`.trim().split('\n').slice(-4).join(' | ');
    throw new Error(`mesh-compose failed (exit ${compose.status}): ${tail}`);
  }
  const port = await freePort();
  // Started from workDir, not from this folder: the gateway would otherwise load mesh.config.ts.
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      `${BIN}hive-gateway`,
      'supergraph',
      supergraph,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--fork',
      '0',
    ],
    { cwd: workDir, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hive-gateway exited (code ${proc.exitCode}): ${stderr}`);
    const ok = await fetch(`${origin}/healthcheck`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('hive-gateway did not answer /healthcheck within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    origin,
    pid: proc.pid!,
    close: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
