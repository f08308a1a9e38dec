/**
 * Synthetic racket IMU with known ground truth, at any sample rate.
 *
 * Each stroke type is shaped after one real swing: the medoid stroke of that
 * type in the badminton-imu recordings (10 Hz keyframes every 100 ms, -800…
 * +800 ms around the peak), so the simulator moves the way the classifier's
 * training data did. Between keyframes the motion is a Catmull-Rom spline,
 * which gives smooth 100-1000 Hz signals. Every swing is varied: peak speed
 * drawn from a per-type range (amplitude scales gyro and dynamic accel), time
 * stretched ±10 %, keyframes jittered, and the whole swing rotated by up to
 * 6° (grip and stance never repeat exactly).
 *
 * Around the swings: gravity that turns smoothly from one stroke's follow-
 * through to the next one's preparation, racket repositioning (80-200 dps)
 * between strokes, slow idle wobble, footwork bounce,
 * white noise, timestamp jitter, and clipping at ±16 g / ±2000 dps like a
 * real sensor. Stroke parameters and noise come from separate seeded streams,
 * so one seed gives the same swings at every rate.
 */
import type { ImuSample, StrokeType } from '../gateway/sessions/analysis/types.js';
import { mulberry32 } from '../gateway/sessions/analysis/prng.js';
import type { Rotation } from '../gateway/sessions/analysis/rotate.js';

export type { ImuSample, StrokeType };

const TYPES: readonly StrokeType[] = ['clear', 'drive', 'lift', 'smash'];

/** Keyframes [ax, ay, az (g), gx, gy, gz (dps)] at -800, -700, …, +800 ms. */
const KEYFRAMES: Record<StrokeType, readonly (readonly number[])[]> = {
  clear: [
    [0.39, -0.71, -0.58, 4, -19, 5], [0.51, -0.79, -0.75, -13, -40, -13], [0.82, -0.9, -1.36, -7, -10, 0],
    [1.78, -1.31, -1.55, 65, -117, 84], [2.46, 0.31, -0.36, 285, -298, 354], [0.2, 2.97, 0.02, 364, 10, 606],
    [-0.47, 4.25, 0.12, 342, -316, 522], [-0.81, 6.7, 1.7, -41, -414, -258], [2.63, 7.93, -3.52, -1061, -832, -774],
    [-3.07, 3.6, -1.32, -103, -191, 477], [0.62, 2.82, -0.93, 468, 396, -70], [0.37, 0.86, -1.57, 265, 227, 171],
    [0.58, 0, -1.9, 205, 141, 11], [0.85, -0.5, -1.26, 129, -5, 4], [0.72, -0.53, -0.41, 104, -74, 18],
    [0.24, -0.5, -0.06, 73, -95, 13], [0.09, -0.43, 0.05, 50, -85, -33],
  ],
  drive: [
    [0.24, -0.56, -0.88, 1, -2, 3], [0.23, -0.55, -0.86, 3, -4, 6], [0.2, -0.55, -0.86, 4, -5, 4],
    [0.11, -0.74, -1.16, 18, -25, 12], [-0.06, -1.07, -1.45, 111, -126, 40], [0.03, -0.77, -0.9, 225, -233, 47],
    [0.15, 0.09, 0.2, 311, -203, -20], [-0.05, 1.26, 2.68, 170, -70, -15], [-0.44, 0.21, -4.08, -425, 68, 95],
    [-0.81, -1, 0.25, 142, -19, -2], [-0.13, -0.72, -0.15, 11, 110, -53], [0.14, -0.71, 0.25, -61, 253, -93],
    [0.09, -0.53, -0.08, -90, 120, -49], [-0.07, -0.87, -0.34, -123, 48, -33], [0.25, -1.04, -0.9, -86, 51, -51],
    [0.45, -1.03, -1.11, -42, 42, -42], [0.37, -0.79, -0.84, -1, 10, 1],
  ],
  lift: [
    [-1.43, -0.45, 0.2, 22, 23, 10], [-0.94, -0.21, 0.13, 19, -10, -23], [-0.89, -0.19, 0, 5, -13, -11],
    [-0.9, -0.23, -0.07, 15, 1, 3], [-0.74, -0.17, -0.1, 82, 33, 49], [-0.81, 0.24, 0.14, 248, 17, 159],
    [-0.72, 1.66, 1.04, 384, -99, 292], [-0.3, 5.41, 1.49, 77, -148, 549], [-1.63, 4.32, -1.4, -890, 925, -117],
    [1.18, 0.43, -0.57, -195, -24, -387], [0.1, -0.23, -0.01, 90, 67, 59], [-0.26, -0.33, 0.2, 113, 51, 86],
    [-0.39, -0.47, 0.27, 69, 104, 84], [-0.09, -0.55, 0.47, 9, 162, 117], [-2.06, -1.05, 0.34, -48, 124, 167],
    [-1.58, -0.82, 0.26, 9, 19, -14], [-0.81, -0.34, 0.15, 14, -5, -27],
  ],
  smash: [
    [0.25, -0.45, -0.76, 4, 0, 22], [-0.01, -0.44, -0.79, 2, 13, 18], [0.18, -0.57, -0.86, -12, 106, 6],
    [1.54, -1.01, -1.19, -37, 126, -42], [2.51, -0.55, -0.46, 25, -353, 207], [0.32, 2.2, -0.08, 213, -166, 616],
    [-0.51, 4.55, -0.25, 233, -298, 655], [0.3, 7.7, 1.56, 131, -649, -165], [2.79, 5.42, -1.51, -423, -1171, -482],
    [-3.87, 5.06, -0.72, 122, -110, 292], [0.63, 3.96, -0.51, 497, 421, -245], [0.62, 0.75, -1.36, 262, 261, 144],
    [0.39, -0.46, -1.28, 203, 177, 25], [0.68, -0.62, -0.52, 111, 4, 6], [0.81, -0.79, -0.19, 55, -67, 74],
    [0.61, -0.89, -0.34, 42, -34, 15], [0.52, -0.66, -0.39, -5, -73, -41],
  ],
};
const KEY_MS = 100;
const KEY_MID = 8;

