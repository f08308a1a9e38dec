/** Frame size, frame rate and connection limits, liveness by ping/pong, and the status line; time is a ManualClock. */
import { once } from 'node:events';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { KeepaliveManager } from '../../main/gateway/keepalive.js';
import { TokenBucket } from '../../main/gateway/limits.js';
import { createLogger } from '../../main/gateway/log.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient } from '../support/gateway.js';
import { openConnections, waitFor } from '../support/wait.js';

describe('limits', () => {
  test('token bucket: burst, then refill at the rate', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 20, clock);
    let n = 0;
    while (b.take()) n++;
    assert.equal(n, 20);
    clock.advance(500);
    n = 0;
    while (b.take()) n++;
    assert.equal(n, 5);
  });

  test('a frame over the size limit gets FRAME_TOO_LARGE and the connection stays', async () => {
    const gw = await startTestGateway({ maxPayloadBytes: 1024 });
    try {
      const c = await TestClient.connect(gw.url + '/');
      c.send({ device_id: 'big', identity: 'x'.repeat(100) });
      await c.next('room');
      c.send({ type: 'message', content: 'x'.repeat(2000) });
      const e = await c.next('error');
      assert.equal(e.code, 'FRAME_TOO_LARGE');
      assert.match(String(e.message), /2\d{3} bytes.*1024/);
      assert.equal((await c.ask({ type: 'query_room' }, 'room_info')).total_clients, 1);
      // Past 4x the limit ws itself closes with 1009.
      c.send({ type: 'message', content: 'x'.repeat(5000) });
      assert.equal((await c.closed).code, 1009);
    } finally {
      await gw.stop();
    }
  });

  test('too many frames per second: RATE_LIMITED once, frames dropped, the connection stays', async () => {
    const clock = new ManualClock(Date.now());
    const gw = await startTestGateway({ maxFramesPerSecond: 5, clock, heartbeatIntervalMs: 0 });
    try {
      const b = await TestClient.connect(`${gw.url}/ws/esp32/flood/`);
      await b.next('connection_established');
      for (let i = 0; i < 30; i++) b.send({ type: 'heartbeat' });
      const acks: unknown[] = [];
      for (let i = 0; i < 10; i++) acks.push(await b.next('heartbeat_ack'));
      const e = await b.next('error');
      assert.equal(e.code, 'RATE_LIMITED');
      await b.nothing('heartbeat_ack');
      await b.nothing('error');
      clock.advance(1000);
      assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
      await b.close();
    } finally {
      await gw.stop();
    }
  });

  test('connections beyond the limit are refused with 503', async () => {
    const gw = await startTestGateway({ maxConnections: 2 });
    try {
      const a = await TestClient.connect(`${gw.url}/ws/esp32/c1/`);
      const b = await TestClient.connect(`${gw.url}/ws/esp32/c2/`);
      await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/c3/`), { status: 503 });
      await a.close();
      await waitFor(async () => (await openConnections(gw)).board === 1, { what: 'the gateway seeing c1 close' });
      const c = await TestClient.connect(`${gw.url}/ws/esp32/c3/`);
      await Promise.all([b.close(), c.close()]);
      const metrics = await (await gw.http('/metrics')).text();
      assert.match(metrics, /^courtside_connections_rejected_total 1$/m);
    } finally {
      await gw.stop();
    }
  });
});

describe('liveness', () => {
  test('keepalive: a socket silent for two sweeps is terminated; one that answers stays', () => {
    const clock = new ManualClock();
    const dead: string[] = [];
    const mk = (name: string) => ({ name, pings: 0, terminated: false, ping() { this.pings++; }, terminate() { this.terminated = true; } });
    const quiet = mk('quiet');
    const chatty = mk('chatty');
    const k = new KeepaliveManager(clock, 15_000, (s) => dead.push((s as typeof quiet).name));
    k.start();
    k.add(quiet);
    k.add(chatty);
    clock.advance(15_000);
    assert.equal(quiet.pings, 1);
    k.seen(chatty);
    clock.advance(15_000);
    assert.equal(quiet.terminated, true);
    assert.equal(chatty.terminated, false);
    assert.deepEqual(dead, ['quiet']);
    assert.equal(k.size(), 1);
    k.stop();
    assert.equal(clock.pending(), 0);
  });

  test('a board whose Wi-Fi dropped (no pongs) is marked offline within two intervals', async () => {
    const clock = new ManualClock(Date.now());
    const gw = await startTestGateway({ clock, heartbeatIntervalMs: 15_000 });
    try {
      const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
      await op.ask({ type: 'subscribe', topics: ['devices'] }, 'subscribed');
      // autoPong off: the board's TCP connection stays up but it never answers, like a board out of range.
      const b = await TestClient.connect(`${gw.url}/ws/esp32/wifi-drop/`, { autoPong: false });
      await b.next('connection_established');
      await op.next((f) => f.event === 'online');
      const pinged = once(op.ws, 'ping');
      clock.advance(15_000);
      // The operator answers its ping at once (ws does); the reply to a later frame on the same
      // socket means the gateway has read that pong too, before the next sweep.
      await pinged;
      await op.ask({ type: 'subscribe', topics: ['devices'] }, 'subscribed');
      assert.equal(gw.core.boards.isConnected('wifi-drop'), true);
      clock.advance(15_000);
      const off = await op.next((f) => f.event === 'offline');
      assert.equal((off.device as { device_id: string }).device_id, 'wifi-drop');
      assert.equal(gw.core.boards.isConnected('wifi-drop'), false);
      await op.close();
    } finally {
      await gw.stop();
    }
  });

  test('the status line (connections, rooms, devices per room) is logged every interval', async () => {
    const clock = new ManualClock(Date.now());
    const lines: string[] = [];
    const gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, statusLogIntervalMs: 60_000, logger: createLogger('info', (l) => lines.push(l)) });
    try {
      const c = await TestClient.connect(gw.url + '/');
      c.send({ device_id: 'status-a', identity: 'u' });
      const room = await c.next('room');
      clock.advance(60_000);
      const line = lines.find((l) => l.includes(' status '));
      assert.ok(line, lines.join('\n'));
      assert.match(line, new RegExp(`connections=1 rooms=1 devices_per_room=\\{${String(room.room_id)}:1\\}`));
      await c.close();
    } finally {
      await gw.stop();
    }
  });
});
