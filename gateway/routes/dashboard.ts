/**
 * The web dashboard: `GET /` (the page), `GET /ui/{file}` (its scripts and
 * styles from `gateway/dashboard/`) and `GET /ui/vendor/{file}` (uPlot's
 * browser build from node_modules). Public on purpose: these files hold no
 * data; the page asks for the API key once, trades it for a session cookie
 * (`POST /v1/session`) and keeps nothing itself.
 *
 * Only the file names listed below are served, so no request path ever
 * reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { notFound } from '../errors.ts';
import type { GatewayEnv } from '../gateway-deps.ts';

const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

const dashboardDir = (file: string) => fileURLToPath(new URL(`../dashboard/${file}`, import.meta.url));
const requireFromHere = createRequire(import.meta.url);

/** URL file name → path on disk; nothing else is ever read. */
const PAGE_FILES: Record<string, string> = Object.fromEntries(
  ['dashboard.js', 'dashboard.css', 'api.js', 'format.js', 'charts.js', 'list-page.js', 'function-page.js', 'invocations.js', 'aliases.js', 'rollout-timeline.js', 'versions.js', 'triggers.js'].map((f) => [
    f,
    dashboardDir(f),
  ]),
);
const VENDOR_FILES: Record<string, string> = {
  'uPlot.esm.js': requireFromHere.resolve('uplot/dist/uPlot.esm.js'),
  'uPlot.min.css': requireFromHere.resolve('uplot/dist/uPlot.min.css'),
};

/**
 * Everything is same-origin: scripts, styles and API calls. (uPlot sizes its
 * elements through inline styles, hence `style-src 'unsafe-inline'`.) No
 * framing (`frame-ancestors`, and `X-Frame-Options` for older browsers), no
 * window handle shared with a page of another origin (`COOP`), no referrer.
 */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidate every time: a new deploy of the gateway must not leave stale scripts behind.
  'Cache-Control': 'no-cache',
};

export function dashboardRoute() {
  const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
  const load = (path: string) => {
    let file = cache.get(path);
    if (!file) {
      // Converted once here, so a request hands out the cached bytes as they are.
      file = readFile(path).then((bytes) => new Uint8Array(bytes));
      file.catch(() => cache.delete(path));
      cache.set(path, file);
    }
    return file;
  };
  const send = async (path: string | undefined, name: string) => {
    if (path === undefined) throw notFound('AssetNotFound', `no dashboard file "${name.slice(0, 64)}"`);
    const extension = name.slice(name.lastIndexOf('.') + 1) as keyof typeof CONTENT_TYPES;
    const body = await load(path);
    return new Response(body, {
      headers: { 'Content-Type': CONTENT_TYPES[extension], ...SECURITY_HEADERS },
    });
  };

  return new Hono<GatewayEnv>()
    .get('/', () => send(dashboardDir('index.html'), 'index.html'))
    .get('/ui/vendor/:file', (c) => {
      const name = c.req.param('file');
      return send(Object.hasOwn(VENDOR_FILES, name) ? VENDOR_FILES[name] : undefined, name);
    })
    .get('/ui/:file', (c) => {
      const name = c.req.param('file');
      return send(Object.hasOwn(PAGE_FILES, name) ? PAGE_FILES[name] : undefined, name);
    });
}
