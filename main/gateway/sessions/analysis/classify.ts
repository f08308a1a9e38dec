/**
 * Stroke type classifier: multinomial logistic regression on standardised
 * features (features.ts), weights in stroke-model.json.
 *
 * Chosen over nearest-centroid because it gives calibrated-ish probabilities
 * for `confidence` and weighs features by how much they separate the types
 * instead of equally; with 44 features and 120 strokes an L2 penalty keeps it
 * from memorising the training session. Training lives here too (full-batch
 * gradient descent, no randomness) so tests can cross-validate the exact code
 * that produced the shipped weights.
 */
import { existsSync, readFileSync } from 'node:fs';
import { STROKE_TYPES, type StrokeOutcome, type StrokeType } from './types.js';
import { FEATURE_NAMES } from './features.js';
import { mulberry32 } from './prng.js';
export { mulberry32 };

export interface CrossValidation {
  folds: number;
  split: string;
  perClass: Record<string, number>;
  overall: number;
}

/**
 * What the model knows, for the `unknown` outcome: per class, the centre and
 * the inverse covariance (regularised) of its training rows in standardised
 * feature space, and the largest Mahalanobis distance (RMS per feature) a
 * stroke of that class may lie from its centre. A full covariance, not a
 * spread per feature: a stroke can be out of place only in how its features
 * go together (a fast rotation with no acceleration at all).
 */
export interface KnownRegion {
  centre: number[][];
  precision: number[][][];
  limit: number[];
  /** Quantile of the training rows' own distances the limit is built from, and the margin over it. */
  quantile: number;
  margin: number;
}

export interface StrokeModel {
  format: 'courtside-stroke-model';
  version: 2;
  classes: StrokeType[];
  featureNames: string[];
  /** Standardisation: z = (x - mean) / std, per feature. */
  mean: number[];
  std: number[];
  /** weights[k][j] for class k and standardised feature j. */
  weights: number[][];
  bias: number[];
  known?: KnownRegion;
  training: {
    source: string;
    strokesPerClass: Record<string, number>;
    l2: number;
    iterations: number;
    learningRate: number;
    seed: number;
    augmentation?: { copies: number; seed: number; evalSeed: number };
    crossValidation: CrossValidation[];
  };
}

export interface Prediction {
  /** `unknown` when the features lie outside the known region of the best class. */
  type: StrokeOutcome;
  /** Probability of the best class (also for `unknown`: how sure the softmax alone would have been). */
  confidence: number;
  probabilities: number[];
  /** RMS distance from the best class's centre in its spreads; NaN without a known region. */
  distance: number;
}

export interface TrainOptions {
  l2?: number;
  iterations?: number;
  learningRate?: number;
}

const DEFAULT_TRAIN = { l2: 0.01, iterations: 500, learningRate: 0.5 };

export function predict(model: StrokeModel, x: readonly number[]): Prediction {
  const z = x.map((v, j) => (v - model.mean[j]!) / model.std[j]!);
  const logits = model.weights.map((w, k) => model.bias[k]! + w.reduce((s, wj, j) => s + wj * z[j]!, 0));
  const p = softmax(logits);
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  const distance = model.known ? classDistance(model.known, best, z) : NaN;
  const known = !model.known || distance <= model.known.limit[best]!;
  return { type: known ? model.classes[best]! : 'unknown', confidence: p[best]!, probabilities: p, distance };
}

export function classDistance(k: KnownRegion, cls: number, z: readonly number[]): number {
  const c = k.centre[cls]!;
  const P = k.precision[cls]!;
  const d = z.map((v, j) => v - c[j]!);
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    const row = P[i]!;
    let r = 0;
    for (let j = 0; j < d.length; j++) r += row[j]! * d[j]!;
    sum += d[i]! * r;
  }
  return Math.sqrt(Math.max(0, sum) / d.length);
}

/** Inverse of a symmetric positive definite matrix by Gauss-Jordan (d is ~40). */
function invert(m: number[][]): number[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const pivot = a[c]![c]!;
    for (let j = 0; j < 2 * n; j++) a[c]![j]! /= pivot;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      if (f !== 0) for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row) => row.slice(n));
}

