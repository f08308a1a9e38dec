/**
 * Stroke detection on the gyroscope magnitude.
 *
 * A stroke is the fastest rotation of a swing. Peaks of the (lightly
 * smoothed) magnitude above a threshold are taken highest first; a lower peak
 * is dropped when it lies within the refractory period of a kept one, or
 * within mergeMs of it inside the same burst of motion (no quiet gap between
 * them). Bursts matter because a drive's swing and follow-through give two or
 * three peaks of similar height over ~1 s, while real strokes are separated by
 * a moment where the racket is nearly still.
 *
 * All tuning is in ms and converted with the sample rate estimated from the
 * data, so the same settings hold from 10 Hz to 1000 Hz.
 *
 * Each function takes samples as objects or as columns (columns.ts) and works
 * on the columns.
 */
import type { ImuSample, ResolvedOptions } from './types.js';
import { asColumns, type SampleColumns, type Samples } from './columns.js';
import { hypot3 } from './hypot3.js';

const DEG = Math.PI / 180;

/** A detected stroke before classification. */
export interface StrokePeak {
  /** Sample index of the peak (raw maximum next to the smoothed one). */
  sample: number;
  tMs: number;
  peakDps: number;
  speedKmh: number;
  peakG: number;
  saturated: boolean;
}

/**
 * Sample rate from the median interval: robust to the dropped packets and
 * timestamp jitter of a Wi-Fi board, which would skew a mean.
 */
export function estimateRateHz(samples: Samples): number {
  const { t, length } = asColumns(samples);
  const dts = new Float64Array(Math.max(0, length - 1));
  let n = 0;
  for (let i = 1; i < length; i++) {
    const dt = t[i]! - t[i - 1]!;
    if (dt > 0 && Number.isFinite(dt)) dts[n++] = dt;
  }
  if (n === 0) return 0;
  const m = n >> 1;
  const med = n % 2 ? select(dts, n, m) : (select(dts, n, m - 1) + select(dts, n, m)) / 2;
  return med > 0 ? 1000 / med : 0;
}

/**
 * The k-th smallest of the first n values (as sorting them would put at k),
 * found by three-way partitioning in place: linear time, and quick when most
 * intervals are equal, as a steady board's are.
 */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) { a[i] = a[lt]!; a[lt++] = v; i++; }
      else if (v > pivot) { a[i] = a[gt]!; a[gt--] = v; }
      else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[lo]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function gyroMagnitude(s: ImuSample): number {
  return hypot3(s.gx, s.gy, s.gz);
}

export function accelMagnitude(s: ImuSample): number {
  return hypot3(s.ax, s.ay, s.az);
}

/** Milliseconds to a whole number of samples, at least `min`. */
export function msToSamples(ms: number, rateHz: number, min = 1): number {
  return Math.max(min, Math.round((ms * rateHz) / 1000));
}

/** Centred moving average with an odd window, edges averaged over what exists. */
export function movingAverage(x: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  if (half === 0) return [...x];
  return Array.from(smooth(x, half));
}

function smooth(x: ArrayLike<number>, half: number): Float64Array {
  const prefix = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) prefix[i + 1] = prefix[i]! + x[i]!;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const lo = Math.max(0, i - half);
    const hi = Math.min(x.length, i + half + 1);
    out[i] = (prefix[hi]! - prefix[lo]!) / (hi - lo);
  }
  return out;
}

/**
 * Burst id per sample (-1 when quiet): runs above `release`, with dips below
 * it bridged when they last at most `maxGap` samples.
 */
function labelBursts(m: ArrayLike<number>, release: number, maxGap: number): Int32Array {
  const id = new Int32Array(m.length).fill(-1);
  let burst = -1;
  let lastAbove = -Infinity;
  for (let i = 0; i < m.length; i++) {
    if (m[i]! < release) continue;
    if (i - lastAbove - 1 > maxGap) burst++;
    else for (let j = lastAbove + 1; j < i; j++) id[j] = burst;
    id[i] = burst;
    lastAbove = i;
  }
  return id;
}

/** Each sample's gyroscope magnitude, as gyroMagnitude gives it. */
function gyroMagnitudes(c: SampleColumns): Float64Array {
  if (c.gyro) return c.gyro;
  const out = new Float64Array(c.length);
  const { gx, gy, gz } = c;
  for (let i = 0; i < c.length; i++) out[i] = hypot3(gx[i]!, gy[i]!, gz[i]!);
  return out;
}

/** Times finite and non-decreasing: a kept peak's neighbours in time are its neighbours in index. */
function ordered(t: Float64Array): boolean {
  for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i]!) || (i > 0 && t[i]! < t[i - 1]!)) return false;
  return true;
}

