/**
 * Frame intake shared by every endpoint: counting, the per-client budget,
 * text decoding, and strict in-order handling. A handler may be async (a
 * store lookup); frames that arrive meanwhile wait their turn, so an identity
 * frame is always settled before the messages that follow it.
 *
 * Bounds, so one client cannot take the gateway from the others:
 * - work per event-loop turn: a connection handles at most `TURN_BYTES` of
 *   frames (always at least one) before the others get theirs; the rest waits
 *   for the next turn with the socket paused;
 * - frames waiting: past `MAX_WAITING` frames or `MAX_WAITING_BYTES` behind a
 *   slow handler (a write the database has not answered) the socket stops
 *   being read, so TCP holds the client's frames, not the gateway's memory;
 * - the store: while too many calls wait on the database (StoreWatch), the
 *   device endpoints stop reading; operators stay served.
 */
import type { RawData, WebSocket } from 'ws';
import type { Base } from '../base.js';
import type { KeepaliveManager } from '../keepalive.js';
import type { StoreWatch } from '../store-watch.js';
import { peerOf, type GatewaySocket, type Peer } from '../peer.js';
import type { Platform } from '../platform/platform.js';

/** What frame intake uses: limits, counters, the liveness tracker and the store's backlog. */
export type Intake = Pick<Base, 'log' | 'metrics' | 'options'> & {
  readonly keepalive: KeepaliveManager | null;
  readonly storeWatch?: StoreWatch | null;
  /** Embedding: message middleware, `message:received`, the frame counters. */
  readonly platform?: Platform | null;
};

export type FrameHandler = (text: string) => unknown;
export type BinaryHandler = (data: Buffer) => void | Promise<void>;

/** An endpoint's handling of one socket's frames, as one object (a class instance: no closures per socket). */
export interface FrameTarget {
  text(text: string): unknown;
  /** Absent: the endpoint takes JSON text frames only. */
  binary?(data: Buffer): void | Promise<void>;
}

/** Bytes of frames one connection handles in one event-loop turn (at least one frame). */
export const TURN_BYTES = 64 * 1024;
/** Frames waiting behind a busy handler before the socket is paused. */
export const MAX_WAITING = 64;
export const MAX_WAITING_BYTES = 1024 * 1024;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

interface Job {
  /** Text for a text frame, the bytes for a binary one. */
  data: string | Buffer;
  size: number;
}

/**
 * One connection's intake. A class, not closures per socket: with thousands
 * of idle boards connected, what every socket holds is memory per board. An
 * endpoint's own object per socket may extend it (the board link does), so a
 * board is one object here, not two; `target` is then the object itself.
 */
export class FrameIntake {
  /** Made when a frame first has to wait: most never do. */
  private queue: Job[] | null = null;
  private queuedBytes = 0;
  private busy = false;
  private turnBytes = 0;
  private turnReset = false;
  private readonly target: FrameTarget;

  constructor(
    protected readonly ctx: Intake,
    readonly peer: Peer,
    target?: FrameTarget,
  ) {
    this.target = target ?? (this as unknown as FrameTarget);
  }

  /** Starts reading the socket's frames into this intake. */
  listen(): void {
    this.peer.intake = this;
    if ((this.peer.ws as GatewaySocket).handlers === undefined) this.peer.ws.on('message', onMessage);
  }

  /** A text frame, through the embedding's message middleware when there is one. */
  private textFrame(t: string): unknown {
    const platform = this.ctx.platform;
    return platform ? platform.intake(this.peer, t, this.target) : this.target.text(t);
  }

  private fail(err: unknown): void {
    this.ctx.log.warn('frame handling failed', { endpoint: this.peer.endpoint, ip: this.peer.ip, error: err instanceof Error ? err.message : String(err) });
    this.peer.error('UNAVAILABLE', 'gateway temporarily unavailable, try again');
  }

  /** The turn's budget comes back on the next turn: one immediate for every connection that used any. */
  private spend(size: number): void {
    this.turnBytes += size;
    if (this.turnReset) return;
    this.turnReset = true;
    spentThisTurn.push(this);
    if (!resetScheduled) {
      resetScheduled = true;
      setImmediate(newTurn);
    }
  }

