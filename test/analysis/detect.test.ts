/**
 * Detector and CSV reader on hand-made inputs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSamples } from '../../main/gateway/sessions/analysis/analyze.js';
import { estimateRateHz } from '../../main/gateway/sessions/analysis/detect.js';
import { formatCourtsideCsv, parseRecording, RecordingFormatError } from '../../main/gateway/sessions/analysis/csv.js';
import type { ImuSample } from '../../main/gateway/sessions/analysis/types.js';

/** Quiet racket with Gaussian gyro bursts (peak dps at ms) on the x axis. */
function bursts(rateHz: number, durationMs: number, peaks: { t: number; dps: number; widthMs?: number }[]): ImuSample[] {
  const out: ImuSample[] = [];
  for (let t = 0; t < durationMs; t += 1000 / rateHz) {
    let gx = 0;
    for (const p of peaks) gx += p.dps * Math.exp(-(((t - p.t) / (p.widthMs ?? 60)) ** 2) / 2);
    out.push({ t, ax: 0, ay: 0, az: -1, gx, gy: 0, gz: 0 });
  }
  return out;
}

describe('detector', () => {
  test('rate from the median interval survives jitter and dropped samples', () => {
    const s = bursts(250, 4000, []);
    const jittered = s.filter((_, i) => i % 17 !== 0).map((x, i) => ({ ...x, t: x.t + (((i * 7919) % 13) - 6) / 15 }));
    assert.ok(Math.abs(estimateRateHz(jittered) - 250) < 10);
    assert.equal(estimateRateHz([]), 0);
  });

  test('no strokes in silence, in a short recording, or below threshold', () => {
    assert.equal(analyzeSamples([]).strokes.length, 0);
    assert.equal(analyzeSamples(bursts(100, 5000, [])).summary.count, 0);
    assert.equal(analyzeSamples(bursts(100, 5000, [{ t: 2000, dps: 200 }])).summary.count, 0);
    const empty = analyzeSamples(bursts(100, 5000, []));
    assert.deepEqual(empty.summary, {
      count: 0, durationS: 4.99, strokesPerMinute: 0, maxSpeedKmh: 0, medianSpeedKmh: 0,
      countsByType: { clear: 0, drive: 0, lift: 0, smash: 0, unknown: 0 },
    });
  });

  test('refractory and burst merging: echo peaks are one stroke, rested strokes are two', () => {
    // 250 ms apart: inside the refractory period.
    assert.equal(analyzeSamples(bursts(500, 4000, [{ t: 1500, dps: 900 }, { t: 1750, dps: 600 }])).summary.count, 1);
    // 600 ms apart with no rest between (wide bursts overlap): one swing.
    const joined = bursts(500, 4000, [{ t: 1500, dps: 900, widthMs: 150 }, { t: 2100, dps: 500, widthMs: 150 }]);
    assert.equal(analyzeSamples(joined).summary.count, 1);
    // 1.2 s apart with quiet between: two strokes, at the right times and speeds.
    const two = analyzeSamples(bursts(500, 4000, [{ t: 1000, dps: 900 }, { t: 2200, dps: 1200 }]));
    assert.deepEqual(two.strokes.map((s) => s.tMs), [1000, 2200]);
    assert.ok(Math.abs(two.strokes[1]!.peakDps - 1200) < 1);
    const kmh = ((1200 * Math.PI) / 180) * 0.6 * 3.6;
    assert.ok(Math.abs(two.summary.maxSpeedKmh - kmh) < 0.01);
  });

  test('options change detection in ms, whatever the rate', () => {
    for (const rate of [50, 200, 1000]) {
      const s = bursts(rate, 4000, [{ t: 1000, dps: 900 }, { t: 1500, dps: 800 }]);
      assert.equal(analyzeSamples(s).summary.count, 2, `${rate} Hz default`);
      assert.equal(analyzeSamples(s, { refractoryMs: 600 }).summary.count, 1, `${rate} Hz refractory 600`);
    }
  });

  test('saturation flags an axis at full scale near the peak, gyro or accel', () => {
    const clipped = bursts(200, 4000, [{ t: 2000, dps: 2500 }]).map((s) => ({ ...s, gx: Math.min(s.gx, 2000) }));
    assert.equal(analyzeSamples(clipped).strokes[0]!.saturated, true);
    const hit = bursts(200, 4000, [{ t: 2000, dps: 1200 }]).map((s) => (s.t === 2100 ? { ...s, az: -16 } : s));
    const r = analyzeSamples(hit).strokes[0]!;
    assert.equal(r.saturated, true);
    assert.equal(r.peakG, 16);
    // 400 ms after the peak is outside the stroke window.
    const late = bursts(200, 4000, [{ t: 2000, dps: 1200 }]).map((s) => (s.t === 2400 ? { ...s, az: -16 } : s));
    assert.equal(analyzeSamples(late).strokes[0]!.saturated, false);
  });
});

