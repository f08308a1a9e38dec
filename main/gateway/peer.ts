import { WebSocket, type RawData } from 'ws';
import { errorFrame, type ErrorFrame, type FrameErrorCode } from '../../firmware-protocol/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { TokenBucket } from './limits.js';
import type { Metrics } from './metrics.js';
import type { Pingable } from './keepalive.js';
import type { ConnectionInfo } from './platform/platform.js';
import { NORMAL_RANK, SendBacklog } from './send-backlog.js';

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

/** The budgets a peer spends: its own, and (off this machine) its address's, shared with its other sockets. */
export interface PeerBudget {
  frames: TokenBucket;
  /** Bytes a second; past it the socket is read more slowly (TCP backpressure), nothing dropped. Null: no byte limit. */
  bytes: TokenBucket | null;
  addressFrames: TokenBucket | null;
  addressBytes: TokenBucket | null;
  /** Close the connection once this many bytes wait unsent to it (a client that does not read). 0: no cap. */
  maxSendBufferBytes: number;
  /**
   * Past this many bytes waiting to a client, frames sent to it wait in a priority backlog
   * (high first) instead of behind everything already written. 0: never (always written at once).
   */
  sendQueueThresholdBytes?: number;
  clock: Clock;
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

/**
 * The gateway's sockets (the `WebSocket` class its server makes): ws's, with
 * a field for the socket's peer that is part of the object from the start. A
 * property set on a plain WebSocket later would move its properties out
 * into a separate array, memory every idle board pays.
 */
export class GatewaySocket extends WebSocket {
  peer: Peer | undefined = undefined;
}

/** The peer of a socket, for handlers shared by every socket (they get the socket as `this`). */
export function peerOf(ws: WebSocket): Peer | undefined {
  return (ws as GatewaySocket).peer;
}

/** Wait before looking again when nothing written is left to signal that the socket drained. */
const DRAIN_RECHECK_MS = 20;

/**
 * One connected socket, whatever its endpoint: JSON out, error frames, the
 * per-client frame budget. Sends to a closed socket are dropped silently,
 * since the close handler already cleans up.
 */
export class Peer implements Pingable {
  /** Error replies are themselves limited, so a flood cannot turn into one back. */
  private lastRateError = 0;
  private identifiedFlag = false;
  /** Made on the first pause: most sockets are never paused. */
  private pauses: Set<PauseReason> | null = null;
  private bytesTimer: TimerHandle | undefined;
  private overflowed = false;
  private clearOnClose = false;
  /** Made when the socket first backs up past the threshold; null again once it drained. */
  private backlog: SendBacklog | null = null;
  /** Writes made near or past the threshold whose flush callback has not come yet. */
  private drainWaits = 0;
  private drainTimer: TimerHandle | undefined;
  private drainWaiters: (() => void)[] | null = null;
  /** Made on the first write near the threshold: a socket that never backs up never needs it. */
  private onFlushed: (() => void) | null = null;
  /** Set by the platform: sees every frame sent, and may take a frame of a type the endpoint does not know (not on `/ws`). */
  observer: PeerObserver | null = null;
  /** How this endpoint answers a frame middleware refused (the envelope on /ws); default the plain error frame. */
  refuseWith: ((err: unknown, id: string | number | undefined) => void) | null = null;
  /** This connection as handlers, middleware and events see it. */
  info: ConnectionInfo | null = null;
  /** The endpoint's state for this socket, told when it closes (by the gateway's one close handler for every socket). */
  owner: { closed(): void } | null = null;
  /** The frame intake reading this socket (frames.ts), found by the one message handler of every socket. */
  intake: { message(data: RawData, isBinary: boolean): void } | null = null;
  /** The keepalive wheel's fields (keepalive.ts), declared so every peer has the same shape. */
  keepaliveSlot: number | undefined = undefined;
  keepaliveSeen = false;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly endpoint: EndpointName,
    private readonly budget: PeerBudget,
    private readonly metrics: Metrics,
  ) {
    (ws as GatewaySocket).peer = this;
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
    return this.identifiedFlag;
  }

