/**
 * Endpoint `/`, the room protocol: the identity frame on every open, then
 * broadcasts, direct messages and room queries. After a reconnect the client
 * asks for the room it was in, so a gateway restart puts it back in the same
 * room; messages written while the socket was down wait in the offline
 * queue and go out after the identity. Presence (who joins and leaves) comes
 * as events when asked for.
 */
import type { RoomStatus, ServerRoomFrame } from '../../firmware-protocol/index.js';
import { emit, listen, type Listener } from './listeners.js';
import { RequestError } from './pending.js';
import { ReconnectingSocket, type ConnectionState, type Frame, type SocketOptions } from './socket.js';

type FrameOfType<T extends string> = Extract<ServerRoomFrame, { type: T }>;
export type RoomMessage = FrameOfType<'message'>;
export type PresenceEvent = FrameOfType<'presence'>;
export type RoomInfo = FrameOfType<'room_info'>;

export interface RoomClientOptions extends SocketOptions {
  /** `ws://host:port/` (with `?token=` in token mode, or give `token`). */
  url: string;
  deviceId: string;
  identity: string;
  /** The room to join; none: the gateway makes one (or puts a known device back in its last room). */
  roomId?: string;
  /** Receive join and leave events of the others. */
  presence?: boolean;
  token?: string;
  /** How long a room query waits. Default 10000 ms. */
  requestTimeoutMs?: number;
}

export class RoomClient {
  readonly socket: ReconnectingSocket;
  private roomId: string | undefined;
  private status: RoomStatus | null = null;
  private readonly members = new Map<string, string>();
  private readonly queries: { resolve: (r: RoomInfo) => void; reject: (e: Error) => void }[] = [];
  private readonly listeners = {
    message: new Set<Listener<RoomMessage>>(),
    presence: new Set<Listener<PresenceEvent>>(),
    room: new Set<Listener<{ roomId: string | null; status: RoomStatus }>>(),
    error: new Set<Listener<RequestError>>(),
    frame: new Set<Listener<Frame>>(),
  };

  constructor(private readonly o: RoomClientOptions) {
    this.socket = new ReconnectingSocket(o.url, o);
    this.roomId = o.roomId;
    this.socket.onOpen = () => {
      const identity: Frame = { device_id: o.deviceId, identity: o.identity };
      if (this.roomId !== undefined) identity.room_id = this.roomId;
      if (o.presence) identity.presence = true;
      if (o.token !== undefined) identity.token = o.token;
      this.socket.sendNow(identity);
    };
    this.socket.onDown = () => {
      for (const q of this.queries.splice(0)) q.reject(new RequestError('DISCONNECTED', 'connection lost before the answer came', 'query_room'));
    };
    this.socket.onFrame = (f) => this.frame(f);
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  /** The room the gateway put this client in, once it said so. */
  get room(): string | undefined {
    return this.roomId;
  }

  get roomStatus(): RoomStatus | null {
    return this.status;
  }

  /** Others in the room seen through presence events (device id -> identity). */
  get present(): ReadonlyMap<string, string> {
    return this.members;
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

  onMessage(fn: Listener<RoomMessage>): () => void {
    return listen(this.listeners.message, fn);
  }

  onPresence(fn: Listener<PresenceEvent>): () => void {
    return listen(this.listeners.presence, fn);
  }

  /** Each `room` frame: the room and how this client got in (created_new, joined_existing, reconnected, room_not_found). */
  onRoom(fn: Listener<{ roomId: string | null; status: RoomStatus }>): () => void {
    return listen(this.listeners.room, fn);
  }

  onError(fn: Listener<RequestError>): () => void {
    return listen(this.listeners.error, fn);
  }

  /** Every frame, whatever its type (queued, delivered...). */
  onFrame(fn: Listener<Frame>): () => void {
    return listen(this.listeners.frame, fn);
  }

  /** To everyone else in the room; offline it waits for the next open. */
  broadcast(content: unknown): void {
    this.socket.send({ type: 'message', content });
  }

  /** To one device; `queue` keeps it for a target that is offline. */
  direct(target: string, content: unknown, options: { queue?: boolean } = {}): void {
    const f: Frame = { type: 'message', content, target_device_id: target };
    if (options.queue) f.queue = true;
    this.socket.send(f);
  }

  /** Who is in the room (the gateway answers these in order). */
  queryRoom(timeoutMs = this.o.requestTimeoutMs ?? 10_000): Promise<RoomInfo> {
    if (!this.socket.sendNow({ type: 'query_room' })) return Promise.reject(new RequestError('DISCONNECTED', 'not connected', 'query_room'));
    return new Promise((resolve, reject) => {
      const q = { resolve, reject };
      this.queries.push(q);
      const t = this.socket.timers.setTimeout(() => {
        const i = this.queries.indexOf(q);
        if (i >= 0) this.queries.splice(i, 1);
        reject(new RequestError('TIMEOUT', `no answer to query_room within ${timeoutMs} ms`, 'query_room'));
      }, timeoutMs);
      q.resolve = (r) => {
        this.socket.timers.clear(t);
        resolve(r);
      };
    });
  }

  private frame(f: Frame): void {
    emit(this.listeners.frame, f);
    switch (f.type) {
      case 'room': {
        const r = f as unknown as FrameOfType<'room'>;
        this.status = r.status;
        if (r.status !== 'room_not_found' && r.room_id !== null) {
          // A new room: who was present in the old one is no longer.
          if (this.roomId !== r.room_id) this.members.clear();
          this.roomId = r.room_id;
        }
        return emit(this.listeners.room, { roomId: r.room_id, status: r.status });
      }
      case 'message':
        return emit(this.listeners.message, f as unknown as RoomMessage);
      case 'presence': {
        const p = f as unknown as PresenceEvent;
        if (p.event === 'join') this.members.set(p.device_id, p.identity);
        else this.members.delete(p.device_id);
        return emit(this.listeners.presence, p);
      }
      case 'room_info':
        return this.queries.shift()?.resolve(f as unknown as RoomInfo);
      case 'error':
        return emit(this.listeners.error, new RequestError(String(f.code ?? 'ERROR'), String(f.message ?? ''), 'room'));
    }
  }
}
