/**
 * The HTTP side: `/api/health` (open), `/metrics` and `/api/*` (operator token
 * and Origin; every request through the dispatcher's table), and the UI's
 * static files at `/`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOperator, type OperatorAuth } from './auth.js';
import type { Core } from './core.js';
import { decodeSegment, sendError, type Dispatcher } from './dispatch.js';
import { gatewayError, type CourtsideError } from './errors.js';
import { hostAllowed } from './host-check.js';
import { sendHealth } from './health.js';
import { connectionCounts } from './service.js';
import type { StoreWatch } from './store-watch.js';
import { serveStatic } from './static.js';
import { serveTestPage } from './websocket-test.js';
import { VERSION } from './version.js';
import { handleBoardUpload, UPLOAD_PATH } from './http-upload.js';
import type { SampleSink } from './samples.js';

/**
 * The request target as a URL, or null when it is not one (`GET http://[`):
 * a client's garbage must end in a 400, never in a thrown TypeError.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://gateway.invalid');
  } catch {
    return null;
  }
}

function refusal(auth: Extract<OperatorAuth, { ok: false }>, req: IncomingMessage): CourtsideError {
  if (auth.code === 'UNAUTHORIZED') return gatewayError('UNAUTHORIZED', 'operator token missing or invalid');
  if (auth.code === 'FORBIDDEN_HOST') return gatewayError('FORBIDDEN_HOST', req.headers.host);
  return gatewayError('FORBIDDEN_ORIGIN', req.headers.origin);
}

export async function handleHttp(core: Core, dispatcher: Dispatcher, storeWatch: StoreWatch | null, req: IncomingMessage, res: ServerResponse, sampleSink: SampleSink | null = null): Promise<void> {
  const url = requestUrl(req);
  if (!url) return sendError(res, gatewayError('BAD_REQUEST', 'the request target is not a valid path'));
  const path = url.pathname;
  const method = req.method ?? 'GET';

  // Before anything that could wait on the store: health must answer within a second whatever the database does.
  if (path === '/api/health') return sendHealth(core, storeWatch, res);

  // A board's own token, not the operator's: before the operator check.
  const upload = UPLOAD_PATH.exec(path);
  if (upload) return handleBoardUpload(core, sampleSink, req, res, url, upload[1]!);

  if (path === '/metrics' || path.startsWith('/api/')) {
    const auth = checkOperator(core, req, url);
    if (!auth.ok) return sendError(res, refusal(auth, req));
    if (path === '/metrics') {
      const text = core.metrics.render({ connections: connectionCounts(core), rooms: core.rooms.activeRooms().length, boardsOnline: core.boards.onlineCount(), version: VERSION });
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(text);
    }
    const sub = path.slice('/api'.length);
    if (await dispatcher.http(req, res, url, sub)) return;
    return sendError(res, gatewayError('NOT_FOUND', `${method} /api${sub.split('/').map((s) => (s ? decodeSegment(s) : s)).join('/')} not found`));
  }

  if (serveTestPage(core, req, res, url)) return;

  if (method === 'GET' || method === 'HEAD') {
    // The UI too: a rebinding page must not frame or read it under its own name.
    if (!hostAllowed(core.options, req.headers.host)) return sendError(res, gatewayError('FORBIDDEN_HOST', req.headers.host));
    return serveStatic(core, req, res, path);
  }
  return sendError(res, gatewayError('METHOD_NOT_ALLOWED', method, path));
}
