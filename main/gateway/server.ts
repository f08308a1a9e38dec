/**
 * One HTTP server (HTTPS with TLS, plain HTTP then only redirecting on the same
 * port: tls/); WebSocket upgrades routed by path to the four endpoints.
 * Refusals happen before the upgrade, with a plain HTTP status, so a client
 * learns why (401 token, 403 origin, 404 path, 503 too many connections).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { reservedIdError } from '../../firmware-protocol/index.js';
import { checkOperator, operatorPage } from './auth.js';
import type { Core } from './core.js';
import { sendError, userError, type Dispatcher } from './dispatch.js';
import type { PartHooks } from './parts.js';
import { KeepaliveManager } from './keepalive.js';
import { BucketSpec, isThisMachine, TokenBucket } from './limits.js';
import { socketClass, type AddressBudget, type GatewaySocket, Peer, type EndpointName, type PeerLimits, type SocketHandlers } from './peer.js';
import type { StoreWatch } from './store-watch.js';
import { handleHttp, requestUrl } from './http-api.js';
import { attachLegacy } from './endpoints/legacy.js';
import { attachBoard } from './endpoints/board.js';
import { attachUser } from './endpoints/user.js';
import { attachOperator } from './endpoints/operator.js';
import type { TlsMaterial } from './tls/cert.js';
import { frontDoor } from './tls/front-door.js';
import { plainRequest, refusePlainUpgrade } from './tls/plain.js';
import { attachEnvelope } from './endpoints/ws.js';
import type { ConnectionInfo, Platform } from './platform/platform.js';
import type { LazyInfo } from './platform/connection-info.js';

type Route =
  | { endpoint: 'legacy' }
  | { endpoint: 'board'; id: string }
  | { endpoint: 'user'; id: string }
  | { endpoint: 'operator' }
  | { endpoint: 'ws' };

const ID = '([A-Za-z0-9_.:@-]{1,128})';
const BOARD = new RegExp(`^/ws/esp32/${ID}/?$`);
const USER = new RegExp(`^/ws/miniprogram/${ID}/?$`);

/** The Node WebSocket module's endpoint, unless the embedding application names another path. */
export const ENVELOPE_PATH = '/ws';

/**
 * A copy of its own of a string cut from a longer one: V8 keeps a cut (a "sliced" string) as
 * a pointer into the whole, so a device id or path held for a connection's life would keep
 * the whole request URL (its token included) alive with it. ASCII only (URL paths are).
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'latin1').toString('latin1');
}

export function route(path: string, envelopePath = ENVELOPE_PATH): Route | null {
  if (path === envelopePath || path === envelopePath + '/') return { endpoint: 'ws' };
  if (path === '/' || path === '') return { endpoint: 'legacy' };
  if (path === '/ws/admin/' || path === '/ws/admin') return { endpoint: 'operator' };
  // The id pattern has no `%`, so there is nothing to decode (and no URIError to throw).
  let m = BOARD.exec(path);
  // `user:` ids are the players' namespace: no board may take one (a player's token must open nothing else).
  if (m) return reservedIdError('device code', m[1]!) === null ? { endpoint: 'board', id: ownCopy(m[1]!) } : null;
  m = USER.exec(path);
  if (m) return { endpoint: 'user', id: ownCopy(m[1]!) };
  return null;
}

/** Shared: a closure here would keep the upgrade's request alive as long as the socket. */
function destroySocket(this: Duplex): void {
  this.destroy();
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = JSON.stringify({ error: text }) + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
}

export interface GatewayServer {
  /** The HTTP(S) server requests and upgrades go to. */
  http: Server;
  /** What listens on the port: `http`, or with TLS the front door that splits TLS from plain HTTP. */
  listener: NetServer;
  /** A renewed certificate for new connections (with TLS). */
  setCertificate(tls: TlsMaterial): void;
  /** The gateway's HTTP side (`/api/*`, `/metrics`, the UI), for an application that routes requests itself. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  keepalive: KeepaliveManager;
  /** Closes every socket (code 1001) and the listener. */
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly core: Core;
  readonly dispatcher: Dispatcher;
  readonly hooks: PartHooks;
  /** The store's calls in flight: health, and device sockets paused while too many wait. */
  readonly storeWatch?: StoreWatch;
  /** An application's http.Server to live on instead of one of our own (embedding). */
  readonly server?: Server;
  /** Path of the envelope endpoint. Default `/ws`. */
  readonly envelopePath?: string;
}

