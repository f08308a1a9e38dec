/**
 * Who may connect. Operators: the operator token (Bearer header or `token`
 * query parameter) and, from a browser, an Origin that is the gateway's own
 * or explicitly allowed. Boards and room clients: anyone in `open` mode, the
 * device's own token in `token` mode. Tokens are compared in constant time
 * and device tokens are stored only as SHA-256 hashes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Base } from './base.js';
import { hostAllowed } from './host-check.js';

export function mintToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export const OPERATOR_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** The token a request presents: `Authorization: Bearer <t>` first, then `?token=`. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1]!;
  }
  return url.searchParams.get('token');
}

/**
 * A browser always sends Origin on WebSocket upgrades and cross-site requests;
 * a page on another site must not drive the operator API with a token it
 * somehow got. Tools without Origin (curl, scripts, the CLI) are fine.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export type OperatorAuth = { ok: true } | { ok: false; status: 401 | 403; code: 'UNAUTHORIZED' | 'FORBIDDEN_ORIGIN' | 'FORBIDDEN_HOST' };

export function checkOperator(ctx: Pick<Base, 'options'>, req: IncomingMessage, url: URL): OperatorAuth {
  // First: a rebinding page's own Host would make its Origin look like the gateway's.
  if (!hostAllowed(ctx.options, req.headers.host)) return { ok: false, status: 403, code: 'FORBIDDEN_HOST' };
  if (!originAllowed(req, ctx.options.allowedOrigins)) return { ok: false, status: 403, code: 'FORBIDDEN_ORIGIN' };
  const t = presentedToken(req, url);
  if (t === null || !safeEqual(t, ctx.options.operatorToken)) return { ok: false, status: 401, code: 'UNAUTHORIZED' };
  return { ok: true };
}

/**
 * A browser page of this gateway's (the WebSocket test page) opening a device endpoint: it names the
 * operator's token as `operator_token`, its Origin is the gateway's own and its Host one of the
 * gateway's names. Any other page's Origin stays refused there.
 */
export function operatorPage(ctx: Pick<Base, 'options'>, req: IncomingMessage, url: URL): boolean {
  const t = url.searchParams.get('operator_token');
  if (t === null || !safeEqual(t, ctx.options.operatorToken)) return false;
  return hostAllowed(ctx.options, req.headers.host) && originAllowed(req, ctx.options.allowedOrigins);
}

/** In `open` mode always true; in `token` mode the device's unrevoked token must match. */
export async function deviceTokenOk(ctx: Pick<Base, 'options' | 'store'>, deviceId: string, token: string | null | undefined): Promise<boolean> {
  if (ctx.options.deviceAuth === 'open') return true;
  if (!token) return false;
  return ctx.store.checkDeviceToken(deviceId, hashToken(token));
}

/** Mints a device token, stores its hash, and returns the token (shown once). */
export async function createDeviceToken(ctx: Pick<Base, 'store' | 'clock'>, deviceId: string, label: string | null): Promise<string> {
  const token = mintToken();
  await ctx.store.saveDeviceToken({ deviceId, tokenHash: hashToken(token), label, createdAt: new Date(ctx.clock.now()) });
  return token;
}
