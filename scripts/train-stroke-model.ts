/**
 * Trains the stroke classifier from the badminton-imu recordings and writes
 * main/gateway/sessions/analysis/stroke-model.json.
 *
 *   node --import tsx scripts/train-stroke-model.ts [dataset-dir]
 *
 * The training set is the reference strokes plus augmented copies (random
 * mountings, speeds, tempos, arm lengths; analysis/augment.ts) drawn from a
 * fixed seed with the project's PRNG, and gradient descent has no randomness,
 * so rerunning on the same data rewrites the same file byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecordingFile } from '../main/gateway/sessions/analysis/csv.js';
import { withKnownRegion, type StrokeModel } from '../main/gateway/sessions/analysis/classify.js';
import {
  AUGMENT_COPIES, AUGMENT_SEED, EVAL_SEED, fitRows, heldOutBlocks, trainingRows, type SourceRecording,
} from '../main/gateway/sessions/analysis/training.js';
import { OUTCOMES, STROKE_TYPES } from '../main/gateway/sessions/analysis/types.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const datasetDir = resolve(process.argv[2] ?? join(root, '../shared/datasets/badminton-imu'));
const out = join(root, 'main/gateway/sessions/analysis/stroke-model.json');

const recs: SourceRecording[] = [];
for (const type of STROKE_TYPES) {
  const { recordings } = await readRecordingFile(join(datasetDir, `${type}_x30.csv`));
  recs.push({ type, samples: recordings[0]!.samples });
}
const rows = trainingRows(recs);
const strokesPerClass: Record<string, number> = {};
for (const [k, type] of STROKE_TYPES.entries()) {
  strokesPerClass[type] = rows.filter((r) => r.label === k && r.copy === 0).length;
  console.log(`${type.padEnd(6)} ${strokesPerClass[type]} strokes, ${rows.filter((r) => r.label === k).length} rows with copies`);
}

const known = (m: StrokeModel, rs: readonly { features: number[]; label: number }[]) =>
  withKnownRegion(m, rs.map((r) => r.features), rs.map((r) => r.label)) as StrokeModel;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const cv = heldOutBlocks(recs, rows, { folds: 5, finish: known });
console.log(`\n5-fold held out (${cv.split}): overall ${pct(cv.overall)}`);
for (const type of STROKE_TYPES) console.log(`  ${type.padEnd(6)} ${pct(cv.perClass[type]!)}`);
console.log(`  confusion (rows true, cols predicted ${OUTCOMES.join('/')}): ${JSON.stringify(cv.confusion)}`);

const fit = fitRows(rows);
const fitted = known(fit as StrokeModel, rows);
const model: StrokeModel = {
  ...fitted,
  training: {
    source: 'badminton-imu (deadpoolcnn/ml_badminton, MIT): {clear,drive,lift,smash}_x30.csv, ~10 Hz',
    strokesPerClass,
    ...fit.training,
    seed: AUGMENT_SEED,
    augmentation: { copies: AUGMENT_COPIES, seed: AUGMENT_SEED, evalSeed: EVAL_SEED },
    crossValidation: [{
      folds: cv.folds,
      split: cv.split,
      overall: Number(cv.overall.toFixed(4)),
      perClass: Object.fromEntries(Object.entries(cv.perClass).map(([k, v]) => [k, Number(v.toFixed(4))])),
    }],
  },
};
writeFileSync(out, JSON.stringify(model, null, 1) + '\n');
console.log(`\nwrote ${out}`);
