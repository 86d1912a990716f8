import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway } from './helpers/gateway.js';
import type { Nordgraph } from '../src/app.js';

const dir = join(import.meta.dirname, '..', 'examples');
const examples = readdirSync(dir)
  .filter((f) => f.endsWith('.graphql'))
  .sort();

let app: Nordgraph;
beforeAll(async () => {
  app = await startTestGateway();
  // Examples that read Symetrisk data need approved relationships, as a frontend developer's sandbox would.
  // Borrower relationships (accounting) and debtor relationships with our company (credit scores).
  for (const body of [
    { count: 20 },
    { count: 20, creditor_organization_number: app.sandbox!.credentials.symetrisk.ownOrgNr },
  ]) {
    await fetch(`${app.sandbox!.controlUrl}/symetrisk/seed-approved`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
});
afterAll(async () => {
  await app?.close();
});

describe('every operation in examples/ runs against the sandbox without errors', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  it.each(examples)('%s', async (file) => {
    const query = readFileSync(join(dir, file), 'utf8');
    const varsFile = join(dir, file.replace(/\.graphql$/, '.variables.json'));
    const variables = existsSync(varsFile)
      ? (JSON.parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>)
      : {};
    const headers: Record<string, string> = {};
    if (query.includes('myCustomer')) {
      // User mode: the sandbox's documented password shortcut stands in for the authorization-code flow.
      const u = app.sandbox!.credentials.connect.users[0]!;
      const c = app.sandbox!.credentials.connect;
      const res = await fetch(app.sandbox!.tokenUrls.connect, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          username: u.username,
          password: u.password,
          client_id: c.clientId,
          client_secret: c.clientSecret,
        }).toString(),
      });
      headers['x-connect-user-token'] = ((await res.json()) as { access_token: string }).access_token;
    }
    const { status, body } = await gql(app.url, query, variables, headers);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(status).toBe(200);
    expect(body.data).toBeTruthy();
  });
});
