import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

/**
 * The GraphiQL explorer served at GET /graphql (browsers only). Every asset comes from installed
 * npm packages and is served by nordgraph itself under /graphql/explorer/, so the explorer works
 * with no internet: graphiql 3.x UMD build (bundles graphql, CodeMirror, graphql-ws and its
 * fonts as data: URLs) on React 18 UMD.
 */

export const EXPLORER_ASSET_PREFIX = '/graphql/explorer/';

/**
 * Allow-list: the URL file name → the package and the file inside it. Nothing else is served.
 * These packages' `exports` hide the UMD files, so the path is taken from their package.json.
 */
const JS = 'text/javascript; charset=utf-8';
const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', type: JS },
  'react-dom.production.min.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: JS },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: JS },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
};

const require = createRequire(import.meta.url);
const cache = new Map<string, { body: Buffer; type: string; etag: string }>();

function loadAsset(file: string): { body: Buffer; type: string; etag: string } | undefined {
  if (!Object.hasOwn(ASSETS, file)) return undefined;
  let asset = cache.get(file);
  if (!asset) {
    const { pkg, file: inside, type } = ASSETS[file]!;
    const body = readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), inside));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    asset = { body, type, etag };
    cache.set(file, asset);
  }
  return asset;
}

/**
 * Serves one allow-listed explorer asset when `pathname` is `/graphql/explorer/<file>`; returns
 * false (nothing written) for any other path. Files are read once and kept in memory.
 */
export function serveExplorerAsset(pathname: string, res: ServerResponse, ifNoneMatch?: string): boolean {
  if (!pathname.startsWith(EXPLORER_ASSET_PREFIX)) return false;
  const asset = loadAsset(pathname.slice(EXPLORER_ASSET_PREFIX.length));
  if (!asset) {
    const text = 'Not found';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': text.length });
    res.end(text);
    return true;
  }
  const headers = {
    'content-type': asset.type,
    // The page links each asset as `<file>?v=<content hash>`, so a new package version is a new URL.
    'cache-control': 'public, max-age=31536000, immutable',
    etag: asset.etag,
    'x-content-type-options': 'nosniff',
  };
  if (ifNoneMatch === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-length': asset.body.length });
  res.end(asset.body);
  return true;
}

export interface ExplorerOptions {
  /** Page title. */
  title?: string;
  /** The operation shown when the explorer first opens. */
  defaultQuery?: string;
  /**
   * Headers (and graphql-ws connection params) the explorer sends, shown in its headers editor:
   * the development key and a purpose in sandbox mode, none against real providers.
   */
  headers?: Record<string, string>;
}

export const DEFAULT_EXPLORER_QUERY = `# nordgraph explorer: write a query, press the run button (or Ctrl-Enter).
{
  service {
    name
    version
    mode
  }
}
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The inline start-up script; JSON.stringify plus `<` escaping keeps it safe inside <script>. */
function bootScript(defaultQuery: string, headers: Record<string, string>): string {
  const query = JSON.stringify(defaultQuery).replace(/</g, '\\u003c');
  const sent = JSON.stringify(headers).replace(/</g, '\\u003c');
  const shown = JSON.stringify(JSON.stringify(headers, null, 2)).replace(/</g, '\\u003c');
  return `
const http = new URL('/graphql', location.href);
const ws = new URL(http);
ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = GraphiQL.createFetcher({
  url: http.href,
  subscriptionUrl: ws.href,
  enableIncrementalDelivery: false,
  headers: { 'content-type': 'application/json', ...${sent} },
  wsConnectionParams: ${sent},
});
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: ${query},
    defaultHeaders: ${shown},
    defaultEditorToolsVisibility: true,
  }),
);
`;
}

/** The explorer page plus the Content-Security-Policy that keeps it on this origin only. */
export function explorerPage(options: ExplorerOptions = {}): { html: string; csp: string } {
  const title = escapeHtml(options.title ?? 'nordgraph explorer');
  const script = bootScript(options.defaultQuery ?? DEFAULT_EXPLORER_QUERY, options.headers ?? {});
  const hash = createHash('sha256').update(script).digest('base64');
  const src = (file: string) => `${EXPLORER_ASSET_PREFIX}${file}?v=${loadAsset(file)!.etag.slice(1, 13)}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${src('graphiql.min.css')}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<script src="${src('react.production.min.js')}"></script>
<script src="${src('react-dom.production.min.js')}"></script>
<script src="${src('graphiql.min.js')}"></script>
<script>${script}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/** The explorer's HTML page (see explorerPage for the matching Content-Security-Policy). */
export function explorerHtml(options: ExplorerOptions = {}): string {
  return explorerPage(options).html;
}

/** Writes the explorer page to `res`. */
export function sendExplorerPage(res: ServerResponse, options: ExplorerOptions = {}): void {
  const { html, csp } = explorerPage(options);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-cache',
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

/**
 * True when a GET to /graphql is a browser asking for a page: no `query` parameter and an Accept
 * header that prefers text/html over JSON (q-values respected; `*\/*` alone does not count).
 */
export function wantsExplorer(method: string | undefined, accept: string | undefined, url: URL): boolean {
  if (method !== 'GET' || url.searchParams.has('query') || !accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((s) => s.trim()).find((s) => s.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    const weight = Number.isFinite(q) ? q : 0;
    const mediaType = type.trim();
    if (mediaType === 'text/html') html = Math.max(html, weight);
    else if (
      mediaType === 'application/json' ||
      mediaType === 'application/graphql-response+json' ||
      mediaType === 'multipart/mixed'
    )
      json = Math.max(json, weight);
  }
  return html > 0 && html >= json;
}
