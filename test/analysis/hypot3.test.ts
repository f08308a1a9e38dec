/**
 * hypot3 is Math.hypot of three numbers bit for bit (Object.is, so -0 and NaN
 * count): over the edges of the double range and ten million random triples
 * of the magnitudes a board sends and far beyond them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hypot3 } from '../../main/gateway/sessions/analysis/hypot3.js';

/** A seeded generator: a failure names a triple that can be found again. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

test('the edges of the double range give what Math.hypot gives', () => {
  const edge = [0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, 1e-310,
    1e-160, 1e154, 1e200, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 3, 4, 12, 0.1, 2000, Math.fround(2000 / 32768)];
  let checked = 0;
  for (const x of edge) for (const y of edge) for (const z of edge) {
    const want = Math.hypot(x, y, z);
    assert.ok(Object.is(hypot3(x, y, z), want), `hypot3(${x}, ${y}, ${z}) = ${hypot3(x, y, z)}, Math.hypot ${want}`);
    checked++;
  }
  assert.equal(checked, edge.length ** 3);
});

test('ten million random triples give what Math.hypot gives', () => {
  const r = xorshift(20261201);
  const value = (): number => {
    const k = r();
    // Float32 readings of a ±2000 dps / ±16 g board, then any magnitude from 1e-30 to 1e30.
    if (k < 0.4) return Math.fround((r() - 0.5) * 4000);
    if (k < 0.7) return Math.fround((r() - 0.5) * 32);
    return (r() - 0.5) * 10 ** (r() * 60 - 30);
  };
  let differ = 0;
  let first = '';
  for (let i = 0; i < 10_000_000; i++) {
    const x = value(), y = value(), z = value();
    if (!Object.is(hypot3(x, y, z), Math.hypot(x, y, z))) {
      if (!differ) first = `${x}, ${y}, ${z}`;
      differ++;
    }
  }
  assert.equal(differ, 0, `first: ${first}`);
});
