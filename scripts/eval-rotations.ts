/**
 * The rotation evaluation of the shipped stroke model, as JSON on stdout:
 * every badminton-imu recording turned by random rotations (a board clipped
 * on the racket another way), accuracy per rotation, its spread, the
 * confusion matrix and the stroke count per file against the truth (30).
 *
 *   node --import tsx scripts/eval-rotations.ts [--rotations N] [--seed S] [--dataset DIR]
 *
 * The default seed is not the training script's augmentation seed, so these
 * rotations are not ones the model was trained on. `synthetic_players`
 * scores simulator sessions of other players (main/simulator/players.ts).
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecordingFile } from '../main/gateway/sessions/analysis/csv.js';
import { evaluateRotations, scoreRotation, confusionMatrix, type LabelledRecording } from '../main/gateway/sessions/analysis/evaluate.js';
import { IDENTITY } from '../main/gateway/sessions/analysis/rotate.js';
import { STROKE_TYPES } from '../main/gateway/sessions/analysis/types.js';
import { evaluatePlayers } from '../main/simulator/players.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const { values } = parseArgs({
  options: {
    rotations: { type: 'string', default: '24' },
    seed: { type: 'string', default: '7001' },
    players: { type: 'string', default: '28' },
    dataset: { type: 'string' },
  },
});
const rotations = Number(values.rotations);
const seed = Number(values.seed);
const players = Number(values.players);
if (!Number.isInteger(rotations) || rotations < 1 || !Number.isInteger(seed) || !Number.isInteger(players) || players < 0) {
  process.stderr.write('eval-rotations: --rotations, --players and --seed take whole numbers (rotations >= 1)\n');
  process.exit(2);
}
const dir = resolve(values.dataset ?? join(root, '../shared/datasets/badminton-imu'));

const recordings: LabelledRecording[] = [];
for (const type of STROKE_TYPES) {
  const { recordings: r } = await readRecordingFile(join(dir, `${type}_x30.csv`));
  recordings.push({ name: `${type}_x30`, type, strokes: 30, samples: r[0]!.samples });
}
const inSampleConfusion = confusionMatrix();
const inSample = scoreRotation(recordings, IDENTITY, inSampleConfusion);
const rotated = evaluateRotations(recordings, { rotations, seed });
const synthetic = players ? evaluatePlayers({ players, seed }) : undefined;
const pct = (v: number) => Number((100 * v).toFixed(1));
process.stdout.write(
  JSON.stringify(
    {
      dataset: dir,
      in_sample: { accuracy_pct: pct(inSample.accuracy), counts: inSample.counts, confusion: inSampleConfusion },
      rotated: {
        rotations: rotated.rotations,
        seed: rotated.seed,
        mean_pct: pct(rotated.mean),
        min_pct: pct(rotated.min),
        max_pct: pct(rotated.max),
        counts_within_1: rotated.counts_within_1,
        worst_count_error: rotated.worst_count_error,
        classes: rotated.classes,
        confusion: rotated.confusion,
        per_rotation: rotated.per_rotation.map((p) => ({ ...p, accuracy_pct: pct(p.accuracy), accuracy: undefined })),
      },
      synthetic_players: synthetic && {
        ...synthetic,
        accuracy: undefined,
        accuracy_pct: pct(synthetic.accuracy),
        per_player: synthetic.per_player.map((p) => ({ ...p, accuracy: undefined, accuracy_pct: pct(p.accuracy) })),
      },
    },
    null,
    1,
  ) + '\n',
);
