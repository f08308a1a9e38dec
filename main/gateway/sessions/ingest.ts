/**
 * The batching writer between boards and the store. Chunks queue here and
 * go to `insertChunks` in batches; each chunk's promise settles only when its
 * batch is durable. A failed write (the database is down) keeps the batch and
 * tries again with backoff: nothing acked is lost, and nothing is acked
 * before it is on disk. Past `highWater` queued chunks the writer reports
 * pressure, and the board endpoint stops reading sockets until it drains.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { SampleChunk, Store } from '../store/types.js';

export interface IngestOptions {
  /** Chunks per insertChunks call. Default 2000 (about 5 MB of samples: one commit, one fsync). */
  batchSize?: number;
  /** Queued chunks at which boards are paused. Default 4000. */
  highWater?: number;
  /** Queued chunks below which paused boards resume. Default 1000. */
  lowWater?: number;
  /** First retry delay after a failed write; doubles up to maxRetryMs. Default 200 ms. */
  retryMs?: number;
  /** Default 5000 ms. */
  maxRetryMs?: number;
}

/** Told once a chunk is durable (null) or will not be (the error). An object, not a closure: one fewer allocation per frame. */
export interface WriteWaiter {
  written(err: Error | null): void;
}

/**
 * A chunk waiting for its commit (20 to 50 ms, see the store's pacing) and the frame waiting on it.
 * Classes, not object literals: V8 may decide to make a literal's objects straight in the old
 * generation once a collection finds most of them alive, and every chunk of a paced commit is
 * alive when one runs. Made there, each kept its young sample bytes alive through the scavenges
 * that followed. A constructor has no such allocation site.
 */
export class PendingChunk {
  constructor(
    readonly chunk: SampleChunk,
    readonly done: WriteWaiter,
  ) {}
}

/** A board frame's samples as a chunk to store (see PendingChunk: a class for the same reason). */
export class FrameChunk implements SampleChunk {
  constructor(
    readonly sessionId: string,
    readonly deviceId: string,
    readonly seq: number,
    readonly startMs: number,
    readonly rateHz: number,
    readonly count: number,
    readonly data: Buffer,
    readonly receivedAt: Date,
  ) {}
}

export interface IngestStats {
  queued: number;
  written: number;
  duplicates: number;
  failed_writes: number;
  pressured: boolean;
}

