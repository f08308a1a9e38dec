/**
 * The learning curve of the player profile (main/gateway/sessions/analysis/profile.ts):
 * on every badminton-imu recording, accuracy on held-out strokes when the
 * profile holds 0, 1, 3 or 5 corrected strokes per type, over many random
 * draws of which strokes the coach corrected. JSON on stdout, a table on stderr.
 *
 *   node --import tsx scripts/learning-curve.ts [--draws N] [--seed S] [--dataset DIR]
 *
 * Conditions:
 * - `as_recorded`: the recordings as they are;
 * - `rotated`: every draw turns the corrected strokes' session by one random
 *   mounting and the scored session by another (rotate.ts, as
 *   scripts/eval-rotations.ts does): the profile is made on one board
 *   mounting and used on another;
 * - `slow_player`: the recordings as a synthetic slower player with another
 *   arm swings them (augment.ts: speed ×0.62, tempo ×1.15, arm ×0.8, a random
 *   mounting per draw), the gap measured on a real second player (smashes
 *   near 760 dps against the public player's 1220);
 * - `slower_player`: speed ×0.45, arm ×0.7 (the player of
 *   test/sessions/corrections.test.ts), where the general model types about
 *   half the strokes right, as it did that real second player.
 * The synthetic players show the profile moving the decision where the
 * general model is off; they are not real players.
 *
 * With 0 corrected strokes the profile is empty and the result is the
 * general model's exactly.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecordingFile } from '../main/gateway/sessions/analysis/csv.js';
import { analyzeSamples } from '../main/gateway/sessions/analysis/analyze.js';
import { augment } from '../main/gateway/sessions/analysis/augment.js';
import { loadDefaultModel } from '../main/gateway/sessions/analysis/classify.js';
import { adaptedPredict, compileProfile, type ProfileExample } from '../main/gateway/sessions/analysis/profile.js';
import { mulberry32 } from '../main/gateway/sessions/analysis/prng.js';
import { IDENTITY, randomRotation, rotateSamples, type Rotation } from '../main/gateway/sessions/analysis/rotate.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from '../main/gateway/sessions/analysis/types.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const { values } = parseArgs({
  options: {
    draws: { type: 'string', default: '200' },
    'one-type': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1818' },
    dataset: { type: 'string' },
  },
});
const draws = Number(values.draws);
const seed = Number(values.seed);
if (!Number.isInteger(draws) || draws < 1 || !Number.isInteger(seed)) {
  process.stderr.write('learning-curve: --draws and --seed take whole numbers (draws >= 1)\n');
  process.exit(2);
}
const dir = resolve(values.dataset ?? join(root, '../shared/datasets/badminton-imu'));
const SHOTS = [0, 1, 3, 5] as const;
const model = loadDefaultModel();

const recordings: { type: StrokeType; samples: ImuSample[] }[] = [];
for (const type of STROKE_TYPES) {
  const { recordings: r } = await readRecordingFile(join(dir, `${type}_x30.csv`));
  recordings.push({ type, samples: r[0]!.samples });
}

type Condition = 'as_recorded' | 'rotated' | 'slow_player' | 'slower_player';
/** The recordings as one session of the condition: per recording the general types and the classifier's features. */
function session(cond: Condition, rand: () => number) {
  const r: Rotation = cond === 'as_recorded' ? IDENTITY : randomRotation(rand);
  return recordings.map((rec) => {
    const s =
      cond === 'slow_player'
        ? augment(rec.samples, { rotation: r, speed: 0.62, tempo: 1.15, arm: 0.8 })
        : cond === 'slower_player'
          ? augment(rec.samples, { rotation: r, speed: 0.45, tempo: 1, arm: 0.7 })
          : r === IDENTITY ? rec.samples : rotateSamples(rec.samples, r);
    const a = analyzeSamples(s);
    return { type: rec.type, general: a.strokes.map((x) => x.type), features: a.features };
  });
}

const pick = (n: number, k: number, rand: () => number) => {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return new Set(idx.slice(0, k));
};

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const pct = (v: number) => Number((100 * v).toFixed(1));

const out: Record<string, unknown> = { dataset: dir, draws, seed, shots_per_type: SHOTS };
const table: string[] = [];
for (const cond of ['as_recorded', 'rotated', 'slow_player', 'slower_player'] as const) {
  const rand = mulberry32(seed + cond.length * 7919);
  const fixed = cond === 'as_recorded' ? session(cond, rand) : null;
  const rows: Record<string, unknown>[] = [];
  for (const k of SHOTS) {
    const perRec: Record<string, number[]> = Object.fromEntries(STROKE_TYPES.map((t) => [t, []]));
    const overall: number[] = [];
    let changedRight = 0;
    let changedWrong = 0;
    for (let d = 0; d < draws; d++) {
      // The corrections come from one session, the scored strokes from the next (another mounting unless as recorded).
      const taught = fixed ?? session(cond, rand);
      const scored = fixed ?? session(cond, rand);
      // --one-type: the coach corrects strokes of one type only (drawn per draw), the others none.
      const only = values['one-type'] ? Math.floor(rand() * taught.length) : -1;
      const chosen = taught.map((r, i) => pick(r.features.length, only < 0 || only === i ? k : 0, rand));
      const examples: ProfileExample[] = taught.flatMap((r, i) => [...chosen[i]!].map((j) => ({ type: r.type, features: r.features[j]! })));
      const profile = compileProfile(model, { examples });
      let right = 0;
      let total = 0;
      scored.forEach((r, i) => {
        let recRight = 0;
        let recTotal = 0;
        r.features.forEach((x, j) => {
          // Held out: a corrected stroke is never scored (same index, same detection: rotations keep the gyro magnitude).
          if (chosen[i]!.has(j)) return;
          const p = adaptedPredict(model, profile, x);
          if (k === 0 && p.type !== r.general[j]) throw new Error('an empty profile changed a type');
          if (p.type !== r.general[j]) p.type === r.type ? changedRight++ : changedWrong++;
          recTotal++;
          if (p.type === r.type) recRight++;
        });
        perRec[r.type]!.push(recRight / recTotal);
        right += recRight;
        total += recTotal;
      });
      overall.push(right / total);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const row = {
      corrected_per_type: k,
      mean_pct: pct(mean(overall)),
      p5_pct: pct(quantile(overall, 0.05)),
      min_pct: pct(Math.min(...overall)),
      per_recording_mean_pct: Object.fromEntries(STROKE_TYPES.map((t) => [`${t}_x30`, pct(mean(perRec[t]!))])),
      types_changed_to_right: changedRight,
      types_changed_to_wrong: changedWrong,
    };
    rows.push(row);
    table.push(
      `${cond.padEnd(12)} k=${k}  mean ${row.mean_pct.toFixed(1).padStart(5)} %  p5 ${row.p5_pct.toFixed(1).padStart(5)}  min ${row.min_pct.toFixed(1).padStart(5)}  ` +
        STROKE_TYPES.map((t) => `${t} ${row.per_recording_mean_pct[`${t}_x30`]!.toFixed(1)}`).join('  ') +
        `  changed right/wrong ${changedRight}/${changedWrong}`,
    );
  }
  out[cond] = rows;
}
process.stderr.write(table.join('\n') + '\n');
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
