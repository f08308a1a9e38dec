/**
 * Training augmentation: the reference recordings as other boards and other
 * players would record them. One draw turns the board (a random mounting),
 * changes the swing speed and the tempo, and the arm length:
 *
 * - speed k: angular velocity x k; the swing accelerations (accel minus its
 *   1 s moving average, which stands in for gravity) x k², as the same path
 *   swung k times faster gives;
 * - tempo s: recording time x s (a longer or shorter swing, same speeds);
 * - arm m: swing accelerations x m (more lever between wrist and board).
 *
 * Rotations leave the features unchanged by construction (features.ts); they
 * are drawn anyway so training never depends on that being true.
 */
import { movingAverage, msToSamples, estimateRateHz } from './detect.js';
import { mulberry32 } from './prng.js';
import { randomRotation, rotateSamples, type Rotation } from './rotate.js';
import type { ImuSample } from './types.js';

export interface Augmentation {
  rotation: Rotation;
  speed: number;
  tempo: number;
  arm: number;
}

/** Ranges a little wider than the synthetic players', so those stay inside what the model knows. */
export function drawAugmentations(n: number, seed: number): Augmentation[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => ({
    rotation: randomRotation(rand),
    speed: 0.7 + 0.6 * rand(),
    tempo: 0.75 + 0.55 * rand(),
    arm: 0.65 + 0.8 * rand(),
  }));
}

export function augment(samples: readonly ImuSample[], a: Augmentation): ImuSample[] {
  const rate = estimateRateHz(samples);
  const w = 2 * Math.floor(msToSamples(1000, rate) / 2) + 1;
  const keys = ['ax', 'ay', 'az'] as const;
  const slow = keys.map((k) => movingAverage(samples.map((s) => s[k]), w));
  const dyn = a.speed * a.speed * a.arm;
  const out = samples.map((s, i) => {
    const o: ImuSample = { t: s.t * a.tempo, ax: 0, ay: 0, az: 0, gx: s.gx * a.speed, gy: s.gy * a.speed, gz: s.gz * a.speed };
    keys.forEach((k, c) => (o[k] = slow[c]![i]! + (s[k] - slow[c]![i]!) * dyn));
    return o;
  });
  return rotateSamples(out, a.rotation);
}