describe('csv', () => {
  const latin1Header = Buffer.concat([
    Buffer.from('Date,Time,Accel_X (g),Accel_Y (g),Accel_Z (g),Gyro_X ('),
    Buffer.from([0xb0]),
    Buffer.from('/s),Gyro_Y (\u00b0/s),Gyro_Z (x),Mag_X (G),Mag_Y (G),Mag_Z (G),Timestamp (s)\r\n', 'latin1'),
  ]);

  test('dataset layout with the Latin-1 degree byte and CRLF', () => {
    const rows = [
      '2025-10-20,13:09:12.597,0.07,-0.90,-0.30,35.6,-18.0,9.5,0.11,-0.36,0.21,4.0',
      '2025-10-20,13:09:12.698,0.14,-0.88,-0.43,8.8,1.0,4.8,0.10,-0.37,0.21,104.0',
      '2025-10-20,13:09:12.795,0.17,-0.89,-0.61,-8.2,-13.8,6.7,0.09,-0.38,0.21,204.0',
    ];
    const parsed = parseRecording(Buffer.concat([latin1Header, Buffer.from(rows.join('\r\n') + '\r\n')]));
    assert.equal(parsed.format, 'dataset');
    assert.equal(parsed.recordings.length, 1);
    assert.equal(parsed.recordings[0]!.device, null);
    assert.deepEqual(parsed.recordings[0]!.samples[1], { t: 104, ax: 0.14, ay: -0.88, az: -0.43, gx: 8.8, gy: 1.0, gz: 4.8 });
  });

  test('dataset Timestamp really in seconds is scaled, judged by the clock column', () => {
    const rows = ['2025-10-20,13:09:12.500,0,0,-1,0,0,0,0,0,0,0.5', '2025-10-20,13:09:12.600,0,0,-1,0,0,0,0,0,0,0.6'];
    const parsed = parseRecording(Buffer.concat([latin1Header, Buffer.from(rows.join('\n'))]));
    assert.deepEqual(parsed.recordings[0]!.samples.map((s) => s.t), [500, 600]);
  });

  test('courtside layout: devices split, rows sorted, bad rows counted', () => {
    const text = [
      'device,time,ax,ay,az,gx,gy,gz',
      'b2,20,0,0,-1,0,0,5',
      'b1,10,0,0,-1,1,2,3',
      'b1,0,0,0,-1,4,5,6',
      'b1,x,0,0,-1,4,5,6',
      'b2,30,0,0,-1,0,0',
      '',
    ].join('\n');
    const parsed = parseRecording(text);
    assert.equal(parsed.format, 'courtside');
    assert.equal(parsed.skippedRows, 2);
    assert.deepEqual(parsed.recordings.map((r) => [r.device, r.samples.map((s) => s.t)]), [['b2', [20]], ['b1', [0, 10]]]);
  });

  test('round trip through the courtside export', () => {
    const samples = bursts(100, 300, [{ t: 100, dps: 500 }]);
    const back = parseRecording(formatCourtsideCsv('racket-7', samples));
    assert.deepEqual(back.recordings[0]!.samples, samples);
    assert.equal(back.recordings[0]!.device, 'racket-7');
  });

  test('unknown header and empty input are format errors', () => {
    assert.throws(() => parseRecording('a,b,c\n1,2,3\n'), RecordingFormatError);
    assert.throws(() => parseRecording('\n\n'), RecordingFormatError);
  });
});