export class IngestWriter {
  private queue: PendingChunk[] = [];
  private writing = false;
  private closed = false;
  private retryDelay: number;
  private retryTimer: TimerHandle | undefined;
  private reliefWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private pressure = false;
  private drainQueued = false;
  private lastErrorLog = 0;
  private readonly o: Required<IngestOptions>;
  readonly stats = { written: 0, duplicates: 0, failedWrites: 0 };
  /** Called after each durable batch with its chunks (progress, gap tracking). */
  onWritten: (chunks: SampleChunk[]) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: IngestOptions = {},
  ) {
    this.o = { batchSize: 2000, highWater: 4000, lowWater: 1000, retryMs: 200, maxRetryMs: 5000, ...options };
    this.retryDelay = this.o.retryMs;
  }

  get pressured(): boolean {
    return this.pressure;
  }

  get queued(): number {
    return this.queue.length;
  }

  snapshot(): IngestStats {
    return { queued: this.queue.length, written: this.stats.written, duplicates: this.stats.duplicates, failed_writes: this.stats.failedWrites, pressured: this.pressure };
  }

  /** Resolves when the chunk is durable (or was already stored). */
  push(chunk: SampleChunk): Promise<void> {
    return new Promise<void>((resolve, reject) => this.add(chunk, { written: (err) => (err ? reject(err) : resolve()) }));
  }

  /**
   * `push` without a promise: `done` is told once the chunk is durable (or was already
   * stored), or the error that means it will not be. A frame's promise and its callback
   * job were a good part of what a durable frame cost at thousands a second.
   */
  add(chunk: SampleChunk, done: WriteWaiter): void {
    if (this.closed) {
      queueMicrotask(() => done.written(new Error('ingest writer is closed')));
      return;
    }
    this.queue.push(new PendingChunk(chunk, done));
    if (!this.pressure && this.queue.length >= this.o.highWater) {
      this.pressure = true;
      this.log.warn('sample write queue full: pausing boards until the database catches up', { queued: this.queue.length });
    }
    if (!this.writing && this.retryTimer === undefined && !this.drainQueued) {
      this.drainQueued = true;
      queueMicrotask(() => {
        this.drainQueued = false;
        void this.drain();
      });
    }
  }

  onRelief(fn: () => void): void {
    if (!this.pressure) fn();
    else this.reliefWaiters.push(fn);
  }

  /** Resolves when everything queued so far is written (or the writer is closed). */
  flushed(): Promise<void> {
    if (this.queue.length === 0 && !this.writing) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private async drain(): Promise<void> {
    if (this.writing || this.closed) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue.slice(0, this.o.batchSize);
        const chunks = batch.map((p) => p.chunk);
        let inserted: number;
        try {
          inserted = await this.store.insertChunks(chunks);
        } catch (err) {
          this.stats.failedWrites++;
          const now = this.clock.now();
          if (now - this.lastErrorLog > 5000) {
            this.lastErrorLog = now;
            this.log.warn('sample write failed; keeping the batch and retrying', { queued: this.queue.length, retry_ms: this.retryDelay, error: err instanceof Error ? err.message : String(err) });
          }
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            void this.drain();
          }, this.retryDelay);
          this.retryDelay = Math.min(this.o.maxRetryMs, this.retryDelay * 2);
          return;
        }
        this.retryDelay = this.o.retryMs;
        this.queue.splice(0, batch.length);
        this.stats.written += inserted;
        this.stats.duplicates += batch.length - inserted;
        // Progress first, as when these were promises (their callbacks ran after this).
        try {
          this.onWritten(chunks);
        } finally {
          for (const p of batch) settle(p.done, null);
        }
        if (this.pressure && this.queue.length <= this.o.lowWater) {
          this.pressure = false;
          this.log.info('sample write queue drained: boards resume', { queued: this.queue.length });
          const waiters = this.reliefWaiters;
          this.reliefWaiters = [];
          for (const w of waiters) w();
        }
      }
    } finally {
      this.writing = false;
      if (this.queue.length === 0) {
        const w = this.drainWaiters;
        this.drainWaiters = [];
        for (const f of w) f();
      }
    }
  }

  /**
   * Stops: waits (up to `timeoutMs`) for the queue to be written, then fails
   * whatever is left. Unacked chunks are safe: boards still hold them.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.queue.length > 0) {
      await Promise.race([this.flushed(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    this.closed = true;
    this.clock.clear(this.retryTimer);
    const left = this.queue;
    this.queue = [];
    for (const p of left) settle(p.done, new Error('gateway shutting down'));
    for (const w of this.reliefWaiters.splice(0)) w();
    for (const w of this.drainWaiters.splice(0)) w();
  }
}

/** A callback that throws does not stop the others; it fails as a promise callback would, unhandled. */
function settle(done: WriteWaiter, err: Error | null): void {
  try {
    done.written(err);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** Samples as stored: little-endian Float32, six per sample (in the shared slab, see sampleValues). */
export function packSamples(samples: readonly (readonly number[])[]): Buffer {
  const f = sampleValues(samples.length);
  let o = 0;
  for (const s of samples) for (let c = 0; c < 6; c++) f[o++] = s[c]!;
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

const SLAB_VALUES = 256 * 1024;
let slab = new Float32Array(0);
let slabUsed = 0;

/**
 * Room for `count` samples' values, a slice of a shared 1 MiB array: a frame's own array was an
 * allocation outside the heap each, thousands a second, and a large part of the collector's work.
 * A slab is freed once no chunk in it is referenced.
 */
export function sampleValues(count: number): Float32Array {
  const n = count * 6;
  if (n > SLAB_VALUES) return new Float32Array(n);
  if (slabUsed + n > slab.length) {
    slab = new Float32Array(SLAB_VALUES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return out;
}

export function unpackSamples(data: Buffer, count: number): Float32Array {
  // Copy into an aligned buffer: a Buffer slice may sit at any byte offset.
  const out = new Float32Array(count * 6);
  new Uint8Array(out.buffer).set(data.subarray(0, count * 24));
  return out;
}
