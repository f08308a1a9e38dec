/**
 * What an application embedding the gateway plugs in, the Node WebSocket
 * module's way: handlers by frame type for any endpoint, middleware in two
 * phases (a connection before its upgrade, a frame before its handler) chained
 * with `next`, a typed event emitter, and the counters behind getHealth() and
 * getMetrics(). Built before the gateway starts, so an application can
 * register everything first and start after.
 *
 * Costs nothing when unused: a frame is parsed here only while some message
 * middleware or `message:*` listener exists.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { errorFrame, FrameErrorCodes, isObject, parseJson, type ErrorFrame, type FrameErrorCode } from '../../../firmware-protocol/index.js';
import { CourtsideError } from '../errors.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { EndpointName, Peer, PeerObserver } from '../peer.js';
import { PlatformStats } from './stats.js';
import { ConnectionInfos, nextSeq, type ConnectionInfo, type LazyInfo } from './connection-info.js';

export type { ConnectionInfo } from './connection-info.js';

/** A frame a handler received: on /ws the envelope (id always set), elsewhere the endpoint's JSON object. */
export type IncomingFrame = Record<string, unknown> & { type: string };

/** What a handler answers: on /ws wrapped in the envelope with the request's id; elsewhere sent as it is. Nothing: no answer. */
export type HandlerReply = Record<string, unknown> | null | undefined | void;

export type MessageHandler = (message: IncomingFrame, connection: ConnectionInfo) => HandlerReply | Promise<HandlerReply>;

/** Endpoints a handler can be registered on; `/ws` is the default. */
export type HandlerEndpoint = 'ws' | 'board' | 'user' | 'legacy' | 'operator';

export interface HandlerOptions {
  /** Default `ws`. On the other endpoints a handler answers only types the endpoint does not know itself. */
  endpoint?: HandlerEndpoint | HandlerEndpoint[];
  /** Past this the sender gets HANDLER_FAILED. Default the gateway's `handlerTimeoutMs` (30000). */
  timeoutMs?: number;
  /** Runs again after a throw, this many times, waiting 1 s, 2 s, 4 s... on the gateway's clock. Default the gateway's `maxRetries` (0). */
  retries?: number;
}

export type Next = () => Promise<unknown>;

/** Runs before the upgrade; not calling `next` (or throwing) refuses it with 403. A returned object is merged into `metadata`. */
export interface ConnectionMiddleware {
  type: 'connection';
  handler(connection: ConnectionInfo, req: IncomingMessage, next: Next): unknown;
}

/** Runs before a frame's handling; `next()` handles it and resolves with the answer (on /ws). Not calling it drops the frame. */
export interface MessageMiddleware {
  type: 'message';
  handler(message: IncomingFrame, connection: ConnectionInfo, next: Next): unknown;
}

export type Middleware = ConnectionMiddleware | MessageMiddleware;

/** An alert of the monitoring plugin. */
export interface Alert {
  kind: 'errorRate' | 'responseTime' | 'connectionCount';
  value: number;
  threshold: number;
  message: string;
  timestamp: string;
}

export interface GatewayEvents {
  'connection:added': [ConnectionInfo];
  'connection:removed': [ConnectionInfo & { code: number; reason: string }];
  'message:received': [{ message: IncomingFrame; connection: ConnectionInfo }];
  'message:sent': [{ message: Record<string, unknown>; connection: ConnectionInfo }];
  error: [{ error: Error; connection: ConnectionInfo | null }];
  alert: [Alert];
}

/** Something `use` installs that is no middleware (the monitoring plugin). Returns its stop function. */
export interface Plugin {
  type: 'plugin';
  name: string;
  install(platform: Platform): () => void;
}

interface Registered {
  handler: MessageHandler;
  timeoutMs: number;
  retries: number;
}

/** First wait before a failed handler runs again; doubled each time. */
export const RETRY_DELAY_MS = 1000;