export function detectStrokes(samples: Samples, opts: ResolvedOptions, rateHz: number): StrokePeak[] {
  const c = asColumns(samples);
  const n = c.length;
  if (n < 3 || !(rateHz > 0)) return [];
  const { t } = c;
  const raw = gyroMagnitudes(c);
  const half = Math.floor((2 * Math.floor(msToSamples(opts.smoothMs, rateHz) / 2) + 1) / 2);
  const m = half === 0 ? raw : smooth(raw, half);
  const bursts = labelBursts(m, opts.releaseDps, msToSamples(opts.quietGapMs, rateHz, 0));

  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    if (m[i]! < opts.thresholdDps) continue;
    // >= on the right so a flat top yields its first sample only.
    if ((i === 0 || m[i]! > m[i - 1]!) && (i === n - 1 || m[i]! >= m[i + 1]!)) candidates.push(i);
  }
  candidates.sort((a, b) => m[b]! - m[a]! || a - b);

  const clashes = (k: number, cand: number) => {
    const dt = Math.abs(t[k]! - t[cand]!);
    return dt < opts.refractoryMs || (dt < opts.mergeMs && bursts[k] === bursts[cand] && bursts[cand] !== -1);
  };
  // Kept peaks by index. Nothing farther than `reach` in time can clash, so with times in
  // order only the kept peaks next to a candidate are looked at, not every one kept so far.
  const kept: number[] = [];
  const reach = Math.max(opts.refractoryMs, opts.mergeMs);
  const local = ordered(t) && !Number.isNaN(reach);
  for (const cand of candidates) {
    let clash = false;
    if (local) {
      let lo = 0;
      let hi = kept.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (kept[mid]! < cand) lo = mid + 1;
        else hi = mid;
      }
      for (let j = lo - 1; !clash && j >= 0 && t[cand]! - t[kept[j]!]! < reach; j--) clash = clashes(kept[j]!, cand);
      for (let j = lo; !clash && j < kept.length && t[kept[j]!]! - t[cand]! < reach; j++) clash = clashes(kept[j]!, cand);
      if (!clash) kept.splice(lo, 0, cand);
    } else {
      clash = kept.some((k) => clashes(k, cand));
      if (!clash) kept.push(cand);
    }
  }
  kept.sort((a, b) => a - b);
  return kept.map((k) => measure(c, raw, k, opts, rateHz));
}

/**
 * A stroke a coach marks by hand near `tMs`: the fastest sample within
 * `withinMs` of it, measured as the detector measures its peaks. Null when
 * the recording has no sample there.
 */
export function measureNear(samples: Samples, tMs: number, withinMs: number, opts: ResolvedOptions, rateHz: number): StrokePeak | null {
  const c = asColumns(samples);
  const raw = gyroMagnitudes(c);
  let best = -1;
  for (let i = 0; i < c.length; i++) {
    if (Math.abs(c.t[i]! - tMs) > withinMs) continue;
    if (best < 0 || raw[i]! > raw[best]!) best = i;
  }
  return best < 0 ? null : measure(c, raw, best, opts, rateHz);
}

function measure(
  c: SampleColumns,
  raw: Float64Array,
  k: number,
  opts: ResolvedOptions,
  rateHz: number,
): StrokePeak {
  // The raw maximum near the smoothed peak is the stroke's instant: smoothing
  // understates the speed, and between two near-equal samples it would put
  // the peak halfway, 50 ms off at 10 Hz.
  const near = msToSamples(opts.smoothMs, rateHz, 0);
  const from = k;
  for (let i = Math.max(0, from - near); i <= Math.min(c.length - 1, from + near); i++) if (raw[i]! > raw[k]!) k = i;
  const peak = raw[k]!;
  const { t, ax, ay, az, gx, gy, gz } = c;
  const tPeak = t[k]!;

  const gyroLimit = opts.gyroFullScaleDps * opts.saturationFraction;
  const accelLimit = opts.accelFullScaleG * opts.saturationFraction;
  let peakAccel = 0;
  let saturated = false;
  const scan = (i: number) => {
    peakAccel = Math.max(peakAccel, hypot3(ax[i]!, ay[i]!, az[i]!));
    saturated =
      saturated ||
      Math.max(Math.abs(gx[i]!), Math.abs(gy[i]!), Math.abs(gz[i]!)) >= gyroLimit ||
      Math.max(Math.abs(ax[i]!), Math.abs(ay[i]!), Math.abs(az[i]!)) >= accelLimit;
  };
  for (let i = k; i >= 0 && tPeak - t[i]! <= opts.strokeWindowMs; i--) scan(i);
  for (let i = k + 1; i < c.length && t[i]! - tPeak <= opts.strokeWindowMs; i++) scan(i);
  return {
    sample: k,
    tMs: tPeak,
    peakDps: peak,
    speedKmh: peak * DEG * opts.leverArmM * 3.6,
    peakG: peakAccel,
    saturated,
  };
}
