/**
 * MariaDB stalled, not down: the server process is stopped with SIGSTOP, so
 * its sockets stay open and every query simply never answers. That used to
 * pile up `status_update` and room writes in memory without bound and leave
 * `/api/health` hanging. While one board floods status updates and a room
 * client floods queued messages for about six seconds, health must answer
 * within a second and say `degraded`, the gateway's memory must stay
 * bounded, and once the server runs again writes must go through.
 *
 * The stall is short on purpose: other test files may share the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { parseMysqlUrl } from '../../main/gateway/store/mysql.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { freshMysqlUrl, testMysqlUrl, type FreshMysql } from '../support/mysql.js';

const STALL_MS = 6000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of the server the tests use, from the server itself: there may be several mariadbd. */
async function mariadbPid(): Promise<number> {
  const t = parseMysqlUrl(testMysqlUrl());
  const conn = await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, connectTimeout: 10_000 });
  let pidFile: string;
  try {
    const [rows] = await conn.query('SELECT @@pid_file AS f');
    pidFile = (rows as { f: string }[])[0]!.f;
  } finally {
    await conn.end();
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const comm = readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[1];
  assert.equal(comm, '(mariadbd)', `pid ${pid} from ${pidFile} is not mariadbd`);
  return pid;
}

test('MariaDB stalled for 6 s under status and room floods: health answers degraded within 1 s, memory bounded, writes resume', { timeout: 90_000 }, async (t) => {
  const pid = await mariadbPid();
  let gw: TestGateway | undefined;
  let fresh: FreshMysql | undefined;
  let stopped = false;
  const clients: TestClient[] = [];
  try {
    fresh = await freshMysqlUrl();
    gw = await startTestGateway({ backend: 'mysql', db: fresh.url });
    const board = await TestClient.connect(`${gw.url}/ws/esp32/stall-1/`);
    clients.push(board);
    await board.next('connection_established');
    await board.ask({ type: 'status_update', status: { battery: 90, state: 'idle' } }, 'status_ack');
    const room = await TestClient.connect(`${gw.url}/`);
    clients.push(room);
    room.send({ device_id: 'stall-app-1', identity: 'mobile_user' });
    await room.next();
    assert.equal((await gw.http('/api/health')).status, 200, 'healthy before the stall');

    // Client-side buffers count in this process's RSS too: keep them small, so growth is the gateway's.
    const pad = 'x'.repeat(1500);
    let statusSent = 0;
    let messagesSent = 0;
    // 200 frames/s each, under the per-client frame budget: this is about the database stalling,
    // not about a board past its rate (that one is refused, and answered once a second).
    const flood = setInterval(() => {
      for (let i = 0; i < 2 && board.ws.bufferedAmount < 256 * 1024; i++) {
        board.send({ type: 'status_update', status: { battery: 50, n: statusSent++, pad } });
      }
      for (let i = 0; i < 2 && room.ws.bufferedAmount < 256 * 1024; i++) {
        room.send({ type: 'message', target_device_id: 'stall-ghost-1', queue: true, content: { n: messagesSent++, pad } });
      }
    }, 10);

    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 100);
    const health: { ms: number; status: number; body: { status?: string; database?: string; reason?: string } }[] = [];
    try {
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      const until = Date.now() + STALL_MS;
      // The signal is delivered asynchronously; a probe racing it may still get its answer.
      await sleep(300);
      while (Date.now() < until) {
        const t0 = performance.now();
        // A hung health check fails here by the abort, not by the test's overall timeout.
        const r = await gw.http('/api/health', { token: null, signal: AbortSignal.timeout(3000) });
        const body = (await r.json()) as (typeof health)[number]['body'];
        health.push({ ms: performance.now() - t0, status: r.status, body });
        await sleep(250);
      }
    } finally {
      clearInterval(flood);
      clearInterval(sampler);
      if (stopped) process.kill(pid, 'SIGCONT');
      stopped = false;
    }
    const slowest = Math.max(...health.map((h) => h.ms));
    const growthMb = (rssMax - rss0) / 2 ** 20;
    t.diagnostic(
      `stall ${STALL_MS} ms: ${statusSent} status_update and ${messagesSent} messages sent; ${health.length} health checks, ` +
        `slowest ${slowest.toFixed(0)} ms, median ${health.map((h) => h.ms).sort((a, b) => a - b)[health.length >> 1]!.toFixed(0)} ms; ` +
        `rss ${(rss0 / 2 ** 20).toFixed(0)} -> max ${(rssMax / 2 ** 20).toFixed(0)} MB (+${growthMb.toFixed(1)} MB); reasons ${[...new Set(health.map((h) => h.body.reason))].join(' | ')}`,
    );
    assert.ok(health.length >= 5, `health was asked ${health.length} times`);
    for (const h of health) {
      assert.ok(h.ms < 1000, `health took ${h.ms.toFixed(0)} ms during the stall`);
      assert.equal(h.status, 503);
      assert.equal(h.body.status, 'degraded');
      assert.notEqual(h.body.database, 'ok');
      assert.equal(typeof h.body.reason, 'string');
    }
    assert.ok(statusSent > 500 && messagesSent > 500, `the floods ran (${statusSent} status, ${messagesSent} messages)`);
    assert.ok(growthMb < 100, `gateway RSS grew ${growthMb.toFixed(1)} MB during the stall`);

    // After SIGCONT: a new board's status is acked, readable over HTTP and in the database itself.
    const after = await TestClient.connect(`${gw.url}/ws/esp32/stall-2/`);
    clients.push(after);
    await after.next('connection_established');
    const marker = { battery: 77, state: 'after-stall' };
    after.send({ type: 'status_update', status: marker });
    await after.next('status_ack', 20_000);
    const one = await gw.http('/api/devices/stall-2');
    assert.equal(one.status, 200);
    assert.deepEqual(((await one.json()) as { status: unknown }).status, marker);
    // The row itself, read on a connection of our own rather than through the gateway's store.
    const d = parseMysqlUrl(fresh.url);
    const conn = await mysql.createConnection({ host: d.host, port: d.port, user: d.user, password: d.password, database: fresh.database });
    try {
      const [rows] = await conn.query('SELECT status FROM device_status WHERE device_id = ?', ['stall-2']);
      const r = rows as { status: string }[];
      assert.equal(r.length, 1, 'the status row was written');
      assert.deepEqual(JSON.parse(r[0]!.status), marker);
    } finally {
      await conn.end();
    }
    // The flooding board is still served once its backlog (what TCP held while it was not read) drains.
    const d0 = Date.now();
    board.send({ type: 'heartbeat' });
    await board.next('heartbeat_ack', 30_000).catch((err: unknown) => {
      const types: Record<string, number> = {};
      for (const f of board.frames) {
        const k = `${f.type}${f.code ? ':' + String(f.code) : ''}`;
        types[k] = (types[k] ?? 0) + 1;
      }
      const peer = gw!.core.boards.get('stall-1')?.peer;
      throw new Error(`${String(err).slice(0, 80)}; frames ${JSON.stringify(types)}; paused ${String(peer?.ws.isPaused)}; client buffered ${board.ws.bufferedAmount}`);
    });
    const acks = board.frames.filter((f) => f.type === 'status_ack').length;
    const refused = board.frames.filter((f) => f.type === 'error').map((f) => f.code);
    t.diagnostic(`after SIGCONT: the flooding board's backlog drained in ${Date.now() - d0} ms; ${acks} of ${statusSent} status_update acked, ${refused.length} refused (${[...new Set(refused)].join(', ')})`);
    assert.deepEqual(refused, [], 'nothing the board sent within its budget was refused');
    assert.equal(acks, statusSent, 'every status_update sent during the stall was acked after it');
    const healthy = await gw.http('/api/health', { token: null });
    assert.equal(healthy.status, 200, 'healthy again after the stall');
  } finally {
    // Whatever failed above, the server must run again: other tests use it.
    if (stopped) process.kill(pid, 'SIGCONT');
    for (const c of clients) c.ws.terminate();
    await gw?.stop();
    await fresh?.drop();
  }
});