/** The error frame for a handler that threw: its catalogue code when it threw a CourtsideError with a frame code, else HANDLER_FAILED. */
export function handlerError(err: unknown, id: string | number | undefined): ErrorFrame {
  const code = err instanceof CourtsideError && Object.hasOwn(FrameErrorCodes, err.code) ? (err.code as FrameErrorCode) : 'HANDLER_FAILED';
  return errorFrame(code, err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500), id);
}

export class Platform extends EventEmitter<GatewayEvents> implements PeerObserver {
  readonly stats: PlatformStats;
  private readonly handlers = new Map<string, Registered>();
  private readonly connectionMw: ConnectionMiddleware[] = [];
  private readonly messageMw: MessageMiddleware[] = [];
  /** Open connections by the number in their id; each peer carries its info (or what it is made from). */
  private readonly live = new Map<number, Peer>();
  private readonly plugins: (() => void)[] = [];
  private readonly prefix = `c${process.pid.toString(36)}${Date.now().toString(36)}`;
  private readonly infos: ConnectionInfos;
  /** Set by the gateway once it runs: operators' system_notification for alerts, health status. */
  notifyOperators: (message: string, level: 'warning' | 'info') => void = () => {};
  status: () => 'healthy' | 'degraded' | 'stopped' = () => 'stopped';

  constructor(
    readonly clock: Clock = systemClock,
    readonly defaultTimeoutMs = 30_000,
    readonly defaultRetries = 0,
  ) {
    super();
    this.stats = new PlatformStats(clock);
    this.infos = new ConnectionInfos(this.prefix, clock);
  }

  registerHandler(type: string, handler: MessageHandler, options: HandlerOptions = {}): this {
    if (typeof type !== 'string' || type === '' || typeof handler !== 'function') throw new TypeError('registerHandler(type, handler): a non-empty type and a function');
    const eps = options.endpoint === undefined ? ['ws'] : Array.isArray(options.endpoint) ? options.endpoint : [options.endpoint];
    for (const ep of eps) this.handlers.set(`${ep} ${type}`, { handler, timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs, retries: options.retries ?? this.defaultRetries });
    return this;
  }

  handlerFor(endpoint: EndpointName, type: string): Registered | undefined {
    return this.handlers.get(`${endpoint} ${type}`);
  }

  /** Middleware (a plain function is message middleware, as in the Node WebSocket module) or a plugin. */
  use(m: Middleware | Plugin | MessageMiddleware['handler']): this {
    if (typeof m === 'function') this.messageMw.push({ type: 'message', handler: m });
    else if (m?.type === 'plugin') this.plugins.push(m.install(this));
    else if (m?.type === 'connection' && typeof m.handler === 'function') this.connectionMw.push(m);
    else if (m?.type === 'message' && typeof m.handler === 'function') this.messageMw.push(m);
    else throw new TypeError('use(): a function, {type:"connection"|"message", handler}, or a plugin');
    return this;
  }

  /** Stops the plugins' timers. */
  stop(): void {
    for (const stop of this.plugins.splice(0)) stop();
  }

  get hasConnectionMiddleware(): boolean {
    return this.connectionMw.length > 0;
  }

  describe(req: IncomingMessage, endpoint: EndpointName, ip: string, path: string): ConnectionInfo {
    return this.infos.info(this.infos.seed(req, path), endpoint, ip);
  }

  /** What the connection's info is made from when first read (connection-info.ts): `added` takes it as well as an info. */
  seedOf(req: IncomingMessage, path: string): LazyInfo {
    return this.infos.seed(req, path);
  }

  /** The connection phase: true when every middleware called next. */
  async admit(info: ConnectionInfo, req: IncomingMessage): Promise<boolean> {
    const run = async (i: number): Promise<boolean> => {
      const mw = this.connectionMw[i];
      if (!mw) return true;
      let passed: Promise<boolean> | null = null;
      const r = await mw.handler(info, req, () => (passed ??= run(i + 1)));
      if (isObject(r)) Object.assign(info.metadata, r);
      return passed === null ? false : await passed;
    };
    try {
      return await run(0);
    } catch (err) {
      this.fail(err, info);
      return false;
    }
  }

