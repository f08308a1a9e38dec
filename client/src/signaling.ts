/**
 * Endpoint `/`, the signaling protocol: `register` on every open (so a
 * restarted gateway knows the client again), then offers, answers and
 * candidates to one peer (`target_id`) or to all; received signals carry
 * `from`. Signals written while offline wait and go out after `register`.
 */
import type { ForwardedSignal } from '../../firmware-protocol/index.js';
import { emit, listen, type Listener } from './listeners.js';
import { RequestError } from './pending.js';
import { ReconnectingSocket, type ConnectionState, type Frame, type SocketOptions } from './socket.js';

export interface SignalingClientOptions extends SocketOptions {
  url: string;
  clientId: string;
  token?: string;
}

export class SignalingClient {
  readonly socket: ReconnectingSocket;
  private registeredFlag = false;
  private readonly listeners = {
    signal: new Set<Listener<ForwardedSignal & Record<string, unknown>>>(),
    registered: new Set<Listener<string>>(),
    error: new Set<Listener<RequestError>>(),
  };

  constructor(o: SignalingClientOptions) {
    this.socket = new ReconnectingSocket(o.url, o);
    this.socket.onOpen = () => {
      this.registeredFlag = false;
      const f: Frame = { type: 'register', client_id: o.clientId };
      if (o.token !== undefined) f.token = o.token;
      this.socket.sendNow(f);
    };
    this.socket.onFrame = (f) => {
      if (f.type === 'registered') {
        this.registeredFlag = true;
        return emit(this.listeners.registered, String(f.client_id));
      }
      if (f.type === 'error') return emit(this.listeners.error, new RequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'signal'));
      if (typeof f.from === 'string') emit(this.listeners.signal, f as ForwardedSignal & Record<string, unknown>);
    };
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  get registered(): boolean {
    return this.registeredFlag;
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.socket.close();
  }

  onState(fn: Listener<ConnectionState>): () => void {
    return this.socket.onState(fn);
  }

  onSignal(fn: Listener<ForwardedSignal & Record<string, unknown>>): () => void {
    return listen(this.listeners.signal, fn);
  }

  onRegistered(fn: Listener<string>): () => void {
    return listen(this.listeners.registered, fn);
  }

  onError(fn: Listener<RequestError>): () => void {
    return listen(this.listeners.error, fn);
  }

  /** `offer`, `answer`, `candidate` or any type, to one client (or to every other client without a target). */
  signal(type: string, body: Record<string, unknown>, targetId?: string): void {
    const f: Frame = { ...body, type };
    if (targetId !== undefined) f.target_id = targetId;
    this.socket.send(f);
  }
}