/** Peak angular speed range per type, dps (the reference data's spread). */
const PEAK_DPS: Record<StrokeType, readonly [number, number]> = {
  smash: [1100, 1900],
  clear: [1100, 1800],
  lift: [850, 1350],
  drive: [350, 700],
};

const GYRO_FS = 2000;
const ACCEL_FS = 16;
/** Closest two generated strokes may be: one player cannot hit faster. */
const MIN_GAP_MS = 1200;

export interface StrokeSpec {
  /** Time of the angular-speed peak, ms from the start of the session. */
  t: number;
  type: StrokeType;
  /** Peak angular speed; default drawn from the type's range. Above 2000 clips. */
  peakDps?: number;
}

export interface StrokeTruth {
  t: number;
  type: StrokeType;
  peakDps: number;
}

/**
 * Another player, racket and mounting than the one the templates came from.
 * Every field defaults to the template's own (no change).
 */
export interface PlayerOptions {
  /** The board's mounting: both sensors turned by this rotation. */
  mounting?: Rotation;
  /** Peak angular speeds times this (a faster or slower player). */
  speedScale?: number;
  /**
   * Swing accelerations (everything but gravity) times this: a longer arm or
   * a board mounted further up the shaft feels more of the centripetal and
   * tangential acceleration at the same angular speed.
   */
  armScale?: number;
  /** Swing duration times this (>1 a slower, longer swing). */
  tempo?: number;
  /**
   * A left-handed player: every swing is the mirror image of the template's
   * (a reflection x -> -x: accel x, gyro y and z change sign, the gyroscope
   * being an axial vector).
   */
  leftHanded?: boolean;
}

export interface SwingSessionOptions {
  rateHz: number;
  durationS: number;
  seed: number;
  /** Explicit strokes; otherwise random types at `strokesPerMinute`. */
  strokes?: StrokeSpec[];
  /** Default 20. */
  strokesPerMinute?: number;
  player?: PlayerOptions;
}

export interface ImuSourceOptions {
  rateHz: number;
  seed: number;
  /** Default 20. */
  strokesPerMinute?: number;
  strokes?: StrokeSpec[];
  player?: PlayerOptions;
}

export interface ImuSource {
  next(): ImuSample;
  /** Strokes whose peak lies at or before the last sample returned. */
  truth(): StrokeTruth[];
}

