/**
 * A frozen disk under SQLite: the database file lives on a loop-mounted ext4
 * that `fsfreeze` stops for 8 s while a board records, with the store's
 * default settings (WAL with its shared-memory index, other processes welcome). The gateway must stay
 * responsive (health within 1 s, saying `degraded` and why; heartbeats
 * answered), ack nothing it could not commit, and store every acked frame
 * once the disk thaws, where another process reads them from the same file.
 * Needs root (mount, fsfreeze), as CI has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestGateway, TestClient } from '../support/gateway.js';
import { operatorApi, sleep, waitFor } from '../sessions/support.js';

function canFreeze(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for mount and fsfreeze';
  try {
    execFileSync('fsfreeze', ['--help'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'fsfreeze is not installed';
  }
}

const why = canFreeze();
if (why !== null && process.env.CI === 'true') throw new Error(`frozen-disk test cannot run in CI: ${why}`);

test('SQLite on a frozen disk: health answers within 1 s (degraded), heartbeats go on, nothing acked is lost', { skip: why ?? false, timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-freeze-'));
  const img = join(dir, 'disk.img');
  const mnt = join(dir, 'mnt');
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', img]);
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  let frozen = false;
  const thaw = () => {
    if (!frozen) return;
    frozen = false;
    try {
      execFileSync('fsfreeze', ['-u', mnt], { stdio: 'ignore' });
    } catch {
      // Thawed already (by an operator, or a watchdog).
    }
  };
  const gw = await startTestGateway({ db: join(mnt, 'courtside.sqlite'), heartbeatIntervalMs: 0, storeWatch: { lateMs: 500 } });
  try {
    const api = operatorApi(`http://127.0.0.1:${gw.port}`, gw.operatorToken);
    const id = await api.create(['frozen-1']);
    const board = await TestClient.connect(`${gw.url}/ws/esp32/frozen-1/`);
    await board.next('connection_established');
    await api.start(id);
    const cmd = await board.next('command');
    board.send({ type: 'command_ack', command_id: cmd.command_id, ok: true });
    await waitFor('recording', async () => (await api.get(id)).session.state === 'recording', 3000);

    const acked = new Set<number>();
    board.ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { type: string; seq?: number; stored?: boolean };
      if (f.type === 'data_ack' && f.stored) acked.add(f.seq!);
    });
    let seq = 0;
    const send = () => board.send({ type: 'batch_sensor_data', seq: seq++, start_ms: seq * 50, rate_hz: 200, samples: Array.from({ length: 10 }, () => [0, 0, 1, 5, 5, 5]) });
    for (let i = 0; i < 20; i++) send();
    await waitFor('acks before the freeze', () => acked.size >= 20, 5000);

    execFileSync('fsfreeze', ['-f', mnt]);
    frozen = true;
    const frozenAt = Date.now();
    // Commits the freeze waited for may still be acked a moment later.
    await sleep(300);
    const ackedAtFreeze = acked.size;
    const health: { ms: number; status: number; body: { status: string; reason?: string } }[] = [];
    const heartbeats: number[] = [];
    while (Date.now() - frozenAt < 8000) {
      send();
      const t0 = Date.now();
      const r = await fetch(`http://127.0.0.1:${gw.port}/api/health`, { signal: AbortSignal.timeout(1000) });
      health.push({ ms: Date.now() - t0, status: r.status, body: (await r.json()) as { status: string; reason?: string } });
      const h0 = Date.now();
      await board.ask({ type: 'heartbeat' }, 'heartbeat_ack');
      heartbeats.push(Date.now() - h0);
      await sleep(200);
    }
    const ackedWhileFrozen = acked.size - ackedAtFreeze;
    thaw();
    const worst = Math.max(...health.map((h) => h.ms));
    t.diagnostic(`frozen 8 s: ${health.length} health answers, slowest ${worst} ms, last ${JSON.stringify(health.at(-1)!.body)}; heartbeat round trips max ${Math.max(...heartbeats)} ms; acks while frozen ${ackedWhileFrozen}`);
    assert.ok(worst < 1000, `health answered within 1 s (slowest ${worst} ms)`);
    const late = health.filter((h) => h.status === 503 && h.body.status === 'degraded' && /late|did not answer/.test(h.body.reason ?? ''));
    assert.ok(late.length >= health.length / 2, `health said degraded with a reason while frozen: ${JSON.stringify(health.map((h) => h.body.reason ?? h.body.status))}`);
    assert.ok(Math.max(...heartbeats) < 1000, 'heartbeats were answered while the disk was frozen');
    assert.ok(ackedWhileFrozen === 0, `nothing was acked while the disk was frozen (${ackedWhileFrozen})`);

    await waitFor('every frame acked after the thaw', () => acked.size === seq, 20_000);
    const r = await fetch(`http://127.0.0.1:${gw.port}/api/health`);
    assert.equal(r.status, 200, 'healthy again');
    const stored = (await gw.store.chunkStats(id)).reduce((n, s) => n + s.frames, 0);
    assert.equal(stored, acked.size, 'every acked frame stored once');
    // A second process on the file (what `courtside export` does): the gateway does not lock it.
    const reader = new Database(join(mnt, 'courtside.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = reader.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM sample_chunks WHERE session_id = ?').get(id) as { n: number; d: number };
      assert.deepEqual(rows, { n: acked.size, d: acked.size }, 'another reader sees every acked frame, each once');
    } finally {
      reader.close();
    }
    board.ws.close();
  } finally {
    thaw();
    await gw.stop();
    execFileSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  }
});
