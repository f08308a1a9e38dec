/**
 * The one typed client of the gateway: the operator WebSocket (`/ws/admin/`)
 * for requests, subscriptions and live events, and an HTTP helper for `/api/*`.
 *
 * - Requests carry an id; the reply (or error) echoes it; each has a timeout.
 * - Subscriptions are counted per topic, so two views watching `devices`
 *   share one; they are sent again after every reconnect.
 * - The socket reconnects with exponential backoff and jitter; its state is a
 *   store the header shows at all times. A refused token stops the retries
 *   (the browser hides the HTTP status of a failed upgrade, so one HTTP call
 *   tells a wrong token from a gateway that is down).
 * - No DOM types: the same code runs in the browser, in Electron and in the
 *   Node unit tests (which pass `ws` as the socket).
 * - Time comes from an injected Clock (the gateway's own type), so tests
 *   drive backoff, timeouts and the idle check without sleeping.
 */
import { writable, type Readable, type Writable } from 'svelte/store';
import { createSystemClock, type Clock, type TimerHandle } from '../../../main/shared/clock.js';
import { GatewayRequestError } from './errors.js';
import { GatewayHttp, type HttpInit } from './http.js';
import { TopicCounts } from './topics.js';
import type { EventFrame, NotificationFrame, RequestMap, SensorBatch } from './protocol.js';

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'forbidden' | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts since the last open socket. */
  attempt: number;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** Why the last socket closed or failed, in words. */
  lastError: string | null;
  /** When the status last changed (epoch ms). */
  since: number;
}

export interface ClientOptions {
  /** `http://host:port` of the gateway (the page's origin in a browser). */
  baseUrl: string;
  token: string;
  /** Default: the global WebSocket. */
  createSocket?: (url: string) => WebSocketLike;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Reconnect delays: first, ceiling. Default 500 ms and 15000 ms. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** With nothing received for this long, the client asks for the status to check the socket; default 20000 ms. */
  idleCheckMs?: number;
  /** Timestamps, reconnect backoff, request timeouts and the idle check. Default the system clock. */
  clock?: Clock;
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; timer: TimerHandle; type: string };
type Listener<T> = (value: T) => void;

const OPEN = 1;

/** Timers that keep a Node process alive, as the globals did: a reconnecting client retries until closed. */
const defaultClock: Clock = createSystemClock({ unref: false });

