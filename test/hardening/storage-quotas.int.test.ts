/**
 * What one client can make the gateway keep is bounded, on SQLite and on
 * MariaDB, with the bytes of the audit: 1500 queued direct messages of
 * 200 KB to a device that never existed, 2550 broadcasts of 200 KB, 5000 junk
 * device codes from one address; and retention deletes old messages, room
 * queries and closed connections on the injected clock, never a recorded
 * session's samples. The sizes are checked against what the database itself
 * holds (bytes on disk for SQLite, the server's own sum for MariaDB).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import WebSocket from 'ws';
import { ManualClock } from '../../main/gateway/clock.js';
import { DEFAULTS } from '../../main/gateway/options.js';
import { eventually, startTestGateway, TestClient, type Backend, type TestGateway } from '../support/gateway.js';

const KB200 = 'x'.repeat(200_000);
const MIB = 1024 * 1024;

/** Bytes of message content the database holds, asked of the database itself. */
async function storedBytes(gw: TestGateway, backend: Backend): Promise<number> {
  if (backend === 'sqlite') {
    const db = join(gw.dataDir, 'courtside.sqlite');
    return [db, db + '-wal'].filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);
  }
  const conn = await mysql.createConnection(gw.options.db);
  try {
    const [rows] = await conn.query('SELECT COALESCE(SUM(LENGTH(message_content)), 0) AS b FROM messages');
    return Number((rows as { b: number }[])[0]!.b);
  } finally {
    await conn.end();
  }
}