  /**
   * A socket accepted: tracked for sendToConnection and counted; its frames
   * out are watched. The gateway calls `removed` when it closes (from its one
   * close handler: no listener or closure here per socket).
   */
  added(info: ConnectionInfo | LazyInfo, peer: Peer): void {
    const key = this.infos.keyOf(info);
    if (key === null) throw new Error(`not a connection id of this gateway: ${(info as ConnectionInfo).id}`);
    this.live.set(key, peer);
    peer.info = info;
    this.stats.connected();
    peer.observer = this;
    if (this.listenerCount('connection:added') > 0) this.emit('connection:added', peer.info!);
  }

  removed(peer: Peer, code: number, reason: Buffer): void {
    const held = peer.infoSource;
    if (held === null) return;
    const key = this.infos.keyOf(held);
    if (key === null || this.live.get(key) !== peer) return;
    this.live.delete(key);
    this.stats.disconnected();
    if (this.listenerCount('connection:removed') > 0) this.emit('connection:removed', { ...peer.info!, code, reason: reason.toString() });
  }

  /** PeerObserver: a frame went out to `peer`. */
  sent(peer: Peer, frame: Record<string, unknown> | string): void {
    if (typeof frame !== 'string' && frame.type === 'error') this.stats.errors++;
    if (this.listenerCount('message:sent') > 0) this.sentFrame(peer.info!, frame);
  }

  /** PeerObserver: a frame of a type the peer's endpoint does not know. */
  unknownType(peer: Peer, error: ErrorFrame, text: string): Promise<void> {
    return this.foreign(peer, peer.info!, error, text);
  }

