/**
 * The write path when the database is slow or gone. MariaDB is really shut
 * down for ten seconds under a recording session: the gateway must ack
 * nothing while it is down, the boards keep their frames, and once it is back
 * everything is written exactly once and the session completes. Then SQLite
 * with a slowed `insertChunks`: the writer reports pressure, the board
 * sockets are paused, the queue stays near its high-water mark, nothing lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ROOT } from '../support/cli.js';
import { privateMariadb } from '../support/services.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import type { SessionManager } from '../../main/gateway/sessions/manager.js';
import { AckRecorder, assertAllStored, assertSummary, operatorApi, sleep, waitFor } from './support.js';

const run = promisify(execFile);
const OUTAGE_MS = 10_000;

/** The test run's own MariaDB when the runner started one; else the local system server. */
const own = privateMariadb();

/** Asynchronous on purpose: the gateway and the boards live in this process and must keep running. */
async function mariadbDown(): Promise<void> {
  if (own) return own.stop();
  await run('mariadb-admin', ['--protocol=socket', '-uroot', 'shutdown'], { timeout: 60_000 });
}

async function mariadbUp(): Promise<void> {
  if (own) return own.start();
  await run('bash', ['.ci/start-mariadb.sh'], { cwd: ROOT, timeout: 120_000 });
}

function manager(gw: TestGateway): SessionManager {
  return gw.hooks.sampleSink as unknown as SessionManager;
}

test('MariaDB shut down for 10 s mid-session: no acks while down, nothing lost, the session completes', { timeout: 90_000 }, async (t) => {
  let gw: TestGateway | undefined;
  let fleet: Fleet | undefined;
  let down = false;
  try {
    gw = await startTestGateway({ backend: 'mysql' });
    const api = operatorApi(`http://127.0.0.1:${gw.port}`, gw.operatorToken);
    fleet = startFleet({ url: gw.url, devices: 3, prefix: 'outage-', rateHz: 200, mode: 'batch', streamAlways: false, strokesPerMinute: 60, reconnectMinMs: 100, reconnectMaxMs: 400 });
    await fleet.ready;
    const boards = fleet.boards;
    const rec = new AckRecorder(boards);
    const id = await api.create(boards.map((b) => b.deviceCode));
    rec.sessionId = id;
    await api.start(id);
    await waitFor('acks before the outage', () => rec.minPerBoard() >= 8, 10_000);

    down = true;
    await mariadbDown();
    const downAt = Date.now();
    // Writes already committed when the server went away may still be acked a moment later;
    // once a write has failed, the writer has nothing committed left to ack.
    await waitFor('a failed write', () => manager(gw!).writer.stats.failedWrites > 0, 10_000);
    const ackedWhileDown = rec.count();
    const unackedAtStart = boards.map((b) => b.unackedCount);
    const health = await gw.http('/api/health');
    assert.equal(health.status, 503, 'health reports the database as unavailable');
    await sleep(OUTAGE_MS - (Date.now() - downAt));

    assert.equal(rec.count(), ackedWhileDown, 'the gateway acked frames while the database was down');
    // Ten seconds at ten frames a second: the boards hold their frames, none dropped.
    assert.ok(boards.every((b, i) => b.unackedCount >= unackedAtStart[i]! + 80), `boards hold the outage's frames unacked: ${boards.map((b) => b.unackedCount)}`);
    assert.ok(boards.every((b) => b.connected), 'boards stay connected while the database is down');
    assert.ok(manager(gw).writer.stats.failedWrites > 0, 'the writer tried and failed while the database was down');

    await mariadbUp();
    down = false;
    // The writer retries with backoff (at most 5 s apart); then the backlog drains and is acked.
    await waitFor('backlog acked after MariaDB came back', () => boards.every((b) => b.unackedCount <= 2), 20_000);
    assert.ok(rec.count() > ackedWhileDown + 3 * 80, 'the outage backlog was acked after the restart');

    await api.stop(id);
    const done = await api.complete(id, 20_000);
    const totals = await assertAllStored(gw.store, id, boards, rec);
    t.diagnostic(`outage: ${totals.frames} frames / ${totals.samples} samples stored; ${manager(gw).writer.stats.failedWrites} failed writes; ${rec.count() - ackedWhileDown} acked after the restart`);
    assert.ok(totals.frames >= 3 * 100, `a session of about 12 s stored ${totals.frames} frames`);
    assertSummary(done.session, done.strokes, new Map((await gw.store.chunkStats(id)).map((s) => [s.deviceId, s.samples])));
  } finally {
    await fleet?.stop();
    // Later tests need MariaDB whatever happened here; the script is a no-op when it is up.
    if (down) await mariadbUp();
    await gw?.stop();
  }
});

