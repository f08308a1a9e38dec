/**
 * Strokes found while recording, against the simulator's swings: fed frame
 * by frame as a board sends them, every swing whose whole motion arrived is
 * told once, at its peak's time, with its type and speed; a frame sent again
 * changes nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSwingSession, type StrokeSpec } from '../../main/simulator/swing.js';
import { LiveStrokes } from '../../main/gateway/sessions/live-strokes.js';
import type { LiveStroke } from '../../firmware-protocol/index.js';
import type { IncomingBatch } from '../../main/gateway/samples.js';

const RATE = 200;
const SCHEDULE: StrokeSpec[] = [
  { t: 2000, type: 'smash', peakDps: 1700 },
  { t: 4500, type: 'clear', peakDps: 1450 },
  { t: 7000, type: 'drive', peakDps: 600 },
  { t: 9500, type: 'lift', peakDps: 1100 },
  { t: 12000, type: 'smash', peakDps: 1850 },
  { t: 14500, type: 'clear', peakDps: 1300 },
];

/** The session as a board sends it: a frame every 100 ms. */
function frames(startMs: number, rate = RATE): IncomingBatch[] {
  const { samples } = createSwingSession({ rateHz: rate, durationS: 17, seed: 5, strokes: SCHEDULE });
  const out: IncomingBatch[] = [];
  for (let i = 0, seq = 0; i < samples.length; i += rate / 10, seq++) {
    const part = samples.slice(i, i + rate / 10);
    out.push({ deviceId: 'racket-1', sessionId: 's-1', seq, startMs: startMs + part[0]!.t, rateHz: rate, samples: part.map((s) => [s.ax, s.ay, s.az, s.gx, s.gy, s.gz]) });
  }
  return out;
}

describe('live strokes', () => {
  for (const rate of [RATE, 1000]) test(`every swing once, at its peak, with its type and speed, as the frames arrive (${rate} Hz)`, () => {
    const seen: { device: string; stroke: LiveStroke; count: number; afterFrame: number }[] = [];
    let at = 0;
    const live = new LiveStrokes((_s, device, stroke, count) => seen.push({ device, stroke, count, afterFrame: at }));
    const start = 1_732_212_000_000;
    const list = frames(start, rate);
    for (const [i, f] of list.entries()) {
      at = i;
      live.push('s-1', f);
      // A frame the board sends again (after a reconnect) is not counted twice.
      if (i % 7 === 3) live.push('s-1', f);
    }
    assert.deepEqual(seen.map((s) => s.count), SCHEDULE.map((_, i) => i + 1));
    for (const [i, truth] of SCHEDULE.entries()) {
      const got = seen[i]!;
      assert.equal(got.device, 'racket-1');
      assert.ok(Math.abs(got.stroke.t_ms - (start + truth.t)) <= 30, `stroke ${i}: at ${got.stroke.t_ms - start} ms, swung at ${truth.t}`);
      assert.equal(got.stroke.type, truth.type, `stroke ${i}`);
      assert.ok(Math.abs(got.stroke.peak_dps - truth.peakDps!) / truth.peakDps! < 0.1, `stroke ${i}: ${got.stroke.peak_dps} dps, swung at ${truth.peakDps}`);
      assert.ok(got.stroke.speed_kmh > 0);
      // Told within about 1.5 s of the peak: live, not at the end.
      const toldAtMs = (got.afterFrame + 1) * 100;
      assert.ok(toldAtMs - truth.t <= 1500 && toldAtMs > truth.t, `stroke ${i} told at ${toldAtMs} ms`);
    }
    // Faster swings read faster.
    assert.ok(seen[4]!.stroke.speed_kmh > seen[2]!.stroke.speed_kmh);
  });

  test('a forgotten session starts again from nothing; boards are counted apart', () => {
    const counts: string[] = [];
    const live = new LiveStrokes((s, device, _st, count) => counts.push(`${s}/${device}/${count}`));
    const list = frames(0);
    for (const f of list.slice(0, 60)) {
      live.push('s-1', f);
      live.push('s-1', { ...f, deviceId: 'racket-2' });
    }
    assert.deepEqual(counts, ['s-1/racket-1/1', 's-1/racket-2/1', 's-1/racket-1/2', 's-1/racket-2/2']);
    live.forget('s-1');
    for (const f of list.slice(0, 40)) live.push('s-1', f);
    assert.equal(counts.at(-1), 's-1/racket-1/1');
  });
});