export class GatewayClient {
  readonly baseUrl: string;
  readonly token: string;
  private readonly o: Required<Omit<ClientOptions, 'baseUrl' | 'token' | 'fetch' | 'clock'>>;
  private readonly clock: Clock;
  private readonly api: GatewayHttp;
  private readonly stateStore: Writable<ConnectionState>;
  readonly state: Readable<ConnectionState>;
  private current: ConnectionState;
  private ws: WebSocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly topics = new TopicCounts();
  private retryTimer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private lastFrameAt = 0;
  private wanted = false;
  /** Server clock minus ours, from connection_established. */
  private clockOffsetMs = 0;
  private readonly listeners = {
    event: new Set<Listener<EventFrame>>(),
    sensor: new Set<Listener<SensorBatch[]>>(),
    notification: new Set<Listener<NotificationFrame>>(),
    open: new Set<Listener<void>>(),
    /** Error frames that answer no request (rate limiting, a bad frame without id). */
    error: new Set<Listener<GatewayRequestError>>(),
  };

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    const g = globalThis as unknown as { WebSocket?: new (url: string) => WebSocketLike; fetch?: typeof fetch };
    this.clock = options.clock ?? defaultClock;
    this.api = new GatewayHttp(this.baseUrl, this.token, options.fetch ?? ((...a) => g.fetch!(...a)));
    this.current = { status: 'idle', attempt: 0, retryAt: null, lastError: null, since: this.clock.now() };
    this.stateStore = writable<ConnectionState>(this.current);
    this.state = { subscribe: this.stateStore.subscribe };
    this.o = {
      createSocket: options.createSocket ?? ((url) => new g.WebSocket!(url)),
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 15_000,
      idleCheckMs: options.idleCheckMs ?? 20_000,
    };
  }

  get connection(): ConnectionState {
    return this.current;
  }

  /** The gateway's clock, for ages computed from its timestamps. */
  serverNow(): number {
    return this.clock.now() + this.clockOffsetMs;
  }

  connect(): void {
    this.wanted = true;
    if (this.ws || this.retryTimer) return;
    this.open();
  }

  /** Closes for good (sign out, page unload, tests). Pending requests fail. */
  close(): void {
    this.wanted = false;
    this.clock.clear(this.retryTimer ?? undefined);
    this.retryTimer = null;
    this.stopIdleCheck();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      ws.close(1000, 'client closed');
    }
    this.failPending('DISCONNECTED', 'connection closed');
    this.setState({ status: 'closed', retryAt: null });
  }

  /** Sends a request and resolves with the reply, or rejects with a GatewayRequestError. */
  request<K extends keyof RequestMap>(type: K, fields: RequestMap[K][0], timeoutMs?: number): Promise<RequestMap[K][1]> {
    return this.requestAny(type, fields as Record<string, unknown>, timeoutMs) as Promise<RequestMap[K][1]>;
  }

  /** Same, for requests of parts the typed map does not list (USB, discovery). */
  requestAny(type: string, fields: Record<string, unknown> = {}, timeoutMs = this.o.requestTimeoutMs): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.current.status !== 'open') {
      return Promise.reject(new GatewayRequestError('DISCONNECTED', 'not connected', type));
    }
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayRequestError('TIMEOUT', `no answer to ${type} within ${timeoutMs} ms`, type));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, type });
      ws.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  /**
   * Starts receiving `topics` (counted: every call needs its own release).
   * Returns the release function. Works before the socket is open; topics are
   * (re)sent on every open.
   */
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

  /** Topics currently watched (tests, debugging). */
  watchedTopics(): string[] {
    return this.topics.list().sort();
  }

  private sendTopics(kind: 'subscribe' | 'unsubscribe', topics: string[]): void {
    if (this.current.status !== 'open') return;
    this.request(kind, { topics }).catch(() => {
      /* a lost subscribe is redone on the next open */
    });
  }

  /** `event` frames of one topic ('devices', 'rooms', ...). Returns the remover. */
  onEvent(topic: string, fn: Listener<EventFrame>): () => void {
    const wrapped: Listener<EventFrame> = (e) => {
      if (e.topic === topic) fn(e);
    };
    return this.add('event', wrapped);
  }

  onSensor(fn: Listener<SensorBatch[]>): () => void {
    return this.add('sensor', fn);
  }

  onNotification(fn: Listener<NotificationFrame>): () => void {
    return this.add('notification', fn);
  }

  /** Every time the socket opens (first time and after reconnects): the moment to (re)load lists. */
  onOpen(fn: Listener<void>): () => void {
    return this.add('open', fn);
  }

  onError(fn: Listener<GatewayRequestError>): () => void {
    return this.add('error', fn);
  }

  private add<K extends keyof GatewayClient['listeners']>(kind: K, fn: GatewayClient['listeners'][K] extends Set<infer L> ? L : never): () => void {
    const set = this.listeners[kind] as Set<typeof fn>;
    set.add(fn);
    return () => set.delete(fn);
  }

  private emit<T>(set: Set<Listener<T>>, value: T): void {
    for (const fn of [...set]) {
      try {
        fn(value);
      } catch (err) {
        // One broken view must not stop the others from getting their events.
        console.error(err);
      }
    }
  }

  /** `/api/*` with the token; resolves with the JSON body, rejects with a GatewayRequestError. */
  http<T = unknown>(path: string, init: HttpInit = {}): Promise<T> {
    return this.api.json<T>(path, init);
  }

  /** A file from `/api/*` (exports): its bytes and the name the gateway gave it. */
  download(path: string): Promise<{ data: ArrayBuffer; filename: string; type: string }> {
    return this.api.download(path);
  }

  private socketUrl(): string {
    return this.baseUrl.replace(/^http/, 'ws') + `/ws/admin/?token=${encodeURIComponent(this.token)}`;
  }

  private setState(patch: Partial<ConnectionState>): void {
    const statusChanged = patch.status !== undefined && patch.status !== this.current.status;
    this.current = { ...this.current, ...patch, since: statusChanged ? this.clock.now() : this.current.since };
    this.stateStore.set(this.current);
  }

  private open(): void {
    this.retryTimer = null;
    this.setState({ status: this.current.attempt > 0 ? 'reconnecting' : 'connecting', retryAt: null });
    let ws: WebSocketLike;
    try {
      ws = this.o.createSocket(this.socketUrl());
    } catch (err) {
      return this.lost(err instanceof Error ? err.message : String(err), false);
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastFrameAt = this.clock.now();
      this.setState({ status: 'open', attempt: 0, lastError: null, retryAt: null });
      this.startIdleCheck();
      if (this.topics.size) this.sendTopics('subscribe', this.topics.list());
      this.emit(this.listeners.open, undefined);
    };
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onerror = () => {
      /* onclose follows with the code */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopIdleCheck();
      this.failPending('DISCONNECTED', 'connection lost before the answer came');
      this.lost(ev.reason || (opened ? `connection closed (${ev.code})` : 'could not connect'), !opened);
    };
  }

  /** After a close: decide between retrying and telling the operator the token is wrong. */
  private lost(reason: string, neverOpened: boolean): void {
    if (!this.wanted) return;
    const attempt = this.current.attempt + 1;
    const delay = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** Math.min(attempt - 1, 16)) * (0.8 + Math.random() * 0.4);
    this.setState({ status: 'reconnecting', attempt, lastError: reason, retryAt: this.clock.now() + delay });
    this.retryTimer = this.clock.setTimeout(() => this.open(), delay);
    if (neverOpened) {
      // A refused upgrade looks like a network failure to a browser; ask over HTTP why.
      this.http('/api/status').catch((err: unknown) => {
        if (!(err instanceof GatewayRequestError) || !this.wanted || this.current.status === 'open') return;
        if (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN_ORIGIN') {
          this.clock.clear(this.retryTimer ?? undefined);
          this.retryTimer = null;
          this.setState({ status: err.code === 'UNAUTHORIZED' ? 'unauthorized' : 'forbidden', retryAt: null, lastError: err.message });
        }
      });
    }
  }

  /** Reconnects now instead of waiting for the backoff (the "retry now" button). */
  retryNow(): void {
    if (!this.wanted || this.ws) return;
    this.clock.clear(this.retryTimer ?? undefined);
    this.open();
  }

  private startIdleCheck(): void {
    this.stopIdleCheck();
    // A laptop that slept or a Wi-Fi that dropped can leave a socket that looks open; a request that times out tells.
    this.idleTimer = this.clock.setInterval(() => {
      if (this.clock.now() - this.lastFrameAt < this.o.idleCheckMs) return;
      const ws = this.ws;
      this.request('get_system_status', {}, Math.min(this.o.requestTimeoutMs, 5000)).catch((err: unknown) => {
        if (err instanceof GatewayRequestError && err.code === 'TIMEOUT' && ws && this.ws === ws) {
          ws.close(4000, 'no answer from the gateway');
          ws.onclose?.({ code: 4000, reason: 'the gateway stopped answering' });
        }
      });
    }, Math.max(1000, this.o.idleCheckMs / 2));
  }

  private stopIdleCheck(): void {
    this.clock.clear(this.idleTimer ?? undefined);
    this.idleTimer = null;
  }

  private failPending(code: 'DISCONNECTED', message: string): void {
    for (const [id, p] of this.pending) {
      this.clock.clear(p.timer);
      p.reject(new GatewayRequestError(code, message, p.type));
      this.pending.delete(id);
    }
  }

  private onFrame(data: unknown): void {
    this.lastFrameAt = this.clock.now();
    if (typeof data !== 'string') return;
    let f: Record<string, unknown> & { type?: unknown; id?: unknown };
    try {
      f = JSON.parse(data) as typeof f;
    } catch {
      return;
    }
    const id = typeof f.id === 'string' ? f.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (p) {
      this.pending.delete(id!);
      this.clock.clear(p.timer);
      if (f.type === 'error') p.reject(new GatewayRequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), p.type));
      else p.resolve(f);
      return;
    }
    switch (f.type) {
      case 'sensor_samples':
        if (Array.isArray(f.batches)) this.emit(this.listeners.sensor, f.batches as SensorBatch[]);
        return;
      case 'event':
        return this.emit(this.listeners.event, f as unknown as EventFrame);
      case 'system_notification':
        return this.emit(this.listeners.notification, f as unknown as NotificationFrame);
      case 'connection_established':
        if (typeof f.server_time === 'number') this.clockOffsetMs = f.server_time - this.clock.now();
        return;
      case 'error':
        return this.emit(this.listeners.error, new GatewayRequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'gateway'));
    }
  }
}
