/**
 * The durability promise across a gateway crash (once a sample is acked it
 * survives a crash of the gateway): `courtside serve` runs as a child process and is killed with
 * SIGKILL while three boards stream into a recording session; a second
 * gateway on the same port and database takes over, the boards reconnect and
 * send what was never acked, and the session completes with every sample
 * stored exactly once. Runs against SQLite and a fresh MariaDB database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startCli } from '../support/cli.js';
import { freshMysqlUrl } from '../support/mysql.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { openStore } from '../../main/gateway/store/index.js';
import { AckRecorder, assertAllStored, assertSummary, freePort, operatorApi, waitFor } from './support.js';

const TOKEN = 'crash-test-operator-token-0123';

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

async function crashCase(backend: 'sqlite' | 'mysql'): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-crash-'));
  const mysql = backend === 'mysql' ? await freshMysqlUrl() : null;
  const db = mysql ? mysql.url : join(dataDir, 'courtside.sqlite');
  const port = await freePort();
  const serve = () =>
    startCli(
      ['serve', '--host', '127.0.0.1', '--port', String(port), '--db', db, '--data-dir', dataDir, '--operator-token', TOKEN, '--log-level', 'warn'],
      /listening on 127\.0\.0\.1:(\d+)/,
    );
  const procs: ChildProcess[] = [];
  let fleet: Fleet | undefined;
  try {
    const first = await serve();
    procs.push(first.proc);
    assert.equal(Number(first.match[1]), port);
    const api = operatorApi(`http://127.0.0.1:${port}`, TOKEN);

    fleet = startFleet({
      url: `ws://127.0.0.1:${port}`,
      devices: 3,
      prefix: `crash-${backend}-`,
      rateHz: 200,
      mode: 'batch',
      batchMs: 100,
      streamAlways: false,
      // Quick reconnects keep the case short; a swing a second guarantees strokes to find.
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
      strokesPerMinute: 60,
    });
    await fleet.ready;
    const boards = fleet.boards;
    const rec = new AckRecorder(boards);
    const id = await api.create(boards.map((b) => b.deviceCode));
    rec.sessionId = id;
    await api.start(id);

    // Mid-stream: every board has had frames stored and acked, and keeps producing.
    await waitFor('acks from the first gateway', () => rec.minPerBoard() >= 8, 10_000);
    const ackedBeforeKill = rec.count();
    const producedBeforeKill = boards.map((b) => b.stats.dataFrames);
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    assert.equal(first.proc.signalCode, 'SIGKILL');

    // The boards keep sampling while the gateway is gone; nothing can be acked now.
    await waitFor('frames made while the gateway is down', () => boards.every((b, i) => b.stats.dataFrames > producedBeforeKill[i]! + 5 && b.unackedCount > 5), 10_000);
    assert.ok(boards.every((b, i) => b.stats.dataFrames > producedBeforeKill[i]! + 5), 'boards kept producing frames while the gateway was down');
    assert.ok(boards.every((b) => b.unackedCount > 5), 'the frames made while the gateway was down are held unacked');
    assert.ok(rec.count() - ackedBeforeKill <= 3 * 2, 'no acks from a dead gateway (beyond the last frames in flight)');

    const second = await serve();
    procs.push(second.proc);
    await waitFor('boards reconnected to the second gateway', () => boards.every((b) => b.connected && b.stats.reconnects >= 1), 10_000);
    // The backlog drains: what was unacked at the crash is now stored and acked by the new process.
    await waitFor('backlog acked by the second gateway', () => boards.every((b) => b.unackedCount <= 2), 10_000);
    // And live frames after the backlog, from every board, before the stop.
    const ackedAfterBacklog = boards.map((b) => rec.acked.get(b.deviceCode)!.size);
    await waitFor('new frames acked by the second gateway', () => boards.every((b, i) => rec.acked.get(b.deviceCode)!.size >= ackedAfterBacklog[i]! + 3), 10_000);

    await api.stop(id);
    const done = await api.complete(id, 20_000);
    assert.ok(boards.every((b) => !b.isStreaming), 'boards stopped streaming on stop_collection');

    second.proc.kill('SIGTERM');
    await exited(second.proc);

    // Read-side: a store of our own, opened after the gateway is gone.
    const store = await openStore(db);
    try {
      const totals = await assertAllStored(store, id, boards, rec);
      assert.ok(totals.frames > ackedBeforeKill, 'frames were stored after the restart too');
      const byBoard = new Map((await store.chunkStats(id)).map((s) => [s.deviceId, s.samples]));
      assertSummary(done.session, done.strokes, byBoard);
      assert.equal((await store.getSession(id))?.state, 'complete');
    } finally {
      await store.close();
    }
  } finally {
    await fleet?.stop();
    for (const p of procs) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await exited(p);
    }
    await mysql?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('SQLite: acked samples survive kill -9 of courtside serve; the session completes with no gap', { timeout: 60_000 }, () => crashCase('sqlite'));

test('MariaDB: acked samples survive kill -9 of courtside serve; the session completes with no gap', { timeout: 60_000 }, () => crashCase('mysql'));
