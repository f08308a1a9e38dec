/**
 * Fixed-capacity ring buffers of IMU samples for the Live view. Memory is
 * allocated once per board (capacity = seconds kept x rate), so a chart that
 * runs for days uses what it used after its first minute. Reading copies the
 * visible window into caller-owned arrays (also allocated once), optionally
 * thinned to about two points per pixel column while keeping each column's
 * extremes, so a stroke's peak never disappears from the chart.
 */

export const CHANNELS = 6;

export class SampleRing {
  readonly capacity: number;
  /** Sample times, ms. */
  readonly t: Float64Array;
  /** ax, ay, az, gx, gy, gz. */
  readonly ch: Float32Array[];
  private head = 0;
  private count = 0;
  /** Bumped on every push: lets a chart skip redrawing when nothing arrived. */
  version = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
    this.capacity = Math.floor(capacity);
    this.t = new Float64Array(this.capacity);
    this.ch = Array.from({ length: CHANNELS }, () => new Float32Array(this.capacity));
  }

  get length(): number {
    return this.count;
  }

  /** Appends one sample, overwriting the oldest when full. */
  push(timeMs: number, s: ArrayLike<number>): void {
    const i = this.head;
    this.t[i] = timeMs;
    for (let c = 0; c < CHANNELS; c++) this.ch[c]![i] = s[c] ?? 0;
    this.head = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.version++;
  }

  /** Time of the k-th oldest sample, its channels copied into `out`. */
  sample(k: number, out: number[]): number {
    const i = this.at(k);
    for (let c = 0; c < CHANNELS; c++) out[c] = this.ch[c]![i]!;
    return this.t[i]!;
  }

  /** Index into the arrays of the k-th oldest sample. */
  private at(k: number): number {
    return (this.head - this.count + k + this.capacity) % this.capacity;
  }

  /** Time of the newest sample, or NaN when empty. */
  lastTime(): number {
    return this.count === 0 ? NaN : this.t[this.at(this.count - 1)]!;
  }

  /** k (0 = oldest) of the first sample at or after `timeMs`; binary search, times are ascending. */
  private firstAtOrAfter(timeMs: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t[this.at(mid)]! < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.version++;
  }

  /**
   * Copies samples with time in [fromMs, toMs] into `out`, x as seconds
   * relative to `originMs`. With `maxPoints` set and more samples than that,
   * thins them: each bucket gives two points, its first- and second-occurring
   * extremes per channel. Returns the number of points written.
   */
  read(out: WindowArrays, fromMs: number, toMs: number, originMs: number, maxPoints = Infinity): number {
    const start = this.firstAtOrAfter(fromMs);
    let end = this.firstAtOrAfter(toMs);
    while (end < this.count && this.t[this.at(end)]! === toMs) end++;
    const n = end - start;
    const room = out.x.length;
    const limit = Math.min(room, maxPoints);
    if (n <= limit) {
      for (let k = 0; k < n; k++) {
        const i = this.at(start + k);
        out.x[k] = (this.t[i]! - originMs) / 1000;
        for (let c = 0; c < CHANNELS; c++) out.y[c]![k] = this.ch[c]![i]!;
      }
      return n;
    }
    const buckets = Math.max(1, Math.floor(limit / 2));
    let w = 0;
    for (let b = 0; b < buckets; b++) {
      const k0 = start + Math.floor((b * n) / buckets);
      const k1 = start + Math.floor(((b + 1) * n) / buckets);
      if (k1 <= k0) continue;
      const i0 = this.at(k0);
      const iMid = this.at(k0 + ((k1 - k0) >> 1));
      out.x[w] = (this.t[i0]! - originMs) / 1000;
      out.x[w + 1] = (this.t[iMid]! - originMs) / 1000;
      for (let c = 0; c < CHANNELS; c++) {
        const col = this.ch[c]!;
        let minV = Infinity;
        let maxV = -Infinity;
        let minK = k0;
        let maxK = k0;
        for (let k = k0; k < k1; k++) {
          const v = col[this.at(k)]!;
          if (v < minV) (minV = v), (minK = k);
          if (v > maxV) (maxV = v), (maxK = k);
        }
        const y = out.y[c]!;
        y[w] = minK <= maxK ? minV : maxV;
        y[w + 1] = minK <= maxK ? maxV : minV;
      }
      w += 2;
    }
    return w;
  }
}