/**
 * Adds the known region from the rows the model was fitted on. The limit is
 * the `quantile` of each class's own distances times `margin`: the strokes a
 * class was trained on (real and augmented) nearly all pass, a stroke far
 * outside all of them (another motion, a broken sensor) does not. The ridge
 * added to each covariance keeps a direction the training rows never vary in
 * from making every new stroke unknown.
 */
export function withKnownRegion<M extends Omit<StrokeModel, 'known' | 'training'>>(
  model: M,
  X: readonly (readonly number[])[],
  y: readonly number[],
  quantile = 0.995,
  margin = 1.5,
  ridge = 0.05,
): M & { known: KnownRegion } {
  const d = model.mean.length;
  const K = model.classes.length;
  const round = (v: number) => Number(v.toPrecision(6));
  const centre: number[][] = [];
  const precision: number[][][] = [];
  const limit: number[] = [];
  const Zs: number[][][] = [];
  for (let k = 0; k < K; k++) {
    const Z = X.filter((_, i) => y[i] === k).map((x) => x.map((v, j) => (v - model.mean[j]!) / model.std[j]!));
    Zs.push(Z);
    const c = new Array<number>(d).fill(0);
    for (const z of Z) for (let j = 0; j < d; j++) c[j]! += z[j]! / Z.length;
    const cov = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? ridge : 0)));
    for (const z of Z) {
      for (let i = 0; i < d; i++) {
        const di = (z[i]! - c[i]!) / Z.length;
        for (let j = 0; j < d; j++) cov[i]![j]! += di * (z[j]! - c[j]!);
      }
    }
    centre.push(c.map(round));
    precision.push(invert(cov).map((row) => row.map(round)));
  }
  const known: KnownRegion = { centre, precision, limit, quantile, margin };
  for (let k = 0; k < K; k++) {
    const ds = Zs[k]!.map((z) => classDistance(known, k, z)).sort((a, b) => a - b);
    limit.push(round(margin * (ds[Math.min(ds.length - 1, Math.floor(quantile * ds.length))] ?? 0)));
  }
  return { ...model, known };
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Fits weights to rows X with labels y (indices into STROKE_TYPES). */
export function trainModel(
  X: readonly (readonly number[])[],
  y: readonly number[],
  opts: TrainOptions = {},
): Omit<StrokeModel, 'training'> & { training: Pick<StrokeModel['training'], 'l2' | 'iterations' | 'learningRate'> } {
  const { l2, iterations, learningRate } = { ...DEFAULT_TRAIN, ...opts };
  const n = X.length;
  const d = X[0]?.length ?? 0;
  const K = STROKE_TYPES.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j++) mean[j]! += row[j]! / n;
  for (const row of X) for (let j = 0; j < d; j++) std[j]! += (row[j]! - mean[j]!) ** 2 / n;
  // A constant feature must not divide by zero; 1 leaves it at 0 after centring.
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) || 1;
  const Z = X.map((row) => row.map((v, j) => (v - mean[j]!) / std[j]!));

  // Flat typed arrays: the plain nested-array version took seconds per fit.
  const Zf = new Float64Array(n * d);
  Z.forEach((row, i) => Zf.set(row, i * d));
  const W = new Float64Array(K * d);
  const b = new Float64Array(K);
  const gW = new Float64Array(K * d);
  const gb = new Float64Array(K);
  const p = new Float64Array(K);
  for (let it = 0; it < iterations; it++) {
    for (let q = 0; q < K * d; q++) gW[q] = l2 * W[q]!;
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const z = b[k]! + dot(W, k * d, Zf, off, d);
        p[k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += p[k] = Math.exp(p[k]! - max);
      for (let k = 0; k < K; k++) {
        const err = (p[k]! / sum - (y[i] === k ? 1 : 0)) / n;
        gb[k]! += err;
        axpy(gW, k * d, err, Zf, off, d);
      }
    }
    for (let k = 0; k < K; k++) b[k]! -= learningRate * gb[k]!;
    for (let q = 0; q < K * d; q++) W[q]! -= learningRate * gW[q]!;
  }
  const round = (v: number) => Number(v.toPrecision(6));
  return {
    format: 'courtside-stroke-model',
    version: 2,
    classes: [...STROKE_TYPES],
    featureNames: [...FEATURE_NAMES],
    mean: mean.map(round),
    std: std.map(round),
    weights: Array.from({ length: K }, (_, k) => Array.from(W.subarray(k * d, (k + 1) * d), round)),
    bias: Array.from(b, round),
    training: { l2, iterations, learningRate },
  };
}

