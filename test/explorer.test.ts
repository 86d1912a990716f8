import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Nordgraph } from '../src/app.js';
import { startTestGateway } from './helpers/gateway.js';

/**
 * The GraphiQL explorer at GET /graphql, driven in headless Chromium (Debian's `chromium`
 * package, launched by playwright-core; nothing is downloaded). Every request the page makes to
 * a host other than 127.0.0.1 is aborted and recorded, and the test asserts there were none: the
 * explorer works with no internet.
 */

function findChromium(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const chromiumPath = findChromium();
const inCI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
if (!chromiumPath && !inCI) {
  console.warn(
    'explorer.test.ts: skipped, `chromium` is not on PATH (apt-get install -y chromium). Under CI=true this fails.',
  );
}

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const RUN_BUTTON = 'button.graphiql-execute-button';
const RESPONSE = '.graphiql-response';

describe.skipIf(!chromiumPath && !inCI)('GraphiQL explorer in headless Chromium', () => {
  let app: Nordgraph;
  let browser: Browser;
  let page: Page;
  /** Requests to anywhere but the gateway: aborted, and must stay empty. */
  const offsite: string[] = [];
  /** Everything the page asked for, for the failure messages. */
  const requested: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!chromiumPath) {
      throw new Error('`chromium` is not on PATH; CI needs it (.ci/run installs Debian’s chromium package)');
    }
    app = await startTestGateway();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext();
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      requested.push(url.href);
      if (url.hostname !== '127.0.0.1') {
        offsite.push(url.href);
        await route.abort('internetdisconnected');
        return;
      }
      await route.continue();
    });
    page = await context.newPage();
    page.on('websocket', (ws) => {
      requested.push(ws.url());
      if (new URL(ws.url()).hostname !== '127.0.0.1') offsite.push(ws.url());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function setQuery(query: string): Promise<void> {
    await page.locator(QUERY_EDITOR).click();
    // CodeMirror 5 keeps its instance on the wrapper element (no DOM lib here, hence the cast).
    await page.locator(QUERY_EDITOR).evaluate((el: unknown, text: string) => {
      const cm = (el as { CodeMirror?: { setValue(v: string): void } }).CodeMirror;
      if (!cm) throw new Error('no CodeMirror instance on the query editor');
      cm.setValue(text);
    }, query);
    // GraphiQL parses the editor (operation kind, name) 100 ms after a change, debounced; the run
    // button uses that parse to pick HTTP or WebSocket, so let it settle.
    await page.waitForTimeout(400);
  }

  it('opens at /graphql, runs a query and shows the answer, with no request leaving 127.0.0.1', async () => {
    const response = await page.goto(app.url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);

    await page.locator(QUERY_EDITOR).waitFor({ state: 'visible' });
    await expect.poll(() => page.locator(QUERY_EDITOR).innerText()).toContain('service');

    await setQuery('{ service { name } }');
    await page.locator(RUN_BUTTON).click();
    await expect.poll(() => page.locator(RESPONSE).innerText(), { timeout: 10_000 }).toContain('"nordgraph"');

    // Assets came from the gateway itself.
    expect(requested.some((u) => u.includes('/graphql/explorer/graphiql.min.js'))).toBe(true);
    expect(requested.some((u) => u.includes('/graphql/explorer/react.production.min.js'))).toBe(true);
    expect(offsite, `requests outside 127.0.0.1:\n${offsite.join('\n')}`).toEqual([]);
    expect(pageErrors, pageErrors.join('\n')).toEqual([]);
  });

  it('runs a subscription over graphql-ws on the same origin', async () => {
    await setQuery('subscription Beats { heartbeat(intervalMs: 20, count: 3) { sequence } }');
    await page.locator(RUN_BUTTON).click();
    await expect
      .poll(() => page.locator(RESPONSE).innerText(), { timeout: 10_000 })
      .toMatch(/"sequence":\s*3/);
    expect(requested.some((u) => u.startsWith('ws://127.0.0.1:'))).toBe(true);
    expect(offsite, `requests outside 127.0.0.1:\n${offsite.join('\n')}`).toEqual([]);
    expect(pageErrors, pageErrors.join('\n')).toEqual([]);
  });
});
