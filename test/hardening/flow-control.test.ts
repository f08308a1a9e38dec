/**
 * Flow control, with the frames that broke it: a client that never reads is
 * closed past the send-buffer cap (an operator first loses live samples and
 * is told so); a board's backlog after the sample writer paused its socket is
 * not a burst; an address's sockets share one budget. Time is a ManualClock
 * where the logic is timed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { operatorApi, waitFor } from '../sessions/support.js';

const paused = (c: TestClient) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

describe('send buffers have a bound', () => {
  let gw: TestGateway;
  before(async () => {
    // Compression off: these repetitive frames deflate to almost nothing and would never fill a
    // buffer (the compression tests check the cap with incompressible frames).
    gw = await startTestGateway({ maxSendBufferBytes: 256 * 1024, maxBytesPerSecond: 0, heartbeatIntervalMs: 0, compression: false });
  });
  after(() => gw.stop());

  test('a room client that never reads is closed past the cap; the sender and the room go on', async () => {
    const sender = await TestClient.connect(gw.url + '/');
    sender.send({ device_id: 'loud', identity: 'x' });
    const R1 = String((await sender.next('room')).room_id);
    const deaf = await TestClient.connect(gw.url + '/');
    deaf.send({ device_id: 'deaf', identity: 'x', room_id: R1 });
    assert.equal((await deaf.next('room')).status, 'joined_existing');
    paused(deaf).pause();
    // 60 KB broadcasts, one frame a turn as the audit's client did (but faster): the deaf
    // member's unread frames grow until the gateway drops it.
    const content = 'y'.repeat(60_000);
    for (let i = 0; i < 400 && gw.core.rooms.membersOf(R1).length > 1; i++) {
      sender.send({ type: 'message', content });
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor('the deaf client dropped', () => gw.core.rooms.membersOf(R1).length === 1, 5000);
    assert.deepEqual(gw.core.rooms.membersOf(R1).map((m) => m.deviceId), ['loud']);
    assert.equal((await sender.ask({ type: 'query_room' }, 'room_info')).total_clients, 1, 'the sender stays');
    paused(deaf).resume();
    const closed = await deaf.closed;
    assert.ok(closed.code === 1008 || closed.code === 1006, `closed with ${closed.code}`);
    sender.ws.close();
  });

  test('an operator that reads too slowly loses live samples first, is told how many, and stays', async () => {
    const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${gw.operatorToken}`);
    await op.ask({ type: 'subscribe', id: 's', topics: ['sensor'] }, (f) => f.id === 's');
    const board = await TestClient.connect(`${gw.url}/ws/esp32/streamer/`);
    await board.next('connection_established');
    paused(op).pause();
    const samples = Array.from({ length: 2000 }, (_, i) => [i, 0.5, 0.25, 100.125, -50.5, 3]);
    const peer = () => [...gw.core.operators['byPeer' as never] as Map<{ buffered: number }, unknown>].map(([p]) => p)[0]!;
    let peak = 0;
    for (let seq = 0; seq < 400; seq++) {
      board.send({ type: 'batch_sensor_data', seq, start_ms: seq * 1000, rate_hz: 1000, samples });
      await board.next('data_ack');
      peak = Math.max(peak, peer().buffered);
    }
    // A quarter of the cap, plus the one frame that crossed it.
    assert.ok(peak > 64 * 1024, `the operator fell behind (send buffer peak ${peak})`);
    assert.ok(peak < 64 * 1024 + 200_000, `operator send buffer peaked at ${peak}`);
    paused(op).resume();
    await waitFor('the operator caught up', () => peer().buffered === 0, 10_000);
    board.send({ type: 'batch_sensor_data', seq: 400, start_ms: 400_000, rate_hz: 1000, samples });
    const d = await op.next('samples_dropped', 10_000);
    assert.ok(Number(d.batches) > 0 && Number(d.samples) === Number(d.batches) * 2000, JSON.stringify(d));
    assert.equal((await op.next('sensor_samples', 5000)).type, 'sensor_samples', 'live samples flow again');
    assert.equal(op.ws.readyState, op.ws.OPEN);
    op.ws.close();
    board.ws.close();
  });
});

describe('backpressure and the frame budget', () => {
  test('frames a board sent while the sample writer paused it are not a burst: none RATE_LIMITED', { timeout: 30_000 }, async () => {
    const clock = new ManualClock(1_732_212_000_000);
    const gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, maxFramesPerSecond: 20, ingest: { batchSize: 5, highWater: 10, lowWater: 2 } });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const store = gw.store as { insertChunks: typeof gw.store.insertChunks };
      const real = gw.store.insertChunks.bind(gw.store);
      store.insertChunks = async (chunks) => {
        await gate;
        return real(chunks);
      };
      const api = operatorApi(`http://127.0.0.1:${gw.port}`, gw.operatorToken);
      const id = await api.create(['paced-1']);
      const board = await TestClient.connect(`${gw.url}/ws/esp32/paced-1/`);
      await board.next('connection_established');
      await api.start(id);
      const cmd = await board.next('command');
      board.send({ type: 'command_ack', command_id: cmd.command_id, ok: true });
      const frame = (seq: number) => ({ type: 'batch_sensor_data', seq, start_ms: seq * 50, rate_hz: 200, samples: [[0, 0, 1, 0, 0, 0]] });
      for (let seq = 0; seq < 12; seq++) board.send(frame(seq));
      const peer = () => gw.core.boards.get('paced-1')!.peer;
      await waitFor('the writer paused the board', () => peer().ws.isPaused, 5000);
      // The board goes on at 20 frames a second, its limit, for 15 s of the gateway's clock.
      for (let seq = 12; seq < 312; seq++) {
        board.send(frame(seq));
        if (seq % 20 === 0) clock.advance(1000);
      }
      release();
      const acked = new Set<number>();
      await waitFor('every frame acked', async () => {
        for (let f = board.frames.findIndex((x) => x.type === 'data_ack'); f >= 0; f = board.frames.findIndex((x) => x.type === 'data_ack')) {
          const [a] = board.frames.splice(f, 1);
          if (a!.stored === true) acked.add(Number(a!.seq));
        }
        return acked.size === 312 || board.frames.some((x) => x.type === 'error');
      }, 15_000);
      assert.deepEqual(board.frames.filter((x) => x.type === 'error'), [], 'no frame refused');
      assert.equal(acked.size, 312);
      board.ws.close();
    } finally {
      await gw.stop();
    }
  });

  test('the sockets of one address share its budget; this machine is not held to it', async () => {
    const clock = new ManualClock();
    const gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, maxFramesPerSecond: 100, maxFramesPerSecondPerAddress: 10 });
    try {
      const from = { localAddress: '127.0.0.7' };
      const a = await TestClient.connect(`${gw.url}/ws/esp32/addr-a/`, from);
      const b = await TestClient.connect(`${gw.url}/ws/esp32/addr-b/`, from);
      await a.next('connection_established');
      await b.next('connection_established');
      // 20 tokens (twice the rate) for the address: a takes them, b is refused.
      for (let i = 0; i < 20; i++) await a.ask({ type: 'heartbeat' }, 'heartbeat_ack');
      const e = await b.ask({ type: 'heartbeat' }, 'error');
      assert.equal(e.code, 'RATE_LIMITED');
      clock.advance(1000);
      assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
      const local = await TestClient.connect(`${gw.url}/ws/esp32/local-1/`);
      await local.next('connection_established');
      for (let i = 0; i < 40; i++) await local.ask({ type: 'heartbeat' }, 'heartbeat_ack');
      for (const c of [a, b, local]) c.ws.close();
    } finally {
      await gw.stop();
    }
  });
});