  /** Runs a handler under its deadline, again after a throw while retries are left; the last failure is an `error` event and rejects. */
  async run(reg: Registered, message: IncomingFrame, info: ConnectionInfo): Promise<HandlerReply> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(reg, message, info);
      } catch (err) {
        if (attempt >= reg.retries) {
          this.fail(err, info);
          throw err;
        }
        await new Promise<void>((r) => this.clock.setTimeout(r, RETRY_DELAY_MS * 2 ** attempt));
      }
    }
  }

  private async attempt(reg: Registered, message: IncomingFrame, info: ConnectionInfo): Promise<HandlerReply> {
    let timer: TimerHandle | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new Error(`the handler for '${message.type}' did not answer within ${reg.timeoutMs} ms`)), reg.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => reg.handler(message, info)), late]);
    } finally {
      this.clock.clear(timer);
    }
  }

  /** A type the endpoint does not know: a handler registered for it there answers, as it is; else the endpoint's error. */
  private async foreign(peer: Peer, info: ConnectionInfo, error: ErrorFrame, text: string): Promise<void> {
    const j = parseJson(text);
    const frame = j.ok && isObject(j.value) && typeof j.value.type === 'string' ? (j.value as IncomingFrame) : null;
    const reg = frame === null ? undefined : this.handlerFor(info.endpoint, frame.type);
    if (!reg || frame === null) return peer.send(error);
    try {
      const reply = await this.run(reg, frame, info);
      if (isObject(reply)) peer.send(error.id === undefined || 'id' in reply ? reply : { ...reply, id: error.id });
    } catch (err) {
      peer.send(handlerError(err, error.id));
    }
  }

  /** `message:sent` (there are listeners); errors were counted by `sent`. */
  private sentFrame(info: ConnectionInfo, frame: Record<string, unknown> | string): void {
    const message = typeof frame === 'string' ? parseJson(frame) : { ok: true as const, value: frame };
    if (message.ok && isObject(message.value)) this.emit('message:sent', { message: message.value, connection: info });
  }

  /** An `error` event, if anyone listens (an EventEmitter throws on an unheard one). */
  fail(err: unknown, connection: ConnectionInfo | null): void {
    if (this.listenerCount('error') > 0) this.emit('error', { error: err instanceof Error ? err : new Error(String(err)), connection });
  }

  /**
   * One text frame on its way to the endpoint's handling: counted, timed,
   * shown to `message:received`, passed through message middleware.
   */
  intake(peer: Peer, text: string, target: { text(text: string): unknown }): unknown {
    const start = this.clock.now();
    // The info is read (and so made) only when middleware or a listener is there to see it.
    const watched = peer.infoSource !== null && (this.messageMw.length > 0 || this.listenerCount('message:received') > 0);
    if (!watched) return this.timed(target.text(text), start);
    const info = peer.info!;
    const j = parseJson(text);
    // Not an object with a type: the endpoint's own refusal answers it, middleware sees only frames.
    if (!j.ok || !isObject(j.value) || typeof j.value.type !== 'string') return this.timed(target.text(text), start);
    const done = () => this.stats.handled(this.clock.now() - start);
    const message = j.value as IncomingFrame;
    if (this.listenerCount('message:received') > 0) this.emit('message:received', { message, connection: info });
    const run = async (i: number): Promise<unknown> => {
      const mw = this.messageMw[i];
      // Middleware may have changed the frame (sanitized text): the endpoint handles what it passed on.
      if (!mw) return target.text(this.messageMw.length > 0 ? JSON.stringify(message) : text);
      let passed: Promise<unknown> | null = null;
      const r = await mw.handler(message, info, () => (passed ??= run(i + 1)));
      return passed === null ? r : await passed;
    };
    // Middleware that throws refuses the frame: the endpoint's error frame with the frame's id, as a handler's would be.
    return run(0)
      .catch((err: unknown) => {
        this.fail(err, info);
        const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
        if (peer.refuseWith) peer.refuseWith(err, id);
        else peer.send(handlerError(err, id));
      })
      .finally(done);
  }

  /** Counts a handling that began at `start` once it is done (the hot path: no closure when it was synchronous). */
  private timed(r: unknown, start: number): unknown {
    if (r instanceof Promise) return r.finally(() => this.stats.handled(this.clock.now() - start));
    this.stats.handled(this.clock.now() - start);
    return r;
  }

  /** Sends to one connection; on /ws the frame is wrapped in the envelope. False when it is not open. */
  sendToConnection(id: string, message: Record<string, unknown>): boolean {
    const key = this.infos.seqOf(id);
    const peer = key === null ? undefined : this.live.get(key);
    if (!peer || !peer.open) return false;
    peer.send(peer.endpoint === 'ws' ? this.envelope(message) : message);
    return true;
  }

  /** To every connection (of `/ws` unless a filter says otherwise); the number sent to. */
  broadcast(message: Record<string, unknown>, filter: (c: ConnectionInfo) => boolean = (c) => c.endpoint === 'ws'): number {
    let n = 0;
    for (const peer of this.live.values()) {
      const info = peer.info;
      if (info !== null && filter(info) && this.sendToConnection(info.id, message)) n++;
    }
    return n;
  }

  connections(): ConnectionInfo[] {
    return [...this.live.values()].map((p) => p.info!);
  }

  /** The Node WebSocket module's envelope around a frame an application built. */
  envelope(m: Record<string, unknown>, id?: string | number): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: id ?? m.id ?? this.newId(),
      type: typeof m.type === 'string' ? m.type : 'response',
      content: m.content ?? {},
    };
    if (typeof m.sessionId === 'string') out.sessionId = m.sessionId;
    out.timestamp = new Date(this.clock.now()).toISOString();
    return out;
  }

  newId(): string {
    return `${this.prefix}-m${nextSeq().toString(36)}`;
  }

  getHealth() {
    return this.stats.health(this.status());
  }

  getMetrics() {
    return this.stats.metrics();
  }

  /** For plugins: a repeating check on the gateway's clock. */
  every(ms: number, fn: () => void): () => void {
    const t: TimerHandle = this.clock.setInterval(fn, ms);
    return () => this.clock.clear(t);
  }
}
