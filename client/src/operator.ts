/**
 * The operator endpoint (`/ws/admin/?token=`): requests with an id, each
 * answered by a reply (or an error) echoing it, with a timeout; topic
 * subscriptions counted per topic and sent again after every reconnect;
 * events, sensor batches and system notifications to listeners; an idle
 * check that replaces a socket that looks open but no longer answers.
 *
 * A request fails at once when the socket is down or drops before its answer
 * (an operator should see that, not wait); `resend: true` keeps it instead,
 * to go again after the next open (for requests that may run twice).
 */
import type { EventEnvelope, OperatorApi, SensorBatch, SystemNotificationFrame } from '../../firmware-protocol/index.js';
import { emit, listen, type Listener } from './listeners.js';
import { PendingTable, RequestError } from './pending.js';
import { TopicCounts } from './topics.js';
import { ReconnectingSocket, type ConnectionState, type Frame, type SocketOptions, type TimerHandle } from './socket.js';

export interface OperatorClientOptions extends SocketOptions {
  /** `ws://host:port/ws/admin/?token=...`, or a function giving it at each attempt. */
  url: string | (() => string);
  /** Default 10000 ms. */
  requestTimeoutMs?: number;
  /** With nothing received for this long, a status request checks the socket. Default 20000 ms; 0: off. */
  idleCheckMs?: number;
}

export type OperatorRequestType = keyof OperatorApi;

/** An `event` frame: the envelope every event shares; firmware-protocol's OperatorEvents has each in full. */
export type OperatorEventFrame = EventEnvelope & { event: string; [field: string]: unknown };

export class OperatorClient {
  readonly socket: ReconnectingSocket;
  private readonly pending: PendingTable<Record<string, unknown>>;
  private readonly requestTimeoutMs: number;
  private readonly idleCheckMs: number;
  private readonly topics = new TopicCounts();
  private nextId = 1;
  private lastFrameAt = 0;
  private idleTimer: TimerHandle | null = null;
  /** Server clock minus ours, from connection_established. */
  private clockOffsetMs = 0;
  private readonly listeners = {
    event: new Set<Listener<OperatorEventFrame>>(),
    sensor: new Set<Listener<SensorBatch[]>>(),
    notification: new Set<Listener<SystemNotificationFrame>>(),
    open: new Set<Listener<void>>(),
    down: new Set<Listener<{ reason: string; neverOpened: boolean }>>(),
    error: new Set<Listener<RequestError>>(),
    frame: new Set<Listener<Frame>>(),
  };

  constructor(options: OperatorClientOptions) {
    this.socket = new ReconnectingSocket(options.url, options);
    this.pending = new PendingTable(this.socket.timers);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.idleCheckMs = options.idleCheckMs ?? 20_000;
    this.socket.onOpen = () => {
      this.lastFrameAt = this.socket.now();
      this.startIdleCheck();
      if (this.topics.size) this.sendTopics('subscribe', this.topics.list());
      for (const f of this.pending.toResend()) this.socket.sendNow(f);
      emit(this.listeners.open, undefined);
    };
    this.socket.onDown = (reason, neverOpened) => {
      this.stopIdleCheck();
      this.pending.down(!neverOpened && reason === 'connection closed' ? 'connection closed' : 'connection lost before the answer came');
      emit(this.listeners.down, { reason, neverOpened });
    };
    this.socket.onFrame = (f) => this.frame(f);
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  onState(fn: Listener<ConnectionState>): () => void {
    return this.socket.onState(fn);
  }

  /** The gateway's clock, for ages computed from its timestamps. */
  serverNow(): number {
    return this.socket.now() + this.clockOffsetMs;
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.stopIdleCheck();
    this.socket.close();
    this.pending.failAll('connection closed');
  }

  /** A typed request: the fields of its schema in, its reply's body out. */
  request<K extends OperatorRequestType>(type: K, fields: OperatorApi[K][0], timeoutMs?: number): Promise<OperatorApi[K][1]> {
    return this.requestAny(type, fields as Record<string, unknown>, timeoutMs) as Promise<OperatorApi[K][1]>;
  }

  /** Any request type (parts the typed map does not list); `resend` keeps it across a reconnect. */
  requestAny(type: string, fields: Record<string, unknown> = {}, timeoutMs = this.requestTimeoutMs, options: { resend?: boolean } = {}): Promise<Record<string, unknown>> {
    const resend = options.resend === true;
    if (!resend && !this.socket.isOpen) return Promise.reject(new RequestError('DISCONNECTED', 'not connected', type));
    const id = `c${this.nextId++}`;
    const frame = { ...fields, type, id };
    const p = this.pending.add(id, type, frame, timeoutMs, resend);
    this.socket.sendNow(frame);
    return p;
  }

  /** Starts receiving `topics` (counted: each call needs its own release). Works before the socket opens. */
  watch(topics: string[]): () => void {
    const added = this.topics.add(topics);
    if (added.length) this.sendTopics('subscribe', added);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const removed = this.topics.remove(topics);
      if (removed.length) this.sendTopics('unsubscribe', removed);
    };
  }

