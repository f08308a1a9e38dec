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
  /**
   * Stored; `durable` resolves once it is on disk (then, and only then, the board gets its ack).
   * `onDurable`, when there, says the same without a promise (StoredFrame).
   */
  | { kind: 'stored'; sessionId: string; durable: Promise<void>; onDurable?(ok: () => void, fail: (err: unknown) => void): void }
  | { kind: 'error'; code: FrameErrorCode; message: string };

/**
 * A `stored` result whose outcome comes as a callback (the ingest writer's), with a promise
 * made only if something asks for `durable`: a frame's promise was a good part of its cost.
 */
export class StoredFrame {
  readonly kind = 'stored';
  /** 0 waiting, 1 durable, 2 failed (`err`). */
  private state = 0;
  private err: Error | null = null;
  /** Listeners, in the order they came: usually one (the ack), so no array until a third. */
  private ok1: (() => void) | null = null;
  private fail1: ((err: unknown) => void) | null = null;
  private ok2: (() => void) | null = null;
  private fail2: ((err: unknown) => void) | null = null;
  private more: [() => void, (err: unknown) => void][] | null = null;
  private promise: Promise<void> | null = null;

  constructor(readonly sessionId: string) {}

  /** The ingest writer's answer (WriteWaiter): null once durable, else why not. */
  written(err: Error | null): void {
    if (this.state !== 0) return;
    this.state = err ? 2 : 1;
    this.err = err;
    const { ok1, fail1, ok2, fail2, more } = this;
    this.ok1 = this.fail1 = this.ok2 = this.fail2 = this.more = null;
    if (ok1) this.tell(ok1, fail1!);
    if (ok2) this.tell(ok2, fail2!);
    if (more) for (const [ok, fail] of more) this.tell(ok, fail);
  }

  onDurable(ok: () => void, fail: (err: unknown) => void): void {
    if (this.state !== 0) this.tell(ok, fail);
    else if (!this.ok1) {
      this.ok1 = ok;
      this.fail1 = fail;
    } else if (!this.ok2) {
      this.ok2 = ok;
      this.fail2 = fail;
    } else (this.more ??= []).push([ok, fail]);
  }

  /** Each listener on its own, as promise callbacks are: one that throws fails unhandled, the others still hear. */
  private tell(ok: () => void, fail: (err: unknown) => void): void {
    try {
      if (this.state === 2) fail(this.err);
      else ok();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  get durable(): Promise<void> {
    return (this.promise ??= new Promise<void>((ok, fail) => this.onDurable(ok, fail)));
  }
}

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
