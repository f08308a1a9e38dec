/**
 * Samples as seven typed arrays (time and six axes) instead of an object per
 * sample: an hour of a board at 200 Hz is 720,000 samples, and as objects
 * their allocation and garbage collection cost more than the analysis itself.
 * The analysis reads either form; what it computes is the same arithmetic in
 * the same order, so the strokes are the same.
 */
import type { ImuSample } from './types.js';

export interface SampleColumns {
  readonly length: number;
  readonly t: Float64Array;
  readonly ax: Float64Array;
  readonly ay: Float64Array;
  readonly az: Float64Array;
  readonly gx: Float64Array;
  readonly gy: Float64Array;
  readonly gz: Float64Array;
  /**
   * Each sample's gyroscope magnitude (detect.ts's gyroMagnitude), when whoever made the
   * columns has it already: the live analysis keeps it per board and looks at each sample
   * about ten times. Absent, the detector computes it.
   */
  readonly gyro?: Float64Array;
}

/** What the analysis functions take: objects (CSV files, the simulator) or columns (the store). */
export type Samples = readonly ImuSample[] | SampleColumns;

export const AXES = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;

export function emptyColumns(n: number): SampleColumns {
  return {
    length: n,
    t: new Float64Array(n),
    ax: new Float64Array(n), ay: new Float64Array(n), az: new Float64Array(n),
    gx: new Float64Array(n), gy: new Float64Array(n), gz: new Float64Array(n),
  };
}

export function isColumns(s: Samples): s is SampleColumns {
  return !Array.isArray(s);
}

export function toColumns(samples: readonly ImuSample[]): SampleColumns {
  const c = emptyColumns(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    c.t[i] = s.t;
    c.ax[i] = s.ax; c.ay[i] = s.ay; c.az[i] = s.az;
    c.gx[i] = s.gx; c.gy[i] = s.gy; c.gz[i] = s.gz;
  }
  return c;
}

export function asColumns(s: Samples): SampleColumns {
  return isColumns(s) ? s : toColumns(s);
}

export function fromColumns(c: SampleColumns): ImuSample[] {
  const out = new Array<ImuSample>(c.length);
  for (let i = 0; i < c.length; i++) out[i] = { t: c.t[i]!, ax: c.ax[i]!, ay: c.ay[i]!, az: c.az[i]!, gx: c.gx[i]!, gy: c.gy[i]!, gz: c.gz[i]! };
  return out;
}

/** The first `n` samples (a view, no copy). */
export function truncate(c: SampleColumns, n: number): SampleColumns {
  if (n === c.length) return c;
  return {
    length: n, t: c.t.subarray(0, n),
    ax: c.ax.subarray(0, n), ay: c.ay.subarray(0, n), az: c.az.subarray(0, n),
    gx: c.gx.subarray(0, n), gy: c.gy.subarray(0, n), gz: c.gz.subarray(0, n),
  };
}

/**
 * Sorted by time, stably (equal times keep their order), as Array.prototype.sort
 * by `a.t - b.t` orders objects. Samples already in order (the usual case) are
 * returned as they are.
 */
export function sortedByTime(c: SampleColumns): SampleColumns {
  const { t } = c;
  let sorted = true;
  for (let i = 1; i < c.length; i++) if (!(t[i - 1]! <= t[i]!)) { sorted = false; break; }
  if (sorted) return c;
  const order = Array.from({ length: c.length }, (_, i) => i).sort((a, b) => t[a]! - t[b]!);
  const out = emptyColumns(c.length);
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    out.t[i] = t[k]!;
    for (const a of AXES) out[a][i] = c[a][k]!;
  }
  return out;
}
