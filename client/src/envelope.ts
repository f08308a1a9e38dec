/**
 * The `/ws` endpoint (the Node WebSocket module's envelope): every frame is
 * `{id, type, content, sessionId?, timestamp}` and every answer carries the
 * id of what it answers, so each frame sent is acked by its answer. Frames
 * not yet answered when the socket drops are sent again after the next
 * `init`, which resumes the same session; an application's handler should
 * treat a repeated id as a repeat (at-least-once).
 */
import type { EnvelopeHealth, EnvelopeMetrics } from '../../firmware-protocol/index.js';
import { emit, listen as add, type Listener } from './listeners.js';
import { PendingTable, RequestError } from './pending.js';
import { ReconnectingSocket, type ConnectionState, type Frame, type SocketOptions } from './socket.js';

export interface Envelope<C = unknown> {
  id: string | number;
  type: string;
  content: C;
  sessionId?: string;
  timestamp: string;
}

export interface EnvelopeClientOptions extends SocketOptions {
  /** `ws://host:port/ws` (or the path the application chose). */
  url: string;
  /** Kept across reconnects; default the one the gateway gives at the first init. */
  sessionId?: string;
  userId?: string;
  /** How long a frame may wait for its answer, reconnects included. Default 60000 ms. */
  ackTimeoutMs?: number;
}

export class EnvelopeClient {
  readonly socket: ReconnectingSocket;
  private readonly pending: PendingTable<Envelope>;
  private readonly ackTimeoutMs: number;
  private sessionId: string | undefined;
  private readonly userId: string | undefined;
  private connectionId: string | null = null;
  private seq = 0;
  private readonly prefix: string;
  private readonly listeners = { system: new Set<Listener<Envelope>>(), message: new Set<Listener<Envelope>>(), ready: new Set<Listener<Envelope>>() };

  constructor(options: EnvelopeClientOptions) {
    this.socket = new ReconnectingSocket(options.url, options);
    this.pending = new PendingTable(this.socket.timers);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 60_000;
    this.sessionId = options.sessionId;
    this.userId = options.userId;
    this.prefix = `m${Math.floor((options.random ?? Math.random)() * 1e9).toString(36)}`;
    this.socket.onOpen = () => this.handshake();
    this.socket.onFrame = (f) => this.frame(f as unknown as Envelope);
    // Unanswered frames stay for the next open; nothing fails because the network did.
    this.socket.onDown = () => {};
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  /** The gateway's id for the current connection (from init_response). */
  get connection(): string | null {
    return this.connectionId;
  }

  get session(): string | undefined {
    return this.sessionId;
  }

  /** Frames sent and not yet answered. */
  get unacked(): number {
    return this.pending.size;
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.socket.close();
    this.pending.failAll('client closed');
  }

  onState(fn: Listener<ConnectionState>): () => void {
    return this.socket.onState(fn);
  }

  /** `system` frames from the gateway (welcome, shutdown, an application's broadcast). */
  onSystem(fn: Listener<Envelope>): () => void {
    return add(this.listeners.system, fn);
  }

  /** Frames that answer nothing this client sent (an application's push). */
  onMessage(fn: Listener<Envelope>): () => void {
    return add(this.listeners.message, fn);
  }

  /** Each init_response: the connection is ready (first time and after every reconnect). */
  onReady(fn: Listener<Envelope>): () => void {
    return add(this.listeners.ready, fn);
  }

  /**
   * Sends a frame and resolves with its answer; rejects with the gateway's
   * error code. Sent again after a reconnect until answered or `ackTimeoutMs`.
   */
  request<C = unknown>(type: string, content: unknown = {}, timeoutMs = this.ackTimeoutMs): Promise<Envelope<C>> {
    const id = `${this.prefix}-${++this.seq}`;
    const frame: Frame = { id, type, content, timestamp: new Date(this.socket.now()).toISOString() };
    if (this.sessionId !== undefined) frame.sessionId = this.sessionId;
    const p = this.pending.add(id, type, frame, timeoutMs, true);
    // Offline it waits in the table, not the queue: it goes once, after the next init.
    this.socket.sendNow(frame);
    return p as Promise<Envelope<C>>;
  }

  ping(): Promise<Envelope<{ timestamp: string; serverTime: number }>> {
    return this.request('ping');
  }

  health(): Promise<EnvelopeHealth> {
    return this.request<{ data: EnvelopeHealth }>('system', { action: 'get_status' }).then((r) => r.content.data);
  }

  metrics(): Promise<EnvelopeMetrics> {
    return this.request<{ data: EnvelopeMetrics }>('system', { action: 'get_metrics' }).then((r) => r.content.data);
  }

  private handshake(): void {
    const content: Record<string, string> = {};
    if (this.sessionId !== undefined) content.sessionId = this.sessionId;
    if (this.userId !== undefined) content.userId = this.userId;
    this.socket.sendNow({ id: `${this.prefix}-init-${++this.seq}`, type: 'init', content, timestamp: new Date(this.socket.now()).toISOString() });
    for (const f of this.pending.toResend()) this.socket.sendNow(f);
  }

  private frame(f: Envelope): void {
    const id = typeof f.id === 'string' ? f.id : String(f.id);
    if (f.type === 'init_response') {
      const c = f.content as { connectionId?: string; sessionId?: string };
      this.connectionId = c.connectionId ?? null;
      this.sessionId ??= c.sessionId;
      return emit(this.listeners.ready, f);
    }
    if (this.pending.has(id)) {
      if (f.type === 'error') {
        const c = f.content as { code?: string; error?: string };
        this.pending.reject(id, new RequestError(String(c.code ?? 'ERROR'), String(c.error ?? ''), 'ws'));
      } else this.pending.resolve(id, f);
      return;
    }
    if (f.type === 'system') return emit(this.listeners.system, f);
    emit(this.listeners.message, f);
  }
}
