/**
 * The analysis on typed-array columns against the implementation it replaced
 * (test/analysis/reference/, the object-per-sample code unchanged): on the
 * badminton-imu recordings, on them at 200 Hz, and on an hour-like simulator
 * session, every stroke, feature row, rate and summary must be exactly equal,
 * not merely close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSamples, strokeFeatureRows } from '../../main/gateway/sessions/analysis/analyze.js';
import { estimateRateHz, measureNear } from '../../main/gateway/sessions/analysis/detect.js';
import { sortedByTime, toColumns } from '../../main/gateway/sessions/analysis/columns.js';
import { resolveOptions, STROKE_TYPES, type ImuSample } from '../../main/gateway/sessions/analysis/types.js';
import { createSwingSession } from '../../main/simulator/swing.js';
import { round3, round5 } from '../../main/gateway/sessions/export.js';
import * as ref from './reference/analyze.js';
import * as refDetect from './reference/detect.js';
import { SKIP_NO_DATASET, loadDataset, upsample } from './helpers.js';

/** Samples as the gateway stores and reads them back: float32, then rounded as samples.csv. */
function asStored(samples: readonly ImuSample[]): ImuSample[] {
  const f = Math.fround;
  return samples.map((s) => ({
    t: round3(s.t), ax: round5(f(s.ax)), ay: round5(f(s.ay)), az: round5(f(s.az)), gx: round3(f(s.gx)), gy: round3(f(s.gy)), gz: round3(f(s.gz)),
  }));
}

function sameAnalysis(samples: readonly ImuSample[], what: string): number {
  const want = ref.analyzeSamples(samples);
  assert.deepEqual(analyzeSamples(samples), want, `${what}: objects`);
  assert.deepEqual(analyzeSamples(toColumns(samples)), want, `${what}: columns`);
  assert.deepEqual(strokeFeatureRows(toColumns(samples)), ref.strokeFeatureRows(samples), `${what}: feature rows`);
  assert.equal(estimateRateHz(toColumns(samples)), refDetect.estimateRateHz(samples), `${what}: rate`);
  const o = resolveOptions();
  for (const s of want.strokes.slice(0, 20)) {
    assert.deepEqual(measureNear(toColumns(samples), s.tMs + 130, 400, o, want.rateHz), refDetect.measureNear(samples, s.tMs + 130, 400, o, want.rateHz), `${what}: measureNear`);
  }
  return want.strokes.length;
}

describe('analysis on columns = the previous implementation, on the reference recordings', { skip: SKIP_NO_DATASET }, () => {
  for (const type of STROKE_TYPES) {
    test(`${type}_x30 as recorded, and at 200 Hz as the gateway stores it`, async () => {
      const rec = await loadDataset(type);
      assert.ok(sameAnalysis(rec, `${type} 10 Hz`) >= 25);
      assert.ok(sameAnalysis(asStored(upsample(rec, 20)), `${type} 200 Hz`) >= 25);
    });
  }
});

test('analysis on columns = the previous implementation on a 20-minute 200 Hz simulator session', () => {
  const { samples } = createSwingSession({ rateHz: 200, durationS: 1200, seed: 11, strokesPerMinute: 25 });
  assert.ok(sameAnalysis(asStored(samples), 'simulator') > 300);
});

test('columns sort by time stably, as Array.prototype.sort by t does', () => {
  const rows: ImuSample[] = [5, 3, 3, 9, 1, 3, 5].map((t, i) => ({ t, ax: i, ay: 0, az: 0, gx: 0, gy: 0, gz: 0 }));
  const sorted = sortedByTime(toColumns(rows));
  const want = [...rows].sort((a, b) => a.t - b.t);
  assert.deepEqual([...sorted.t], want.map((s) => s.t));
  assert.deepEqual([...sorted.ax], want.map((s) => s.ax));
});

test('unordered times: the analysis still matches the previous one (the neighbour search is not used)', () => {
  const { samples } = createSwingSession({ rateHz: 100, durationS: 60, seed: 3, strokesPerMinute: 30 });
  const shuffled = asStored(samples);
  // Two swapped halves of a second: times no longer in order.
  const a = shuffled.splice(1000, 50);
  shuffled.splice(1100, 0, ...a);
  sameAnalysis(shuffled, 'unordered');
});
