/**
 * The HTTP side: `/api/health` (open), `/metrics` and `/api/*` (operator token
 * and Origin), and the UI's static files at `/`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from './context.js';
import { checkOperator } from './auth.js';
import { GatewayErrorCodes, type GatewayErrorCode } from './errors.js';
import { VERSION } from './version.js';
import {
  boardCommandName,
  deviceList,
  connectionCounts,
  deviceTokens,
  messageJson,
  mintDeviceToken,
  roomDetail,
  roomsList,
  systemStatus,
} from './service.js';
import { serveStatic } from './static.js';
import type { HttpContext } from './extensions.js';

const MAX_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: GatewayErrorCode, arg?: unknown): void {
  const make = GatewayErrorCodes[code] as (a?: unknown) => string;
  json(res, status, { error: { code, message: make(arg) } });
}

function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !done) {
        done = true;
        resolve({ ok: false, message: `body larger than ${MAX_BODY} bytes` });
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({ ok: true, value: {} });
      try {
        resolve({ ok: true, value: JSON.parse(text) });
      } catch {
        resolve({ ok: false, message: 'body is not valid JSON' });
      }
    });
    req.on('error', () => {
      if (!done) (done = true), resolve({ ok: false, message: 'request aborted' });
    });
  });
}

export async function handleHttp(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';

  if (path === '/api/health') {
    let db = 'ok';
    try {
      await ctx.store.roomExists('HEALTH');
    } catch {
      db = 'unavailable';
    }
    return json(res, db === 'ok' ? 200 : 503, { status: db === 'ok' ? 'ok' : 'degraded', version: VERSION, database: db, uptime_s: Math.round((Date.now() - ctx.metrics.startedAt) / 1000) });
  }

  if (path === '/metrics' || path.startsWith('/api/')) {
    const auth = checkOperator(ctx, req, url);
    if (!auth.ok) return fail(res, auth.status, auth.code, req.headers.origin);
    if (path === '/metrics') {
      const text = ctx.metrics.render({ connections: connectionCounts(ctx), rooms: ctx.rooms.activeRooms().length, boardsOnline: ctx.boards.onlineCount(), version: VERSION });
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return void res.end(text);
    }
    return api(ctx, req, res, method, path.slice('/api'.length));
  }

  if (method === 'GET' || method === 'HEAD') return serveStatic(ctx, req, res, path);
  return fail(res, 405, 'BAD_REQUEST', `${method} is not allowed on ${path}`);
}

async function api(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  const route = `${method} /${seg.map((s, i) => (i % 2 === 1 ? ':' : s)).join('/')}`;
  switch (route) {
    case 'GET /status':
      return json(res, 200, systemStatus(ctx));
    case 'GET /devices':
      return json(res, 200, { devices: deviceList(ctx) });
    case 'GET /devices/:': {
      const d = ctx.boards.find(seg[1]!);
      return d ? json(res, 200, d) : fail(res, 404, 'NOT_FOUND', `device ${seg[1]}`);
    }
    case 'GET /rooms':
      return json(res, 200, { rooms: roomsList(ctx), signaling_clients: ctx.signaling.ids() });
    case 'GET /rooms/:': {
      const room = await roomDetail(ctx, seg[1]!);
      return room ? json(res, 200, room) : fail(res, 404, 'NOT_FOUND', `room ${seg[1]}`);
    }
    case 'GET /messages': {
      const u = new URL(req.url ?? '/', 'http://x');
      const limit = Math.min(1000, Math.max(1, Number(u.searchParams.get('limit') ?? 100) || 100));
      const rows = await ctx.store.listMessages({ roomId: u.searchParams.get('room_id') ?? undefined, limit });
      return json(res, 200, { messages: rows.map(messageJson) });
    }
    case 'POST /devices/:/commands': {
      const body = await readJson(req);
      if (!body.ok) return fail(res, 400, 'BAD_REQUEST', body.message);
      const v = body.value as { command?: unknown; params?: unknown };
      if (typeof v !== 'object' || v === null || typeof v.command !== 'string' || v.command === '' || v.command.length > 64) {
        return fail(res, 400, 'BAD_REQUEST', 'command must be a non-empty string (start, stop, status, or a board command)');
      }
      const deviceId = seg[1]!;
      const r = await ctx.commands.send(deviceId, boardCommandName(v.command), v.params ?? {});
      return json(res, 202, { command_id: r.commandId, device_id: deviceId, command: boardCommandName(v.command), pushed: r.pushed, connected: ctx.boards.isConnected(deviceId) });
    }
    case 'GET /devices/:/commands': {
      const rows = await ctx.store.listCommands({ deviceId: seg[1]!, limit: 100 });
      return json(res, 200, {
        commands: rows.map((c) => ({
          command_id: c.commandId,
          command: c.command,
          params: c.params,
          state: c.state,
          attempts: c.attempts,
          created_at: c.createdAt.toISOString(),
          acked_at: c.ackedAt?.toISOString() ?? null,
          result: c.result,
        })),
      });
    }
    case 'GET /device-tokens':
      return json(res, 200, { tokens: await deviceTokens(ctx) });
    case 'POST /device-tokens': {
      const body = await readJson(req);
      if (!body.ok) return fail(res, 400, 'BAD_REQUEST', body.message);
      const v = body.value as { device_id?: unknown; label?: unknown };
      if (typeof v?.device_id !== 'string' || v.device_id === '' || v.device_id.length > 128) return fail(res, 400, 'BAD_REQUEST', 'device_id must be a non-empty string');
      return json(res, 201, await mintDeviceToken(ctx, v.device_id, typeof v.label === 'string' ? v.label : null));
    }
    case 'DELETE /device-tokens/:': {
      const n = await ctx.store.revokeDeviceTokens(seg[1]!, new Date(ctx.clock.now()));
      return n > 0 ? json(res, 200, { device_id: seg[1], revoked: n }) : fail(res, 404, 'NOT_FOUND', `token for ${seg[1]}`);
    }
    default: {
      const h: HttpContext = {
        req,
        res,
        method,
        path,
        segments: seg,
        url: new URL(req.url ?? '/', 'http://gateway.invalid'),
        json: (status, body) => json(res, status, body),
        fail: (status, code, message) => json(res, status, { error: { code, message } }),
        readJson: () => readJson(req),
      };
      for (const ext of ctx.extensions) if (ext.http && (await ext.http(h))) return;
      return fail(res, 404, 'NOT_FOUND', `${method} /api${path}`);
    }
  }
}
