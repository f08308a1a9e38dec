/**
 * The in-memory status history stays bounded three ways: entries a board,
 * boards, and entries over all boards (a fleet heartbeating for hours). The
 * truth is a plain record of what each board pushed, in order: whatever is
 * kept of a board is always its newest entries, contiguous, and the counts
 * add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoardHistory, HISTORY_PER_BOARD, Ring } from '../../main/gateway/board-history.js';

/** Pushes `rounds` entries to each of `boards` boards round-robin, and what each board was sent. */
function fill(ring: Ring<{ n: number }>, boards: number, rounds: number): Map<string, number[]> {
  const sent = new Map<string, number[]>();
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (let b = 0; b < boards; b++) {
      const id = `b${b}`;
      ring.push(id, { n });
      (sent.get(id) ?? sent.set(id, []).get(id)!).push(n++);
    }
  }
  return sent;
}

function assertNewestKept(ring: Ring<{ n: number }>, sent: Map<string, number[]>): number {
  let sum = 0;
  for (const [id, all] of sent) {
    const kept = ring.of(id).map((e) => e.n);
    assert.deepEqual(kept, all.slice(all.length - kept.length), `${id} keeps its newest entries, in order`);
    sum += kept.length;
  }
  assert.equal(ring.size, sum, 'the total counts what every board keeps');
  return sum;
}

test('entries a board: the newest are kept', () => {
  const ring = new Ring<{ n: number }>(10, 100, 10_000);
  const sent = fill(ring, 3, 25);
  assert.equal(assertNewestKept(ring, sent), 30);
  for (const id of sent.keys()) assert.equal(ring.of(id).length, 10);
});

test('entries over all boards: never past the cap; the board heard longest ago gives up entries first', () => {
  const ring = new Ring<{ n: number }>(50, 1000, 200);
  let max = 0;
  const sent = new Map<string, number[]>();
  let n = 0;
  for (let r = 0; r < 40; r++) {
    for (let b = 0; b < 20; b++) {
      const id = `b${b}`;
      ring.push(id, { n });
      (sent.get(id) ?? sent.set(id, []).get(id)!).push(n++);
      max = Math.max(max, ring.size);
    }
  }
  assert.ok(max <= 200, `at most 200 entries at any time, saw ${max}`);
  const total = assertNewestKept(ring, sent);
  assert.ok(total > 100, `the cap is used, not emptied: ${total}`);
  // Every board heard in the last round still has its last entry.
  for (const [id, all] of sent) assert.equal(ring.of(id).at(-1)?.n, all.at(-1), id);
  // The board heard last keeps at least as much as the one heard longest ago.
  assert.ok(ring.of('b19').length >= ring.of('b0').length);
});

test('boards: past the cap the board heard longest ago is forgotten, and its entries leave the total', () => {
  const ring = new Ring<{ n: number }>(10, 5, 10_000);
  const sent = fill(ring, 5, 3);
  ring.push('b5', { n: 100 });
  ring.push('b6', { n: 101 });
  sent.set('b5', [100]).set('b6', [101]);
  assert.deepEqual([...sent.keys()].filter((id) => ring.of(id).length > 0), ['b2', 'b3', 'b4', 'b5', 'b6']);
  sent.delete('b0');
  sent.delete('b1');
  assert.equal(assertNewestKept(ring, sent), 3 * 3 + 2);
});

test('a board page reads the same through BoardHistory after the caps', () => {
  const h = new BoardHistory();
  for (let i = 0; i < HISTORY_PER_BOARD + 20; i++) h.heartbeat('racket-1', 1_000 + i * 1000, 80 - (i % 3), -50);
  const page = h.statusPage('racket-1', 5);
  assert.deepEqual(page.items.map((e) => e.at), [0, 1, 2, 3, 4].map((k) => 1_000 + (HISTORY_PER_BOARD + 19 - k) * 1000));
  assert.equal(page.more, true);
  assert.equal(h.statusPage('racket-1', 10_000).items.length, HISTORY_PER_BOARD);
});
