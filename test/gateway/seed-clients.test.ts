/**
 * The replaced systems' own clients, unchanged, against a real gateway on both backends:
 * the room protocol's own Python client (the `websockets` library), a signaling-protocol offer/answer
 * exchange, the badminton protocol's board frames; then what they did is in the tables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, roomClient, startTestGateway, TestClient, type Backend, type TestGateway } from '../support/gateway.js';

const PY_CLIENT = fileURLToPath(new URL('../fixtures/seed000_client.py', import.meta.url));

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Debian's python3 (where apt put python3-websockets), not whatever python3 is first on PATH.
    const p = spawn('/usr/bin/python3', [PY_CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`seed clients against courtside serve (${backend})`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ backend });
    });
    after(() => gw.stop());

    test('room protocol: the Python example client comes back to its room and talks with a Node client', async () => {
      // A Node client holds a room, and python_client was there before: the example (no room_id) is "reconnected".
      const host = await roomClient(gw, { device_id: 'node_peer', identity: 'desktop_user' });
      const roomId = String(host.room.room_id);
      const earlier = await roomClient(gw, { device_id: 'python_client', identity: 'test_script', room_id: roomId });
      await earlier.c.close();
      await eventually(async () => (await gw.store.getDevice('python_client'))?.lastRoomId === roomId);

      const py = runPython([gw.url, '4']);
      const hello = await host.c.next('message', 8000);
      assert.equal(hello.content, 'Hello from Python client');
      assert.equal(hello.from_device_id, 'python_client');
      host.c.send({ type: 'message', content: 'hi python', target_device_id: 'python_client' });
      const out = await py;
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /服务器响应: \{"type": ?"connection", ?"message": ?"Connected successfully"\}/);
      assert.match(out.stdout, /'content': 'hi python'/);
      assert.match(out.stdout, /'message_type': 'direct'/);
      assert.match(out.stdout, /'status': 'reconnected'/);
      assert.match(out.stdout, new RegExp(`'room_id': '${roomId}'`));
      await host.c.close();

      // In the tables.
      assert.equal(await gw.store.roomExists(roomId), true);
      const dev = await gw.store.getDevice('python_client');
      assert.equal(dev?.identity, 'test_script');
      assert.equal(dev?.lastRoomId, roomId);
      const msgs = await eventually(async () => {
        const m = await gw.store.listMessages({ roomId });
        return m.length >= 2 ? m : null;
      });
      const broadcast = msgs.find((m) => m.fromDeviceId === 'python_client');
      assert.deepEqual([broadcast?.messageType, broadcast?.toDeviceId, broadcast?.content], ['broadcast', null, 'Hello from Python client']);
      const direct = msgs.find((m) => m.fromDeviceId === 'node_peer');
      assert.deepEqual([direct?.messageType, direct?.toDeviceId], ['direct', 'python_client']);
      const conns = await eventually(async () => {
        const c = await gw.store.listConnections({ deviceId: 'python_client' });
        return c.length === 2 && c.every((r) => r.disconnectedAt) ? c : null;
      });
      assert.ok(conns.every((c) => c.clientIp === '127.0.0.1' && c.roomId === roomId));
    });

    test('room protocol: query_room is logged in room_queries', async () => {
      const a = await roomClient(gw, { device_id: 'rq_client', identity: 'mobile_user' });
      const info = await a.c.ask({ type: 'query_room' }, 'room_info');
      assert.equal(info.total_clients, 1);
      await eventually(async () => (await gw.store.countRoomQueries(String(a.room.room_id))) === 1);
      await a.c.close();
    });

    test('signaling protocol: an offer/answer exchange between two clients', async () => {
      const caller = await TestClient.connect(gw.url);
      const callee = await TestClient.connect(gw.url);
      assert.deepEqual(await caller.ask({ type: 'register', client_id: 'sender_001' }), { type: 'registered', client_id: 'sender_001' });
      assert.deepEqual(await callee.ask({ type: 'register', client_id: 'receiver_001' }), { type: 'registered', client_id: 'receiver_001' });
      caller.send({ type: 'offer', sdp: 'v=0...', target_id: 'receiver_001' });
      assert.deepEqual(await callee.next(), { type: 'offer', sdp: 'v=0...', from: 'sender_001' });
      callee.send({ type: 'answer', sdp: 'v=0 answer...', target_id: 'sender_001' });
      assert.deepEqual(await caller.next(), { type: 'answer', sdp: 'v=0 answer...', from: 'receiver_001' });
      await Promise.all([caller.close(), callee.close()]);
    });

    test('badminton protocol: a board\'s frames, and its commands and status in the tables', async () => {
      const b = await TestClient.connect(`${gw.url}/ws/esp32/ESP32_001/`);
      await b.next('connection_established');
      await b.ask({ type: 'heartbeat' }, 'heartbeat_ack');
      await b.ask({ type: 'status_update', status: { battery: 80, state: 'idle' } }, 'status_ack');
      const res = await gw.http('/api/devices/ESP32_001/commands', { method: 'POST', body: JSON.stringify({ command: 'start' }) });
      const { command_id } = (await res.json()) as { command_id: string };
      assert.equal((await b.next('command')).command, 'start_collection');
      b.send({ type: 'command_ack', command_id, ok: true });
      await b.ask({ type: 'sensor_data', seq: 0, timestamp: 1, data: { ax: 0, ay: 0, az: 1, gx: 0, gy: 0, gz: 0 } }, 'data_ack');
      await b.ask({ type: 'batch_sensor_data', seq: 1, start_ms: 2, rate_hz: 100, samples: [[0, 0, 1, 0, 0, 0]] }, 'data_ack');
      await b.ask({ type: 'upload_complete', last_seq: 1 }, 'upload_ack');
      await b.ask({ type: 'poll_commands' }, 'commands');
      await b.close();
      const cmd = await eventually(async () => {
        const c = await gw.store.getCommand(command_id);
        return c?.state === 'acked' ? c : null;
      });
      assert.equal(cmd.command, 'start_collection');
      assert.deepEqual((await gw.store.getDeviceStatus('ESP32_001'))?.status, { battery: 80, state: 'idle' });
      assert.equal((await gw.store.getDevice('ESP32_001'))?.kind, 'board');
      await eventually(async () => (await gw.store.listConnections({ deviceId: 'ESP32_001' }))[0]?.disconnectedAt);
    });
  });
}
