/** Ring buffers, tokens in URLs, formatting (the QR code has its own file, qr.test.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BoardStream, SampleRing, windowArrays } from '../../renderer/src/lib/ring.js';
import { takeTokenFromUrl, loadToken, saveToken } from '../../renderer/src/lib/auth.js';
import { age, ago, compact, signalWords } from '../../renderer/src/lib/format.js';
import { snapSpan } from '../../renderer/src/lib/live-charts-math.js';

describe('SampleRing', () => {
  test('keeps the newest samples in time order after wrapping', () => {
    const r = new SampleRing(5);
    for (let i = 0; i < 12; i++) r.push(i * 10, [i, 0, 0, 0, 0, -i]);
    assert.equal(r.length, 5);
    assert.equal(r.lastTime(), 110);
    const out = windowArrays(16);
    const n = r.read(out, 0, 1000, 110);
    assert.equal(n, 5);
    assert.deepEqual([...out.x.subarray(0, n)], [-0.04, -0.03, -0.02, -0.01, 0]);
    assert.deepEqual([...out.y[0]!.subarray(0, n)], [7, 8, 9, 10, 11]);
    assert.deepEqual([...out.y[5]!.subarray(0, n)], [-7, -8, -9, -10, -11]);
  });

  test('reads only the window asked for', () => {
    const r = new SampleRing(100);
    for (let i = 0; i < 100; i++) r.push(i, [i, 0, 0, 0, 0, 0]);
    const out = windowArrays(100);
    const n = r.read(out, 40, 49, 49);
    assert.equal(n, 10);
    assert.equal(out.y[0]![0], 40);
    assert.equal(out.y[0]![9], 49);
  });

  test('thinning keeps each bucket\'s extremes, in the order they happened', () => {
    const r = new SampleRing(1000);
    for (let i = 0; i < 1000; i++) r.push(i, [i === 503 ? 50 : i === 707 ? -40 : 0, 0, 0, 0, 0, 0]);
    const out = windowArrays(1000);
    const n = r.read(out, 0, 999, 999, 100);
    assert.ok(n <= 100, `points ${n}`);
    const ys = [...out.y[0]!.subarray(0, n)];
    assert.equal(Math.max(...ys), 50);
    assert.equal(Math.min(...ys), -40);
    for (let i = 1; i < n; i++) assert.ok(out.x[i]! >= out.x[i - 1]!, 'x ascending');
  });

  test('a stream drops resent samples and keeps its memory after hours of data', () => {
    const s = new BoardStream(2, 100);
    const batch = Array.from({ length: 10 }, () => [0, 0, 1, 0, 0, 0]);
    for (let k = 0; k < 36_000; k++) s.add(k * 100, 100, batch, k * 100);
    assert.equal(s.ring.capacity, 200);
    assert.equal(s.ring.length, 200);
    const v = s.ring.version;
    s.add(0, 100, batch, 0);
    assert.equal(s.ring.version, v, 'an old batch adds nothing');
    s.add(3_600_000, 400, batch, 3_600_000);
    assert.equal(s.ring.capacity, 800, 'a faster board gets a larger ring once');
  });

  test('the chart edge advances between batches and stops when the board goes quiet', () => {
    const s = new BoardStream(10, 200);
    s.add(1000, 200, [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], 5000);
    assert.equal(s.edge(5000, 150), 1005 - 150);
    assert.equal(s.edge(5100, 150), 1005 - 50);
    assert.equal(s.edge(9000, 150), 1005 + 150);
  });

  test('the y span snaps to fixed steps with hysteresis', () => {
    assert.equal(snapSpan('accel', [[0.5, -1.2]], 2), 2);
    assert.equal(snapSpan('accel', [[5]], 2), 8);
    assert.equal(snapSpan('accel', [[3.5]], 8), 8, 'does not shrink while near the smaller span');
    assert.equal(snapSpan('accel', [[1]], 8), 2);
    assert.equal(snapSpan('gyro', [[1900]], 250), 2000);
  });
});

describe('token in the URL', () => {
  test('is taken out of the address, the rest kept', () => {
    assert.deepEqual(takeTokenFromUrl('http://10.0.0.2:8765/?token=abc123def456ghi789#/live'), { token: 'abc123def456ghi789', cleanUrl: '/#/live' });
    assert.deepEqual(takeTokenFromUrl('http://h/?a=1&token=t&b=2'), { token: 't', cleanUrl: '/?a=1&b=2' });
    assert.deepEqual(takeTokenFromUrl('http://h/'), { token: null, cleanUrl: '/' });
  });

  test('is kept in storage and forgotten on sign-out; a broken storage is survived', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
    saveToken(storage, 'tok');
    assert.equal(loadToken(storage), 'tok');
    saveToken(storage, null);
    assert.equal(loadToken(storage), null);
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); }, removeItem: () => {} };
    assert.equal(loadToken(broken), null);
    saveToken(broken, 'x');
  });
});

test('formatting for people', () => {
  assert.equal(age(800), 'now');
  assert.equal(ago(12_000), '12 s ago');
  assert.equal(age(5 * 60_000), '5 min');
  assert.equal(ago(null), 'never');
  assert.equal(compact(5_900_000), '5.9M');
  assert.equal(compact(1234), '1.2k');
  assert.equal(signalWords(-60), 'good');
  assert.equal(signalWords(-80), 'weak');
});
