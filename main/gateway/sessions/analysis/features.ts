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
 * Features (42), all in a frame the stroke defines itself, so they do not
 * change when the board is mounted another way (a fixed rotation of the
 * sensor axes rotates every vector of the stroke alike and leaves this frame
 * fixed to the racket's motion):
 *   e1 = the rotation axis at the peak (direction of the peak gyro bin),
 *   e2 = gravity before the stroke (mean accel -800…-500 ms) with its e1
 *        part removed, e3 = e1 × e2.
 * - cos of the angle between that gravity and the rotation axis (1): racket
 *   overhead vs below the hand, measured against the swing itself
 * - post-stroke gravity (mean accel +500…+800 ms) in the frame (3): the turn
 *   of the gravity direction through the swing
 * - gyro in the frame at -300…+300 ms (21): the rotation path through the hit
 * - accel in the frame at -200…+200 ms (15): the push and the snap at impact
 * - ln |gyro| of the peak bin (1) and the largest |accel| bin near it (1)
 * A right-handed frame is kept (e3 from the cross product): rotations keep
 * it, a mirror image (a left-handed player) does not, which is a limit.
 */
import { AXES as CHANNELS, asColumns, type SampleColumns, type Samples } from './columns.js';

export const BIN_MS = 100;
export const BIN_OFFSETS: readonly number[] = Array.from({ length: 17 }, (_, i) => (i - 8) * BIN_MS);

/** Bin means: bins[b][c] for offset BIN_OFFSETS[b] and channel c of ax, ay, az, gx, gy, gz. */
export function binStroke(samples: Samples, peakIndex: number): number[][] {
  const cols = asColumns(samples);
  const { t } = cols;
  const channels = CHANNELS.map((a) => cols[a]);
  const nb = BIN_OFFSETS.length;
  const t0 = t[peakIndex]!;
  const first = t0 + BIN_OFFSETS[0]! - BIN_MS / 2;
  const last = t0 + BIN_OFFSETS[nb - 1]! + BIN_MS / 2;
  const sums = Array.from({ length: nb }, () => new Array<number>(6).fill(0));
  const counts = new Array<number>(nb).fill(0);

  let i = peakIndex;
  while (i > 0 && t[i - 1]! >= first) i--;
  for (; i < cols.length && t[i]! < last; i++) {
    const b = Math.floor((t[i]! - first) / BIN_MS);
    if (b < 0 || b >= nb) continue;
    counts[b]!++;
    const row = sums[b]!;
    for (let c = 0; c < 6; c++) row[c]! += channels[c]![i]!;
  }
  return sums.map((row, b) =>
    counts[b]! > 0 ? row.map((v) => v / counts[b]!) : interpolateAt(cols, peakIndex, t0 + BIN_OFFSETS[b]!),
  );
}

/** Linear interpolation at time t, held constant beyond the recording's ends. */
function interpolateAt(cols: SampleColumns, near: number, at: number): number[] {
  const { t } = cols;
  let i = near;
  while (i > 0 && t[i]! > at) i--;
  while (i < cols.length - 1 && t[i + 1]! <= at) i++;
  const j = Math.min(i + 1, cols.length - 1);
  const span = t[j]! - t[i]!;
  const w = span > 0 ? Math.min(1, Math.max(0, (at - t[i]!) / span)) : 0;
  return CHANNELS.map((c) => cols[c][i]! + (cols[c][j]! - cols[c][i]!) * w);
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

const AXES = ['r', 'g', 'n'] as const;
export const FEATURE_NAMES: readonly string[] = [
  'cos_gravity_axis',
  ...AXES.map((a) => `post_a${a}`),
  ...GYRO.flatMap((b) => AXES.map((a) => `g${a}@${BIN_OFFSETS[b]}`)),
  ...ACCEL.flatMap((b) => AXES.map((a) => `a${a}@${BIN_OFFSETS[b]}`)),
  'ln_peak_gyro',
  'peak_accel',
];

type V3 = [number, number, number];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const scale = (a: V3, k: number): V3 => [a[0] * k, a[1] * k, a[2] * k];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const unit = (a: V3): V3 => scale(a, 1 / (Math.hypot(...a) || 1));

/**
 * The stroke's own axes from its peak rotation and the gravity before it.
 * When gravity lies along the rotation axis (never in the reference data,
 * the closest is 20°) e2 falls back to the accel at the peak, then to any
 * perpendicular, so the frame is always defined.
 */
export function strokeFrame(peakGyro: V3, preAccel: V3, peakAccel: V3): [V3, V3, V3] {
  const e1 = Math.hypot(...peakGyro) > 0 ? unit(peakGyro) : ([1, 0, 0] as V3);
  let e2: V3 = [0, 0, 0];
  for (const ref of [preAccel, peakAccel, [0, 0, 1] as V3, [0, 1, 0] as V3]) {
    const r = sub(ref, scale(e1, dot(ref, e1)));
    if (Math.hypot(...r) > 0.05 * (Math.hypot(...ref) || 1)) {
      e2 = unit(r);
      break;
    }
  }
  return [e1, e2, cross(e1, e2)];
}

export function featuresFromBins(bins: readonly (readonly number[])[]): number[] {
  const mean = (idx: number[], c: number) => idx.reduce((s, b) => s + bins[b]![c]!, 0) / idx.length;
  const vec = (b: number, from: number): V3 => [bins[b]![from]!, bins[b]![from + 1]!, bins[b]![from + 2]!];
  const pre: V3 = [mean(PRE, 0), mean(PRE, 1), mean(PRE, 2)];
  const post: V3 = [mean(POST, 0), mean(POST, 1), mean(POST, 2)];
  const frame = strokeFrame(vec(PEAK, 3), pre, vec(PEAK, 0));
  const local = (v: V3) => frame.map((e) => dot(e, v));
  const out: number[] = [dot(frame[0], unit(pre))];
  out.push(...local(post));
  // Gyro in hundreds of dps keeps every raw feature within a few units.
  for (const b of GYRO) out.push(...local(vec(b, 3)).map((v) => v / 100));
  for (const b of ACCEL) out.push(...local(vec(b, 0)));
  const p = bins[PEAK]!;
  out.push(Math.log(Math.max(1, Math.hypot(p[3]!, p[4]!, p[5]!))));
  out.push(Math.max(...ACCEL.map((b) => Math.hypot(bins[b]![0]!, bins[b]![1]!, bins[b]![2]!))));
  return out;
}
/**
 * The features of the same stroke's mirror image (a left-handed player's
 * swing of a right-handed template, or the reverse). A reflection M turns
 * accelerations into M·a but the angular velocity, an axial vector, into
 * −M·ω, so the stroke frame becomes (−M·e1, M·e2, M·e3): accel loses the
 * sign of its e1 part, gyro of its e2 and e3 parts, the gravity-axis cosine
 * flips, magnitudes stay.
 */
const MIRROR_SIGN: readonly number[] = FEATURE_NAMES.map((n) =>
  n === 'cos_gravity_axis' || /^(post_)?ar/.test(n) || /^g[gn]@/.test(n) ? -1 : 1,
);

export function mirrorFeatures(x: readonly number[]): number[] {
  return x.map((v, j) => v * MIRROR_SIGN[j]!);
}

export function strokeFeatures(samples: Samples, peakIndex: number): number[] {
  return featuresFromBins(binStroke(samples, peakIndex));
}