/** A room client with its identity sent and room read; frames counted by type, contents dropped. */
async function counter(gw: TestGateway, identity: Record<string, unknown>, localAddress?: string) {
  const ws = new WebSocket(gw.url + '/', localAddress ? { localAddress } : {});
  const counts = new Map<string, number>();
  const errors: string[] = [];
  let room = '';
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      const s = d.toString();
      // The type is near the start of every gateway frame; a 200 KB message is not parsed.
      const type = /"type":"([a-z_]+)"/.exec(s.slice(0, 200))?.[1] ?? '?';
      counts.set(type, (counts.get(type) ?? 0) + 1);
      if (type === 'error') errors.push(s.slice(0, 300));
      if (type === 'room') (room = (JSON.parse(s) as { room_id: string }).room_id), resolve();
    });
    ws.once('open', () => ws.send(JSON.stringify(identity)));
    ws.once('error', reject);
  });
  return { ws, counts, errors, room, n: (t: string) => counts.get(t) ?? 0 };
}

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`storage quotas (${backend})`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ backend, heartbeatIntervalMs: 0, maxFramesPerSecond: 100_000, maxConnectionsPerAddress: 100_000, maxFramesPerSecondPerAddress: 1_000_000, maxBytesPerSecond: 0, maxBytesPerSecondPerAddress: 0, maxSendBufferBytes: 0 } as Parameters<typeof startTestGateway>[0]);
    });
    after(async () => {
      await gw.stop();
    });

    test('1500 queued direct messages of 200 KB to a device that never existed: the first 16 MiB are queued, the rest refused with QUOTA_EXCEEDED', async () => {
      const before = await storedBytes(gw, backend);
      const a = await counter(gw, { device_id: 'sender-1', identity: 'mobile_user' });
      const t0 = Date.now();
      for (let i = 0; i < 1500; i++) a.ws.send(JSON.stringify({ type: 'message', target_device_id: 'ghost-1', content: KB200, queue: true }));
      await eventually(() => a.n('queued') + a.n('error') === 1500, 60_000);
      const fits = Math.floor(DEFAULTS.maxQueuedBytesPerTarget / KB200.length);
      assert.equal(a.n('queued'), fits);
      assert.equal(a.n('error'), 1500 - fits);
      assert.ok(a.errors.every((e) => e.includes('"code":"QUOTA_EXCEEDED"') && e.includes('queue for ghost-1 is full')), a.errors[0]);
      const added = (await storedBytes(gw, backend)) - before;
      // The audit saw 292 MB; now the queue's cap and the database's own overhead.
      assert.ok(added < 24 * MIB, `stored ${added} bytes`);
      assert.ok(added >= fits * KB200.length * 0.9 || backend === 'sqlite', `stored ${added} bytes`);
      console.log(`[${backend}] 1500 x 200 KB queued DMs: ${fits} queued, ${1500 - fits} refused, +${(added / MIB).toFixed(1)} MiB stored in ${Date.now() - t0} ms`);

      // The ghost comes: it gets every queued one, in order; then its queue takes messages again.
      const g = await counter(gw, { device_id: 'ghost-1', identity: 'mobile_user', room_id: a.room });
      await eventually(() => g.n('message') === fits, 30_000);
      await eventually(() => a.n('delivered') === fits, 30_000);
      a.ws.send(JSON.stringify({ type: 'message', target_device_id: 'ghost-2', content: 'small', queue: true }));
      await eventually(() => a.n('queued') === fits + 1);
      a.ws.close();
      g.ws.close();
    });

    test('2550 broadcasts of 200 KB: every one relayed live, the room keeps at most its cap', async () => {
      const before = await storedBytes(gw, backend);
      const a = await counter(gw, { device_id: 'caster-1', identity: 'sensor_node' });
      const b = await counter(gw, { device_id: 'listener-1', identity: 'mobile_user', room_id: a.room });
      for (let i = 0; i < 2550; i++) a.ws.send(JSON.stringify({ type: 'message', content: KB200 }));
      await eventually(() => b.n('message') === 2550, 120_000);
      assert.equal(a.n('error'), 0, a.errors[0]);
      const kept = Math.floor(DEFAULTS.maxStoredBytesPerRoom / KB200.length);
      await eventually(async () => (await gw.store.messageUsage({ roomId: a.room })).room!.count >= kept, 30_000);
      // Writes still in flight land before the size is read.
      await new Promise((r) => setTimeout(r, 300));
      const rows = (await gw.store.messageUsage({ roomId: a.room })).room!;
      assert.equal(rows.count, kept);
      assert.ok(rows.bytes <= DEFAULTS.maxStoredBytesPerRoom);
      const added = (await storedBytes(gw, backend)) - before;
      assert.ok(added < 80 * MIB, `stored ${added} bytes`);
      console.log(`[${backend}] 2550 x 200 KB broadcasts: 2550 relayed, ${rows.count} stored, +${(added / MIB).toFixed(1)} MiB`);
      // A full room refuses to queue for its members too, with the catalogue's code.
      a.ws.send(JSON.stringify({ type: 'message', target_device_id: 'ghost-9', content: KB200, queue: true }));
      await eventually(() => a.n('error') === 1);
      assert.match(a.errors[0]!, /"code":"QUOTA_EXCEEDED".*room .* holds as much as one room may keep/);
      a.ws.close();
      b.ws.close();
    });

    test('5000 junk device codes from one address: 120 new boards an hour, the rest refused (4429); known boards and other addresses unaffected', async () => {
      const from = { localAddress: '127.0.0.2' };
      const outcome = async (path: string, opts: WebSocket.ClientOptions) => {
        const c = await TestClient.connect(gw.url + path, opts);
        const f = await c.next();
        if (f.type === 'error') {
          assert.equal(f.code, 'QUOTA_EXCEEDED');
          assert.equal((await c.closed).code, 4429);
          return 'refused';
        }
        assert.equal(f.type, 'connection_established');
        await c.close();
        return 'accepted';
      };
      const results: string[] = [];
      for (let i = 0; i < 5000; i += 100) {
        results.push(...(await Promise.all(Array.from({ length: 100 }, (_, k) => outcome(`/ws/esp32/junk-${i + k}/`, from)))));
      }
      const accepted = results.filter((r) => r === 'accepted').length;
      assert.equal(accepted, DEFAULTS.maxNewDevicesPerAddress);
      await eventually(async () => (await gw.store.listDevices('board')).filter((d) => d.deviceId.startsWith('junk-')).length === accepted);
      const list = (await (await gw.http('/api/devices')).json()) as { devices: { device_id: string }[] };
      assert.equal(list.devices.filter((d) => d.device_id.startsWith('junk-')).length, accepted);
      // A board the gateway knows comes back from the same address; a new one from elsewhere is fine.
      const known = results.indexOf('accepted');
      assert.equal(await outcome(`/ws/esp32/junk-${known}/`, from), 'accepted');
      assert.equal(await outcome('/ws/esp32/real-board-1/', { localAddress: '127.0.0.3' }), 'accepted');
      // Room ids count the same way.
      const room = await TestClient.connect(gw.url + '/', from);
      let refused = 0;
      for (let i = 0; i < 130 && refused === 0; i++) {
        const c = await TestClient.connect(gw.url + '/', from);
        c.send({ device_id: `junk-phone-${i}`, identity: 'mobile_user' });
        const f = await c.next((x) => x.type === 'room' || x.type === 'error');
        if (f.type === 'error') {
          assert.equal(f.code, 'QUOTA_EXCEEDED');
          assert.equal((await c.closed).code, 4429);
          refused = i;
        } else await c.close();
      }
      assert.equal(refused, DEFAULTS.maxNewDevicesPerAddress);
      room.ws.terminate();
    });
  });

  describe(`retention (${backend})`, () => {
    let gw: TestGateway;
    const clock = new ManualClock();
    before(async () => {
      gw = await startTestGateway({ backend, clock, heartbeatIntervalMs: 0, commandResendMs: 86_400_000, identifyTimeoutMs: 0, retentionDays: 30 });
    });
    after(async () => {
      await gw.stop();
    });

    test('after 30 days messages (queued too), room queries and closed connections go; sessions and their samples stay', async () => {
      const a = await counter(gw, { device_id: 'old-1', identity: 'mobile_user' });
      a.ws.send(JSON.stringify({ type: 'message', target_device_id: 'away-1', content: 'for later', queue: true }));
      a.ws.send(JSON.stringify({ type: 'message', content: { hello: 1 } }));
      a.ws.send(JSON.stringify({ type: 'query_room' }));
      await eventually(() => a.n('queued') === 1 && a.n('room_info') === 1);
      a.ws.close();
      await eventually(async () => (await gw.store.listConnections({ open: false, deviceId: 'old-1' })).length === 1);
      const at = new Date(clock.now());
      await gw.store.createSession({ sessionId: 's-retained', state: 'complete', boards: ['b1'], playerId: null, court: null, roomId: null, notes: null, sampleRateHz: 100, createdAt: at, startedAt: at, stoppedAt: at, completedAt: at, failureReason: null, summary: null });
      await gw.store.insertChunks([{ sessionId: 's-retained', deviceId: 'b1', seq: 0, startMs: 0, rateHz: 100, count: 1, data: Buffer.alloc(24), receivedAt: at }]);
      assert.equal((await gw.store.listMessages({ roomId: a.room })).length, 2);

      clock.advance(29 * 86_400_000);
      await gw.core.rooms.prune();
      assert.equal((await gw.store.listMessages({ roomId: a.room })).length, 2, 'nothing is younger than 30 days yet');

      clock.advance(2 * 86_400_000);
      await gw.core.rooms.prune();
      assert.equal((await gw.store.listMessages({ roomId: a.room })).length, 0);
      assert.equal(await gw.store.countRoomQueries(a.room), 0);
      assert.equal((await gw.store.listConnections({ deviceId: 'old-1' })).length, 0);
      assert.equal((await gw.store.messageUsage({ queuedFor: 'away-1' })).target!.count, 0);
      assert.deepEqual(await gw.store.chunkSeqs('s-retained', 'b1'), [0]);
      assert.equal((await gw.store.getSession('s-retained'))?.state, 'complete');
    });
  });
}
