import { WebSocket } from 'ws';
import { errorFrame, type ErrorFrame, type FrameErrorCode } from '../../firmware-protocol/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { TokenBucket } from './limits.js';
import type { Metrics } from './metrics.js';
import type { ConnectionInfo } from './platform/platform.js';

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
  clock: Clock;
}

/**
 * One connected socket, whatever its endpoint: JSON out, error frames, the
 * per-client frame budget. Sends to a closed socket are dropped silently,
 * since the close handler already cleans up.
 */
export class Peer {
  /** Error replies are themselves limited, so a flood cannot turn into one back. */
  private lastRateError = 0;
  private identifiedFlag = false;
  /** Made on the first pause: most sockets are never paused. */
  private pauses: Set<PauseReason> | null = null;
  private bytesTimer: TimerHandle | undefined;
  private overflowed = false;
  private clearOnClose = false;
  /** Sees every frame sent (the platform's counters and `message:sent`). */
  tap: ((frame: Record<string, unknown> | string) => void) | null = null;
  /** Set by the platform: a registered handler may take a frame of a type the endpoint does not know. */
  unknownType: ((error: ErrorFrame, text: string) => void | Promise<void>) | null = null;
  /** How this endpoint answers a frame middleware refused (the envelope on /ws); default the plain error frame. */
  refuseWith: ((err: unknown, id: string | number | undefined) => void) | null = null;
  /** This connection as handlers, middleware and events see it. */
  info: ConnectionInfo | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly endpoint: EndpointName,
    private readonly budget: PeerBudget,
    private readonly metrics: Metrics,
  ) {}

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

  /** Bytes queued to this client and not yet sent. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  send(frame: object): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frame));
    this.metrics.framesOut++;
    this.tap?.(frame as Record<string, unknown>);
    this.checkBuffer();
  }

  /** For fan-out: the same serialized text to many peers. */
  sendText(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(text);
    this.metrics.framesOut++;
    this.tap?.(text);
    this.checkBuffer();
  }

  /**
   * A client that does not read would make the gateway hold everything sent
   * to it. Past the cap it is closed; the close frame is queued behind what it
   * never read, so the socket is dropped if it does not go within a second.
   */
  private checkBuffer(): void {
    const cap = this.budget.maxSendBufferBytes;
    if (cap <= 0 || this.overflowed || this.ws.bufferedAmount <= cap) return;
    this.overflowed = true;
    this.metrics.countError('SEND_BUFFER_FULL');
    this.ws.close(CLOSE_SEND_BUFFER_FULL, `send buffer over ${cap} bytes: the client does not read`);
    const t = this.budget.clock.setTimeout(() => this.ws.terminate(), 1000);
    this.ws.once('close', () => this.budget.clock.clear(t));
  }

  /** A frame the endpoint's parser refused: the error back, unless a registered handler takes its type. */
  refuse(error: ErrorFrame, text: string): void | Promise<void> {
    if (error.code === 'UNKNOWN_TYPE' && this.unknownType !== null) return this.unknownType(error, text);
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
