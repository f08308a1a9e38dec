/**
 * Simulator sessions at realistic board rates, with known strokes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSamples } from '../../main/gateway/sessions/analysis/analyze.js';
import { createImuSource, createSwingSession } from '../../main/simulator/swing.js';
import { matchStrokes } from './helpers.js';

describe('synthetic sessions', () => {
  for (const rateHz of [200, 1000]) {
    // Measured over seeds 1-6 (2 min, 30/min): every count exact, 99.7 % of types right.
    test(`${rateHz} Hz: counts within 1, types >= 90 %, peak speed within 5 %`, () => {
      for (const seed of [11, 12]) {
        const { samples, truth } = createSwingSession({ rateHz, durationS: 90, seed, strokesPerMinute: 30 });
        const { strokes, rateHz: estimated } = analyzeSamples(samples);
        assert.ok(Math.abs(estimated - rateHz) / rateHz < 0.01, `rate ${estimated}`);
        assert.ok(truth.length >= 40, `${truth.length} true strokes`);
        assert.ok(Math.abs(strokes.length - truth.length) <= 1, `seed ${seed}: ${strokes.length} vs ${truth.length}`);
        const m = matchStrokes(truth, strokes);
        assert.ok(m.missed.length <= 1, `missed ${JSON.stringify(m.missed)}`);
        assert.ok(m.typeAccuracy >= 0.9, `type accuracy ${m.typeAccuracy}`);
        for (const { truth: tr, stroke } of m.matched) {
          if (tr.type === 'drive') continue; // two near-equal peaks: either may be reported
          assert.ok(Math.abs(stroke.peakDps / tr.peakDps - 1) < 0.05, `${stroke.peakDps} vs ${tr.peakDps}`);
        }
      }
    });
  }

  test('rate independence: one seed at 200 and 1000 Hz gives the same strokes', () => {
    const strokes = [
      { t: 2000, type: 'smash' as const },
      { t: 4200, type: 'lift' as const },
      { t: 6500, type: 'clear' as const },
      { t: 8600, type: 'drive' as const },
      { t: 10800, type: 'smash' as const },
      { t: 13000, type: 'lift' as const },
    ];
    const slow = analyzeSamples(createSwingSession({ rateHz: 200, durationS: 15, seed: 5, strokes }).samples);
    const fast = analyzeSamples(createSwingSession({ rateHz: 1000, durationS: 15, seed: 5, strokes }).samples);
    assert.deepEqual(slow.strokes.map((s) => s.type), strokes.map((s) => s.type));
    assert.deepEqual(fast.strokes.map((s) => s.type), strokes.map((s) => s.type));
    slow.strokes.forEach((s, i) => {
      const f = fast.strokes[i]!;
      assert.ok(Math.abs(s.tMs - f.tMs) < 15, `#${i} at ${s.tMs} vs ${f.tMs}`);
      assert.ok(Math.abs(s.peakDps / f.peakDps - 1) < 0.03);
      assert.ok(Math.abs(s.peakG / f.peakG - 1) < 0.1);
    });
  });

  test('saturation: a smash past 2000 dps clips and is flagged, the others are not', () => {
    const { samples } = createSwingSession({
      rateHz: 500,
      durationS: 10,
      seed: 3,
      strokes: [
        { t: 2000, type: 'smash', peakDps: 2600 },
        { t: 4500, type: 'clear', peakDps: 1500 },
        { t: 7000, type: 'drive' },
      ],
    });
    for (const s of samples) for (const v of [s.gx, s.gy, s.gz]) assert.ok(Math.abs(v) <= 2000);
    const { strokes } = analyzeSamples(samples);
    assert.deepEqual(strokes.map((s) => s.saturated), [true, false, false]);
    assert.ok(strokes[0]!.peakDps < 2600, 'a clipped peak reads low');
    // The flag follows the configured ranges (this smash also clips the ±16 g accelerometer).
    const wide = analyzeSamples(samples, { gyroFullScaleDps: 4000, accelFullScaleG: 32 });
    assert.equal(wide.strokes[0]!.saturated, false);
  });

  test('same seed, same samples; another seed, other samples', () => {
    const a = createSwingSession({ rateHz: 100, durationS: 8, seed: 42, strokesPerMinute: 20 });
    const b = createSwingSession({ rateHz: 100, durationS: 8, seed: 42, strokesPerMinute: 20 });
    const c = createSwingSession({ rateHz: 100, durationS: 8, seed: 43, strokesPerMinute: 20 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.samples, c.samples);
  });

  test('streaming source: plausible values, monotonic time, strokes found', () => {
    const src = createImuSource({ rateHz: 400, seed: 9, strokesPerMinute: 24 });
    const samples = Array.from({ length: 400 * 60 }, () => src.next());
    let idleAccel = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      if (i) assert.ok(s.t > samples[i - 1]!.t);
      for (const v of [s.ax, s.ay, s.az]) assert.ok(Math.abs(v) <= 16);
      for (const v of [s.gx, s.gy, s.gz]) assert.ok(Math.abs(v) <= 2000);
      if (i < 400) idleAccel += Math.hypot(s.ax, s.ay, s.az) / 400;
    }
    assert.ok(Math.abs(idleAccel - 1) < 0.15, `gravity at rest reads ${idleAccel} g`);
    const end = samples[samples.length - 1]!.t;
    // Only strokes fully inside the minute: one at the very end may be cut.
    const truth = src.truth().filter((s) => s.t < end - 1200);
    const found = analyzeSamples(samples).strokes.filter((s) => s.tMs < end - 1200);
    assert.ok(truth.length >= 18, `${truth.length} strokes`);
    assert.ok(Math.abs(found.length - truth.length) <= 1, `${found.length} vs ${truth.length}`);
    assert.ok(matchStrokes(truth, found).typeAccuracy >= 0.9);
  });
});