/**
 * A browser sends Origin with every WebSocket upgrade; boards, player apps and
 * room clients do not. So a device endpoint refuses any Origin not allowed by
 * name: a page someone on the LAN opens cannot connect as a board and so
 * replace the real one (a board is replaced only by a connection that passed
 * the same checks: the token in token mode, no browser Origin in either mode).
 */
export function deviceOriginAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  return origin === undefined || allowed.includes(origin);
}

export function createGatewayServer({ core, dispatcher, hooks, storeWatch, server, envelopePath = ENVELOPE_PATH }: ServerDeps): GatewayServer {
  const platform: Platform = core.platform;
  const ctx = core;
  const { options, metrics, clock } = core;
  // Frames in and out are counted once, in Metrics; the platform's totals read them there.
  platform.stats.countFrom(metrics);
  // ws closes (1009) past its own maxPayload without telling the client why; set it at 4x the
  // limit so frames between 1x and 4x get a FRAME_TOO_LARGE error and the connection stays.
  // skipUTF8Validation: every text frame goes through JSON.parse, which rejects what matters;
  // bytes that are not UTF-8 decode to U+FFFD and fail validation as any bad value would.
  // permessage-deflate only when the client offers it; ws applies maxPayload to the inflated
  // message, so a small compressed frame that inflates past it closes the socket (1009) before
  // it is held whole. No context takeover: a socket keeps no 32 KiB window between messages.
  const perMessageDeflate = options.compression
    ? { threshold: options.compressionThreshold, serverNoContextTakeover: true, clientNoContextTakeover: true, concurrencyLimit: 4 }
    : false;
  // The gateway's sockets are the keepalive's (ws's own tracking is a close listener, a closure,
  // per socket; a set of its own here would be a second entry per socket).
  const handlers: SocketHandlers = {
    pong(peer) {
      keepalive.seen(peer);
    },
    close(peer, code, reason) {
      keepalive.remove(peer);
      platform.removed(peer, code, reason);
      peer.owner?.closed();
    },
    error(peer, err) {
      ctx.log.debug('socket error', { endpoint: peer?.endpoint, error: err.message });
    },
  };
  // autoPong off: the socket class answers pings itself (ws's automatic pong is a closure per socket).
  const wss = new WebSocketServer({
    noServer: true, maxPayload: options.maxPayloadBytes * 4, perMessageDeflate, clientTracking: false, autoPong: false,
    skipUTF8Validation: true, WebSocket: socketClass(handlers),
  });
  const keepalive = new KeepaliveManager(clock, options.heartbeatIntervalMs, (s) => {
    ctx.log.info('connection silent for two heartbeat intervals, closing', { endpoint: (s as Peer).endpoint });
  });
  keepalive.start();
  const intake = { log: core.log, metrics, options, keepalive, storeWatch: storeWatch ?? null, platform };
  const sessionStatus = hooks.sessionStatus ?? (() => Promise.resolve(null));
  const boardDeps = { ...intake, clock, boards: core.boards, commands: core.commands, operators: core.operators, sampleSink: hooks.sampleSink ?? null, recent: core.recent };
  const userDeps = { ...intake, clock, users: core.users };
  const legacyDeps = { ...intake, store: core.store, tokens: core.tokens, rooms: core.rooms, signaling: core.signaling };
  const operatorDeps = { ...intake, clock, operators: core.operators, dispatcher };
  const envelopeDeps = { ...intake, clock, platform };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handleHttp(core, dispatcher, storeWatch ?? null, req, res, hooks.sampleSink ?? null).catch((err: unknown) => {
      // The path only: query strings carry operator tokens, and logs must not.
      sendError(res, userError(err, core.log, `${req.method ?? '?'} ${requestUrl(req)?.pathname ?? '(bad target)'}`));
    });
  };
  const tls = options.tls;
  // An application's server keeps its own request handler; one made bare (`http.createServer()`)
  // gets ours. On an application's server TLS is the application's: its server is https or not.
  const ownRequests = server === undefined || server.listenerCount('request') === 0;
  const http: Server = server ?? (tls ? createHttpsServer({ cert: tls.cert, key: tls.key, handshakeTimeout: 15_000 }) : createServer());
  if (ownRequests) http.on('request', onRequest);
  // A client that opens a socket and sends its headers a byte at a time holds a slot: bound it.
  if (server === undefined) http.headersTimeout = 15_000;
  // With TLS, plain HTTP on the same port gets only health and redirects (tls/plain.ts).
  const plain = tls && server === undefined ? createServer(plainRequest(onRequest)) : null;
  if (plain) {
    plain.headersTimeout = 15_000;
    plain.on('upgrade', (_req, socket: Duplex) => {
      metrics.connectionsRejected++;
      refusePlainUpgrade(socket);
    });
  }
  const listener: NetServer = plain ? frontDoor({ secure: http, plain, firstByteTimeoutMs: 15_000 }) : http;

  const accept = (req: IncomingMessage, socket: Duplex, head: Buffer, endpoint: EndpointName, wire: (peer: Peer) => void) => {
    const ip = clientIp(req);
    const path = ownCopy(requestUrl(req)?.pathname ?? '');
    // Without connection middleware nobody reads the info before the socket is open: made when first read.
    if (!platform.hasConnectionMiddleware) return upgrade(req, socket, head, endpoint, wire, platform.seedOf(req, path), ip);
    const info = platform.describe(req, endpoint, ip, path);
    // Connection middleware may refuse before the upgrade, like every other refusal here.
    pendingUpgrades++;
    platform.admit(info, req).finally(() => pendingUpgrades--).then((ok) => {
      if (ok) return upgrade(req, socket, head, endpoint, wire, info, ip);
      metrics.connectionsRejected++;
      refuse(socket, 403, 'Forbidden');
    });
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, endpoint: EndpointName, wire: (peer: Peer) => void, info: ConnectionInfo | LazyInfo, ip: string) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      // From here the WebSocket's own error listener destroys the socket: a second one is an array per socket.
      socket.off('error', destroySocket);
      // Node caches the peer's address in an object on the socket for as long as it is open;
      // the peer keeps the address itself, so the cache goes (asked again, Node reads it again).
      (socket as { _peername?: unknown })._peername = undefined;
      onUpgraded(ws as GatewaySocket, ip, endpoint, wire, info);
    });
  };
  // What every socket's budget is, made once: a bucket per socket holds only its own counts.
  const peerLimits: PeerLimits = { maxSendBufferBytes: options.maxSendBufferBytes, sendQueueThresholdBytes: options.sendQueueThresholdBytes, clock };
  const frameSpec = new BucketSpec(options.maxFramesPerSecond, options.maxFramesPerSecond * 2, clock);
  const byteSpec = options.maxBytesPerSecond > 0 ? new BucketSpec(options.maxBytesPerSecond, Math.max(options.maxBytesPerSecond * 2, options.maxPayloadBytes), clock) : null;
  const onUpgraded = (ws: GatewaySocket, ip: string, endpoint: EndpointName, wire: (peer: Peer) => void, info: ConnectionInfo | LazyInfo) => {
    const peer = new Peer(ws, ip, endpoint, peerLimits, metrics, new TokenBucket(frameSpec), byteSpec ? new TokenBucket(byteSpec) : null, addressBudget(ip));
    keepalive.add(peer);
    if (endpoint === 'legacy' && options.identifyTimeoutMs > 0) {
      // A socket on `/` costs a slot until it says who it is; one that never does gives the slot back.
      const timer = clock.setTimeout(() => {
        if (!peer.identified) peer.close(4408, 'identify timeout: send the identity or register frame first');
      }, options.identifyTimeoutMs);
      ws.on('close', () => clock.clear(timer));
    }
    platform.added(info, peer);
    wire(peer);
  };

  let pendingUpgrades = 0;
  const perAddress = new Map<string, number>();
  // One budget per address off this machine, shared by its sockets, kept while it has any.
  const addressBudgets = new Map<string, AddressBudget>();
  const addressBudget = (ip: string) => {
    if (isThisMachine(ip)) return null;
    let b = addressBudgets.get(ip);
    if (!b) {
      const fps = options.maxFramesPerSecondPerAddress;
      const bps = options.maxBytesPerSecondPerAddress;
      b = { frames: new TokenBucket(fps, fps * 2, clock), bytes: bps > 0 ? new TokenBucket(bps, Math.max(bps * 2, options.maxPayloadBytes), clock) : null };
      addressBudgets.set(ip, b);
    }
    return b;
  };
  // Its own scope: a closure made inside the upgrade handler would keep the request alive with the socket.
  const releaseOnClose = (socket: Duplex, ip: string) => {
    socket.once('close', () => {
      const n = (perAddress.get(ip) ?? 1) - 1;
      if (n <= 0) {
        perAddress.delete(ip);
        addressBudgets.delete(ip);
      } else perAddress.set(ip, n);
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(req);
    const r = url === null ? null : route(url.pathname, envelopePath);
    // On an application's server another upgrade listener may own the path: leave it alone.
    if (r === null && server !== undefined && http.listenerCount('upgrade') > 1) return;
    socket.on('error', destroySocket);
    if (!url) {
      metrics.connectionsRejected++;
      return refuse(socket, 400, 'Bad Request');
    }
    if (!r) {
      metrics.connectionsRejected++;
      return refuse(socket, 404, 'Not Found');
    }
    // Upgrades waiting on an async token check count too, or a burst could pass the limit.
    if (keepalive.size() + pendingUpgrades >= options.maxConnections) {
      metrics.connectionsRejected++;
      ctx.log.warn('connection refused: too many connections', { ip: clientIp(req), limit: options.maxConnections });
      return refuse(socket, 503, 'Service Unavailable');
    }
    const ip = clientIp(req);
    if (!isThisMachine(ip)) {
      const held = perAddress.get(ip) ?? 0;
      if (held >= options.maxConnectionsPerAddress) {
        metrics.connectionsRejected++;
        metrics.countError('TOO_MANY_FROM_ADDRESS');
        return refuse(socket, 429, 'Too Many Requests');
      }
      // Counted from the upgrade to the socket's close, whatever happens in between.
      perAddress.set(ip, held + 1);
      releaseOnClose(socket, ip);
    }
    const testPage = (r.endpoint === 'board' || r.endpoint === 'user') && operatorPage(ctx, req, url);
    if (r.endpoint !== 'operator' && !testPage && !deviceOriginAllowed(req, options.allowedOrigins)) {
      metrics.connectionsRejected++;
      metrics.countError('FORBIDDEN_ORIGIN');
      ctx.log.debug('connection refused: browser origin on a device endpoint', { ip, endpoint: r.endpoint });
      return refuse(socket, 403, 'Forbidden');
    }
    switch (r.endpoint) {
      case 'legacy':
        // Device auth for room and signaling clients is checked on the first frame, which carries the id.
        return accept(req, socket, head, 'legacy', (peer) => attachLegacy(legacyDeps, peer, url.searchParams.get('token')));
      case 'ws':
        return accept(req, socket, head, 'ws', (peer) => attachEnvelope(envelopeDeps, peer, peer.info!));
      case 'operator': {
        const auth = checkOperator(ctx, req, url);
        if (!auth.ok) {
          metrics.connectionsRejected++;
          return refuse(socket, auth.status, auth.status === 401 ? 'Unauthorized' : 'Forbidden');
        }
        return accept(req, socket, head, 'operator', (peer) => attachOperator(operatorDeps, peer));
      }
      case 'board':
      case 'user': {
        const id = r.id;
        const endpoint = r.endpoint;
        pendingUpgrades++;
        core.tokens.check(endpoint === 'user' ? `user:${id}` : id, url.searchParams.get('token'), id).finally(() => pendingUpgrades--).then(
          (ok) => {
            if (!ok) {
              metrics.connectionsRejected++;
              return refuse(socket, 401, 'Unauthorized');
            }
            const cumulative = url.searchParams.get('ack') === 'cumulative';
            if (endpoint === 'board') accept(req, socket, head, 'board', (peer) => attachBoard(boardDeps, peer, id, cumulative));
            else accept(req, socket, head, 'user', (peer) => attachUser(userDeps, peer, id, sessionStatus));
          },
          (err: unknown) => {
            ctx.log.warn('device auth failed', { error: String(err) });
            refuse(socket, 503, 'Service Unavailable');
          },
        );
        return;
      }
    }
  };
  http.on('upgrade', onUpgrade);

  return {
    http,
    listener,
    setCertificate(t) {
      (http as Server & { setSecureContext?(o: { cert: string; key: string }): void }).setSecureContext?.({ cert: t.cert, key: t.key });
    },
    handleRequest: onRequest,
    keepalive,
    async close() {
      keepalive.halt();
      platform.broadcast({ type: 'system', content: { action: 'shutdown', text: 'gateway shutting down' } });
      for (const p of keepalive.all()) (p as Peer).close(1001, 'gateway shutting down');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          for (const p of keepalive.all()) p.terminate();
          resolve();
        }, 1000);
        t.unref();
        const check = () => (keepalive.size() === 0 ? (clearTimeout(t), resolve()) : setTimeout(check, 10).unref());
        check();
      });
      keepalive.stop();
      wss.close();
      http.off('upgrade', onUpgrade);
      if (ownRequests) http.off('request', onRequest);
      // The application's server is the application's to close.
      if (server !== undefined) return;
      http.closeAllConnections?.();
      plain?.closeAllConnections();
      if (listener !== http) {
        // Sockets handed on belong to the servers they went to; the listener only stops accepting.
        // A socket TLS took over may not report its close to the listener: wait a moment at most.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 500);
          t.unref();
          listener.close(() => (clearTimeout(t), resolve()));
        });
        // http and plain never listened; close() on them would fail with ERR_SERVER_NOT_RUNNING.
        return;
      }
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
