/**
 * Several gateways as one fleet: `courtside serve` processes sharing a real Redis (the test's
 * own, so it can be frozen) and one MariaDB database. Rooms, signaling, boards, commands,
 * players and operators with their sockets spread over two gateways; start-up cleanup that
 * leaves the other gateway's rows alone; a frozen Redis (SIGSTOP) measured.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../main/gateway/store/index.js';
import type { Store } from '../../main/gateway/store/types.js';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';
import { TestClient, type Frame } from '../support/gateway.js';
import { runCli } from '../support/cli.js';
import { sleep, waitFor } from '../sessions/support.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { api, roomClient, startOwnRedis, startServe, TOKEN, type ServeProc, type TestRedis } from './support.js';

async function operator(gw: ServeProc, topics: string[]): Promise<TestClient> {
  const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${TOKEN}`);
  await op.ask({ type: 'subscribe', topics }, 'subscribed');
  return op;
}

describe('two gateways, one Redis, one MariaDB', () => {
  let redis: TestRedis;
  let db: FreshMysql;
  let store: Store;
  let a: ServeProc;
  let b: ServeProc;

  before(async () => {
    redis = await startOwnRedis();
    db = await freshMysqlUrl();
    a = await startServe({ redis: redis.url, db: db.url });
    b = await startServe({ redis: redis.url, db: db.url });
    store = await openStore(db.url);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.close();
    await redis?.stop();
    await db?.drop();
  });

  test('SQLite with --redis: one line, exit 2', async () => {
    const r = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--redis', redis.url, '--db', ':memory:'], { env: { COURTSIDE_DISCOVERY: 'off' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^courtside serve: --redis joins gateways that share one MySQL\/MariaDB database; SQLite is for a single gateway.*\n$/);
    const bad = await runCli(['serve', '--redis', 'http://x']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });

  test('a gateway starting leaves the open rows of a running one alone; each row says its gateway', async () => {
    const board = await TestClient.connect(`${a.url}/ws/esp32/row-board/`);
    await eventuallyRow(store, 'row-board');
    // A third gateway starts on the same database while the board is connected to A.
    const c = await startServe({ redis: redis.url, db: db.url });
    try {
      const rows = await store.listConnections({ deviceId: 'row-board' });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.disconnectedAt, null, 'the third gateway closed the first one’s open connection');
      const fleetA = (await api(a, '/fleet')) as { gateway_id: string; gateways: { gateway_id: string }[] };
      assert.equal(rows[0]!.gatewayId, fleetA.gateway_id);
      await waitFor('three gateways listed', async () => ((await api(a, '/fleet')).gateways as unknown[]).length === 3, 8000);
    } finally {
      await c.stop();
    }
    await board.close();
    await waitFor('the board’s own close stored', async () => (await store.listConnections({ deviceId: 'row-board' }))[0]?.disconnectedAt !== null, 5000);
  });

  test('rooms: broadcast, direct both ways, query_room and presence across gateways', async () => {
    const host = await roomClient(a, { device_id: 'fa', identity: 'on A', presence: true });
    const roomId = String(host.room.room_id);
    const guest = await roomClient(b, { device_id: 'fb', identity: 'on B', room_id: roomId, presence: true });
    assert.equal(guest.room.status, 'joined_existing');
    const p = await host.c.next((f) => f.type === 'presence' && f.device_id === 'fb', 5000);
    assert.equal(p.event, 'join');

    host.c.send({ type: 'message', content: 'hello B' });
    const m = await guest.c.next('message', 5000);
    assert.deepEqual([m.content, m.from_device_id, m.message_type], ['hello B', 'fa', 'broadcast']);

    guest.c.send({ type: 'message', content: { n: 1 }, target_device_id: 'fa' });
    const d = await host.c.next('message', 5000);
    assert.deepEqual([d.content, d.from_device_id, d.message_type], [{ n: 1 }, 'fb', 'direct']);

    const info = await guest.c.ask({ type: 'query_room' }, 'room_info');
    assert.equal(info.total_clients, 2);
    assert.deepEqual(info.clients, [{ device_id: 'fa', identity: 'on A' }]);

    // The offline queue: queued on B for a device away, handed over when it joins on A; B's sender hears "delivered".
    guest.c.send({ type: 'message', content: 'later', target_device_id: 'fc', queue: true });
    const q = await guest.c.next('queued', 5000);
    const late = await roomClient(a, { device_id: 'fc', identity: 'late', room_id: roomId });
    assert.equal((await late.c.next('message', 5000)).content, 'later');
    const delivered = await guest.c.next('delivered', 5000);
    assert.equal(delivered.message_id, q.message_id);

    await guest.c.close();
    const left = await host.c.next((f) => f.type === 'presence' && f.device_id === 'fb', 5000);
    assert.equal(left.event, 'leave');
    // Stored once, by the gateway that took it.
    const rows = await store.listMessages({ roomId });
    assert.equal(rows.filter((r) => r.content === 'hello B').length, 1);
    await host.c.close();
    await late.c.close();
  });

  test('a direct message reaching a gateway after its target left there: the sender is told TARGET_NOT_FOUND', async () => {
    const sender = await roomClient(a, { device_id: 'dm-from', identity: 'A' });
    const roomId = String(sender.room.room_id);
    const fleetB = (await api(b, '/fleet')) as { gateway_id: string };
    await sleep(300);
    // What A's mirror would send while B already lost the target: the event itself, put on the stream.
    const r = new Redis(redis.url);
    try {
      const text = JSON.stringify({ type: 'message', content: 'too late', from_device_id: 'dm-from', message_type: 'direct', timestamp: new Date().toISOString() });
      await r.xadd('courtside:fleet', '*', 'g', 'test-gw', 'i', 'x', 's', '1', 'k', 'dev.msg', 'd', JSON.stringify({ to: fleetB.gateway_id, kind: 'room', id: 'dm-gone', room_id: roomId, text }));
    } finally {
      r.disconnect();
    }
    const err = await sender.c.next('error', 5000);
    assert.equal(err.code, 'TARGET_NOT_FOUND');
    assert.match(String(err.message), /dm-gone left before the message reached it/);
    await sender.c.close();
  });

  test('the room protocol’s own Python client on B talks with a Node client on A', async () => {
    const host = await roomClient(a, { device_id: 'node_peer_f', identity: 'desktop_user' });
    const roomId = String(host.room.room_id);
    const earlier = await roomClient(b, { device_id: 'python_client', identity: 'test_script', room_id: roomId });
    await earlier.c.close();
    await waitFor('the room kept for python_client', async () => ((await store.getDevice('python_client'))?.lastRoomId === roomId ? true : null), 5000);
    const py = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn('/usr/bin/python3', [fileURLToPath(new URL('../fixtures/seed000_client.py', import.meta.url)), b.url, '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => resolve({ code, out, err }));
    });
    const hello = await host.c.next('message', 8000);
    assert.equal(hello.content, 'Hello from Python client');
    host.c.send({ type: 'message', content: 'hi python', target_device_id: 'python_client' });
    const r = await py;
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /'content': 'hi python'/);
    assert.match(r.out, /'status': 'reconnected'/);
    await host.c.close();
  });

  test('signaling: offer, answer and ICE between clients on different gateways', async () => {
    const x = await TestClient.connect(a.url + '/');
    await x.ask({ type: 'register', client_id: 'sig-a' }, 'registered');
    const y = await TestClient.connect(b.url + '/');
    await y.ask({ type: 'register', client_id: 'sig-b' }, 'registered');
    await sleep(200);
    x.send({ type: 'offer', target_id: 'sig-b', sdp: 'v=0 offer' });
    const offer = await y.next('offer', 5000);
    assert.deepEqual([offer.from, offer.sdp, offer.target_id], ['sig-a', 'v=0 offer', undefined]);
    y.send({ type: 'answer', target_id: 'sig-a', sdp: 'v=0 answer' });
    assert.equal((await x.next('answer', 5000)).from, 'sig-b');
    y.send({ type: 'ice', target_id: 'sig-a', candidate: 'c1' });
    assert.equal((await x.next('ice', 5000)).candidate, 'c1');
    x.send({ type: 'offer', target_id: 'nobody' });
    assert.equal((await x.next('error', 5000)).code, 'TARGET_NOT_FOUND');
    await x.close();
    await y.close();
  });

  test('boards: an operator on B sees a board on A, commands it, and hears the ack', async () => {
    const op = await operator(b, ['devices', 'commands']);
    const board = await TestClient.connect(`${a.url}/ws/esp32/fleet-board/`);
    const online = await op.next((f) => f.topic === 'devices' && f.event === 'online' && (f.device as Frame).device_id === 'fleet-board', 5000);
    assert.ok(online);
    const fleetA = (await api(a, '/fleet')) as { gateway_id: string };
    await waitFor('B lists the board online on A', async () => {
      const list = (await api(b, '/devices')).devices as { device_id: string; online: boolean; gateway_id?: string }[];
      const d = list.find((x) => x.device_id === 'fleet-board');
      return d?.online === true && d.gateway_id === fleetA.gateway_id;
    }, 5000);
    const sent = await api(b, '/devices/fleet-board/commands', { method: 'POST', body: JSON.stringify({ command: 'identify', params: { blink: 3 } }) });
    assert.equal(sent.status, 202);
    assert.equal(sent.pushed, true);
    assert.equal(sent.connected, true, 'connected: held by another gateway of the fleet');
    const cmd = await board.next('command', 5000);
    assert.equal(cmd.command_id, sent.command_id);
    board.send({ type: 'command_ack', command_id: cmd.command_id, ok: true, result: { blinked: 3 } });
    const acked = await op.next((f) => f.topic === 'commands' && f.event === 'acked', 5000);
    assert.equal(acked.command_id, sent.command_id);
    const row = await waitFor('acked in the table', async () => ((await store.getCommand(String(sent.command_id)))?.state === 'acked' ? true : null), 5000);
    assert.ok(row);
    await board.close();
    await op.close();
  });

  test('players: a notification sent through B reaches the player on A', async () => {
    const phone = await TestClient.connect(`${a.url}/ws/miniprogram/player-7/`);
    await sleep(300);
    const r = await api(b, '/users/player-7/notifications', { method: 'POST', body: JSON.stringify({ payload: { type: 'coach_note', text: 'well played' } }) });
    assert.equal(r.delivered, true);
    assert.equal((await phone.next('coach_note', 5000)).text, 'well played');
    await phone.close();
  });

  test('Redis frozen 10 s: each gateway serves its own clients, health degraded, events published meanwhile arrive after', async () => {
    const host = await roomClient(a, { device_id: 'oa', identity: 'A' });
    const roomId = String(host.room.room_id);
    const guest = await roomClient(b, { device_id: 'ob', identity: 'B', room_id: roomId });
    const local = await roomClient(a, { device_id: 'oa2', identity: 'A2', room_id: roomId });
    await sleep(300);
    redis.pause();
    const t0 = Date.now();
    try {
      const health = await waitFor('health degraded', async () => {
        const r = await fetch(a.http + '/api/health');
        const j = (await r.json()) as Record<string, unknown>;
        return j.status === 'degraded' ? ({ code: r.status, ...j } as Record<string, unknown>) : null;
      }, 5000);
      const detectMs = Date.now() - t0;
      assert.equal(health.code, 200, 'a Redis outage leaves the gateway serving (200)');
      assert.equal(health.redis, 'unavailable');
      assert.match(String(health.reason), /^redis: /);
      // Local traffic still flows on A.
      let sent = 0;
      for (let i = 0; i < 20; i++) {
        host.c.send({ type: 'message', content: `during ${i}` });
        sent++;
        await sleep(400);
      }
      assert.equal((await local.c.next('message', 2000)).content, 'during 0');
      const elapsed = Date.now() - t0;
      redis.resume();
      const got: string[] = [];
      const deadline = Date.now() + 8000;
      while (got.length < sent && Date.now() < deadline) {
        const f = await guest.c.next('message', Math.max(1, deadline - Date.now())).catch(() => null);
        if (f) got.push(String(f.content));
      }
      await waitFor('health ok again', async () => ((await (await fetch(a.http + '/api/health')).json()) as { status: string }).status === 'ok', 8000);
      console.log(`# redis outage: frozen ${elapsed} ms, degraded after ${detectMs} ms; ${got.length}/${sent} broadcasts made during it reached the other gateway after, in order: ${JSON.stringify(got) === JSON.stringify(got.slice().sort((x, y) => Number(x.split(' ')[1]) - Number(y.split(' ')[1])))}`);
      assert.equal(got.length, sent, 'every broadcast made during the outage arrived once Redis answered again');
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => `during ${i}`));
    } finally {
      redis.resume();
      await host.c.close();
      await guest.c.close();
      await local.c.close();
    }
  });
});

async function eventuallyRow(store: Store, deviceId: string): Promise<void> {
  await waitFor(`a connection row for ${deviceId}`, async () => (await store.listConnections({ deviceId, open: true })).length > 0, 5000);
}
