/**
 * A player's app on `/ws/miniprogram/{user_id}/`: notifications the gateway
 * pushes (analysis_complete_notification, and what operators send with
 * notify_user, queued while the app was away and delivered when it comes
 * back), session status on request, ping. The socket reconnects by itself;
 * a status request sent while it was down goes out after the next open.
 */
import type { AnalysisCompleteNotification, SessionStatusReply } from '../../firmware-protocol/index.js';
import { emit, listen, type Listener } from './listeners.js';
import { RequestError } from './pending.js';
import { ReconnectingSocket, type ConnectionState, type Frame, type SocketOptions } from './socket.js';

export interface PlayerClientOptions extends SocketOptions {
  /** `ws://host:port` */
  baseUrl: string;
  userId: string;
  token?: string;
  /** Default 10000 ms. */
  requestTimeoutMs?: number;
}

type Waiter = { type: 'session_status' | 'pong'; resolve: (f: Frame) => void; reject: (e: Error) => void };

export class PlayerClient {
  readonly socket: ReconnectingSocket;
  private readonly waiting: Waiter[] = [];
  private readonly timeoutMs: number;
  private readonly listeners = {
    analysis: new Set<Listener<AnalysisCompleteNotification>>(),
    notification: new Set<Listener<Frame>>(),
    error: new Set<Listener<RequestError>>(),
  };

  constructor(o: PlayerClientOptions) {
    const q = o.token === undefined ? '' : `?token=${encodeURIComponent(o.token)}`;
    this.socket = new ReconnectingSocket(`${o.baseUrl.replace(/\/+$/, '')}/ws/miniprogram/${encodeURIComponent(o.userId)}/${q}`, o);
    this.timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.socket.onFrame = (f) => this.frame(f);
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.socket.close();
    for (const w of this.waiting.splice(0)) w.reject(new RequestError('DISCONNECTED', 'connection closed', w.type));
  }

  onState(fn: Listener<ConnectionState>): () => void {
    return this.socket.onState(fn);
  }

  onAnalysisComplete(fn: Listener<AnalysisCompleteNotification>): () => void {
    return listen(this.listeners.analysis, fn);
  }

  /** Every other notification (an operator's notify_user payload, as sent). */
  onNotification(fn: Listener<Frame>): () => void {
    return listen(this.listeners.notification, fn);
  }

  onError(fn: Listener<RequestError>): () => void {
    return listen(this.listeners.error, fn);
  }

  /** The session asked for, else the player's newest; null when there is none. */
  sessionStatus(sessionId?: string): Promise<SessionStatusReply> {
    return this.ask('session_status', sessionId === undefined ? { type: 'session_status' } : { type: 'session_status', session_id: sessionId }) as Promise<SessionStatusReply>;
  }

  ping(): Promise<Frame> {
    return this.ask('pong', { type: 'ping' });
  }

  private ask(answer: Waiter['type'], frame: Frame): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { type: answer, resolve, reject };
      const t = this.socket.timers.setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new RequestError('TIMEOUT', `no ${answer} within ${this.timeoutMs} ms`, String(frame.type)));
      }, this.timeoutMs);
      w.resolve = (f) => {
        this.socket.timers.clear(t);
        resolve(f);
      };
      this.waiting.push(w);
      // Offline, it waits in the queue: the gateway answers in order after the next open.
      this.socket.send(frame);
    });
  }

  private frame(f: Frame): void {
    if (f.type === 'session_status' || f.type === 'pong') {
      const i = this.waiting.findIndex((w) => w.type === f.type);
      if (i >= 0) return this.waiting.splice(i, 1)[0]!.resolve(f);
      return;
    }
    if (f.type === 'connection_established') return;
    if (f.type === 'error') return emit(this.listeners.error, new RequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'player'));
    if (f.type === 'analysis_complete_notification') return emit(this.listeners.analysis, f as unknown as AnalysisCompleteNotification);
    emit(this.listeners.notification, f);
  }
}
