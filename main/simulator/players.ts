/**
 * Synthetic players for the stroke analysis: sessions from swing.ts with a
 * random mounting, stroke speed, arm length and tempo per player, at rates
 * from 10 to 1000 Hz, one in four left-handed, scored against the simulator's truth. The templates
 * come from the reference recordings, so this checks that the analysis
 * carries over to other mountings, speeds and tempos; the real recordings
 * stay the judge of whether it knows strokes.
 */
import { analyzeSamples } from '../gateway/sessions/analysis/analyze.js';
import type { StrokeModel } from '../gateway/sessions/analysis/classify.js';
import { mulberry32 } from '../gateway/sessions/analysis/prng.js';
import { randomRotation } from '../gateway/sessions/analysis/rotate.js';
import { OUTCOMES, type Stroke } from '../gateway/sessions/analysis/types.js';
import { createSwingSession, type PlayerOptions, type StrokeTruth } from './swing.js';

export const PLAYER_RATES_HZ: readonly number[] = [10, 25, 50, 100, 200, 500, 1000];

export interface SyntheticPlayer extends Required<Omit<PlayerOptions, 'mounting'>> {
  seed: number;
  rateHz: number;
  mounting: NonNullable<PlayerOptions['mounting']>;
}

/** Ranges wider than the reference player's own spread, drawn uniformly. */
export function drawPlayers(n: number, seed: number): SyntheticPlayer[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    seed: seed * 1000 + i,
    rateHz: PLAYER_RATES_HZ[i % PLAYER_RATES_HZ.length]!,
    mounting: randomRotation(rand),
    speedScale: 0.75 + 0.5 * rand(),
    armScale: 0.7 + 0.7 * rand(),
    tempo: 0.8 + 0.45 * rand(),
    // One player in four swings left-handed.
    leftHanded: i % 4 === 3,
  }));
}

/** Each true stroke paired with the nearest unused detection within tolMs. */
export function pairStrokes(truth: readonly StrokeTruth[], strokes: readonly Stroke[], tolMs = 300) {
  const used = new Set<number>();
  const pairs: { truth: StrokeTruth; stroke: Stroke }[] = [];
  let missed = 0;
  for (const tr of truth) {
    let best = -1;
    strokes.forEach((s, i) => {
      if (!used.has(i) && Math.abs(s.tMs - tr.t) <= tolMs && (best < 0 || Math.abs(s.tMs - tr.t) < Math.abs(strokes[best]!.tMs - tr.t))) best = i;
    });
    if (best < 0) missed++;
    else {
      used.add(best);
      pairs.push({ truth: tr, stroke: strokes[best]! });
    }
  }
  return { pairs, missed, extra: strokes.length - used.size };
}

export interface PlayerEvaluation {
  players: number;
  strokes: number;
  accuracy: number;
  missed: number;
  extra: number;
  /** Largest |detected - truth| in one session. */
  worst_count_error: number;
  classes: readonly string[];
  confusion: number[][];
  per_player: { rate_hz: number; speed_scale: number; arm_scale: number; tempo: number; left_handed: boolean; mirrored: boolean; strokes: number; detected: number; accuracy: number }[];
}

export function evaluatePlayers(opts: { players: number; seed: number; durationS?: number; model?: StrokeModel }): PlayerEvaluation {
  const confusion = OUTCOMES.slice(0, 4).map(() => new Array<number>(OUTCOMES.length).fill(0));
  const per: PlayerEvaluation['per_player'] = [];
  let right = 0;
  let total = 0;
  let missed = 0;
  let extra = 0;
  let worst = 0;
  for (const p of drawPlayers(opts.players, opts.seed)) {
    const { samples, truth } = createSwingSession({
      rateHz: p.rateHz, durationS: opts.durationS ?? 60, seed: p.seed, strokesPerMinute: 20, player: p,
    });
    const { strokes, mirrored } = analyzeSamples(samples, {}, { model: opts.model });
    const m = pairStrokes(truth, strokes);
    let r = 0;
    for (const { truth: tr, stroke } of m.pairs) {
      confusion[OUTCOMES.indexOf(tr.type)]![OUTCOMES.indexOf(stroke.type)]!++;
      if (stroke.type === tr.type) r++;
    }
    right += r;
    total += m.pairs.length;
    missed += m.missed;
    extra += m.extra;
    worst = Math.max(worst, Math.abs(strokes.length - truth.length));
    const f = (v: number) => Number(v.toFixed(2));
    per.push({
      rate_hz: p.rateHz, speed_scale: f(p.speedScale), arm_scale: f(p.armScale), tempo: f(p.tempo), left_handed: p.leftHanded, mirrored,
      strokes: truth.length, detected: strokes.length, accuracy: m.pairs.length ? r / m.pairs.length : NaN,
    });
  }
  return {
    players: opts.players, strokes: total, accuracy: total ? right / total : NaN, missed, extra,
    worst_count_error: worst, classes: OUTCOMES, confusion, per_player: per,
  };
}
