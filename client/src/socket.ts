/**
 * One WebSocket that comes back: reconnect with exponential backoff and
 * jitter, an offline send queue, and a state a UI can show. Every client of
 * this library (rooms, signaling, players, operators, the /ws envelope) is one
 * of these plus its endpoint's frames.
 *
 * - Time and chance are injected (a Clock, a random source), so tests drive
 *   backoff and timeouts without sleeping and get the same jitter each run.
 * - No DOM types: the same code runs in browsers (the global WebSocket) and
 *   in Node (`ws`, wired by the package's Node entry).
 * - Frames sent while the socket is down wait in a bounded queue and go out,
 *   in order, right after the endpoint's handshake (`onOpen`) on the next open.
 */
import { createSystemClock, type Clock, type TimerHandle } from '../../main/shared/clock.js';

export type { Clock, TimerHandle };

/** What the library needs of a WebSocket: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => WebSocketLike;

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'forbidden' | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts since the last open socket. */
  attempt: number;
  /** When the next attempt starts (epoch ms, the injected clock), while reconnecting. */
  retryAt: number | null;
  /** Why the last socket closed or failed, in words. */
  lastError: string | null;
  /** When the status last changed. */
  since: number;
}

export interface SocketOptions {
  /** Default: the global WebSocket (browsers, Node 22), else the one the Node entry registered (`ws`). */
  createSocket?: SocketFactory;
  /** Default the system clock (timers keep a Node process alive, as the globals do). */
  clock?: Clock;
  /** A number in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
  /** First reconnect delay. Default 500 ms. */
  backoffMinMs?: number;
  /** Ceiling of the delay. Default 15000 ms. */
  backoffMaxMs?: number;
  /** Each delay is the base times a factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
  /** Frames kept while offline; past it the oldest is dropped (and counted). Default 1000. */
  maxQueued?: number;
  /** Failed attempts in a row before giving up (status `closed`). Default: never give up. */
  maxAttempts?: number;
}

export type Frame = Record<string, unknown> & { type?: unknown };

const OPEN = 1;

let defaultFactory: SocketFactory | null = null;

/** The Node entry registers `ws` here; a browser needs nothing. */
export function setDefaultSocketFactory(f: SocketFactory): void {
  defaultFactory = f;
}

function globalFactory(): SocketFactory {
  const g = globalThis as unknown as { WebSocket?: new (url: string) => WebSocketLike };
  if (typeof g.WebSocket === 'function') return (url) => new g.WebSocket!(url);
  if (defaultFactory) return defaultFactory;
  throw new Error('no WebSocket here: pass createSocket, or import the package from Node (its Node entry uses ws)');
}

type Listener<T> = (value: T) => void;

export class ReconnectingSocket {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly factory: SocketFactory | undefined;
  private readonly o: Required<Omit<SocketOptions, 'createSocket' | 'clock' | 'random'>>;
  private ws: WebSocketLike | null = null;
  private retryTimer: TimerHandle | null = null;
  private wanted = false;
  private current: ConnectionState;
  private readonly queue: string[] = [];
  /** Frames dropped from a full offline queue. */
  dropped = 0;
  /** Runs on each open before the queue is flushed: the endpoint's handshake (identity, register, init, subscriptions). */
  onOpen: (() => void) | null = null;
  /** Each parsed JSON object received. */
  onFrame: ((f: Frame) => void) | null = null;
  /** After a socket closed, before the retry is scheduled (fail or keep pending requests). */
  onDown: ((reason: string, neverOpened: boolean) => void) | null = null;
  private readonly stateListeners = new Set<Listener<ConnectionState>>();

  constructor(
    private url: string | (() => string),
    options: SocketOptions = {},
  ) {
    this.clock = options.clock ?? createSystemClock({ unref: false });
    this.random = options.random ?? Math.random;
    this.factory = options.createSocket;
    this.o = {
      backoffMinMs: options.backoffMinMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 15_000,
      jitter: options.jitter ?? 0.2,
      maxQueued: options.maxQueued ?? 1000,
      maxAttempts: options.maxAttempts ?? Infinity,
    };
    this.current = { status: 'idle', attempt: 0, retryAt: null, lastError: null, since: this.clock.now() };
  }

