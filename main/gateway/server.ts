/**
 * One HTTP server; WebSocket upgrades routed by path to the four endpoints.
 * Refusals happen before the upgrade, with a plain HTTP status, so a client
 * learns why (401 token, 403 origin, 404 path, 503 too many connections).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { reservedIdError } from '../../firmware-protocol/index.js';
import { checkOperator } from './auth.js';
import type { Core } from './core.js';
import { sendError, userError, type Dispatcher } from './dispatch.js';
import type { PartHooks } from './parts.js';
import { KeepaliveManager } from './keepalive.js';
import { isThisMachine, TokenBucket } from './limits.js';
import { Peer, type EndpointName } from './peer.js';
import type { StoreWatch } from './store-watch.js';
import { handleHttp, requestUrl } from './http-api.js';
import { attachLegacy } from './endpoints/legacy.js';
import { attachBoard } from './endpoints/board.js';
import { attachUser } from './endpoints/user.js';
import { attachOperator } from './endpoints/operator.js';

type Route =
  | { endpoint: 'legacy' }
  | { endpoint: 'board'; id: string }
  | { endpoint: 'user'; id: string }
  | { endpoint: 'operator' };

const ID = '([A-Za-z0-9_.:@-]{1,128})';
const BOARD = new RegExp(`^/ws/esp32/${ID}/?$`);
const USER = new RegExp(`^/ws/miniprogram/${ID}/?$`);

export function route(path: string): Route | null {
  if (path === '/' || path === '') return { endpoint: 'legacy' };
  if (path === '/ws/admin/' || path === '/ws/admin') return { endpoint: 'operator' };
  // The id pattern has no `%`, so there is nothing to decode (and no URIError to throw).
  let m = BOARD.exec(path);
  // `user:` ids are the players' namespace: no board may take one (a player's token must open nothing else).
  if (m) return reservedIdError('device code', m[1]!) === null ? { endpoint: 'board', id: m[1]! } : null;
  m = USER.exec(path);
  if (m) return { endpoint: 'user', id: m[1]! };
  return null;
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
  http: Server;
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

export function createGatewayServer({ core, dispatcher, hooks, storeWatch }: ServerDeps): GatewayServer {
  const ctx = core;
  const { options, metrics, clock } = core;
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes * 4, perMessageDeflate, clientTracking: true, skipUTF8Validation: true });
  const keepalive = new KeepaliveManager(clock, options.heartbeatIntervalMs, (s) => {
    ctx.log.info('connection silent for two heartbeat intervals, closing', { endpoint: (s as WebSocket & { courtsideEndpoint?: string }).courtsideEndpoint });
  });
  keepalive.start();
  const intake = { log: core.log, metrics, options, keepalive, storeWatch: storeWatch ?? null };
  const sessionStatus = hooks.sessionStatus ?? (() => Promise.resolve(null));
  const boardDeps = { ...intake, clock, boards: core.boards, commands: core.commands, operators: core.operators, sampleSink: hooks.sampleSink ?? null };
  const userDeps = { ...intake, clock, users: core.users };
  const legacyDeps = { ...intake, store: core.store, tokens: core.tokens, rooms: core.rooms, signaling: core.signaling };
  const operatorDeps = { ...intake, clock, operators: core.operators, dispatcher };

  const http = createServer((req, res) => {
    handleHttp(core, dispatcher, storeWatch ?? null, req, res, hooks.sampleSink ?? null).catch((err: unknown) => {
      // The path only: query strings carry operator tokens, and logs must not.
      sendError(res, userError(err, core.log, `${req.method ?? '?'} ${requestUrl(req)?.pathname ?? '(bad target)'}`));
    });
  // A client that opens a socket and sends its headers a byte at a time holds a slot: bound it.
  http.headersTimeout = 15_000;
  });

  const accept = (req: IncomingMessage, socket: Duplex, head: Buffer, endpoint: EndpointName, wire: (peer: Peer) => void) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      (ws as WebSocket & { courtsideEndpoint?: string }).courtsideEndpoint = endpoint;
      const ip = clientIp(req);
      const frames = new TokenBucket(options.maxFramesPerSecond, options.maxFramesPerSecond * 2, clock);
      const bytes = options.maxBytesPerSecond > 0 ? new TokenBucket(options.maxBytesPerSecond, Math.max(options.maxBytesPerSecond * 2, options.maxPayloadBytes), clock) : null;
      const shared = addressBudget(ip);
      const peer = new Peer(ws, ip, endpoint, { frames, bytes, addressFrames: shared?.frames ?? null, addressBytes: shared?.bytes ?? null, maxSendBufferBytes: options.maxSendBufferBytes, clock }, metrics);
      keepalive.add(ws);
      ws.on('pong', () => keepalive.seen(ws));
      ws.on('close', () => keepalive.remove(ws));
      ws.on('error', (err) => ctx.log.debug('socket error', { endpoint, ip: peer.ip, error: err.message }));
      if (endpoint === 'legacy' && options.identifyTimeoutMs > 0) {
        // A socket on `/` costs a slot until it says who it is; one that never does gives the slot back.
        const timer = clock.setTimeout(() => {
          if (!peer.identified) peer.close(4408, 'identify timeout: send the identity or register frame first');
        }, options.identifyTimeoutMs);
        ws.on('close', () => clock.clear(timer));
      }
      wire(peer);
    });
  };

  let pendingUpgrades = 0;
  const perAddress = new Map<string, number>();
  // One budget per address off this machine, shared by its sockets, kept while it has any.
  const addressBudgets = new Map<string, { frames: TokenBucket; bytes: TokenBucket | null }>();
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
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    if (!url) {
      metrics.connectionsRejected++;
      return refuse(socket, 400, 'Bad Request');
    }
    const r = route(url.pathname);
    if (!r) {
      metrics.connectionsRejected++;
      return refuse(socket, 404, 'Not Found');
    }
    // Upgrades waiting on an async token check count too, or a burst could pass the limit.
    if (wss.clients.size + pendingUpgrades >= options.maxConnections) {
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
      socket.once('close', () => {
        const n = (perAddress.get(ip) ?? 1) - 1;
        if (n <= 0) {
          perAddress.delete(ip);
          addressBudgets.delete(ip);
        } else perAddress.set(ip, n);
      });
    }
    if (r.endpoint !== 'operator' && !deviceOriginAllowed(req, options.allowedOrigins)) {
      metrics.connectionsRejected++;
      metrics.countError('FORBIDDEN_ORIGIN');
      ctx.log.debug('connection refused: browser origin on a device endpoint', { ip, endpoint: r.endpoint });
      return refuse(socket, 403, 'Forbidden');
    }
    switch (r.endpoint) {
      case 'legacy':
        // Device auth for room and signaling clients is checked on the first frame, which carries the id.
        return accept(req, socket, head, 'legacy', (peer) => attachLegacy(legacyDeps, peer, url.searchParams.get('token')));
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
            if (endpoint === 'board') accept(req, socket, head, 'board', (peer) => attachBoard(boardDeps, peer, id));
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
  });

  return {
    http,
    keepalive,
    async close() {
      keepalive.stop();
      for (const ws of wss.clients) ws.close(1001, 'gateway shutting down');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          resolve();
        }, 1000);
        t.unref();
        const check = () => (wss.clients.size === 0 ? (clearTimeout(t), resolve()) : setTimeout(check, 10).unref());
        check();
      });
      wss.close();
      http.closeAllConnections?.();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
