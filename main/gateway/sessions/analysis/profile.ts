/**
 * A player's profile: the strokes a coach corrected for that player, as
 * feature rows with their right type, and the per-player adaptation of the
 * general model that uses them.
 *
 * Players differ more than mountings do: the features do not change with the
 * mounting (features.ts), but another player's smash is another shape. The
 * adaptation is a small per-player model with the general model as its
 * prior: the general softmax weights, refitted on the player's corrected
 * strokes with a penalty on every step away from the general weights (MAP
 * with a Gaussian prior centred on them). A corrected stroke the general
 * model already types right pulls nothing; one it types wrong moves the
 * boundary just enough, and more of them move it further. The region a type
 * is known in (the `unknown` outcome) moves towards the player's own strokes
 * of that type the same way, weighted by how many there are.
 *
 * A type changes only where the player's strokes say so: the refitted
 * model's answer replaces the general one only if it is a type the player has
 * corrected strokes of, and the stroke lies closer to
 * the player's corrected strokes of the new type than to those of the old
 * type (or, for a type the player has none of, to the general centre), in
 * the metric of the general model's known regions. Without that gate, a coach
 * who corrects only smashes turned the player's clears into smashes too.
 *
 * Chosen, with its constants, by scripts/learning-curve.ts: a nearest-centroid
 * vote in the same space cost the public player 4-5 points at 1-5 corrected
 * strokes per type (a centroid of a few strokes weighs all 42 features
 * equally, the refit keeps the general model's weighting); a prior as strong
 * for twenty strokes as for one let a single stroke move too much.
 *
 * With an empty profile `adaptedPredict` is `predict` on the general model
 * exactly (a test checks it): players without corrections get its result.
 *
 * Rows are the features as the classifier saw them: already mirrored when the
 * session was read as a left-hander's (analyze.ts).
 */
import { classDistance, predict, type Prediction, type StrokeModel } from './classify.js';
import { STROKE_TYPES, type StrokeType } from './types.js';

export interface ProfileExample {
  type: StrokeType;
  features: readonly number[];
}

export interface PlayerProfile {
  examples: readonly ProfileExample[];
}

/**
 * Strength of the pull back to the general weights (per weight, divided by
 * the number of corrected strokes, against their mean cross-entropy) and the
 * refit's steps: measured with scripts/learning-curve.ts so the public player
 * keeps 100 % while a player the general model types wrong gains from a few
 * strokes.
 */
export const PRIOR_L2 = 1;
export const REFIT_STEPS = 200;
const REFIT_RATE = 0.5;
/** How many strokes' worth the general centre of a type weighs against the player's own, for the known region. */
export const PRIOR_WEIGHT = 3;

/** The general model adapted to one player, or null when the profile has nothing to adapt with. */
export type CompiledProfile = { model: StrokeModel; evidence: number[]; means: (number[] | null)[] } | null;

const standardise = (model: StrokeModel, x: readonly number[]) => x.map((v, j) => (v - model.mean[j]!) / model.std[j]!);

export function compileProfile(model: StrokeModel, profile: PlayerProfile): CompiledProfile {
  const examples = profile.examples.filter((e) => e.features.length === model.mean.length && model.classes.includes(e.type));
  if (examples.length === 0) return null;
  const K = model.classes.length;
  const d = model.mean.length;
  const Z = examples.map((e) => standardise(model, e.features));
  const y = examples.map((e) => model.classes.indexOf(e.type));
  const W0 = model.weights;
  const W = W0.map((w) => [...w]);
  const b = [...model.bias];
  const n = Z.length;
  // Against the mean loss of n strokes: the prior weighs as much as one stroke, so one
  // stroke moves the weights half way at most and twenty nearly all the way.
  const l2 = PRIOR_L2 / n;
  for (let it = 0; it < REFIT_STEPS; it++) {
    const gW = W.map((w, k) => w.map((v, j) => l2 * (v - W0[k]![j]!)));
    const gb = b.map((v, k) => l2 * (v - model.bias[k]!));
    for (let i = 0; i < n; i++) {
      const z = Z[i]!;
      const logits = W.map((w, k) => b[k]! + w.reduce((s, wj, j) => s + wj * z[j]!, 0));
      const max = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - max));
      const sum = e.reduce((a, c) => a + c, 0);
      for (let k = 0; k < K; k++) {
        const err = (e[k]! / sum - (y[i] === k ? 1 : 0)) / n;
        gb[k]! += err;
        const row = gW[k]!;
        for (let j = 0; j < d; j++) row[j]! += err * z[j]!;
      }
    }
    for (let k = 0; k < K; k++) {
      b[k]! -= REFIT_RATE * gb[k]!;
      for (let j = 0; j < d; j++) W[k]![j]! -= REFIT_RATE * gW[k]![j]!;
    }
  }
  const evidence = model.classes.map((_, k) => y.filter((c) => c === k).length);
  const known = model.known && {
    ...model.known,
    centre: model.known.centre.map((g, k) => {
      const m = evidence[k]!;
      if (m === 0) return g;
      const sum = g.map((v) => v * PRIOR_WEIGHT);
      Z.forEach((z, i) => {
        if (y[i] === k) for (let j = 0; j < d; j++) sum[j]! += z[j]!;
      });
      return sum.map((v) => v / (m + PRIOR_WEIGHT));
    }),
  };
  const means = model.classes.map((_, k) => {
    const mine = Z.filter((_, i) => y[i] === k);
    return mine.length ? mine[0]!.map((_, j) => mine.reduce((sum, z) => sum + z[j]!, 0) / mine.length) : null;
  });
  return { model: { ...model, weights: W, bias: b, ...(known ? { known } : {}) }, evidence, means };
}

export interface AdaptedPrediction extends Prediction {
  /** The player's profile gave another type than the general model alone. */
  adapted: boolean;
}

export function adaptedPredict(model: StrokeModel, profile: CompiledProfile, x: readonly number[]): AdaptedPrediction {
  const general = predict(model, x);
  if (!profile) return { ...general, adapted: false };
  const p = predict(profile.model, x);
  if (p.type === general.type) return { ...p, adapted: false };
  // Only towards a type the player has corrected strokes of: evidence, not a side effect of the refit.
  const to = p.type === 'unknown' ? -1 : model.classes.indexOf(p.type);
  if (to < 0 || profile.evidence[to] === 0) return { ...general, adapted: false };
  const known = model.known;
  if (general.type !== 'unknown' && known) {
    // And only where the player's strokes say so: closer to the player's strokes of the new type
    // than to those of the old one (to the general centre of a type the player has none of), in
    // the metric of the general model's known regions.
    const z = x.map((v, j) => (v - model.mean[j]!) / model.std[j]!);
    const dist = (k: number) => classDistance({ ...known, centre: known.centre.map((g, i) => (i === k ? (profile.means[k] ?? g) : g)) }, k, z);
    if (!(dist(to) < dist(model.classes.indexOf(general.type)))) return { ...general, adapted: false };
  }
  return { ...p, adapted: p.type !== general.type };
}

/** Corrected strokes per type (the UI's "profile holds N smashes"). */
export function profileCounts(profile: PlayerProfile): Record<StrokeType, number> {
  const out = Object.fromEntries(STROKE_TYPES.map((t) => [t, 0])) as Record<StrokeType, number>;
  for (const e of profile.examples) if (e.type in out) out[e.type]++;
  return out;
}
