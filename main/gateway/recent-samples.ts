/**
 * The last five minutes of every board's samples, kept in memory so the Live
 * view can fill a chart when it opens instead of starting empty.
 *
 * Memory is bounded and allocated once per board: 300 s at the board's rate,
 * capped at 200 Hz (a faster board keeps every k-th sample, k = ceil(rate /
 * 200)), 60 bytes a sample (time, six channels as float64 so the backfill is
 * exactly what was streamed, and the rate). That is at most 3.6 MB per board
 * (1.8 MB at the usual 100 Hz), and at most 64 boards are kept: a board
 * quiet for five minutes makes room for a new one; while all 64 stream, a
 * 65th gets no backfill (rather than boards taking turns at reallocating
 * their rings). Worst case about 230 MB.
 *
 * Each frame costs one copy of its numbers into the board's typed arrays,
 * nothing else: no object per sample, no array kept from the frame.
 */
import { RECENT_SAMPLES_MAX_HZ, RECENT_SAMPLES_SECONDS, type RecentRun } from '../../firmware-protocol/live.js';

export const RECENT_MAX_BOARDS = 64;
const CH = 6;
/** A board whose clock goes back further than this restarted (uptime clock): its old samples are dropped. Smaller steps back are resends, skipped. */
const CLOCK_RESET_MS = 60_000;

class BoardRecent {
  capacity: number;
  /** Per sample: time (ms, board clock) then six channels. */
  data: Float64Array;
  /** Rate of each sample as kept (the board's rate / decimation; 0 for one-sample frames). */
  rate: Float32Array;
  head = 0;
  count = 0;
  lastT = -Infinity;
  decimation = 1;
  /** Samples seen since the last one kept, for decimation. */
  phase = 0;
  /** When a frame of it last arrived (the gateway's clock). */
  seenAt = 0;

  constructor(rateHz: number) {
    this.capacity = capacityFor(rateHz);
    this.data = new Float64Array(this.capacity * (CH + 1));
    this.rate = new Float32Array(this.capacity);
  }

  private grow(rateHz: number): void {
    const cap = capacityFor(rateHz);
    if (cap <= this.capacity) return;
    const data = new Float64Array(cap * (CH + 1));
    const rate = new Float32Array(cap);
    for (let k = 0; k < this.count; k++) {
      const i = this.at(k);
      data.set(this.data.subarray(i * (CH + 1), (i + 1) * (CH + 1)), k * (CH + 1));
      rate[k] = this.rate[i]!;
    }
    this.data = data;
    this.rate = rate;
    this.capacity = cap;
    this.head = this.count % cap;
  }

  at(k: number): number {
    return (this.head - this.count + k + this.capacity) % this.capacity;
  }

  add(startMs: number, rateHz: number, samples: readonly (readonly number[])[]): void {
    if (samples.length === 0 || !Number.isFinite(startMs)) return;
    if (startMs < this.lastT - CLOCK_RESET_MS) {
      this.count = 0;
      this.head = 0;
      this.lastT = -Infinity;
    }
    if (rateHz > 0) this.grow(Math.min(rateHz, RECENT_SAMPLES_MAX_HZ));
    const k = rateHz > RECENT_SAMPLES_MAX_HZ ? Math.ceil(rateHz / RECENT_SAMPLES_MAX_HZ) : 1;
    if (k !== this.decimation) (this.decimation = k), (this.phase = 0);
    const step = rateHz > 0 ? 1000 / rateHz : 0;
    const kept = rateHz > 0 ? rateHz / k : 0;
    // The ring's fields in locals for the loop: every sample of every frame passes here.
    const { data, rate, capacity } = this;
    let { head, count, lastT, phase } = this;
    for (let j = 0; j < samples.length; j++) {
      const t = startMs + j * step;
      if (t <= lastT) continue;
      lastT = t;
      if (k !== 1 && phase++ % k !== 0) continue;
      const s = samples[j]!;
      const o = head * (CH + 1);
      data[o] = t;
      data[o + 1] = s[0] ?? 0;
      data[o + 2] = s[1] ?? 0;
      data[o + 3] = s[2] ?? 0;
      data[o + 4] = s[3] ?? 0;
      data[o + 5] = s[4] ?? 0;
      data[o + 6] = s[5] ?? 0;
      rate[head] = kept;
      if (++head === capacity) head = 0;
      if (count < capacity) count++;
    }
    this.head = head;
    this.count = count;
    this.lastT = lastT;
    this.phase = phase;
  }

  /** Samples from `seconds` before the newest one, as runs of one rate without a gap. */
  read(seconds: number): RecentRun[] {
    if (this.count === 0) return [];
    const from = this.lastT - seconds * 1000;
    const runs: RecentRun[] = [];
    let run: RecentRun | null = null;
    for (let k = 0; k < this.count; k++) {
      const i = this.at(k);
      const o = i * (CH + 1);
      const t = this.data[o]!;
      if (t < from) continue;
      const r = this.rate[i]!;
      const sample = Array.from(this.data.subarray(o + 1, o + 1 + CH));
      // Same rate and exactly where the run's next sample falls: the same run (times are rebuilt from start_ms).
      if (run && r > 0 && run.rate_hz === r && Math.abs(run.start_ms + (run.samples.length * 1000) / r - t) < 1e-6) run.samples.push(sample);
      else runs.push((run = { start_ms: t, rate_hz: r, samples: [sample] }));
    }
    return runs;
  }
}

function capacityFor(rateHz: number): number {
  const hz = rateHz > 0 ? Math.min(rateHz, RECENT_SAMPLES_MAX_HZ) : RECENT_SAMPLES_MAX_HZ;
  return Math.ceil(RECENT_SAMPLES_SECONDS * hz);
}

export class RecentSamples {
  private readonly boards = new Map<string, BoardRecent>();
  /** While every place is taken by a streaming board, look for a quiet one at most this often. */
  private nextScanAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** One frame of a board (the board endpoint calls this for every sample frame). */
  add(deviceId: string, startMs: number, rateHz: number, samples: readonly (readonly number[])[]): void {
    const at = this.now();
    let b = this.boards.get(deviceId);
    if (!b) {
      if (this.boards.size >= RECENT_MAX_BOARDS && !this.evict(at)) return;
      b = new BoardRecent(rateHz);
      this.boards.set(deviceId, b);
    }
    b.seenAt = at;
    b.add(startMs, rateHz, samples);
  }

  /** Frees the place of a board quiet for the whole window; false if every board is still streaming. */
  private evict(at: number): boolean {
    if (at < this.nextScanAt) return false;
    let quiet: string | null = null;
    let oldest = Infinity;
    for (const [id, b] of this.boards) if (b.seenAt < oldest) (oldest = b.seenAt), (quiet = id);
    if (quiet !== null && at - oldest > RECENT_SAMPLES_SECONDS * 1000) {
      this.boards.delete(quiet);
      return true;
    }
    this.nextScanAt = at + 1000;
    return false;
  }

  read(deviceId: string, seconds: number): { decimation: number; runs: RecentRun[] } {
    const b = this.boards.get(deviceId);
    return b ? { decimation: b.decimation, runs: b.read(seconds) } : { decimation: 1, runs: [] };
  }

  /** Bytes held, for a test of the bound. */
  bytes(): number {
    let n = 0;
    for (const b of this.boards.values()) n += b.data.byteLength + b.rate.byteLength;
    return n;
  }

  get size(): number {
    return this.boards.size;
  }
}