  nextTurn(): void {
    this.turnReset = false;
    this.turnBytes = 0;
    this.drain();
  }

  /** Runs one frame; true if it went async (later frames must wait for it). */
  private run(data: string | Buffer, size: number): boolean {
    this.spend(size);
    let r: unknown;
    try {
      r = typeof data === 'string' ? this.textFrame(data) : this.target.binary!(data);
    } catch (err) {
      this.fail(err);
      return false;
    }
    if (!(r instanceof Promise)) return false;
    this.busy = true;
    r.catch((err: unknown) => this.fail(err)).finally(() => {
      this.busy = false;
      this.drain();
    });
    return true;
  }

  private drain(): void {
    const q = this.queue;
    while (q !== null && q.length > 0 && !this.busy && this.turnBytes < TURN_BYTES) {
      const job = q.shift()!;
      this.queuedBytes -= job.size;
      if (this.run(job.data, job.size)) break;
    }
    if (q === null || q.length === 0) this.peer.resume('intake');
  }

  private enqueue(data: string | Buffer, size: number): void {
    // The common case (nothing waiting, budget left) runs at once, without queueing (or a job object).
    if (!this.busy && (this.queue === null || this.queue.length === 0) && this.turnBytes < TURN_BYTES) {
      this.run(data, size);
      return;
    }
    const q = (this.queue ??= []);
    q.push({ data, size });
    this.queuedBytes += size;
    if (!this.busy || q.length >= MAX_WAITING || this.queuedBytes >= MAX_WAITING_BYTES) this.peer.pause('intake');
    if (!this.busy) this.spend(0);
  }

  message(data: RawData, isBinary: boolean): void {
    const { ctx, peer } = this;
    // The one count of frames received: the platform's totals read it (PlatformStats.countFrom).
    ctx.metrics.framesIn++;
    ctx.platform?.stats.frameIn();
    ctx.keepalive?.seen(peer);
    const size = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (!peer.admit(size)) return;
    if (size > ctx.options.maxPayloadBytes) {
      peer.error('FRAME_TOO_LARGE', `frame of ${size} bytes is larger than the limit of ${ctx.options.maxPayloadBytes}`);
      return;
    }
    // Operators stay served while the store backs up.
    const watch = peer.endpoint === 'operator' ? null : (ctx.storeWatch ?? null);
    if (watch?.pressured) {
      peer.pause('store');
      watch.onRelief(() => peer.resume('store'));
    }
    if (isBinary) {
      if (!this.target.binary) {
        peer.error('BAD_BINARY', 'this endpoint takes JSON text frames only');
        return;
      }
      this.enqueue(toBuffer(data), size);
    } else {
      this.enqueue(toBuffer(data).toString('utf8'), size);
    }
  }
}

/** Intakes that spent budget this turn, in the order they did: reset together on the next. */
let spentThisTurn: FrameIntake[] = [];
let resetScheduled = false;

function newTurn(): void {
  resetScheduled = false;
  const list = spentThisTurn;
  spentThisTurn = [];
  // A drain below may spend again: that lands in the new list, for the turn after.
  for (const intake of list) intake.nextTurn();
}

/** For a socket that is no GatewaySocket of a gateway (those hand frames to their peer's intake themselves). */
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  peerOf(this)!.intake!.message(data, isBinary);
}

export function handleFrames(ctx: Intake, peer: Peer, onText: FrameHandler, onBinary?: BinaryHandler): void {
  handleFramesWith(ctx, peer, onBinary ? { text: onText, binary: onBinary } : { text: onText });
}

export function handleFramesWith(ctx: Intake, peer: Peer, target: FrameTarget): void {
  new Listening(ctx, peer, target);
}

class Listening extends FrameIntake {
  constructor(ctx: Intake, peer: Peer, target: FrameTarget) {
    super(ctx, peer, target);
    this.listen();
  }
}
