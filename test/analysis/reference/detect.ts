// The stroke analysis as it was before it ran on typed arrays (columns.ts), kept unchanged so
// tests can check that the faster code finds exactly the same strokes. Do not edit.

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
 */
import type { ImuSample, ResolvedOptions } from '../../../main/gateway/sessions/analysis/types.js';

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
export function estimateRateHz(samples: readonly ImuSample[]): number {
  const dts: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i]!.t - samples[i - 1]!.t;
    if (dt > 0 && Number.isFinite(dt)) dts.push(dt);
  }
  if (dts.length === 0) return 0;
  const med = median(dts);
  return med > 0 ? 1000 / med : 0;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function gyroMagnitude(s: ImuSample): number {
  return Math.hypot(s.gx, s.gy, s.gz);
}

export function accelMagnitude(s: ImuSample): number {
  return Math.hypot(s.ax, s.ay, s.az);
}

/** Milliseconds to a whole number of samples, at least `min`. */
export function msToSamples(ms: number, rateHz: number, min = 1): number {
  return Math.max(min, Math.round((ms * rateHz) / 1000));
}

/** Centred moving average with an odd window, edges averaged over what exists. */
export function movingAverage(x: readonly number[], window: number): number[] {
  const half = Math.max(0, Math.floor(window / 2));
  if (half === 0) return [...x];
  const prefix = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) prefix[i + 1] = prefix[i]! + x[i]!;
  const out = new Array<number>(x.length);
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
function labelBursts(m: readonly number[], release: number, maxGap: number): Int32Array {
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

export function detectStrokes(samples: readonly ImuSample[], opts: ResolvedOptions, rateHz: number): StrokePeak[] {
  const n = samples.length;
  if (n < 3 || !(rateHz > 0)) return [];
  const raw = samples.map(gyroMagnitude);
  const m = movingAverage(raw, 2 * Math.floor(msToSamples(opts.smoothMs, rateHz) / 2) + 1);
  const bursts = labelBursts(m, opts.releaseDps, msToSamples(opts.quietGapMs, rateHz, 0));

  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    if (m[i]! < opts.thresholdDps) continue;
    // >= on the right so a flat top yields its first sample only.
    if ((i === 0 || m[i]! > m[i - 1]!) && (i === n - 1 || m[i]! >= m[i + 1]!)) candidates.push(i);
  }
  candidates.sort((a, b) => m[b]! - m[a]! || a - b);

  const kept: number[] = [];
  for (const c of candidates) {
    const tc = samples[c]!.t;
    const clash = kept.some((k) => {
      const dt = Math.abs(samples[k]!.t - tc);
      return dt < opts.refractoryMs || (dt < opts.mergeMs && bursts[k] === bursts[c] && bursts[c] !== -1);
    });
    if (!clash) kept.push(c);
  }
  kept.sort((a, b) => a - b);
  return kept.map((k) => measure(samples, raw, k, opts, rateHz));
}

/**
 * A stroke a coach marks by hand near `tMs`: the fastest sample within
 * `withinMs` of it, measured as the detector measures its peaks. Null when
 * the recording has no sample there.
 */
export function measureNear(samples: readonly ImuSample[], tMs: number, withinMs: number, opts: ResolvedOptions, rateHz: number): StrokePeak | null {
  let best = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!.t - tMs) > withinMs) continue;
    if (best < 0 || gyroMagnitude(samples[i]!) > gyroMagnitude(samples[best]!)) best = i;
  }
  return best < 0 ? null : measure(samples, samples.map(gyroMagnitude), best, opts, rateHz);
}

function measure(
  samples: readonly ImuSample[],
  raw: readonly number[],
  k: number,
  opts: ResolvedOptions,
  rateHz: number,
): StrokePeak {
  // The raw maximum near the smoothed peak is the stroke's instant: smoothing
  // understates the speed, and between two near-equal samples it would put
  // the peak halfway, 50 ms off at 10 Hz.
  const near = msToSamples(opts.smoothMs, rateHz, 0);
  const from = k;
  for (let i = Math.max(0, from - near); i <= Math.min(samples.length - 1, from + near); i++) if (raw[i]! > raw[k]!) k = i;
  const peak = raw[k]!;
  const tPeak = samples[k]!.t;

  const gyroLimit = opts.gyroFullScaleDps * opts.saturationFraction;
  const accelLimit = opts.accelFullScaleG * opts.saturationFraction;
  let peakAccel = 0;
  let saturated = false;
  for (let i = k; i >= 0 && tPeak - samples[i]!.t <= opts.strokeWindowMs; i--) {
    ({ peakAccel, saturated } = scan(samples[i]!, peakAccel, saturated, gyroLimit, accelLimit));
  }
  for (let i = k + 1; i < samples.length && samples[i]!.t - tPeak <= opts.strokeWindowMs; i++) {
    ({ peakAccel, saturated } = scan(samples[i]!, peakAccel, saturated, gyroLimit, accelLimit));
  }
  return {
    sample: k,
    tMs: tPeak,
    peakDps: peak,
    speedKmh: peak * DEG * opts.leverArmM * 3.6,
    peakG: peakAccel,
    saturated,
  };
}

function scan(s: ImuSample, peakAccel: number, saturated: boolean, gyroLimit: number, accelLimit: number) {
  return {
    peakAccel: Math.max(peakAccel, accelMagnitude(s)),
    saturated:
      saturated ||
      Math.max(Math.abs(s.gx), Math.abs(s.gy), Math.abs(s.gz)) >= gyroLimit ||
      Math.max(Math.abs(s.ax), Math.abs(s.ay), Math.abs(s.az)) >= accelLimit,
  };
}