type Vec3 = [number, number, number];

interface Swing extends StrokeTruth {
  stretch: number;
  /** Half-width of the swing's own gravity model, ms; shrunk for close strokes. */
  half: number;
  gyro: Vec3[];
  /** Accel minus the swing's gravity model, at each keyframe. */
  dev: Vec3[];
  pre: Vec3;
  post: Vec3;
}


/** The stroke after one at `lastT` (or the first), ±15 % around the mean interval. */
function nextSpec(rand: () => number, spm: number, lastT: number | undefined): StrokeSpec {
  const gap = Math.max(MIN_GAP_MS, (60000 / spm) * (0.85 + 0.3 * rand()));
  const t = lastT === undefined ? 1500 + 500 * rand() : lastT + gap;
  return { t, type: TYPES[Math.floor(rand() * TYPES.length)]! };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const norm = (v: Vec3) => Math.hypot(v[0], v[1], v[2]);
const unit = (v: Vec3): Vec3 => {
  const n = norm(v) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
};
const lerp3 = (a: Vec3, b: Vec3, w: number): Vec3 => [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w];
const smoothstep = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));

/** Rodrigues rotation of v about unit axis k by angle a. */
function rotate(v: Vec3, k: Vec3, a: number): Vec3 {
  const c = Math.cos(a);
  const s = Math.sin(a);
  const dot = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  const cross: Vec3 = [k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2], k[0] * v[1] - k[1] * v[0]];
  return [0, 1, 2].map((i) => v[i]! * c + cross[i]! * s + k[i]! * dot * (1 - c)) as Vec3;
}

const turnBy = (r: Rotation, v: Vec3): Vec3 => [
  r[0] * v[0] + r[1] * v[1] + r[2] * v[2],
  r[3] * v[0] + r[4] * v[1] + r[5] * v[2],
  r[6] * v[0] + r[7] * v[1] + r[8] * v[2],
];

/** Gravity model of a template: preparation before -300 ms, follow-through after +300 ms. */
function templateGravity(pre: Vec3, post: Vec3, offsetMs: number): Vec3 {
  return unit(lerp3(pre, post, smoothstep((offsetMs + 300) / 600)));
}

function makeSwing(spec: StrokeSpec, rand: () => number, player: PlayerOptions): Swing {
  const key = KEYFRAMES[spec.type];
  const [lo, hi] = PEAK_DPS[spec.type];
  const peakDps = spec.peakDps ?? (lo + (hi - lo) * rand()) * (player.speedScale ?? 1);
  const arm = player.armScale ?? 1;
  const mid = key[KEY_MID]!;
  const amp = peakDps / Math.hypot(mid[3]!, mid[4]!, mid[5]!);
  const axis = unit([gaussian(rand), gaussian(rand), gaussian(rand)]);
  const angle = ((6 * Math.PI) / 180) * rand();
  const turn = (v: Vec3) => rotate(v, axis, angle);
  const avg = (a: number, b: number): Vec3 => [0, 1, 2].map((c) => (key[a]![c]! + key[b]![c]!) / 2) as Vec3;
  const pre = unit(avg(0, 1));
  const post = unit(avg(15, 16));
  const gyro: Vec3[] = [];
  const dev: Vec3[] = [];
  key.forEach((k, i) => {
    // The peak keyframe keeps its exact size so the truth's peakDps holds.
    const j = i === KEY_MID ? 0 : 1;
    const g = templateGravity(pre, post, (i - KEY_MID) * KEY_MS);
    gyro.push(turn([0, 1, 2].map((c) => amp * (k[c + 3]! * (1 + 0.08 * j * gaussian(rand)) + 10 * j * gaussian(rand))) as Vec3));
    dev.push(turn([0, 1, 2].map((c) => arm * amp * (k[c]! - g[c]!) * (1 + 0.08 * gaussian(rand)) + 0.05 * gaussian(rand)) as Vec3));
  });
  const stretch = (0.9 + 0.2 * rand()) * (player.tempo ?? 1);
  return { t: spec.t, type: spec.type, peakDps, stretch, half: 800, gyro, dev, pre: turn(pre), post: turn(post) };
}

