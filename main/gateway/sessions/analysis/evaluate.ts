/**
 * The rotation evaluation: every labelled recording turned by random
 * rotations, as boards mounted other ways would record it, analysed end to
 * end (detection, features, classifier), and scored per rotation: stroke
 * types right, the confusion matrix and the count per file against the truth.
 * scripts/eval-rotations.ts prints it as JSON; test/analysis runs a bounded
 * version.
 */
import { analyzeSamples } from './analyze.js';
import type { StrokeModel } from './classify.js';
import { mulberry32 } from './prng.js';
import { IDENTITY, randomRotation, rotateSamples, rotationAngleDeg, type Rotation } from './rotate.js';
import { OUTCOMES, type ImuSample, type StrokeType } from './types.js';

export interface LabelledRecording {
  name: string;
  type: StrokeType;
  /** True number of strokes in the recording. */
  strokes: number;
  samples: readonly ImuSample[];
}

export interface RotationResult {
  angle_deg: number;
  right: number;
  total: number;
  accuracy: number;
  /** Strokes detected per recording. */
  counts: Record<string, number>;
}

export interface RotationEvaluation {
  rotations: number;
  seed: number;
  /** Fraction of strokes typed right over all rotations, and its spread. */
  mean: number;
  min: number;
  max: number;
  /** Every count within 1 of the truth, on every rotation. */
  counts_within_1: boolean;
  /** Largest |detected - truth| over recordings and rotations. */
  worst_count_error: number;
  /** rows: true type, columns: predicted (OUTCOMES order, unknown last), summed over rotations. */
  classes: readonly string[];
  confusion: number[][];
  per_rotation: RotationResult[];
}

export function confusionMatrix(): number[][] {
  return OUTCOMES.slice(0, 4).map(() => new Array<number>(OUTCOMES.length).fill(0));
}

/** One pass over the recordings as a board turned by r would record them. */
export function scoreRotation(
  recordings: readonly LabelledRecording[],
  r: Rotation,
  confusion: number[][],
  model?: StrokeModel,
): RotationResult {
  let right = 0;
  let total = 0;
  const counts: Record<string, number> = {};
  for (const rec of recordings) {
    const { strokes } = analyzeSamples(r === IDENTITY ? rec.samples : rotateSamples(rec.samples, r), {}, { model });
    counts[rec.name] = strokes.length;
    const row = OUTCOMES.indexOf(rec.type);
    for (const s of strokes) {
      confusion[row]![OUTCOMES.indexOf(s.type)]!++;
      if (s.type === rec.type) right++;
      total++;
    }
  }
  return { angle_deg: Number(rotationAngleDeg(r).toFixed(1)), right, total, accuracy: total ? right / total : NaN, counts };
}

export function evaluateRotations(
  recordings: readonly LabelledRecording[],
  opts: { rotations: number; seed: number; model?: StrokeModel },
): RotationEvaluation {
  const rand = mulberry32(opts.seed);
  const confusion = confusionMatrix();
  const per: RotationResult[] = [];
  for (let i = 0; i < opts.rotations; i++) per.push(scoreRotation(recordings, randomRotation(rand), confusion, opts.model));
  const acc = per.map((p) => p.accuracy);
  let worst = 0;
  for (const p of per) for (const rec of recordings) worst = Math.max(worst, Math.abs(p.counts[rec.name]! - rec.strokes));
  const right = per.reduce((s, p) => s + p.right, 0);
  const total = per.reduce((s, p) => s + p.total, 0);
  return {
    rotations: opts.rotations,
    seed: opts.seed,
    mean: total ? right / total : NaN,
    min: Math.min(...acc),
    max: Math.max(...acc),
    counts_within_1: worst <= 1,
    worst_count_error: worst,
    classes: OUTCOMES,
    confusion,
    per_rotation: per,
  };
}
