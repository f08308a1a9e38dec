/**
 * Per-stroke features for the classifier, independent of the sample rate.
 *
 * The stroke is cut into 100 ms bins centred on the peak (-800…+800 ms) and
 * each bin holds the mean of the samples falling in it. At 10 Hz that is one
 * sample per bin, the same values the model was trained on; at 1000 Hz it
 * averages 100 samples, which is also the low-pass a 10 Hz sensor applies, so
 * fast boards see the signal the model knows instead of aliased spikes. A bin
 * with no sample (rate under 10 Hz, dropped packets) is interpolated.
 *
 * Features (44):
 * - pre-stroke gravity direction: mean accel of -800…-500 ms (3): where the
 *   racket points while the player prepares (above the head vs below the hand)
 * - post-stroke gravity: mean accel of +500…+800 ms (3): end of follow-through
 * - gyro per axis at -300…+300 ms (21): the rotation path through the hit
 * - accel per axis at -200…+200 ms (15): the push and the snap at impact
 * - ln |gyro| of the peak bin (1) and the largest |accel| bin near it (1)
 */
import type { ImuSample } from './types.js';

export const BIN_MS = 100;
export const BIN_OFFSETS: readonly number[] = Array.from({ length: 17 }, (_, i) => (i - 8) * BIN_MS);
const CHANNELS = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;

/** Bin means: bins[b][c] for offset BIN_OFFSETS[b] and channel CHANNELS[c]. */
export function binStroke(samples: readonly ImuSample[], peakIndex: number): number[][] {
  const nb = BIN_OFFSETS.length;
  const t0 = samples[peakIndex]!.t;
  const first = t0 + BIN_OFFSETS[0]! - BIN_MS / 2;
  const last = t0 + BIN_OFFSETS[nb - 1]! + BIN_MS / 2;
  const sums = Array.from({ length: nb }, () => new Array<number>(6).fill(0));
  const counts = new Array<number>(nb).fill(0);

  let i = peakIndex;
  while (i > 0 && samples[i - 1]!.t >= first) i--;
  for (; i < samples.length && samples[i]!.t < last; i++) {
    const s = samples[i]!;
    const b = Math.floor((s.t - first) / BIN_MS);
    if (b < 0 || b >= nb) continue;
    counts[b]!++;
    const row = sums[b]!;
    for (let c = 0; c < 6; c++) row[c]! += s[CHANNELS[c]!];
  }
  return sums.map((row, b) =>
    counts[b]! > 0 ? row.map((v) => v / counts[b]!) : interpolateAt(samples, peakIndex, t0 + BIN_OFFSETS[b]!),
  );
}

/** Linear interpolation at time t, held constant beyond the recording's ends. */
function interpolateAt(samples: readonly ImuSample[], near: number, t: number): number[] {
  let i = near;
  while (i > 0 && samples[i]!.t > t) i--;
  while (i < samples.length - 1 && samples[i + 1]!.t <= t) i++;
  const a = samples[i]!;
  const b = samples[Math.min(i + 1, samples.length - 1)]!;
  const span = b.t - a.t;
  const w = span > 0 ? Math.min(1, Math.max(0, (t - a.t) / span)) : 0;
  return CHANNELS.map((c) => a[c] + (b[c] - a[c]) * w);
}

const binAt = (offsetMs: number) => BIN_OFFSETS.indexOf(offsetMs);
const range = (from: number, to: number) => {
  const out: number[] = [];
  for (let o = from; o <= to; o += BIN_MS) out.push(binAt(o));
  return out;
};
const PRE = range(-800, -500);
const POST = range(500, 800);
const GYRO = range(-300, 300);
const ACCEL = range(-200, 200);
const PEAK = binAt(0);

export const FEATURE_NAMES: readonly string[] = [
  ...['x', 'y', 'z'].map((a) => `pre_a${a}`),
  ...['x', 'y', 'z'].map((a) => `post_a${a}`),
  ...GYRO.flatMap((b) => ['x', 'y', 'z'].map((a) => `g${a}@${BIN_OFFSETS[b]}`)),
  ...ACCEL.flatMap((b) => ['x', 'y', 'z'].map((a) => `a${a}@${BIN_OFFSETS[b]}`)),
  'ln_peak_gyro',
  'peak_accel',
];

export function featuresFromBins(bins: readonly (readonly number[])[]): number[] {
  const mean = (idx: number[], c: number) => idx.reduce((s, b) => s + bins[b]![c]!, 0) / idx.length;
  const out: number[] = [];
  for (let c = 0; c < 3; c++) out.push(mean(PRE, c));
  for (let c = 0; c < 3; c++) out.push(mean(POST, c));
  // Gyro in hundreds of dps keeps every raw feature within a few units.
  for (const b of GYRO) for (let c = 3; c < 6; c++) out.push(bins[b]![c]! / 100);
  for (const b of ACCEL) for (let c = 0; c < 3; c++) out.push(bins[b]![c]!);
  const p = bins[PEAK]!;
  out.push(Math.log(Math.max(1, Math.hypot(p[3]!, p[4]!, p[5]!))));
  out.push(Math.max(...ACCEL.map((b) => Math.hypot(bins[b]![0]!, bins[b]![1]!, bins[b]![2]!))));
  return out;
}

export function strokeFeatures(samples: readonly ImuSample[], peakIndex: number): number[] {
  return featuresFromBins(binStroke(samples, peakIndex));
}