  markIdentified(): void {
    this.identifiedFlag = true;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued to this client and not yet sent, the priority backlog's included. */
  get buffered(): number {
    return this.ws.bufferedAmount + (this.backlog?.size ?? 0);
  }

  /** Frames waiting in the priority backlog (the socket is backed up); 0 while it keeps up. */
  get backlogged(): number {
    return this.backlog?.length ?? 0;
  }

  /** `rank`: 0 high, 1 normal (default), 2 low; it matters only while the socket is backed up. */
  send(frame: object, rank = NORMAL_RANK): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.backlog === null && !this.backedUp()) return this.write(JSON.stringify(frame), frame as Record<string, unknown>);
    this.enqueue(JSON.stringify(frame), rank);
  }

  /** For fan-out: the same serialized text to many peers. */
  sendText(text: string, rank = NORMAL_RANK): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.backlog === null && !this.backedUp()) return this.write(text, text);
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
    if (this.backlog === null && !this.backedUp()) return this.write(text, text, UNCOMPRESSED);
    this.enqueue(text, NORMAL_RANK);
  }

  /** Resolves once the backlog is empty (everything in it written) or the socket closed. */
  drained(): Promise<void> {
    if (this.backlog === null || !this.open) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.ws.off('close', done);
        resolve();
      };
      this.ws.once('close', done);
      (this.drainWaiters ??= []).push(done);
    });
  }

  private backedUp(): boolean {
    const t = this.budget.sendQueueThresholdBytes ?? 0;
    return t > 0 && this.ws.bufferedAmount >= t;
  }

  private write(text: string, tapped: Record<string, unknown> | string, opts?: { compress: boolean }): void {
    const t = this.budget.sendQueueThresholdBytes ?? 0;
    // A write that takes the buffer near the threshold asks to hear when it is flushed: that is
    // when the backlog, if one forms meanwhile, may move again. Others cost nothing extra.
    if (t > 0 && this.ws.bufferedAmount + text.length >= t / 2) {
      this.drainWaits++;
      this.ws.send(text, opts ?? {}, (this.onFlushed ??= () => {
        this.drainWaits--;
        if (this.backlog !== null) this.pump();
      }));
    } else if (opts) this.ws.send(text, opts);
    else this.ws.send(text);
    this.metrics.framesOut++;
    this.observer?.sent(this, tapped);
    this.checkBuffer();
  }

  private enqueue(text: string, rank: number): void {
    (this.backlog ??= new SendBacklog()).push(text, rank);
    this.checkBuffer();
    this.pump();
  }

  /** Writes from the backlog, highest priority first, while the socket is under the threshold. */
  private pump(): void {
    const q = this.backlog;
    if (q === null) return;
    if (!this.open) return this.endBacklog();
    while (!this.backedUp()) {
      const text = q.shift();
      if (text === undefined) return this.endBacklog();
      this.write(text, text);
      // The write may have passed the send-buffer cap and closed the socket.
      if (!this.open) return this.endBacklog();
    }
    // Nothing written is left to call back (buffered by the library itself, say): look again soon.
    if (this.drainWaits <= 0 && this.drainTimer === undefined) {
      this.drainTimer = this.budget.clock.setTimeout(() => {
        this.drainTimer = undefined;
        this.pump();
      }, DRAIN_RECHECK_MS);
    }
  }

  private endBacklog(): void {
    this.backlog?.clear();
    this.backlog = null;
    this.budget.clock.clear(this.drainTimer);
    this.drainTimer = undefined;
    const w = this.drainWaiters;
    this.drainWaiters = null;
    for (const f of w ?? []) f();
  }

  /**
   * A client that does not read would make the gateway hold everything sent
   * to it. Past the cap it is closed; the close frame is queued behind what it
   * never read, so the socket is dropped if it does not go within a second.
   */
  private checkBuffer(): void {
    const cap = this.budget.maxSendBufferBytes;
    if (cap <= 0 || this.overflowed || this.ws.bufferedAmount + (this.backlog?.size ?? 0) <= cap) return;
    this.overflowed = true;
    this.metrics.countError('SEND_BUFFER_FULL');
    this.ws.close(CLOSE_SEND_BUFFER_FULL, `send buffer over ${cap} bytes: the client does not read`);
    const t = this.budget.clock.setTimeout(() => this.ws.terminate(), 1000);
    this.ws.once('close', () => this.budget.clock.clear(t));
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
    const b = this.budget;
    if (!b.frames.take() || (b.addressFrames !== null && !b.addressFrames.take())) {
      this.metrics.countError('RATE_LIMITED');
      const t = b.clock.now();
      if (t - this.lastRateError >= 1000) {
        this.lastRateError = t;
        this.send(errorFrame('RATE_LIMITED'));
      }
      return false;
    }
    if (size > 0 && (b.bytes !== null || b.addressBytes !== null)) {
      const wait = Math.max(b.bytes?.charge(size) ?? 0, b.addressBytes?.charge(size) ?? 0);
      if (wait > 0 && this.bytesTimer === undefined) {
        this.pause('bytes');
        this.bytesTimer = b.clock.setTimeout(() => {
          this.bytesTimer = undefined;
          this.resume('bytes');
        }, wait);
        // Only a socket that ever waited on its byte budget pays for this listener.
        if (!this.clearOnClose) {
          this.clearOnClose = true;
          this.ws.once('close', () => b.clock.clear(this.bytesTimer));
        }
      }
    }
    return true;
  }

  get paused(): boolean {
    return this.pauses !== null && this.pauses.size > 0;
  }

  /**
   * Stops reading the socket, so TCP slows the client. While the gateway
   * itself is the cause (GATEWAY_PAUSES) the frame budget is paused too:
   * what queues meanwhile is the gateway's backlog, not the client's burst.
   */
  pause(reason: PauseReason): void {
    this.pauses ??= new Set();
    if (this.pauses.has(reason)) return;
    this.pauses.add(reason);
    if (GATEWAY_PAUSES.has(reason) && this.gatewayPauses() === 1) this.budget.frames.pause();
    if (this.pauses.size === 1) this.ws.pause();
  }

  resume(reason: PauseReason): void {
    if (this.pauses === null || !this.pauses.delete(reason)) return;
    if (GATEWAY_PAUSES.has(reason) && this.gatewayPauses() === 0) this.budget.frames.resume();
    if (this.pauses.size === 0) this.ws.resume();
  }

  private gatewayPauses(): number {
    let n = 0;
    for (const r of this.pauses ?? []) if (GATEWAY_PAUSES.has(r)) n++;
    return n;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
