import { WebSocket, type RawData } from 'ws';
import type { GatewaySocket } from './socket.js';
import { errorFrame, type ErrorFrame, type FrameErrorCode } from '../../firmware-protocol/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { TokenBucket } from './limits.js';
import type { Metrics } from './metrics.js';
import type { Pingable } from './keepalive.js';
import { LazyInfo, type ConnectionInfo } from './platform/connection-info.js';
import { NORMAL_RANK, SendBacklog } from './send-backlog.js';

// The socket class is in socket.ts; these are here too, where they always were.
export { GatewaySocket, peerOf, socketClass, type SocketHandlers } from './socket.js';

export type EndpointName = 'legacy' | 'board' | 'user' | 'operator' | 'ws';

/** Close code for a client whose unread frames passed the send-buffer cap. */
export const CLOSE_SEND_BUFFER_FULL = 1008;

/** Why a socket is not being read; it is read again when no reason is left. */
export type PauseReason = 'writer' | 'intake' | 'bytes' | 'store';

/**
 * Pauses the gateway causes (the sample writer, handlers still awaiting a write, the store
 * backing up): what the client sends meanwhile waits in TCP and is no burst of its own.
 * `bytes` is the client's own excess and keeps counting.
 */
const GATEWAY_PAUSES: ReadonlySet<PauseReason> = new Set(['writer', 'intake', 'store']);

/** What every peer of a gateway shares: one object for all of them. */
export interface PeerLimits {
  /** Close the connection once this many bytes wait unsent to it (a client that does not read). 0: no cap. */
  maxSendBufferBytes: number;
  /**
   * Past this many bytes waiting to a client, frames sent to it wait in a priority backlog
   * (high first) instead of behind everything already written. 0: never (always written at once).
   */
  sendQueueThresholdBytes?: number;
  clock: Clock;
}

/** An address's budgets (off this machine), shared by its sockets. */
export interface AddressBudget {
  frames: TokenBucket;
  bytes: TokenBucket | null;
}

/**
 * What watches every peer (the platform's counters, `message:sent`, handlers
 * registered for types an endpoint does not know): one object for all of
 * them, so a socket holds a reference, not closures of its own.
 */
export interface PeerObserver {
  sent(peer: Peer, frame: Record<string, unknown> | string): void;
  unknownType(peer: Peer, error: ErrorFrame, text: string): void | Promise<void>;
}

const UNCOMPRESSED = { compress: false };

const IDENTIFIED = 1;
const KEEPALIVE_SEEN = 2;

/** Wait before looking again when nothing written is left to signal that the socket drained. */
const DRAIN_RECHECK_MS = 20;

/**
 * One connected socket, whatever its endpoint: JSON out, error frames, the
 * per-client frame budget. Sends to a closed socket are dropped silently,
 * since the close handler already cleans up.
 */
export class Peer implements Pingable {
  /** IDENTIFIED and KEEPALIVE_SEEN: one small integer, not a field each. */
  private flags = 0;
  /** What only a socket that was paused, limited or backed up needs: most never are. */
  private rare: PeerRare | null = null;
  /** Set by the platform: sees every frame sent, and may take a frame of a type the endpoint does not know (not on `/ws`). */
  observer: PeerObserver | null = null;
  /** The connection's info, or what it is made from when first read (see `info`). */
  private infoRef: ConnectionInfo | LazyInfo | null = null;
  /** The endpoint's state for this socket, told when it closes (by the gateway's one close handler for every socket). */
  owner: { closed(): void } | null = null;
  /** The frame intake reading this socket (frames.ts), found by the one message handler of every socket. */
  intake: { message(data: RawData, isBinary: boolean): void } | null = null;
  /** The keepalive wheel's slot (keepalive.ts), declared so every peer has the same shape; its other field is a flag. */
  keepaliveSlot: number | undefined = undefined;