  watchedTopics(): string[] {
    return this.topics.list().sort();
  }

  onEvent(topic: string, fn: Listener<OperatorEventFrame>): () => void {
    return listen(this.listeners.event, (e) => {
      if (e.topic === topic) fn(e);
    });
  }

  onSensor(fn: Listener<SensorBatch[]>): () => void {
    return listen(this.listeners.sensor, fn);
  }

  onNotification(fn: Listener<SystemNotificationFrame>): () => void {
    return listen(this.listeners.notification, fn);
  }

  /** Each open (first and after reconnects): the moment to (re)load lists. */
  onOpen(fn: Listener<void>): () => void {
    return listen(this.listeners.open, fn);
  }

  /** Each time a socket closed or could not open. */
  onDown(fn: Listener<{ reason: string; neverOpened: boolean }>): () => void {
    return listen(this.listeners.down, fn);
  }

  /** Error frames that answer no request (rate limiting, a bad frame without id). */
  onError(fn: Listener<RequestError>): () => void {
    return listen(this.listeners.error, fn);
  }

  /** Every frame that answers no request, whatever its type. */
  onFrame(fn: Listener<Frame>): () => void {
    return listen(this.listeners.frame, fn);
  }

  private sendTopics(kind: 'subscribe' | 'unsubscribe', topics: string[]): void {
    if (!this.socket.isOpen) return;
    this.requestAny(kind, { topics }).catch(() => {
      /* a lost subscribe is redone on the next open */
    });
  }

  private startIdleCheck(): void {
    this.stopIdleCheck();
    if (this.idleCheckMs <= 0) return;
    // A laptop that slept or a Wi-Fi that dropped can leave a socket that looks open; a request that times out tells.
    this.idleTimer = this.socket.timers.setInterval(() => {
      if (this.socket.now() - this.lastFrameAt < this.idleCheckMs) return;
      this.requestAny('get_system_status', {}, Math.min(this.requestTimeoutMs, 5000)).catch((err: unknown) => {
        if (err instanceof RequestError && err.code === 'TIMEOUT') this.socket.drop('the gateway stopped answering');
      });
    }, Math.max(1000, this.idleCheckMs / 2));
  }

  private stopIdleCheck(): void {
    this.socket.timers.clear(this.idleTimer ?? undefined);
    this.idleTimer = null;
  }

  private frame(f: Frame): void {
    this.lastFrameAt = this.socket.now();
    const id = typeof f.id === 'string' ? f.id : undefined;
    if (id !== undefined && this.pending.has(id)) {
      if (f.type === 'error') this.pending.reject(id, new RequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'operator'));
      else this.pending.resolve(id, f);
      return;
    }
    emit(this.listeners.frame, f);
    switch (f.type) {
      case 'sensor_samples':
        if (Array.isArray(f.batches)) emit(this.listeners.sensor, f.batches as SensorBatch[]);
        return;
      case 'event':
        return emit(this.listeners.event, f as unknown as OperatorEventFrame);
      case 'system_notification':
        return emit(this.listeners.notification, f as unknown as SystemNotificationFrame);
      case 'connection_established':
        if (typeof f.server_time === 'number') this.clockOffsetMs = f.server_time - this.socket.now();
        return;
      case 'error':
        return emit(this.listeners.error, new RequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'gateway'));
    }
  }
}