test('SQLite with a slowed insertChunks: boards are paused near the high-water mark, nothing lost', { timeout: 60_000 }, async (t) => {
  const ingest = { batchSize: 10, highWater: 60, lowWater: 20 };
  const gw = await startTestGateway({ ingest });
  let fleet: Fleet | undefined;
  let monitor: NodeJS.Timeout | undefined;
  try {
    // A wrapper around the real store's method: the same write, 500 ms later,
    // so 20 chunks/s get written while eight boards send 160 frames/s.
    const store = gw.store as { insertChunks: typeof gw.store.insertChunks };
    const real = gw.store.insertChunks.bind(gw.store);
    let slow = true;
    let slowCalls = 0;
    store.insertChunks = async (chunks) => {
      if (slow) {
        slowCalls++;
        await sleep(500);
      }
      return real(chunks);
    };

    const api = operatorApi(`http://127.0.0.1:${gw.port}`, gw.operatorToken);
    // 1 kHz in 50 ms batches: 20 frames/s of 50 samples per board. Big frames keep the
    // per-read slack below small (see the bound), so the bound is well under what
    // three seconds without backpressure would queue (about 420).
    fleet = startFleet({ url: gw.url, devices: 8, prefix: 'slow-', rateHz: 1000, mode: 'batch', batchMs: 50, streamAlways: false, strokesPerMinute: 60 });
    await fleet.ready;
    const boards = fleet.boards;
    const rec = new AckRecorder(boards);
    const id = await api.create(boards.map((b) => b.deviceCode), 1000);
    rec.sessionId = id;

    let minFrameBytes = Infinity;
    for (const b of boards) {
      gw.core.boards.get(b.deviceCode)!.peer.ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary && data.length > 1000) minFrameBytes = Math.min(minFrameBytes, data.length);
      });
    }
    const writer = manager(gw).writer;
    let maxQueued = 0;
    let pressuredSeen = 0;
    let pausedSeen = 0;
    monitor = setInterval(() => {
      maxQueued = Math.max(maxQueued, writer.queued);
      if (writer.pressured) pressuredSeen++;
      for (const b of boards) if (gw.core.boards.get(b.deviceCode)?.peer.ws.isPaused) pausedSeen++;
    }, 2);
    await api.start(id);
    await sleep(3000);
    // pause() stops reading the socket, but ws still parses the rest of the read it is in
    // (Node reads at most 64 KiB at a time), and relief resumes every board at once: so
    // each board can add one read's worth of frames past the mark, and no more.
    const perRead = Math.ceil(65536 / minFrameBytes);
    const bound = ingest.highWater + boards.length * perRead;
    t.diagnostic(`backpressure: queue peak ${maxQueued} (high water ${ingest.highWater}, bound ${bound}, smallest frame ${minFrameBytes} B), pressured ${pressuredSeen} polls, paused socket-polls ${pausedSeen}, board backlog ${boards.map((b) => b.unackedCount)}`);
    assert.ok(slowCalls >= 4, 'the slowed store was used');
    assert.ok(pressuredSeen > 0, 'the writer reported pressure');
    assert.ok(pausedSeen > 0, 'board sockets were paused while the writer was pressured');
    assert.ok(maxQueued >= ingest.highWater, `write queue reached the high-water mark (${maxQueued})`);
    assert.ok(maxQueued <= bound, `write queue peaked at ${maxQueued}, bound ${bound}`);
    assert.ok(boards.every((b) => b.unackedCount > 20), 'the boards hold what the gateway has not read yet');

    slow = false;
    await api.stop(id);
    const done = await api.complete(id, 30_000);
    clearInterval(monitor);
    assert.ok(!writer.pressured && writer.queued === 0, 'the queue drained');
    await assertAllStored(gw.store, id, boards, rec);
    assertSummary(done.session, done.strokes, new Map((await gw.store.chunkStats(id)).map((s) => [s.deviceId, s.samples])));
  } finally {
    clearInterval(monitor);
    await fleet?.stop();
    await gw.stop();
  }
});