/** Catmull-Rom through the keyframes at offset u (ms, unstretched), ends held. */
function spline(keys: readonly Vec3[], u: number): Vec3 {
  const x = Math.min(keys.length - 1, Math.max(0, u / KEY_MS + KEY_MID));
  const i = Math.min(keys.length - 2, Math.floor(x));
  const f = x - i;
  const p0 = keys[Math.max(0, i - 1)]!;
  const p1 = keys[i]!;
  const p2 = keys[i + 1]!;
  const p3 = keys[Math.min(keys.length - 1, i + 2)]!;
  return [0, 1, 2].map(
    (c) =>
      0.5 *
      (2 * p1[c]! +
        (p2[c]! - p0[c]!) * f +
        (2 * p0[c]! - 5 * p1[c]! + 4 * p2[c]! - p3[c]!) * f * f +
        (3 * p1[c]! - p0[c]! - 3 * p2[c]! + p3[c]!) * f * f * f),
  ) as Vec3;
}

/** 1 through the swing, easing to 0 between 700 and 1000 ms from the peak. */
function taper(u: number): number {
  const a = Math.abs(u);
  return a <= 700 ? 1 : a >= 1000 ? 0 : Math.cos(((a - 700) / 300) * (Math.PI / 2)) ** 2;
}

export function createImuSource(opts: ImuSourceOptions): ImuSource {
  if (!(opts.rateHz > 0)) throw new RangeError('rateHz must be positive');
  const period = 1000 / opts.rateHz;
  const strokeRand = mulberry32(opts.seed);
  const noiseRand = mulberry32(opts.seed ^ 0x9e3779b9);
  const spm = opts.strokesPerMinute ?? 20;
  const explicit = opts.strokes ? [...opts.strokes].sort((a, b) => a.t - b.t) : undefined;
  const player = opts.player ?? {};
  const mount = player.mounting;
  // Swings reach 1000 ms (x1.1 stretch, x tempo) from their peak.
  const reach = 1100 * Math.max(1, player.tempo ?? 1);
  const swings: Swing[] = [];

  // Idle wobble: a few slow sines per axis, fixed per session.
  const wobble = Array.from({ length: 6 }, (_, axis) =>
    Array.from({ length: 2 }, () => ({
      amp: axis < 3 ? 0.02 + 0.03 * strokeRand() : 5 + 8 * strokeRand(),
      hz: axis < 3 ? 1.5 + 1.5 * strokeRand() : 0.2 + 1.3 * strokeRand(),
      phase: 2 * Math.PI * strokeRand(),
    })),
  );
  const wob = (axis: number, tMs: number) =>
    wobble[axis]!.reduce((s, w) => s + w.amp * Math.sin(2 * Math.PI * w.hz * (tMs / 1000) + w.phase), 0);

  // Players reposition the racket between strokes at 80-200 dps: the
  // detector must not count that, so the simulator does it half the time.
  const moves: { t: number; half: number; axis: Vec3; amp: number }[] = [];

  function push(spec: StrokeSpec): void {
    const s = makeSwing(spec, strokeRand, player);
    const prev = swings[swings.length - 1];
    if (prev) {
      const room = Math.max(150, (s.t - prev.t) / 2 - 100);
      prev.half = Math.min(prev.half, room);
      s.half = Math.min(s.half, room);
      if (strokeRand() < 0.5) {
        moves.push({
          t: (prev.t + s.t) / 2 + 300 * (strokeRand() - 0.5),
          half: 200 + 100 * strokeRand(),
          axis: unit([gaussian(strokeRand), gaussian(strokeRand), gaussian(strokeRand)]),
          amp: 80 + 120 * strokeRand(),
        });
      }
    }
    swings.push(s);
  }

  let nextExplicit = 0;
  function scheduleUntil(tMs: number): void {
    if (explicit) {
      while (nextExplicit < explicit.length && explicit[nextExplicit]!.t <= tMs) push(explicit[nextExplicit++]!);
      return;
    }
    while (swings.length === 0 || swings[swings.length - 1]!.t <= tMs) {
      push(nextSpec(strokeRand, spm, swings[swings.length - 1]?.t));
    }
  }

  function gravityAt(t: number, from: number): Vec3 {
    // `from` is the last swing starting at or before t + its half-width.
    const a = swings[from];
    const b = swings[from + 1];
    if (!a) return b ? b.pre : [0, 0, -1];
    const u = (t - a.t) / a.stretch;
    if (Math.abs(t - a.t) <= a.half) return templateGravity(a.pre, a.post, u);
    if (t < a.t) return a.pre;
    if (!b) return a.post;
    if (Math.abs(t - b.t) <= b.half) return templateGravity(b.pre, b.post, (t - b.t) / b.stretch);
    const start = a.t + a.half;
    const end = b.t - b.half;
    return unit(lerp3(a.post, b.pre, smoothstep((t - start) / Math.max(1, end - start))));
  }

  let i = 0;
  let lo = 0;
  let first = 0;
  let lastT = -Infinity;
  return {
    next(): ImuSample {
      const t = Math.max(lastT + period * 0.5, i * period + 0.06 * period * (noiseRand() - 0.5));
      i++;
      lastT = t;
      scheduleUntil(t + 3000);
      while (lo < swings.length - 1 && swings[lo + 1]!.t - swings[lo + 1]!.half <= t) lo++;
      while (first < swings.length && swings[first]!.t + reach < t) first++;
      const acc: Vec3 = [...gravityAt(t, lo)];
      const gyr: Vec3 = [0, 0, 0];
      for (let k = first; k < swings.length && swings[k]!.t - reach <= t; k++) {
        const s = swings[k]!;
        const u = (t - s.t) / s.stretch;
        const w = taper(u);
        if (w === 0) continue;
        const g = spline(s.gyro, u);
        const d = spline(s.dev, u);
        for (let c = 0; c < 3; c++) {
          gyr[c] += w * g[c]!;
          acc[c] += w * d[c]!;
        }
      }
      while (moves.length && moves[0]!.t + moves[0]!.half < t) moves.shift();
      for (const m of moves) {
        const x = (t - m.t) / m.half;
        if (x <= -1) break;
        if (x >= 1) continue;
        const w = m.amp * Math.cos((x * Math.PI) / 2) ** 2;
        for (let c = 0; c < 3; c++) gyr[c] += w * m.axis[c]!;
      }
      if (player.leftHanded) {
        acc[0] = -acc[0];
        gyr[1] = -gyr[1];
        gyr[2] = -gyr[2];
      }
      const [accB, gyrB] = mount ? [turnBy(mount, acc), turnBy(mount, gyr)] : [acc, gyr];
      const out = [0, 1, 2, 3, 4, 5].map((c) => {
        const base = c < 3 ? accB[c]! : gyrB[c - 3]!;
        const noise = c < 3 ? 0.01 : 1.0;
        const fs = c < 3 ? ACCEL_FS : GYRO_FS;
        return Math.max(-fs, Math.min(fs, base + wob(c, t) + noise * gaussian(noiseRand)));
      });
      return {
        t: Math.round(t * 1000) / 1000,
        ax: out[0]!,
        ay: out[1]!,
        az: out[2]!,
        gx: out[3]!,
        gy: out[4]!,
        gz: out[5]!,
      };
    },
    truth(): StrokeTruth[] {
      return swings.filter((s) => s.t <= lastT).map(({ t, type, peakDps }) => ({ t, type, peakDps }));
    },
  };
}

export function createSwingSession(opts: SwingSessionOptions): { samples: ImuSample[]; truth: StrokeTruth[] } {
  let strokes = opts.strokes;
  if (!strokes) {
    // Planned up front so no swing is cut by the end of the recording.
    const rand = mulberry32(opts.seed ^ 0x5bd1e995);
    const spm = opts.strokesPerMinute ?? 20;
    strokes = [];
    for (let s = nextSpec(rand, spm, undefined); s.t <= opts.durationS * 1000 - 1200; s = nextSpec(rand, spm, s.t)) {
      strokes.push(s);
    }
  }
  const source = createImuSource({ rateHz: opts.rateHz, seed: opts.seed, strokes, player: opts.player });
  const n = Math.floor(opts.durationS * opts.rateHz);
  const samples: ImuSample[] = [];
  for (let k = 0; k < n; k++) samples.push(source.next());
  return { samples, truth: source.truth() };
}
