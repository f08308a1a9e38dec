/**
 * Trains the stroke classifier from the badminton-imu recordings and writes
 * main/gateway/sessions/analysis/stroke-model.json.
 *
 *   node --import tsx scripts/train-stroke-model.ts [dataset-dir]
 *
 * Deterministic: detection and gradient descent have no randomness and the
 * shuffled cross-validation uses a fixed seed, so rerunning on the same data
 * rewrites the same file byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecordingFile } from '../main/gateway/sessions/analysis/csv.js';
import { strokeFeatureRows } from '../main/gateway/sessions/analysis/analyze.js';
import { crossValidate, trainModel, type StrokeModel } from '../main/gateway/sessions/analysis/classify.js';
import { STROKE_TYPES } from '../main/gateway/sessions/analysis/types.js';

const SEED = 20251020;
const root = resolve(fileURLToPath(import.meta.url), '../..');
const datasetDir = resolve(process.argv[2] ?? '/work/shared/datasets/badminton-imu');
const out = join(root, 'main/gateway/sessions/analysis/stroke-model.json');

const X: number[][] = [];
const y: number[] = [];
const strokesPerClass: Record<string, number> = {};
for (const [k, type] of STROKE_TYPES.entries()) {
  const file = join(datasetDir, `${type}_x30.csv`);
  const { recordings } = await readRecordingFile(file);
  const rows = recordings.flatMap((r) => strokeFeatureRows(r.samples));
  strokesPerClass[type] = rows.length;
  console.log(`${type.padEnd(6)} ${rows.length} strokes detected in ${file}`);
  for (const r of rows) {
    X.push(r.features);
    y.push(k);
  }
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const cvs = [
  crossValidate(X, y, { folds: 5, split: 'blocks' }),
  crossValidate(X, y, { folds: 5, split: 'shuffled', seed: SEED }),
];
for (const cv of cvs) {
  console.log(`\n${cv.folds}-fold cross-validation (${cv.split}): overall ${pct(cv.overall)}`);
  for (const type of STROKE_TYPES) console.log(`  ${type.padEnd(6)} ${pct(cv.perClass[type]!)}`);
  console.log(`  confusion (rows true, cols predicted ${STROKE_TYPES.join('/')}): ${JSON.stringify(cv.confusion)}`);
}

const fitted = trainModel(X, y);
const model: StrokeModel = {
  ...fitted,
  training: {
    source: 'badminton-imu (deadpoolcnn/ml_badminton, MIT): {clear,drive,lift,smash}_x30.csv, ~10 Hz',
    strokesPerClass,
    ...fitted.training,
    seed: SEED,
    crossValidation: cvs.map(({ confusion: _c, ...cv }) => ({
      ...cv,
      overall: Number(cv.overall.toFixed(4)),
      perClass: Object.fromEntries(Object.entries(cv.perClass).map(([k, v]) => [k, Number(v.toFixed(4))])),
    })),
  },
};
writeFileSync(out, JSON.stringify(model, null, 1) + '\n');
console.log(`\nwrote ${out}`);
