/**
 * The training set of the shipped model and its held-out evaluation, shared
 * by scripts/train-stroke-model.ts and the test that checks the checked-in
 * weights: the reference strokes plus augmented copies (augment.ts), each row
 * tagged with the real stroke it came from so a held-out fold never has a
 * copy of its own strokes in training.
 */
import { strokeFeatureRows } from './analyze.js';
import { augment, drawAugmentations } from './augment.js';
import { predict, trainModel, type StrokeModel, type TrainOptions } from './classify.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from './types.js';

/** Augmented copies per recording and the seed of their draws. */
export const AUGMENT_COPIES = 12;
export const AUGMENT_SEED = 20251020;
/** The held-out folds are scored on copies from another seed: rotations and players training never saw. */
export const EVAL_SEED = 4242;

export interface TrainingRow {
  features: number[];
  label: number;
  /** Index of the real stroke (within its recording) this row is a copy of. */
  stroke: number;
  /** 0 for the recording as recorded, else which augmented copy. */
  copy: number;
}

export interface SourceRecording {
  type: StrokeType;
  samples: readonly ImuSample[];
}

/** Rows of one recording and `copies` augmented versions of it (draws from `seed` + the type's index). */
export function recordingRows(rec: SourceRecording, copies: number, seed: number): TrainingRow[] {
  const label = STROKE_TYPES.indexOf(rec.type);
  const base = strokeFeatureRows(rec.samples);
  const rows: TrainingRow[] = base.map((r, stroke) => ({ features: r.features, label, stroke, copy: 0 }));
  drawAugmentations(copies, seed + label).forEach((a, c) => {
    for (const r of strokeFeatureRows(augment(rec.samples, a))) {
      // The copy's stroke is the real one nearest in (un-stretched) time.
      const t = r.peak.tMs / a.tempo;
      let best = 0;
      base.forEach((b, i) => {
        if (Math.abs(b.peak.tMs - t) < Math.abs(base[best]!.peak.tMs - t)) best = i;
      });
      rows.push({ features: r.features, label, stroke: best, copy: c + 1 });
    }
  });
  return rows;
}

export function trainingRows(recs: readonly SourceRecording[]): TrainingRow[] {
  return recs.flatMap((r) => recordingRows(r, AUGMENT_COPIES, AUGMENT_SEED));
}

export function fitRows(rows: readonly TrainingRow[], opts: TrainOptions = {}) {
  return trainModel(rows.map((r) => r.features), rows.map((r) => r.label), opts);
}

export interface HeldOut {
  folds: number;
  split: string;
  overall: number;
  perClass: Record<string, number>;
  /** rows true, columns predicted: STROKE_TYPES then unknown. */
  confusion: number[][];
}

/**
 * k-fold over contiguous blocks of real strokes per recording: fold f trains
 * on the real and augmented rows of the other blocks and is scored on its
 * own strokes as recorded and as `evalCopies` copies from EVAL_SEED.
 */
export function heldOutBlocks(
  recs: readonly SourceRecording[],
  train: readonly TrainingRow[],
  opts: { folds?: number; evalCopies?: number; finish?: (m: StrokeModel, rows: readonly TrainingRow[]) => StrokeModel } = {},
): HeldOut {
  const folds = opts.folds ?? 5;
  const test = recs.flatMap((r) => recordingRows(r, opts.evalCopies ?? 4, EVAL_SEED));
  const count = new Map<number, number>();
  for (const r of train) if (r.copy === 0) count.set(r.label, Math.max(count.get(r.label) ?? 0, r.stroke + 1));
  const foldOf = (r: TrainingRow) => Math.floor((r.stroke * folds) / (count.get(r.label) ?? 1));
  const K = STROKE_TYPES.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K + 1).fill(0));
  for (let f = 0; f < folds; f++) {
    const rows = train.filter((r) => foldOf(r) !== f);
    let model = fitRows(rows) as StrokeModel;
    if (opts.finish) model = opts.finish(model, rows);
    for (const r of test) {
      if (foldOf(r) !== f) continue;
      const p = predict(model, r.features);
      confusion[r.label]![p.type === 'unknown' ? K : STROKE_TYPES.indexOf(p.type)]!++;
    }
  }
  const perClass: Record<string, number> = {};
  let right = 0;
  let total = 0;
  STROKE_TYPES.forEach((name, k) => {
    const n = confusion[k]!.reduce((a, b) => a + b, 0);
    perClass[name] = n ? confusion[k]![k]! / n : NaN;
    right += confusion[k]![k]!;
    total += n;
  });
  return { folds, split: 'contiguous blocks per recording, scored on unseen rotations and players', overall: right / total, perClass, confusion };
}
