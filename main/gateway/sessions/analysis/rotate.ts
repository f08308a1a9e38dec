/**
 * Rigid rotations of a recording: what the same swings look like to a board
 * clipped on the racket another way. The evaluation and the augmentation in
 * training turn whole recordings by random rotations drawn here.
 */
import type { ImuSample } from './types.js';

/** Row-major 3x3 rotation matrix. */
export type Rotation = readonly [number, number, number, number, number, number, number, number, number];

export const IDENTITY: Rotation = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/**
 * A rotation uniform over SO(3), from a uniform unit quaternion (Shoemake's
 * method): every mounting is equally likely, not just small tilts.
 */
export function randomRotation(rand: () => number): Rotation {
  const u1 = rand();
  const u2 = 2 * Math.PI * rand();
  const u3 = 2 * Math.PI * rand();
  const a = Math.sqrt(1 - u1);
  const b = Math.sqrt(u1);
  return quaternionToRotation(a * Math.sin(u2), a * Math.cos(u2), b * Math.sin(u3), b * Math.cos(u3));
}

export function quaternionToRotation(x: number, y: number, z: number, w: number): Rotation {
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

/** Rotation by `deg` degrees about the unit `axis`. */
export function axisAngle(axis: readonly [number, number, number], deg: number): Rotation {
  const n = Math.hypot(...axis) || 1;
  const h = (deg * Math.PI) / 360;
  const s = Math.sin(h) / n;
  return quaternionToRotation(axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(h));
}

/** Angle of a rotation, degrees (0 for the identity, at most 180). */
export function rotationAngleDeg(r: Rotation): number {
  const c = (r[0] + r[4] + r[8] - 1) / 2;
  return (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
}

/** Both sensors turned by r: accelerometer and gyroscope are vectors in the same board frame. */
export function rotateSamples(samples: readonly ImuSample[], r: Rotation): ImuSample[] {
  return samples.map((s) => ({
    t: s.t,
    ax: r[0] * s.ax + r[1] * s.ay + r[2] * s.az,
    ay: r[3] * s.ax + r[4] * s.ay + r[5] * s.az,
    az: r[6] * s.ax + r[7] * s.ay + r[8] * s.az,
    gx: r[0] * s.gx + r[1] * s.gy + r[2] * s.gz,
    gy: r[3] * s.gx + r[4] * s.gy + r[5] * s.gz,
    gz: r[6] * s.gx + r[7] * s.gy + r[8] * s.gz,
  }));
}
