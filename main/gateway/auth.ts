/**
 * Who may connect. Operators: the operator token (Bearer header or `token`
 * query parameter) and, from a browser, an Origin that is the gateway's own
 * or explicitly allowed. Boards and room clients: anyone in `open` mode, the
 * device's own token in `token` mode. Tokens are compared in constant time
 * and device tokens are stored only as SHA-256 hashes.
 */
import { createHash, createPublicKey, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Base } from './base.js';
import type { Clock } from './clock.js';
import { gatewayError } from './errors.js';
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

/** Checks a JWT for one subject: resolves true only for a good signature, a live `exp` and that `sub`. */
export type JwtCheck = (token: string, subject: string) => Promise<boolean>;

/** Where JWT keys come from (flags `--jwt-secret`, `--jwt-public-key`, `--jwt-issuer`, `--jwt-audience`). */
export interface JwtOptions {
  jwtSecret: string | null;
  jwtPublicKeyFile: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
}

const ASYMMETRIC = ['RS256', 'ES256'];

/**
 * The verifier for the configured keys, or null when none is. HS256 takes the secret; RS256 and
 * ES256 a PEM public key or a JWKS file (several keys, picked by `kid`). Each key admits only its
 * own algorithms, so a token signed with HS256 over the text of a public key is refused.
 */
export function createJwtCheck(o: JwtOptions, clock: Clock): JwtCheck | null {
  if (o.jwtSecret === null && o.jwtPublicKeyFile === null) return null;
  const secret = o.jwtSecret === null ? null : createSecretKey(Buffer.from(o.jwtSecret, 'utf8'));
  let publicKey: KeyObject | JWTVerifyGetKey | null = null;
  let publicAlgs = ASYMMETRIC;
  if (o.jwtPublicKeyFile !== null) {
    let text: string;
    try {
      text = readFileSync(o.jwtPublicKeyFile, 'utf8');
    } catch (err) {
      throw gatewayError('JWT_KEY_INVALID', o.jwtPublicKeyFile, (err as Error).message);
    }
    try {
      if (text.trimStart().startsWith('{')) publicKey = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
      else {
        const k = createPublicKey(text);
        publicKey = k;
        publicAlgs = k.asymmetricKeyType === 'rsa' ? ['RS256'] : k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? ['ES256'] : [];
        if (publicAlgs.length === 0) throw new Error(`a ${k.asymmetricKeyType ?? 'unknown'} key; RS256 wants RSA, ES256 an EC P-256 key`);
      }
    } catch (err) {
      throw gatewayError('JWT_KEY_INVALID', o.jwtPublicKeyFile, (err as Error).message);
    }
  }
  const claims = { ...(o.jwtIssuer !== null ? { issuer: o.jwtIssuer } : {}), ...(o.jwtAudience !== null ? { audience: o.jwtAudience } : {}) };
  return async (token, subject) => {
    const alg = jwtAlg(token);
    const opts = { ...claims, currentDate: new Date(clock.now()), requiredClaims: ['exp', 'sub'] };
    try {
      if (alg === 'HS256' && secret !== null) return (await jwtVerify(token, secret, { ...opts, algorithms: ['HS256'] })).payload.sub === subject;
      if (alg !== null && ASYMMETRIC.includes(alg) && publicKey !== null) {
        const r = typeof publicKey === 'function' ? await jwtVerify(token, publicKey, { ...opts, algorithms: publicAlgs }) : await jwtVerify(token, publicKey, { ...opts, algorithms: publicAlgs });
        return r.payload.sub === subject;
      }
    } catch {
      // A bad signature, an expired token, a wrong issuer or audience: refused like a bad token.
    }
    return false;
  };
}

/** The `alg` of something shaped like a JWT (three base64url parts), else null. */
function jwtAlg(token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const h = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    return typeof h === 'object' && h !== null && typeof (h as { alg?: unknown }).alg === 'string' ? (h as { alg: string }).alg : null;
  } catch {
    return null;
  }
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

/**
 * In `open` mode always true; in `token` mode the device's unrevoked minted token must match,
 * or (with JWT keys configured) a JWT whose `sub` is `subject`: the device code, room client id,
 * signaling client id, or for players the user id itself.
 */
export async function deviceTokenOk(
  ctx: Pick<Base, 'options' | 'store'> & { readonly jwt?: JwtCheck | null },
  deviceId: string,
  token: string | null | undefined,
  subject: string = deviceId,
): Promise<boolean> {
  if (ctx.options.deviceAuth === 'open') return true;
  if (!token) return false;
  if (ctx.jwt && token.split('.').length === 3) return ctx.jwt(token, subject);
  return ctx.store.checkDeviceToken(deviceId, hashToken(token));
}

/** Mints a device token, stores its hash, and returns the token (shown once). */
export async function createDeviceToken(ctx: Pick<Base, 'store' | 'clock'>, deviceId: string, label: string | null): Promise<string> {
  const token = mintToken();
  await ctx.store.saveDeviceToken({ deviceId, tokenHash: hashToken(token), label, createdAt: new Date(ctx.clock.now()) });
  return token;
}
