/**
 * The UI's built files at `/`. Until the UI is built, a small page says what
 * this is and where the API lives. Paths are resolved inside the UI folder only.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Base } from './base.js';
import { decodeSegment } from './dispatch.js';
import { VERSION } from './version.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Applies to every page the gateway serves: no framing by other sites, no inline script from elsewhere. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
};

function placeholder(ctx: Pick<Base, 'store'>): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Courtside</title></head>
<body><main><h1>Courtside gateway ${VERSION}</h1>
<p>The gateway is running. The operator UI has not been built into this install.</p>
<p>Boards connect to <code>/ws/esp32/&lt;device_code&gt;/</code>, room and signaling clients to <code>/</code>,
players to <code>/ws/miniprogram/&lt;user_id&gt;/</code>. Health: <a href="/api/health">/api/health</a>.</p>
<p>Database: ${ctx.store.kind}.</p></main></body></html>`;
}

export function serveStatic(ctx: Pick<Base, 'options' | 'store'>, req: IncomingMessage, res: ServerResponse, path: string): void {
  const root = ctx.options.uiDir;
  if (!root || !existsSync(join(root, 'index.html'))) {
    if (path !== '/' && path !== '/index.html') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      return void res.end('not found\n');
    }
    const body = placeholder(ctx);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
    return void res.end(req.method === 'HEAD' ? undefined : body);
  }
  let file = resolve(root, '.' + normalize(decodeSegment(path)));
  if (!file.startsWith(resolve(root) + sep) && file !== resolve(root)) {
    res.writeHead(400);
    return void res.end();
  }
  // Client-side routes fall back to the app shell.
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  const immutable = /\/assets\//.test(file);
  res.writeHead(200, { 'content-type': type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...SECURITY_HEADERS });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}
