/**
 * A 10 s Redis outage (SIGSTOP) under steady traffic both ways: a room client on A and one on
 * B each broadcast 20 messages a second, numbered, from 2 s before the outage to 4 s after it.
 * Counted at the receivers against what the senders sent: delivered, in order, duplicated,
 * lost, and lost-but-signalled (fleet_gap). With the default history and backlog a 10 s outage
 * loses nothing; what is lost must be signalled. A's own room mate hears A's sender throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient, type Frame } from '../support/gateway.js';
import { sleep, waitFor } from '../sessions/support.js';
import { fleetPair, roomClient } from './support.js';

const RATE_HZ = 20;
const BEFORE_MS = 2000;
const OUTAGE_MS = 10_000;
const AFTER_MS = 4000;

const f = fleetPair();

interface Heard {
  /** Sequence numbers in arrival order, and when each arrived (ms since the start). */
  seqs: number[];
  at: number[];
  gaps: Frame[];
}

function listen(c: TestClient, from: string, t0: number): Heard {
  const h: Heard = { seqs: [], at: [], gaps: [] };
  c.ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    if (f.type === 'fleet_gap') h.gaps.push(f);
    const m = typeof f.content === 'string' ? /^(\S+) (\d+)$/.exec(f.content) : null;
    if (f.type === 'message' && m && m[1] === from) {
      h.seqs.push(Number(m[2]));
      h.at.push(Date.now() - t0);
    }
  });
  return h;
}

function summary(name: string, sent: number[], sentDuring: Set<number>, h: Heard) {
  const unique = new Set(h.seqs);
  const lost = sent.filter((n) => !unique.has(n));
  const inOrder = h.seqs.every((n, i) => i === 0 || n > h.seqs[i - 1]!);
  const during = h.seqs.filter((n) => sentDuring.has(n)).length;
  return { name, lostSeqs: lost, sent: sent.length, delivered: h.seqs.length, unique: unique.size, duplicates: h.seqs.length - unique.size, lost: lost.length, inOrder, sentDuringOutage: sentDuring.size, deliveredOfThose: during, gaps: h.gaps.map((g) => g.reason) };
}

test('10 s Redis outage, 20 messages a second each way: delivered, in order, lost, signalled', { timeout: 90_000 }, async (t) => {
  const ca = await roomClient(f.a, { device_id: 'steady-a', identity: 'A', fleet_gap: true });
  const roomId = String(ca.room.room_id);
  const cb = await roomClient(f.b, { device_id: 'steady-b', identity: 'B', room_id: roomId, fleet_gap: true });
  const mateA = await roomClient(f.a, { device_id: 'steady-a2', identity: 'A2', room_id: roomId, fleet_gap: true });
  await waitFor('both in the room on both gateways', async () => ((await cb.c.ask({ type: 'query_room' }, 'room_info')).total_clients === 3 ? true : null), 10_000);
  const t0 = Date.now();
  const atB = listen(cb.c, 'A', t0);
  const atA = listen(ca.c, 'B', t0);
  const mate = listen(mateA.c, 'A', t0);
  const sentA: number[] = [];
  const sentB: number[] = [];
  const duringA = new Set<number>();
  const duringB = new Set<number>();
  let outage: 'before' | 'during' | 'after' = 'before';
  let frozenAt = 0;
  let resumedAt = 0;
  const total = BEFORE_MS + OUTAGE_MS + AFTER_MS;
  const sender = async (c: TestClient, who: string, sent: number[], during: Set<number>) => {
    // Paced against the start, so a late timer does not slow the rate.
    for (let n = 0; Date.now() - t0 < total; n++) {
      c.send({ type: 'message', content: `${who} ${n}` });
      sent.push(n);
      if (outage === 'during') during.add(n);
      await sleep(Math.max(0, t0 + ((n + 1) * 1000) / RATE_HZ - Date.now()));
    }
  };
  const control = (async () => {
    await sleep(BEFORE_MS);
    f.redis.pause();
    frozenAt = Date.now() - t0;
    outage = 'during';
    await sleep(OUTAGE_MS);
    outage = 'after';
    f.redis.resume();
    resumedAt = Date.now() - t0;
  })();
  try {
    await Promise.all([sender(ca.c, 'A', sentA, duringA), sender(cb.c, 'B', sentB, duringB), control]);
  } finally {
    f.redis.resume();
  }
  await waitFor('the receivers caught up', async () => (atB.seqs.length >= sentA.length && atA.seqs.length >= sentB.length ? true : null), 10_000).catch(() => undefined);
  await sleep(500);
  const ab = summary('A→B', sentA, duringA, atB);
  const ba = summary('B→A', sentB, duringB, atA);
  const local = summary('A→A (same gateway)', sentA, duringA, mate);
  // When the messages sent during the outage arrived, counted from the resume.
  const catchUp = (h: Heard, during: Set<number>) => {
    const times = h.seqs.flatMap((n, i) => (during.has(n) ? [h.at[i]! - resumedAt] : []));
    return times.length ? `${Math.min(...times)}..${Math.max(...times)} ms after the resume` : 'none';
  };
  t.diagnostic(`Redis frozen from ${frozenAt} to ${resumedAt} ms (${resumedAt - frozenAt} ms), ${RATE_HZ} msg/s each way for ${total} ms`);
  for (const [s, h, d] of [[ab, atB, duringA], [ba, atA, duringB], [local, mate, duringA]] as const) {
    t.diagnostic(`${s.name}: sent ${s.sent}, delivered ${s.delivered} (unique ${s.unique}, duplicates ${s.duplicates}), lost ${s.lost}${s.lost ? ` (${s.lostSeqs.join(', ')}: sent ${s.lostSeqs.map((n) => Math.round((n * 1000) / RATE_HZ)).join(', ')} ms)` : ''}, in order ${s.inOrder}; sent during the outage ${s.sentDuringOutage}, delivered ${s.deliveredOfThose} (${catchUp(h, d)}); fleet_gap: ${s.gaps.length ? s.gaps.join(', ') : 'none'}`);
  }
  for (const s of [ab, ba, local]) {
    assert.ok(s.sentDuringOutage >= (OUTAGE_MS / 1000) * RATE_HZ * 0.8, `${s.name}: the senders kept their rate during the outage (${s.sentDuringOutage})`);
    assert.equal(s.duplicates, 0, `${s.name}: duplicates`);
    assert.ok(s.inOrder, `${s.name}: out of order`);
    if (s.lost > 0) assert.ok(s.gaps.length > 0, `${s.name}: ${s.lost} lost and nothing signalled`);
  }
  // The default history (10000) and backlog (20000) are far above 10 s of this traffic.
  assert.equal(ab.lost, 0, 'A→B lost messages');
  assert.equal(ba.lost, 0, 'B→A lost messages');
  assert.equal(local.lost, 0, 'A’s own room mate lost messages');
  assert.deepEqual([...ab.gaps, ...ba.gaps], [], 'a gap was signalled where nothing was lost');
  await Promise.all([ca.c.close(), cb.c.close(), mateA.c.close()]);
});
