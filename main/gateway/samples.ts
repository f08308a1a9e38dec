/**
 * Where the board endpoint hands sample frames. The sessions part provides
 * the sink; without one (a bare gateway) samples are live-only.
 */
import type { FrameErrorCode } from '../../firmware-protocol/index.js';

export interface IncomingBatch {
  deviceId: string;
  /** From the frame; null means "the board's current session, if any". */
  sessionId: string | null;
  seq: number | null;
  startMs: number;
  rateHz: number;
  samples: number[][];
  /** `samples` as stored (Float32, sample-major), when the frame carried them so (binary frames). */
  values?: Float32Array;
}

export type SinkResult =
  /** Not stored (no recording session, or the session is closed): live view only. */
  | { kind: 'live'; sessionId: string | null; reason?: string }
  /** Stored; `durable` resolves once it is on disk (then, and only then, the board gets its ack). */
  | { kind: 'stored'; sessionId: string; durable: Promise<void> }
  | { kind: 'error'; code: FrameErrorCode; message: string };

/** A `stored` result's durable promise rejects with this when the frame turned out not to be the session's: the board gets `stored:false`. */
export class NotStored extends Error {}

export interface UploadResult {
  sessionId: string | null;
  /** Seqs the gateway does not have and has asked for again. */
  missing: number[];
}

export interface SampleSink {
  accept(batch: IncomingBatch): SinkResult;
  uploadComplete(deviceId: string, sessionId: string | null, lastSeq: number): Promise<UploadResult>;
  /** A board acked a command; frames read after it were sent after the board acted on it. */
  commandAcked?(deviceId: string, commandId: string, ok: boolean): void | Promise<void>;
  /** True while the write queue is past its high-water mark. */
  readonly pressured: boolean;
  /** Calls `fn` once, when the queue drains below its low-water mark. */
  onRelief(fn: () => void): void;
}
