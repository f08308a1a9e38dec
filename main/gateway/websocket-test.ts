/**
 * `/websocket-test/`: the Django Channels badminton backend's test page, behind
 * the operator token. It opens the board, player and admin endpoints from the
 * browser and lets a person send every frame type each one takes (a
 * template with the required fields, from the contract's schemas) and read
 * the answers. The page and its script are static; the frame list is built
 * from the same tables the endpoints validate with.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import { AllOperatorRequestFrames, BoardFrames, UserFrames } from '../../firmware-protocol/index.js';
import { checkOperator } from './auth.js';
import type { Core } from './core.js';
import { sendError, sendJson } from './dispatch.js';
import { gatewayError } from './errors.js';
import { TEST_PAGE_HTML, TEST_PAGE_SCRIPT } from './websocket-test-page.js';

export const TEST_PAGE_PATH = '/websocket-test/';

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
};

/** A value of the schema's type, for a template a person edits. */
function sample(s: TSchema & Record<string, unknown>, depth = 0): unknown {
  if ('const' in s) return s.const;
  if (Array.isArray(s.anyOf)) return sample(s.anyOf[0] as TSchema & Record<string, unknown>, depth);
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (s.type) {
    case 'string':
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'x'.repeat(s.minLength) : '';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object': {
      if (depth > 3) return {};
      const props = (s.properties ?? {}) as Record<string, TSchema & Record<string, unknown>>;
      const required = new Set((s.required as string[] | undefined) ?? []);
      return Object.fromEntries(Object.entries(props).filter(([k]) => required.has(k)).map(([k, v]) => [k, sample(v, depth + 1)]));
    }
    default:
      return null;
  }
}

function templates(table: Record<string, TSchema>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).map(([type, schema]) => [type, sample(schema as TSchema & Record<string, unknown>)]));
}

/** What the page offers: each endpoint's frame types with a template. */
export function testPageFrames(): Record<'board' | 'player' | 'admin', Record<string, unknown>> {
  return { board: templates(BoardFrames), player: templates(UserFrames), admin: templates(AllOperatorRequestFrames) };
}

/** Answers `/websocket-test/...`; false when the path is not the page's. */
export function serveTestPage(core: Core, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const path = url.pathname;
  if (path !== '/websocket-test' && !path.startsWith(TEST_PAGE_PATH)) return false;
  // The script and the frame list hold nothing of this gateway's (the page reads the token from its own URL).
  const asset = path === TEST_PAGE_PATH + 'page.js' || path === TEST_PAGE_PATH + 'frames.json';
  const auth = asset ? ({ ok: true } as const) : checkOperator(core, req, url);
  if (!auth.ok) {
    sendError(res, auth.code === 'UNAUTHORIZED' ? gatewayError('UNAUTHORIZED', 'operator token missing or invalid: open /websocket-test/?token=<operator token>') : gatewayError(auth.code, auth.code === 'FORBIDDEN_HOST' ? req.headers.host : req.headers.origin));
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, gatewayError('METHOD_NOT_ALLOWED', req.method ?? '?', path));
    return true;
  }
  const body = (type: string, text: string) => {
    res.writeHead(200, { ...HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
  if (path === '/websocket-test' || path === TEST_PAGE_PATH || path === TEST_PAGE_PATH + 'index.html') body('text/html; charset=utf-8', TEST_PAGE_HTML);
  else if (path === TEST_PAGE_PATH + 'page.js') body('text/javascript; charset=utf-8', TEST_PAGE_SCRIPT);
  else if (path === TEST_PAGE_PATH + 'frames.json') sendJson(res, 200, testPageFrames());
  else sendError(res, gatewayError('NOT_FOUND', `${path} not found`));
  return true;
}
