/**
 * SeqSet against the Set<number> it replaces: the same answers to add, has,
 * size and iteration (as a set) for streams as boards send them (in order,
 * with gaps filled later, resends, a restart from the store) and for values
 * no board should send.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeqSet } from '../../main/gateway/sessions/seq-set.js';

/** NaN last, the rest by value. */
const order = (a: number, b: number) => Number(Number.isNaN(a)) - Number(Number.isNaN(b)) || a - b;

function compare(ops: number[], probes: number[]): void {
  const truth = new Set<number>();
  const s = new SeqSet();
  for (const n of ops) {
    assert.equal(s.add(n), s);
    truth.add(n);
    assert.equal(s.size, truth.size, `size after add(${n})`);
  }
  for (const p of [...probes, ...ops]) assert.equal(s.has(p), truth.has(p), `has(${p})`);
  assert.deepEqual([...s].sort(order), [...truth].sort(order));
}

test('in order, with gaps filled later, with resends', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 200; run++) {
    const ops: number[] = [];
    const held: number[] = [];
    for (let seq = 0; seq < 300; seq++) {
      const r = rnd();
      if (r < 0.1) held.push(seq); // lost for now, resent later
      else ops.push(seq);
      if (r > 0.95 && ops.length) ops.push(ops[Math.floor(rnd() * ops.length)]!); // a resend of one already there
      if (r > 0.9 && held.length) ops.push(held.splice(Math.floor(rnd() * held.length), 1)[0]!);
    }
    if (run % 2 === 0) ops.push(...held.reverse());
    compare(ops, [-1, 0, 299, 300, 301, 1e9]);
  }
});

test('numbered from 1, or met mid-session, or first seen out of order', () => {
  compare(Array.from({ length: 500 }, (_, i) => i + 1), [0, 1, 500, 501]);
  compare([...Array.from({ length: 100 }, (_, i) => 1000 + i), ...Array.from({ length: 1000 }, (_, i) => 999 - i)], [-1, 0, 999, 1099, 1100]);
  compare([5, 0, 2, 1, 4, 3, 6, 8, 7, 8, 5], [-1, 9, 10]);
  compare([3, 7, 4, 5, 6, 1, 0, 2], [8, -1]);
});

test('a set started from stored seqs, in any order', () => {
  const seqs = [5, 3, 0, 1, 9, 2, 4, 4, 7];
  const s = new SeqSet(seqs);
  assert.equal(s.size, new Set(seqs).size);
  for (let i = -2; i < 12; i++) assert.equal(s.has(i), seqs.includes(i), `has(${i})`);
});

test('values no board should send are members like any other', () => {
  compare([0, 1, -1, 2.5, 2, NaN, 3, -0, 1e21, 2 ** 53, 4, 2.5], [0.5, -2, 2.5, Infinity, 1e21 + 1, NaN]);
  compare([NaN, -1, 2 ** 53, 2.5, 7, 6, 8, -1, 5.5], [5, 5.5, 6, 6.5, 9]);
  compare([2 ** 53 - 1, 2 ** 53 - 2, 2 ** 53], [2 ** 53 + 1, 2 ** 53 - 3]);
  compare([2 ** 53, 2 ** 53 - 3, 2 ** 53 - 1, 2 ** 53 - 2], [2 ** 53 + 2]);
});
