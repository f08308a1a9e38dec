/**
 * The gateway inside an application, the way the Node WebSocket module was
 * used: made on the application's `http.Server` (or Express app), handlers,
 * middleware and event listeners registered first, `start()` once the server
 * listens. Every Courtside endpoint comes with it (rooms, signaling, boards,
 * players, operators) besides the module's envelope endpoint at `path`.
 *
 *   const server = http.createServer(app);
 *   const gw = createGateway({ server, path: '/ws', dataDir });
 *   gw.registerHandler('text', (m) => ({ type: 'text', content: { text: `Echo: ${m.content.text}` } }));
 *   server.listen(3001, () => gw.start());
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { systemClock } from './clock.js';
import { startGateway, type Gateway, type GatewayOptions } from './index.js';
import { monitoringPlugin } from './platform/monitoring.js';
import { validationMiddleware } from './platform/validation.js';
import { Platform, type ConnectionInfo, type GatewayEvents, type HandlerOptions, type MessageHandler, type MessageMiddleware, type Middleware, type Plugin } from './platform/platform.js';

export interface EmbedOptions extends Omit<GatewayOptions, 'server' | 'path' | 'platform' | 'host' | 'port'> {
  /** The application's server. Give this or `app`. */
  server?: Server;
  /** A request handler (an Express app): a server is made for it, `gateway.server`, for the application to listen on. */
  app?: RequestListener;
  /** Path of the envelope endpoint. Default `/ws`. */
  path?: string;
  /** A handler that has not answered after this long gets HANDLER_FAILED. Default 30000 ms. */
  handlerTimeoutMs?: number;
  /** The Node WebSocket module's option names, read as Courtside's. */
  heartbeat?: { interval?: number; timeout?: number };
  message?: { timeout?: number; maxRetries?: number };
  /** `['monitoring']`: the monitoring plugin with its default thresholds. */
  plugins?: ('monitoring' | Plugin)[];
  /** `['validation']`: the validation middleware with its defaults. */
  middleware?: ('validation' | Middleware)[];
}

type Listener<K extends keyof GatewayEvents> = (...args: GatewayEvents[K]) => void;

export class EmbeddedGateway {
  readonly server: Server;
  readonly platform: Platform;
  private running: Gateway | null = null;
  private starting: Promise<Gateway> | null = null;

  constructor(private readonly options: EmbedOptions) {
    if (!options.server && !options.app) throw new TypeError('createGateway: give the server (an http.Server) or the app (a request handler)');
    this.server = options.server ?? createServer(options.app);
    this.platform = new Platform(options.clock ?? systemClock, options.handlerTimeoutMs ?? options.message?.timeout ?? 30_000, options.message?.maxRetries ?? 0);
    for (const p of options.plugins ?? []) this.platform.use(p === 'monitoring' ? monitoringPlugin() : p);
    for (const m of options.middleware ?? []) this.platform.use(m === 'validation' ? validationMiddleware() : m);
  }

  /** The running gateway (its core, store and URLs); null before `start()` and after `stop()`. */
  get gateway(): Gateway | null {
    return this.running;
  }

  /** Attaches to the server; waits until it listens. Resolves with the running gateway. */
  start(): Promise<Gateway> {
    const { server: _s, app: _a, path, handlerTimeoutMs: _t, heartbeat, message: _m, plugins: _p, middleware: _w, ...rest } = this.options;
    // The module pinged every `interval`; Courtside drops a socket silent for two of them.
    const heartbeatIntervalMs = rest.heartbeatIntervalMs ?? heartbeat?.interval;
    this.starting ??= startGateway({
      ...rest,
      ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
      server: this.server,
      platform: this.platform,
      ...(path ? { path } : {}),
    }).then((g) => (this.running = g));
    return this.starting;
  }

  /** Closes the gateway's sockets and store; the server stays the application's. */
  async stop(): Promise<void> {
    const g = this.starting ? await this.starting.catch(() => null) : null;
    this.starting = null;
    this.running = null;
    await g?.close();
  }

  registerHandler(type: string, handler: MessageHandler, options?: HandlerOptions): this {
    this.platform.registerHandler(type, handler, options);
    return this;
  }

  use(m: Middleware | Plugin | MessageMiddleware['handler']): this {
    this.platform.use(m);
    return this;
  }

  on<K extends keyof GatewayEvents>(event: K, fn: Listener<K>): this {
    this.platform.on(event, fn as never);
    return this;
  }

  once<K extends keyof GatewayEvents>(event: K, fn: Listener<K>): this {
    this.platform.once(event, fn as never);
    return this;
  }

  off<K extends keyof GatewayEvents>(event: K, fn: Listener<K>): this {
    this.platform.off(event, fn as never);
    return this;
  }

  getHealth() {
    return this.platform.getHealth();
  }

  getMetrics() {
    return this.platform.getMetrics();
  }

  /** A frame to one connection (wrapped in the envelope on `path`). */
  sendToConnection(connectionId: string, message: Record<string, unknown>): boolean {
    return this.platform.sendToConnection(connectionId, message);
  }

  /** To every connection of `path`, or those the filter picks; the number reached. */
  broadcast(message: Record<string, unknown>, filter?: (c: ConnectionInfo) => boolean): number {
    return this.platform.broadcast(message, filter);
  }

  connections(): ConnectionInfo[] {
    return this.platform.connections();
  }

  /**
   * Connect-style middleware for an application that routes its own requests:
   * the gateway answers `/api/*`, `/metrics` and `/api/health`, anything else goes on.
   */
  readonly http = (req: IncomingMessage, res: ServerResponse, next?: () => void): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (this.running && (path === '/metrics' || path.startsWith('/api/'))) return this.running.handleRequest(req, res);
    if (next) return next();
    res.writeHead(404).end();
  };
}

export function createGateway(options: EmbedOptions): EmbeddedGateway {
  return new EmbeddedGateway(options);
}

export { monitoringPlugin, type MonitoringOptions } from './platform/monitoring.js';
export { validationMiddleware, type ValidationOptions } from './platform/validation.js';
export type { Alert, ConnectionInfo, ConnectionMiddleware, GatewayEvents, HandlerOptions, HandlerReply, IncomingFrame, MessageHandler, MessageMiddleware, Middleware, Next, Plugin } from './platform/platform.js';
export type { EnvelopeHealth as GatewayHealth, EnvelopeMetrics as GatewayMetrics } from '../../firmware-protocol/index.js';
