/**
 * Shared fixtures for the analysis tests: the badminton-imu reference
 * recordings (shared/datasets beside the repository; missing, they fail a CI
 * run and are skipped visibly elsewhere) and a truth-to-detection matcher for
 * simulator sessions.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData, sharedPath } from '../support/shared-data.js';
import { readRecordingFile } from '../../main/gateway/sessions/analysis/csv.js';
import { STROKE_TYPES, type ImuSample, type Stroke, type StrokeType } from '../../main/gateway/sessions/analysis/types.js';
import type { StrokeTruth } from '../../main/simulator/swing.js';

export const DATASET_DIR = sharedPath('datasets/badminton-imu', 'COURTSIDE_BADMINTON_IMU');
export const DATASET = sharedData(
  'the badminton-imu dataset', DATASET_DIR,
  STROKE_TYPES.every((t) => existsSync(join(DATASET_DIR, `${t}_x30.csv`))), 'COURTSIDE_BADMINTON_IMU',
);
export const HAVE_DATASET = DATASET.present;
/** For node:test's `skip`: a reason outside CI when the dataset is missing, else false (in CI the tests then fail). */
export const SKIP_NO_DATASET = DATASET.skip;

export const datasetFile = (type: StrokeType) => join(DATASET_DIR, `${type}_x30.csv`);

export async function loadDataset(type: StrokeType): Promise<ImuSample[]> {
  if (!existsSync(datasetFile(type))) throw new Error(`${DATASET.missing} (${type}_x30.csv)`);
  const parsed = await readRecordingFile(datasetFile(type));
  return parsed.recordings[0]!.samples;
}

/** Linear interpolation to `factor` times the rate: same motion, denser samples. */
export function upsample(samples: readonly ImuSample[], factor: number): ImuSample[] {
  const keys = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;
  const out: ImuSample[] = [];
  for (let i = 0; i + 1 < samples.length; i++) {
    const a = samples[i]!;
    const b = samples[i + 1]!;
    for (let k = 0; k < factor; k++) {
      const w = k / factor;
      const s = { t: a.t + (b.t - a.t) * w } as ImuSample;
      for (const c of keys) s[c] = a[c] + (b[c] - a[c]) * w;
      out.push(s);
    }
  }
  return out;
}

export interface MatchReport {
  matched: { truth: StrokeTruth; stroke: Stroke }[];
  missed: StrokeTruth[];
  extra: Stroke[];
  typeAccuracy: number;
}

/**
 * Pairs each true stroke with the nearest unused detection within `tolMs`.
 * 300 ms because a drive has two peaks of similar height 200 ms apart and
 * either may win; both are the same stroke.
 */
export function matchStrokes(truth: readonly StrokeTruth[], strokes: readonly Stroke[], tolMs = 300): MatchReport {
  const used = new Set<number>();
  const matched: MatchReport['matched'] = [];
  const missed: StrokeTruth[] = [];
  for (const tr of truth) {
    let best = -1;
    strokes.forEach((s, i) => {
      if (used.has(i) || Math.abs(s.tMs - tr.t) > tolMs) return;
      if (best < 0 || Math.abs(s.tMs - tr.t) < Math.abs(strokes[best]!.tMs - tr.t)) best = i;
    });
    if (best < 0) missed.push(tr);
    else {
      used.add(best);
      matched.push({ truth: tr, stroke: strokes[best]! });
    }
  }
  const right = matched.filter((m) => m.stroke.type === m.truth.type).length;
  return {
    matched,
    missed,
    extra: strokes.filter((_, i) => !used.has(i)),
    typeAccuracy: matched.length ? right / matched.length : NaN,
  };
}

/** Linear interpolation onto a uniform grid at `rateHz`: the same motion as a board at another rate records it. */
export function resample(samples: readonly ImuSample[], rateHz: number): ImuSample[] {
  const keys = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;
  const out: ImuSample[] = [];
  const step = 1000 / rateHz;
  let i = 0;
  for (let t = samples[0]!.t; t <= samples[samples.length - 1]!.t; t += step) {
    while (i + 2 < samples.length && samples[i + 1]!.t <= t) i++;
    const a = samples[i]!;
    const b = samples[i + 1] ?? a;
    const w = b.t > a.t ? Math.min(1, (t - a.t) / (b.t - a.t)) : 0;
    const s = { t } as ImuSample;
    for (const c of keys) s[c] = a[c] + (b[c] - a[c]) * w;
    out.push(s);
  }
  return out;
}
