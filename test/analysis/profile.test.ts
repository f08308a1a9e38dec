/**
 * The player profile on the reference recordings: an empty profile is the
 * general model to the last digit, the public player's own corrected strokes
 * change none of its (right) types, and a slower player's few corrected
 * strokes fix held-out strokes the general model types wrong. The truth is
 * the file each stroke comes from.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSamples } from '../../main/gateway/sessions/analysis/analyze.js';
import { augment } from '../../main/gateway/sessions/analysis/augment.js';
import { loadDefaultModel, predict } from '../../main/gateway/sessions/analysis/classify.js';
import { adaptedPredict, compileProfile, type ProfileExample } from '../../main/gateway/sessions/analysis/profile.js';
import { axisAngle, IDENTITY, type Rotation } from '../../main/gateway/sessions/analysis/rotate.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from '../../main/gateway/sessions/analysis/types.js';
import { SKIP_NO_DATASET, loadDataset } from './helpers.js';

describe('player profile', { skip: SKIP_NO_DATASET }, () => {
  const recs = new Map<StrokeType, ImuSample[]>();
  before(async () => {
    for (const t of STROKE_TYPES) recs.set(t, await loadDataset(t));
  });
  const model = loadDefaultModel();
  const rows = (speed: number, arm: number, rotation: Rotation) =>
    STROKE_TYPES.map((type) => ({ type, ...analyzeSamples(augment(recs.get(type)!, { rotation, speed, tempo: 1, arm })) }));

  test('with no corrections the analysis is the general model\'s, field for field', () => {
    for (const [type, samples] of recs) {
      const plain = analyzeSamples(samples);
      assert.deepEqual(analyzeSamples(samples, {}, { profile: { examples: [] } }), plain, type);
      assert.equal(compileProfile(model, { examples: [] }), null);
      for (const x of plain.features) assert.deepEqual(adaptedPredict(model, null, x), { ...predict(model, x), adapted: false });
    }
  });

  test('the public player\'s own corrected strokes change none of the types', () => {
    const taught = rows(1, 1, IDENTITY);
    const examples: ProfileExample[] = taught.flatMap((r) => r.features.slice(0, 5).map((features) => ({ type: r.type, features })));
    const profile = compileProfile(model, { examples });
    for (const r of rows(1, 1, axisAngle([0, 1, 1], 100))) {
      for (const x of r.features) assert.equal(adaptedPredict(model, profile, x).type, r.type);
    }
  });

  test('five corrected strokes per type of a slower player fix most held-out strokes', () => {
    const taught = rows(0.45, 0.7, IDENTITY);
    const examples: ProfileExample[] = taught.flatMap((r) => r.features.slice(0, 5).map((features) => ({ type: r.type, features })));
    const profile = compileProfile(model, { examples });
    let general = 0;
    let adapted = 0;
    let total = 0;
    for (const r of rows(0.45, 0.7, axisAngle([2, -1, 1], 70))) {
      r.features.slice(5).forEach((x, i) => {
        total++;
        if (r.strokes[i + 5]!.type === r.type) general++;
        if (adaptedPredict(model, profile, x).type === r.type) adapted++;
      });
    }
    assert.ok(general / total < 0.7, `general ${general}/${total}`);
    assert.ok(adapted / total > 0.9, `adapted ${adapted}/${total} (general ${general})`);
  });
});
