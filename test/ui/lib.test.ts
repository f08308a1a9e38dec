/** Ring buffers, the QR encoder (checked by decoding what it draws), tokens in URLs, formatting. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BoardStream, SampleRing, windowArrays } from '../../renderer/src/lib/ring.js';
import {
  alignmentPositions, dataCodewordsM, dataModuleOrder, eccParamsM, encodeQr, formatBits, formatPositions, functionPatterns, gfMul, maskBit, rawDataModules,
} from '../../renderer/src/lib/qr.js';
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

/** Reads a matrix the way a scanner does once it has the grid: format bits, unmask, de-interleave, RS check, byte-mode payload. */
function decode(modules: boolean[][]): string {
  const size = modules.length;
  const version = (size - 17) / 4;
  let format = 0;
  formatPositions(size).forEach(([a], i) => {
    if (modules[a[1]]![a[0]]) format |= 1 << i;
  });
  let second = 0;
  formatPositions(size).forEach(([, b], i) => {
    if (modules[b[1]]![b[0]]) second |= 1 << i;
  });
  assert.equal(format, second, 'both format copies agree');
  const mask = [0, 1, 2, 3, 4, 5, 6, 7].find((m) => formatBits(m) === format);
  assert.ok(mask !== undefined, 'format bits are level M with a valid BCH code');
  const fn = functionPatterns(version).fn;
  const order = dataModuleOrder(fn);
  const raw = Math.floor(rawDataModules(version) / 8);
  const codewords: number[] = [];
  for (let i = 0; i < raw; i++) {
    let b = 0;
    for (let k = 0; k < 8; k++) {
      const [x, y] = order[i * 8 + k]!;
      b = (b << 1) | (modules[y]![x]! !== maskBit(mask!, x, y) ? 1 : 0);
    }
    codewords.push(b);
  }
  const { eccPerBlock, blocks } = eccParamsM(version);
  const shortBlocks = blocks - (raw % blocks);
  const shortLen = Math.floor(raw / blocks);
  const lens = Array.from({ length: blocks }, (_, i) => shortLen + (i < shortBlocks ? 0 : 1));
  const dataLens = lens.map((l) => l - eccPerBlock);
  const blockBytes: number[][] = lens.map(() => []);
  let k = 0;
  for (let i = 0; i < Math.max(...dataLens); i++) for (let j = 0; j < blocks; j++) if (i < dataLens[j]!) blockBytes[j]!.push(codewords[k++]!);
  for (let i = 0; i < eccPerBlock; i++) for (let j = 0; j < blocks; j++) blockBytes[j]!.push(codewords[k++]!);
  // Every block must be a codeword: its syndromes at alpha^0..alpha^(ecc-1) are zero.
  for (const blk of blockBytes) {
    let alpha = 1;
    for (let s = 0; s < eccPerBlock; s++) {
      let acc = 0;
      for (const c of blk) acc = gfMul(acc, alpha) ^ c;
      assert.equal(acc, 0, `syndrome ${s} of a block`);
      alpha = gfMul(alpha, 2);
    }
  }
  const data = blockBytes.flatMap((b, j) => b.slice(0, dataLens[j]));
  assert.equal(data.length, dataCodewordsM(version));
  const bits = data.flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >>> i) & 1));
  let p = 0;
  const take = (n: number) => bits.slice(p, (p += n)).reduce((a, b) => (a << 1) | b, 0);
  assert.equal(take(4), 0b0100, 'byte mode');
  const count = take(version < 10 ? 8 : 16);
  return new TextDecoder().decode(new Uint8Array(Array.from({ length: count }, () => take(8))));
}

describe('QR encoder', () => {
  for (const text of ['ws://192.168.4.2:8765/', 'http://192.168.178.23:8765/?token=QkJ2x0a9-example_token_value_1234567890', 'Courtside · 羽毛球', 'x'.repeat(300)]) {
    test(`round-trips ${JSON.stringify(text.slice(0, 40))}`, () => {
      const q = encodeQr(text);
      assert.equal(q.size, q.version * 4 + 17);
      assert.equal(decode(q.modules), text);
    });
  }

  test('finder patterns and timing are where scanners look', () => {
    const q = encodeQr('ws://10.0.0.1:8765/');
    const m = q.modules;
    for (const [x0, y0] of [[0, 0], [q.size - 7, 0], [0, q.size - 7]] as const) {
      assert.ok(m[y0]![x0] && m[y0 + 6]![x0 + 6] && m[y0 + 3]![x0 + 3] && !m[y0 + 1]![x0 + 1]);
    }
    for (let i = 8; i < q.size - 8; i++) assert.equal(m[6]![i], i % 2 === 0);
  });

  test('tables agree with the standard\'s capacities (level M)', () => {
    assert.deepEqual([1, 2, 5, 10, 20, 40].map(dataCodewordsM), [16, 28, 86, 216, 669, 2334]);
    assert.deepEqual(alignmentPositions(7), [6, 22, 38]);
    assert.deepEqual(alignmentPositions(32), [6, 34, 60, 86, 112, 138]);
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
