import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';

/** The page's policy: its own script and style only, nothing inline, no frame around it, and no
 * connection but to its own origin ('self' covers ws: and wss: there). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers on every answer of the web door. */
const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

/** The files of the page, by the path they are served at. */
const FILES: ReadonlyMap<string, { readonly file: string; readonly type: string }> = new Map([
  ['/', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/index.html', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/style.css', { file: 'style.css', type: 'text/css; charset=utf-8' }],
  ['/app.js', { file: 'app.js', type: 'text/javascript; charset=utf-8' }],
]);

/** Where every browser looks for an icon, on each visit: the page has none, and a 404 would be an
 * error in its console each time. */
const FAVICON = '/favicon.ico';

/** The package's `web` folder: two levels above this file in the sources, three in dist/. */
export function webFolder(from = __dirname): string {
  for (let folder = from; folder !== dirname(folder); folder = dirname(folder)) {
    const candidate = join(folder, 'web');
    if (existsSync(join(candidate, 'index.html')) && existsSync(join(folder, 'package.json'))) return candidate;
  }
  throw new Error(`chatd's web page is missing: no web/index.html above ${from}`);
}

/** The page's files, read once: they are small, and shipped with the package. */
export type Page = ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;

/** Reads the page's files; rejects when one is missing. */
export async function loadPage(folder = webFolder()): Promise<Page> {
  const entries = await Promise.all([...FILES].map(async ([path, { file, type }]) => [path, { body: await readFile(join(folder, file)), type }] as const));
  return new Map(entries);
}

/** Answers `status` with a short text. */
export function answer(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Serves the page's files to GET and HEAD; anything else is 404 or 405. */
export function servePage(page: Page, request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'GET only\n', { allow: 'GET, HEAD' });
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const found = page.get(path);
  if (path === FAVICON) return void response.writeHead(204, SECURITY_HEADERS).end(); // 204 carries no length
  if (found === undefined) return answer(response, 404, 'not found\n');
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': found.type, 'content-length': found.body.length });
  response.end(request.method === 'HEAD' ? undefined : found.body);
}