  /**
   * `frames`: this client's frame budget; `bytes`: bytes a second (past it the socket is read
   * more slowly, TCP backpressure, nothing dropped), null for no byte limit; `address`: the
   * budgets its address shares with its other sockets (off this machine), else null.
   */
  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly endpoint: EndpointName,
    private readonly limits: PeerLimits,
    private readonly metrics: Metrics,
    private readonly frames: TokenBucket,
    private readonly bytes: TokenBucket | null = null,
    private readonly address: AddressBudget | null = null,
  ) {
    (ws as GatewaySocket).peer = this;
  }

  /** This connection as handlers, middleware and events see it: made when first read, then kept. */
  get info(): ConnectionInfo | null {
    const r = this.infoRef;
    if (r instanceof LazyInfo) return (this.infoRef = r.make(this));
    return r;
  }

  set info(v: ConnectionInfo | LazyInfo | null) {
    this.infoRef = v;
  }

  /** What `info` is or is made from, without making it (null: the peer has none). */
  get infoSource(): ConnectionInfo | LazyInfo | null {
    return this.infoRef;
  }

  private get extra(): PeerRare {
    return (this.rare ??= new PeerRare());
  }

  /** Keepalive (Pingable): a WebSocket ping. */
  ping(): void {
    this.ws.ping();
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** True once the first frame named who this is (endpoint `/`); other endpoints identify at the upgrade. */
  get identified(): boolean {
    return (this.flags & IDENTIFIED) !== 0;
  }

  markIdentified(): void {
    this.flags |= IDENTIFIED;
  }

  /** The keepalive wheel's (keepalive.ts): heard from since its last sweep. */
  get keepaliveSeen(): boolean {
    return (this.flags & KEEPALIVE_SEEN) !== 0;
  }

  set keepaliveSeen(v: boolean) {
    this.flags = v ? this.flags | KEEPALIVE_SEEN : this.flags & ~KEEPALIVE_SEEN;
  }

  /** How this endpoint answers a frame middleware refused (the envelope on /ws); default (null) the plain error frame. */
  get refuseWith(): ((err: unknown, id: string | number | undefined) => void) | null {
    return this.rare?.refuseWith ?? null;
  }

  set refuseWith(f: ((err: unknown, id: string | number | undefined) => void) | null) {
    if (f !== null || this.rare !== null) this.extra.refuseWith = f;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued to this client and not yet sent, the priority backlog's included. */
  get buffered(): number {
    return this.ws.bufferedAmount + (this.rare?.backlog?.size ?? 0);
  }

  /** Frames waiting in the priority backlog (the socket is backed up); 0 while it keeps up. */
  get backlogged(): number {
    return this.rare?.backlog?.length ?? 0;
  }

  /** True while a priority backlog holds frames back (or is being worked off). */
  private get backlogging(): boolean {
    return this.rare !== null && this.rare.backlog !== null;
  }

  /** `rank`: 0 high, 1 normal (default), 2 low; it matters only while the socket is backed up. */
  send(frame: object, rank = NORMAL_RANK): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.backlogging && !this.backedUp()) return this.write(JSON.stringify(frame), frame as Record<string, unknown>);
    this.enqueue(JSON.stringify(frame), rank);
  }

  /** For fan-out: the same serialized text to many peers. */
  sendText(text: string, rank = NORMAL_RANK): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.backlogging && !this.backedUp()) return this.write(text, text);
    this.enqueue(text, rank);
  }

  /**
   * Live samples: never deflated. Compressing every fan-out frame costs the
   * gateway more CPU than relaying it and holds each frame (and every frame
   * after it) until zlib is done: the live view is the one stream where a
   * millisecond matters more than bytes. Queued behind a backed-up socket it
   * goes as any other frame.
   */
  sendLive(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.backlogging && !this.backedUp()) return this.write(text, text, UNCOMPRESSED);
    this.enqueue(text, NORMAL_RANK);
  }

  /** Resolves once the backlog is empty (everything in it written) or the socket closed. */
  drained(): Promise<void> {
    if (!this.backlogging || !this.open) return Promise.resolve();
    const r = this.extra;
    return new Promise((resolve) => {
      const done = (): void => {
        this.ws.off('close', done);
        resolve();
      };
      this.ws.once('close', done);
      (r.drainWaiters ??= []).push(done);
    });
  }

  private backedUp(): boolean {
    const t = this.limits.sendQueueThresholdBytes ?? 0;
    return t > 0 && this.ws.bufferedAmount >= t;
  }

  private write(text: string, tapped: Record<string, unknown> | string, opts?: { compress: boolean }): void {
    const t = this.limits.sendQueueThresholdBytes ?? 0;
    // A write that takes the buffer near the threshold asks to hear when it is flushed: that is
    // when the backlog, if one forms meanwhile, may move again. Others cost nothing extra.
    if (t > 0 && this.ws.bufferedAmount + text.length >= t / 2) {
      const r = this.extra;
      r.drainWaits++;
      this.ws.send(text, opts ?? {}, (r.onFlushed ??= () => {
        r.drainWaits--;
        if (r.backlog !== null) this.pump();
      }));
    } else if (opts) this.ws.send(text, opts);
    else this.ws.send(text);
    this.metrics.framesOut++;
    this.observer?.sent(this, tapped);
    this.checkSendBuffer();
  }

  private enqueue(text: string, rank: number): void {
    const r = this.extra;
    (r.backlog ??= new SendBacklog()).push(text, rank);
    this.checkSendBuffer();
    this.pump();
  }

  /** Writes from the backlog, highest priority first, while the socket is under the threshold. */
  private pump(): void {
    const r = this.rare;
    const q = r?.backlog ?? null;
    if (r === null || q === null) return;
    if (!this.open) return this.endBacklog();
    while (!this.backedUp()) {
      const text = q.shift();
      if (text === undefined) return this.endBacklog();
      this.write(text, text);
      // The write may have passed the send-buffer cap and closed the socket.
      if (!this.open) return this.endBacklog();
    }
    // Nothing written is left to call back (buffered by the library itself, say): look again soon.
    if (r.drainWaits <= 0 && r.drainTimer === undefined) {
      r.drainTimer = this.limits.clock.setTimeout(() => {
        r.drainTimer = undefined;
        this.pump();
      }, DRAIN_RECHECK_MS);
    }
  }

  private endBacklog(): void {
    const r = this.rare;
    if (r === null) return;
    r.backlog?.clear();
    r.backlog = null;
    this.limits.clock.clear(r.drainTimer);
    r.drainTimer = undefined;
    const w = r.drainWaiters;
    r.drainWaiters = null;
    for (const f of w ?? []) f();
  }

  /**
   * A client that does not read would make the gateway hold everything sent
   * to it. Past the cap it is closed; the close frame is queued behind what it
   * never read, so the socket is dropped if it does not go within a second.
   */
  checkSendBuffer(): void {
    const cap = this.limits.maxSendBufferBytes;
    if (cap <= 0 || this.ws.bufferedAmount + (this.rare?.backlog?.size ?? 0) <= cap) return;
    const r = this.extra;
    if (r.overflowed) return;
    r.overflowed = true;
    this.metrics.countError('SEND_BUFFER_FULL');
    this.ws.close(CLOSE_SEND_BUFFER_FULL, `send buffer over ${cap} bytes: the client does not read`);
    const clock = this.limits.clock;
    const t = clock.setTimeout(() => this.ws.terminate(), 1000);
    this.ws.once('close', () => clock.clear(t));
  }

  /** A frame the endpoint's parser refused: the error back, unless a registered handler takes its type. */
  refuse(error: ErrorFrame, text: string): void | Promise<void> {
    if (error.code === 'UNKNOWN_TYPE' && this.observer !== null && this.endpoint !== 'ws') return this.observer.unknownType(this, error, text);
    this.send(error);
  }

  error(code: FrameErrorCode, message?: string, id?: string | number): void {
    this.metrics.countError(code);
    this.send(errorFrame(code, message, id));
  }

  /**
   * False (and an error reply at most once a second) when over the frame
   * budget, the client's or its address's. Bytes are never refused: a client
   * past its byte budget is read more slowly until the budget refills.
   */
  admit(size = 0): boolean {
    const a = this.address;
    if (!this.frames.take() || (a !== null && !a.frames.take())) {
      this.metrics.countError('RATE_LIMITED');
      const t = this.limits.clock.now();
      const r = this.extra;
      if (t - r.lastRateError >= 1000) {
        r.lastRateError = t;
        this.send(errorFrame('RATE_LIMITED'));
      }
      return false;
    }
    const bytes = this.bytes;
    const shared = a?.bytes ?? null;
    if (size > 0 && (bytes !== null || shared !== null)) {
      const wait = Math.max(bytes?.charge(size) ?? 0, shared?.charge(size) ?? 0);
      if (wait > 0 && this.rare?.bytesTimer === undefined) {
        const r = this.extra;
        const clock = this.limits.clock;
        this.pause('bytes');
        r.bytesTimer = clock.setTimeout(() => {
          r.bytesTimer = undefined;
          this.resume('bytes');
        }, wait);
        // Only a socket that ever waited on its byte budget pays for this listener.
        if (!r.clearOnClose) {
          r.clearOnClose = true;
          this.ws.once('close', () => clock.clear(r.bytesTimer));
        }
      }
    }
    return true;
  }

  get paused(): boolean {
    const p = this.rare?.pauses;
    return p != null && p.size > 0;
  }

  /**
   * Stops reading the socket, so TCP slows the client. While the gateway
   * itself is the cause (GATEWAY_PAUSES) the frame budget is paused too:
   * what queues meanwhile is the gateway's backlog, not the client's burst.
   */
  pause(reason: PauseReason): void {
    const pauses = (this.extra.pauses ??= new Set());
    if (pauses.has(reason)) return;
    pauses.add(reason);
    if (GATEWAY_PAUSES.has(reason) && this.gatewayPauses() === 1) this.frames.pause();
    if (pauses.size === 1) this.ws.pause();
  }

  resume(reason: PauseReason): void {
    const pauses = this.rare?.pauses;
    if (pauses == null || !pauses.delete(reason)) return;
    if (GATEWAY_PAUSES.has(reason) && this.gatewayPauses() === 0) this.frames.resume();
    if (pauses.size === 0) this.ws.resume();
  }

  private gatewayPauses(): number {
    let n = 0;
    for (const r of this.rare?.pauses ?? []) if (GATEWAY_PAUSES.has(r)) n++;
    return n;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}

/** A peer's state for pauses, limits hit and a backed-up socket: made the first time one happens. */
class PeerRare {
  /** Error replies are themselves limited, so a flood cannot turn into one back. */
  lastRateError = 0;
  pauses: Set<PauseReason> | null = null;
  bytesTimer: TimerHandle | undefined = undefined;
  overflowed = false;
  clearOnClose = false;
  /** Made when the socket first backs up past the threshold; null again once it drained. */
  backlog: SendBacklog | null = null;
  /** Writes made near or past the threshold whose flush callback has not come yet. */
  drainWaits = 0;
  drainTimer: TimerHandle | undefined = undefined;
  drainWaiters: (() => void)[] | null = null;
  onFlushed: (() => void) | null = null;
  /** Peer.refuseWith: set on /ws sockets only. */
  refuseWith: ((err: unknown, id: string | number | undefined) => void) | null = null;
}
