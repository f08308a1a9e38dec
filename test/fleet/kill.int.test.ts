/**
 * A session across a fleet, and kill -9 of one of its gateways: three `courtside serve`
 * processes on one real Redis and one MariaDB database, six virtual boards spread over them
 * (each knows the others' addresses, as firmware with several gateways does), a session
 * created and started on the first gateway for boards the other two hold. Mid-session the
 * second gateway is frozen (so frames are in flight, unacked) and killed with SIGKILL; its boards reconnect to another gateway and send
 * again what was never acked; the session is stopped through the third gateway. The
 * database is then read with its own client, not through any gateway: every acked sample is
 * stored exactly once and every board's seqs run 0..final without a gap.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { VirtualBoard } from '../../main/simulator/board.js';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';
import { AckRecorder, operatorApi, waitFor } from '../sessions/support.js';
import { startOwnRedis, startServe, TOKEN, type ServeProc, type TestRedis } from './support.js';

let redis: TestRedis;
let db: FreshMysql;
const gws: ServeProc[] = [];
const boards: VirtualBoard[] = [];

before(async () => {
  redis = await startOwnRedis();
  db = await freshMysqlUrl();
  // One at a time: the first creates the schema.
  for (let i = 0; i < 3; i++) gws.push(await startServe({ redis: redis.url, db: db.url }));
});

after(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  await Promise.all(gws.map((g) => g.stop()));
  await redis?.stop();
  await db?.drop();
});

test('kill -9 of a gateway mid-session: its boards move to another, every acked sample stored exactly once', { timeout: 90_000 }, async () => {
  const [a, b, c] = gws as [ServeProc, ServeProc, ServeProc];
  for (let i = 0; i < 6; i++) {
    const home = gws[i % 3]!;
    const others = [1, 2].map((k) => gws[(i + k) % 3]!.url);
    boards.push(new VirtualBoard({ url: home.url, fallbackUrls: others, deviceCode: `fk-${i}`, rateHz: 200, mode: 'batch', batchMs: 100, reconnectMinMs: 100, reconnectMaxMs: 400, strokesPerMinute: 60 }));
  }
  await Promise.all(boards.map((x) => x.start()));
  const onB = boards.filter((_, i) => i % 3 === 1);
  const rec = new AckRecorder(boards);
  const apiA = operatorApi(a.http, TOKEN);
  const apiC = operatorApi(c.http, TOKEN);

  // Created and started on A; four of the six boards are on B and C.
  const id = await apiA.create(boards.map((x) => x.deviceCode));
  rec.sessionId = id;
  await apiA.start(id);
  await waitFor('acks from every board on all three gateways', () => rec.minPerBoard() >= 8, 15_000);

  // Frames in flight at the kill: B is frozen first, so what its boards send meanwhile reaches
  // its socket and is never acked; then killed.
  b.proc.kill('SIGSTOP');
  await waitFor('frames sent to the frozen gateway, unacked', () => onB.every((x) => x.unackedCount >= 5), 10_000);
  const unackedAtKill = onB.map((x) => x.unackedCount);
  const sentBeforeKill = onB.map((x) => x.stats.framesSent);
  b.proc.kill('SIGKILL');
  await new Promise((r) => (b.proc.exitCode !== null || b.proc.signalCode !== null ? r(null) : b.proc.once('exit', r)));
  assert.equal(b.proc.signalCode, 'SIGKILL');

  await waitFor('B’s boards reconnected to A or C', () => onB.every((x) => x.connected && x.stats.reconnects >= 1 && !x.endpoint.includes(`:${b.port}/`)), 15_000);
  await waitFor('their backlog acked by the new gateway', () => onB.every((x) => x.unackedCount <= 2), 15_000);
  const after = onB.map((x) => rec.acked.get(x.deviceCode)!.size);
  await waitFor('new frames acked after the move', () => onB.every((x, i) => rec.acked.get(x.deviceCode)!.size >= after[i]! + 5), 15_000);
  const resent = onB.reduce((n, x) => n + x.stats.resent, 0);
  assert.ok(onB.every((x, i) => x.stats.framesSent > sentBeforeKill[i]!), 'the moved boards sent again');
  assert.ok(resent > 0, 'frames sent to the killed gateway were sent again to the new one');

  // Stopped through C, which neither started the session nor held most of its boards.
  await apiC.stop(id);
  const done = await apiA.complete(id, 30_000);
  assert.equal(done.session.state, 'complete');
  assert.ok(boards.every((x) => !x.isStreaming), 'every board stopped on stop_collection');

  // The database, read with its own client.
  const conn = await mysql.createConnection(db.url);
  try {
    const [rows] = (await conn.query('SELECT device_id, seq, COUNT(*) AS n, SUM(`count`) AS samples FROM sample_chunks WHERE session_id = ? GROUP BY device_id, seq ORDER BY device_id, seq', [id])) as unknown as [{ device_id: string; seq: number; n: number; samples: string }[]];
    const [finals] = (await conn.query('SELECT device_id, final_seq FROM session_boards WHERE session_id = ?', [id])) as unknown as [{ device_id: string; final_seq: number }[]];
    const [[state]] = (await conn.query('SELECT state FROM sessions WHERE session_id = ?', [id])) as unknown as [{ state: string }[]];
    assert.equal(state!.state, 'complete');
    let storedFrames = 0;
    let ackedFrames = 0;
    let storedSamples = 0;
    for (const x of boards) {
      const mine = rows.filter((r) => r.device_id === x.deviceCode);
      const final = finals.find((f) => f.device_id === x.deviceCode)?.final_seq;
      assert.ok(final !== undefined, `${x.deviceCode}: a final seq`);
      assert.equal(final, x.stats.dataFrames - 1, `${x.deviceCode}: final seq is the board's last`);
      assert.deepEqual(mine.map((r) => Number(r.seq)), Array.from({ length: final + 1 }, (_, i) => i), `${x.deviceCode}: seqs 0..${final}, no gap`);
      assert.ok(mine.every((r) => Number(r.n) === 1), `${x.deviceCode}: a seq stored twice`);
      const stored = new Set(mine.map((r) => Number(r.seq)));
      const acked = [...rec.acked.get(x.deviceCode)!];
      assert.deepEqual(acked.filter((s) => !stored.has(s)), [], `${x.deviceCode}: acked but not stored`);
      const samples = mine.reduce((n, r) => n + Number(r.samples), 0);
      assert.equal(samples, x.stats.samples, `${x.deviceCode}: stored samples vs samples the board made`);
      assert.equal(x.stats.dropped, 0);
      storedFrames += mine.length;
      ackedFrames += acked.length;
      storedSamples += samples;
    }
    console.log(`# kill -9: 3 gateways, 6 boards (2 on the killed one, ${unackedAtKill.join('+')} frames unacked at the kill, ${resent} resent after the move); ${ackedFrames} frames acked, ${storedFrames} stored once each (${storedSamples} samples), 0 twice, 0 acked-but-lost`);
  } finally {
    await conn.end();
  }
});