  get state(): ConnectionState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === OPEN && this.current.status === 'open';
  }

  /** Frames waiting for the next open. */
  get queued(): number {
    return this.queue.length;
  }

  get now(): () => number {
    return () => this.clock.now();
  }

  get timers(): Clock {
    return this.clock;
  }

  onState(fn: Listener<ConnectionState>): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  connect(): void {
    this.wanted = true;
    if (this.ws || this.retryTimer) return;
    this.open();
  }

  /** Closes for good (until connect() again). */
  close(): void {
    this.wanted = false;
    this.clock.clear(this.retryTimer ?? undefined);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      ws.close(1000, 'client closed');
    }
    this.onDown?.('connection closed', false);
    this.setState({ status: 'closed', retryAt: null });
  }

  /** Sends now if open, else keeps it for the next open. */
  send(frame: Frame): void {
    const text = JSON.stringify(frame);
    if (this.isOpen) return this.ws!.send(text);
    this.queue.push(text);
    if (this.queue.length > this.o.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** Sends only if open; false otherwise (a request that must fail at once instead of waiting). */
  sendNow(frame: Frame): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(frame));
    return true;
  }

  /** Ends the retries with a status that needs a person (a refused token). */
  stop(status: 'unauthorized' | 'forbidden' | 'closed', message: string): void {
    this.clock.clear(this.retryTimer ?? undefined);
    this.retryTimer = null;
    this.setState({ status, retryAt: null, lastError: message });
  }

  /** Reconnects now instead of waiting for the backoff. */
  retryNow(): void {
    if (!this.wanted || this.ws) return;
    this.clock.clear(this.retryTimer ?? undefined);
    this.open();
  }

  /** Drops the current socket as dead (a check found it silent) and reconnects with backoff. */
  drop(reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    ws.close(4000, reason);
    ws.onclose?.({ code: 4000, reason });
  }

  /** The delay before attempt `n` (1-based): min * 2^(n-1), at most max, with jitter. */
  delayFor(attempt: number): number {
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffMinMs * 2 ** Math.min(attempt - 1, 16));
    return base * (1 - this.o.jitter + this.random() * 2 * this.o.jitter);
  }

  private setState(patch: Partial<ConnectionState>): void {
    const changed = patch.status !== undefined && patch.status !== this.current.status;
    this.current = { ...this.current, ...patch, since: changed ? this.clock.now() : this.current.since };
    for (const fn of [...this.stateListeners]) fn(this.current);
  }

  private open(): void {
    this.retryTimer = null;
    this.setState({ status: this.current.attempt > 0 ? 'reconnecting' : 'connecting', retryAt: null });
    let ws: WebSocketLike;
    try {
      const url = typeof this.url === 'function' ? this.url() : this.url;
      ws = (this.factory ?? globalFactory())(url);
    } catch (err) {
      return this.lost(err instanceof Error ? err.message : String(err), true);
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.setState({ status: 'open', attempt: 0, lastError: null, retryAt: null });
      this.onOpen?.();
      // The handshake went first; what waited offline follows in order.
      while (this.queue.length > 0 && this.isOpen) ws.send(this.queue.shift()!);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let f: unknown;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (typeof f === 'object' && f !== null && !Array.isArray(f)) this.onFrame?.(f as Frame);
    };
    ws.onerror = () => {
      /* onclose follows with the code */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const reason = ev.reason || (opened ? `connection closed (${ev.code})` : 'could not connect');
      this.onDown?.(reason, !opened);
      this.lost(reason, !opened);
    };
  }

  private lost(reason: string, _neverOpened: boolean): void {
    if (!this.wanted) return;
    const attempt = this.current.attempt + 1;
    if (attempt > this.o.maxAttempts) {
      this.wanted = false;
      return this.setState({ status: 'closed', attempt, retryAt: null, lastError: `${reason}; gave up after ${this.o.maxAttempts} attempts` });
    }
    const delay = this.delayFor(attempt);
    this.setState({ status: 'reconnecting', attempt, lastError: reason, retryAt: this.clock.now() + delay });
    this.retryTimer = this.clock.setTimeout(() => this.open(), delay);
  }
}