// Kept as small leaf functions: V8 optimises them far better than the same
// loops inlined in trainModel's big body (10x in practice).
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += a[ao + j]! * b[bo + j]!;
  return s;
}

function axpy(y: Float64Array, yo: number, a: number, x: Float64Array, xo: number, n: number): void {
  for (let j = 0; j < n; j++) y[yo + j]! += a * x[xo + j]!;
}


/**
 * k-fold cross-validation, stratified by class. `blocks` gives each fold a
 * contiguous run of strokes from every recording (closer to "a later part of
 * the session" than random picks, which sit next to their own neighbours in
 * the training set); `shuffled` assigns strokes at random with `seed`.
 */
export function crossValidate(
  X: readonly (readonly number[])[],
  y: readonly number[],
  opts: TrainOptions & { folds?: number; split?: 'blocks' | 'shuffled'; seed?: number } = {},
): CrossValidation & { confusion: number[][] } {
  const folds = opts.folds ?? 5;
  const split = opts.split ?? 'blocks';
  const rand = mulberry32(opts.seed ?? 1);
  const fold = new Array<number>(y.length).fill(0);
  for (let k = 0; k < STROKE_TYPES.length; k++) {
    const idx = y.map((c, i) => (c === k ? i : -1)).filter((i) => i >= 0);
    if (split === 'shuffled') {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      idx.forEach((row, pos) => (fold[row] = pos % folds));
    } else {
      idx.forEach((row, pos) => (fold[row] = Math.floor((pos * folds) / idx.length)));
    }
  }
  const K = STROKE_TYPES.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let f = 0; f < folds; f++) {
    const train = y.map((_, i) => i).filter((i) => fold[i] !== f);
    const test = y.map((_, i) => i).filter((i) => fold[i] === f);
    if (test.length === 0) continue;
    const model = trainModel(train.map((i) => X[i]!), train.map((i) => y[i]!), opts) as StrokeModel;
    // Without a known region predict never says unknown.
    for (const i of test) confusion[y[i]!]![STROKE_TYPES.indexOf(predict(model, X[i]!).type as StrokeType)]!++;
  }
  const perClass: Record<string, number> = {};
  let right = 0;
  let total = 0;
  STROKE_TYPES.forEach((name, k) => {
    const row = confusion[k]!;
    const n = row.reduce((a, b) => a + b, 0);
    perClass[name] = n ? row[k]! / n : NaN;
    right += row[k]!;
    total += n;
  });
  return { folds, split: split === 'blocks' ? 'contiguous blocks per recording' : `shuffled, seed ${opts.seed ?? 1}`, perClass, overall: right / total, confusion };
}

const MODEL_FILE = 'stroke-model.json';
// Next to this module under tsx; from dist/ the JSON stays in the source tree.
const MODEL_URLS = [
  new URL(`./${MODEL_FILE}`, import.meta.url),
  new URL(`../../../../../main/gateway/sessions/analysis/${MODEL_FILE}`, import.meta.url),
];

let cached: StrokeModel | undefined;

export function loadDefaultModel(): StrokeModel {
  if (cached) return cached;
  const url = MODEL_URLS.find((u) => existsSync(u));
  if (!url) throw new Error(`${MODEL_FILE} not found next to ${new URL('.', import.meta.url).pathname}`);
  cached = parseModel(readFileSync(url, 'utf8'));
  return cached;
}

export function parseModel(json: string): StrokeModel {
  const m = JSON.parse(json) as StrokeModel;
  const d = FEATURE_NAMES.length;
  if (
    m.format !== 'courtside-stroke-model' ||
    m.featureNames?.length !== d ||
    m.featureNames.some((f, j) => f !== FEATURE_NAMES[j]) ||
    m.weights?.length !== m.classes?.length ||
    m.weights.some((w) => w.length !== d) ||
    m.mean?.length !== d ||
    m.std?.length !== d ||
    (m.known !== undefined &&
      (m.known.centre?.length !== m.classes.length ||
        m.known.precision?.length !== m.classes.length ||
        m.known.limit?.length !== m.classes.length ||
        m.known.centre.some((c) => c.length !== d)))
  ) {
    throw new Error('stroke model does not match the feature layout of this build; retrain it');
  }
  return m;
}
