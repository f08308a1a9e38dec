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
import type { RawData } from 'ws';
import type { Base } from '../base.js';
import type { KeepaliveManager } from '../keepalive.js';
import type { StoreWatch } from '../store-watch.js';
import type { Peer } from '../peer.js';
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
  run: () => unknown;
  size: number;
}

export function handleFrames(ctx: Intake, peer: Peer, onText: FrameHandler, onBinary?: BinaryHandler): void {
  const keepalive = ctx.keepalive;
  const watch = peer.endpoint === 'operator' ? null : (ctx.storeWatch ?? null);
  const queue: Job[] = [];
  let queuedBytes = 0;
  let busy = false;
  let turnBytes = 0;
  let turnReset = false;

  const fail = (err: unknown) => {
    ctx.log.warn('frame handling failed', { endpoint: peer.endpoint, ip: peer.ip, error: err instanceof Error ? err.message : String(err) });
    peer.error('UNAVAILABLE', 'gateway temporarily unavailable, try again');
  };

  /** The turn's budget comes back on the next turn; one immediate per connection that used any. */
  const spend = (size: number) => {
    turnBytes += size;
    if (turnReset) return;
    turnReset = true;
    setImmediate(() => {
      turnReset = false;
      turnBytes = 0;
      drain();
    });
  };

  /** Runs one job; true if it went async (later frames must wait for it). */
  const run = (job: Job): boolean => {
    spend(job.size);
    let r: unknown;
    try {
      r = job.run();
    } catch (err) {
      fail(err);
      return false;
    }
    if (!(r instanceof Promise)) return false;
    busy = true;
    r.catch(fail).finally(() => {
      busy = false;
      drain();
    });
    return true;
  };

  const drain = () => {
    while (queue.length > 0 && !busy && turnBytes < TURN_BYTES) {
      const job = queue.shift()!;
      queuedBytes -= job.size;
      if (run(job)) break;
    }
    if (queue.length === 0) peer.resume('intake');
  };

  const enqueue = (job: Job) => {
    // The common case (nothing waiting, budget left) runs at once, without queueing.
    if (!busy && queue.length === 0 && turnBytes < TURN_BYTES) {
      run(job);
      return;
    }
    queue.push(job);
    queuedBytes += job.size;
    if (!busy || queue.length >= MAX_WAITING || queuedBytes >= MAX_WAITING_BYTES) peer.pause('intake');
    if (!busy) spend(0);
  };

  const platform = ctx.platform ?? null;
  const text = platform === null ? onText : (t: string) => platform.intake(peer, t, onText) as void | Promise<void>;

  peer.ws.on('message', (data: RawData, isBinary: boolean) => {
    ctx.metrics.framesIn++;
    keepalive?.seen(peer.ws);
    const size = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (!peer.admit(size)) return;
    if (size > ctx.options.maxPayloadBytes) {
      peer.error('FRAME_TOO_LARGE', `frame of ${size} bytes is larger than the limit of ${ctx.options.maxPayloadBytes}`);
      return;
    }
    if (watch?.pressured) {
      peer.pause('store');
      watch.onRelief(() => peer.resume('store'));
    }
    if (isBinary) {
      platform?.stats.frameIn();
      const buf = toBuffer(data);
      if (!onBinary) {
        peer.error('BAD_BINARY', 'this endpoint takes JSON text frames only');
        return;
      }
      enqueue({ run: () => onBinary(buf), size });
    } else {
      const t = toBuffer(data).toString('utf8');
      enqueue({ run: () => text(t), size });
    }
  });
}
