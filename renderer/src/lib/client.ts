/**
 * The one typed client of the gateway: the operator WebSocket (`/ws/admin/`)
 * for requests, subscriptions and live events, and an HTTP helper for `/api/*`.
 * The socket side is the client library's OperatorClient (client/), the same
 * code apps and tablets use; this adds the Svelte store, HTTP and the token check.
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
import { createSystemClock, type Clock } from '../../../main/shared/clock.js';
import { OperatorClient, RequestError, type ConnectionState, type ConnectionStatus, type OperatorEventFrame, type WebSocketLike } from '../../../client/src/index.js';
import { GatewayRequestError } from './errors.js';
import { GatewayHttp, type HttpInit } from './http.js';
import type { EventFrame, NotificationFrame, RequestMap, SensorBatch } from './protocol.js';

export type { ConnectionState, ConnectionStatus, WebSocketLike };

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

type Listener<T> = (value: T) => void;

/** Timers that keep a Node process alive, as the globals did: a reconnecting client retries until closed. */
const defaultClock: Clock = createSystemClock({ unref: false });

export class GatewayClient {
  readonly baseUrl: string;
  readonly token: string;
  private readonly clock: Clock;
  private readonly api: GatewayHttp;
  private readonly stateStore: Writable<ConnectionState>;
  readonly state: Readable<ConnectionState>;
  /** The library's operator client: socket, backoff, requests, topics and the idle check all live there. */
  private readonly op: OperatorClient;
  private wanted = false;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    const g = globalThis as unknown as { WebSocket?: new (url: string) => WebSocketLike; fetch?: typeof fetch };
    this.clock = options.clock ?? defaultClock;
    this.api = new GatewayHttp(this.baseUrl, this.token, options.fetch ?? ((...a) => g.fetch!(...a)));
    this.op = new OperatorClient({
      url: () => this.socketUrl(),
      createSocket: options.createSocket ?? ((url) => new g.WebSocket!(url)),
      clock: this.clock,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 15_000,
      idleCheckMs: options.idleCheckMs ?? 20_000,
    });
    this.stateStore = writable<ConnectionState>(this.op.state);
    this.state = { subscribe: this.stateStore.subscribe };
    this.op.onState((s) => this.stateStore.set(s));
    this.op.onDown(({ neverOpened }) => {
      // A refused upgrade looks like a network failure to a browser; ask over HTTP why.
      if (!neverOpened || !this.wanted) return;
      this.http('/api/status').catch((err: unknown) => {
        if (!(err instanceof GatewayRequestError) || !this.wanted || this.op.state.status === 'open') return;
        if (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN_ORIGIN') this.op.socket.stop(err.code === 'UNAUTHORIZED' ? 'unauthorized' : 'forbidden', err.message);
      });
    });
  }

  get connection(): ConnectionState {
    return this.op.state;
  }

  /** The gateway's clock, for ages computed from its timestamps. */
  serverNow(): number {
    return this.op.serverNow();
  }

  connect(): void {
    this.wanted = true;
    this.op.connect();
  }

  /** Closes for good (sign out, page unload, tests). Pending requests fail. */
  close(): void {
    this.wanted = false;
    this.op.close();
  }

  /** Sends a request and resolves with the reply, or rejects with a GatewayRequestError. */
  request<K extends keyof RequestMap>(type: K, fields: RequestMap[K][0], timeoutMs?: number): Promise<RequestMap[K][1]> {
    return this.requestAny(type, fields as Record<string, unknown>, timeoutMs) as Promise<RequestMap[K][1]>;
  }

  /** Same, for requests of parts the typed map does not list (USB, discovery). */
  requestAny(type: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.op.requestAny(type, fields, timeoutMs).catch((err: unknown) => {
      throw err instanceof RequestError ? new GatewayRequestError(err.code, err.message, type) : err;
    });
  }

  /**
   * Starts receiving `topics` (counted: every call needs its own release).
   * Returns the release function. Works before the socket is open; topics are
   * (re)sent on every open.
   */
  watch(topics: string[]): () => void {
    return this.op.watch(topics);
  }

  /** Topics currently watched (tests, debugging). */
  watchedTopics(): string[] {
    return this.op.watchedTopics();
  }

  /** `event` frames of one topic ('devices', 'rooms', ...). Returns the remover. */
  onEvent(topic: string, fn: Listener<EventFrame>): () => void {
    return this.op.onEvent(topic, fn as Listener<OperatorEventFrame>);
  }

  onSensor(fn: Listener<SensorBatch[]>): () => void {
    return this.op.onSensor(fn);
  }

  onNotification(fn: Listener<NotificationFrame>): () => void {
    return this.op.onNotification(fn);
  }

  /** Every time the socket opens (first time and after reconnects): the moment to (re)load lists. */
  onOpen(fn: Listener<void>): () => void {
    return this.op.onOpen(fn);
  }

  onError(fn: Listener<GatewayRequestError>): () => void {
    return this.op.onError((e) => fn(new GatewayRequestError(e.code, e.message, e.request)));
  }

  /** `/api/*` with the token; resolves with the JSON body, rejects with a GatewayRequestError. */
  http<T = unknown>(path: string, init: HttpInit = {}): Promise<T> {
    return this.api.json<T>(path, init);
  }

  /** A file from `/api/*` (exports): its bytes and the name the gateway gave it. */
  download(path: string): Promise<{ data: ArrayBuffer; filename: string; type: string }> {
    return this.api.download(path);
  }

  /** Reconnects now instead of waiting for the backoff (the "retry now" button). */
  retryNow(): void {
    this.op.socket.retryNow();
  }

  private socketUrl(): string {
    return this.baseUrl.replace(/^http/, 'ws') + `/ws/admin/?token=${encodeURIComponent(this.token)}`;
  }
}
