/**
 * Frame intake shared by every endpoint: counting, the per-client budget,
 * text decoding, and strict in-order handling. A handler may be async (a
 * store lookup); frames that arrive meanwhile wait their turn, so an identity
 * frame is always settled before the messages that follow it.
 */
import type { RawData } from 'ws';
import type { Base } from '../base.js';
import type { KeepaliveManager } from '../keepalive.js';

/** What frame intake uses: limits, counters, and the liveness tracker of the server. */
export type Intake = Pick<Base, 'log' | 'metrics' | 'options'> & { readonly keepalive: KeepaliveManager | null };
import type { Peer } from '../peer.js';

export type FrameHandler = (text: string) => void | Promise<void>;
export type BinaryHandler = (data: Buffer) => void | Promise<void>;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function handleFrames(ctx: Intake, peer: Peer, onText: FrameHandler, onBinary?: BinaryHandler): void {
  const keepalive = ctx.keepalive;
  const queue: (() => void | Promise<void>)[] = [];
  let busy = false;

  const fail = (err: unknown) => {
    ctx.log.warn('frame handling failed', { endpoint: peer.endpoint, ip: peer.ip, error: err instanceof Error ? err.message : String(err) });
    peer.error('UNAVAILABLE', 'gateway temporarily unavailable, try again');
  };

  /** Runs one job; true if it went async (later frames must wait for it). */
  const run = (job: () => void | Promise<void>): boolean => {
    let r: void | Promise<void>;
    try {
      r = job();
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
    while (queue.length > 0) if (run(queue.shift()!)) return;
  };

  peer.ws.on('message', (data: RawData, isBinary: boolean) => {
    ctx.metrics.framesIn++;
    keepalive?.seen(peer.ws);
    if (!peer.admit()) return;
    const size = Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > ctx.options.maxPayloadBytes) {
      peer.error('FRAME_TOO_LARGE', `frame of ${size} bytes is larger than the limit of ${ctx.options.maxPayloadBytes}`);
      return;
    }
    if (isBinary) {
      const buf = toBuffer(data);
      if (!onBinary) {
        peer.error('BAD_BINARY', 'this endpoint takes JSON text frames only');
        return;
      }
      const job = () => onBinary(buf);
      // The common case (nothing waiting) runs at once, without queueing a closure.
      if (busy || queue.length > 0) queue.push(job);
      else run(job);
    } else {
      const text = toBuffer(data).toString('utf8');
      const job = () => onText(text);
      if (busy || queue.length > 0) queue.push(job);
      else run(job);
    }
  });
}