/** Output arrays for one chart, allocated once. */
export interface WindowArrays {
  x: Float64Array;
  y: Float64Array[];
}

export function windowArrays(points: number): WindowArrays {
  return { x: new Float64Array(points), y: Array.from({ length: CHANNELS }, () => new Float64Array(points)) };
}

/**
 * One board's stream: its ring plus what the chart needs to scroll smoothly
 * between batches (the newest sample time and when it arrived here).
 */
export class BoardStream {
  ring: SampleRing;
  rateHz = 0;
  /** Newest sample time (board clock, ms) and the local time it arrived (performance-style ms). */
  lastSampleMs = NaN;
  arrivedAt = 0;
  /** Samples received, for the per-board rate shown beside the chart. */
  received = 0;

  constructor(
    private readonly keepSeconds: number,
    initialRateHz = 200,
  ) {
    this.ring = new SampleRing(Math.ceil(keepSeconds * initialRateHz));
    this.rateHz = initialRateHz;
  }

  /** Adds a batch; reallocates once if the board's rate needs a larger ring. */
  add(startMs: number, rateHz: number, samples: readonly (readonly number[])[], nowMs: number): void {
    if (!(rateHz > 0) || samples.length === 0) return;
    const needed = Math.ceil(this.keepSeconds * Math.min(rateHz, 4000));
    if (needed > this.ring.capacity) this.ring = new SampleRing(needed);
    this.rateHz = rateHz;
    const step = 1000 / rateHz;
    const last = this.ring.lastTime();
    for (let i = 0; i < samples.length; i++) {
      const t = startMs + i * step;
      // Resent or reordered batches would break the time order the reader's binary search needs.
      if (t <= last) continue;
      this.ring.push(t, samples[i]!);
    }
    this.received += samples.length;
    const end = startMs + (samples.length - 1) * step;
    if (!(end <= this.lastSampleMs)) {
      this.lastSampleMs = end;
      this.arrivedAt = nowMs;
    }
  }

  /**
   * Fills in what the gateway kept from before this stream began (or from
   * further back than it reaches): the ring is rebuilt with the older samples
   * first, then the ones it held, then any newer the backfill has, one per time.
   */
  backfill(runs: readonly { start_ms: number; rate_hz: number; samples: readonly (readonly number[])[] }[], nowMs: number): void {
    const old = this.ring;
    const first = old.length ? old.sample(0, []) : Infinity;
    const last = old.lastTime();
    const newest = runs.at(-1);
    const rate = newest && newest.rate_hz > 0 ? newest.rate_hz : this.rateHz;
    const ring = new SampleRing(Math.max(old.capacity, Math.ceil(this.keepSeconds * Math.min(rate, 4000))));
    const later: [number, readonly number[]][] = [];
    for (const r of runs) {
      const step = r.rate_hz > 0 ? 1000 / r.rate_hz : 0;
      for (let i = 0; i < r.samples.length; i++) {
        const t = r.start_ms + i * step;
        if (t < first) {
          if (!(t <= ring.lastTime())) ring.push(t, r.samples[i]!);
        } else if (!(t <= last)) later.push([t, r.samples[i]!]);
      }
    }
    const s: number[] = [];
    for (let k = 0; k < old.length; k++) {
      const t = old.sample(k, s);
      if (!(t <= ring.lastTime())) ring.push(t, s);
    }
    for (const [t, v] of later) if (!(t <= ring.lastTime())) ring.push(t, v);
    // A chart skips redrawing while the version stays: the new ring must never repeat the old one's.
    ring.version += old.version + 1;
    this.ring = ring;
    if (rate > 0) this.rateHz = rate;
    const end = ring.lastTime();
    if (!(end <= this.lastSampleMs)) {
      this.lastSampleMs = end;
      this.arrivedAt = nowMs;
    }
  }

  /**
   * The time at the chart's right edge: the newest sample's time advanced by
   * the time since it arrived, less a lag so the edge stays inside the data
   * while the next batch is on its way. Stops advancing when the board goes quiet.
   */
  edge(nowMs: number, lagMs: number): number {
    if (!Number.isFinite(this.lastSampleMs)) return NaN;
    const since = Math.min(Math.max(0, nowMs - this.arrivedAt), lagMs * 2);
    return this.lastSampleMs + since - lagMs;
  }
}
