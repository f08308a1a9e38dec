import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ManualClock, type Clock } from '../../main/shared/clock.js';
import { VirtualBoard, type ImuSourceLike, type VirtualBoardOptions } from '../../main/simulator/board.js';
import { startFleet } from '../../main/simulator/fleet.js';
import { FakeGateway } from './fake-gateway.js';

const fixedImu = (): ImuSourceLike => {
  let t = 0;
  return { next: () => ({ t: t++, ax: 0.1, ay: -0.98766, az: 0.3, gx: 35.612, gy: -18.1, gz: 9.5 }) };
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Polls: the board's own state changes on acks, which the fake gateway does not see arrive. */
async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const boards: VirtualBoard[] = [];
const gateways: FakeGateway[] = [];
after(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  await Promise.all(gateways.map((g) => g.close()));
});

async function setup(opts: Partial<VirtualBoardOptions> = {}): Promise<{ gw: FakeGateway; board: VirtualBoard }> {
  const gw = await FakeGateway.start();
  gateways.push(gw);
  const board = new VirtualBoard({ url: gw.url, imuSource: fixedImu(), reconnectMinMs: 20, reconnectMaxMs: 100, ...opts });
  boards.push(board);
  return { gw, board };
}

const seqs = (frames: Record<string, unknown>[]): number[] => frames.map((f) => f.seq as number);

test('connects, reports status, polls for commands and heartbeats', { timeout: 15_000 }, async () => {
  const { gw, board } = await setup({ heartbeatIntervalMs: 40 });
  const acks: string[] = [];
  board.on('ack', (a) => acks.push(a.type));
  const connected = once(board, 'connected');
  await board.start();
  const [info] = await connected;
  assert.equal(info.deviceCode, 'racket-1');
  assert.equal(info.reconnect, false);
  await gw.until(() => gw.of('heartbeat').length >= 2, 3000, 'two heartbeats');
  const status = gw.of('status_update')[0]!.status as Record<string, unknown>;
  assert.deepEqual([status.firmware, status.state, status.session_id], ['1.2.0', 'idle', null]);
  assert.equal(gw.of('poll_commands').length, 1);
  const hb = gw.of('heartbeat')[0]!;
  assert.ok((hb.battery as number) > 0 && (hb.rssi as number) < 0);
  await waitFor(() => acks.includes('heartbeat_ack') && acks.includes('status_ack'), 'the heartbeat and status acks');
  assert.equal(gw.of('sensor_data').length + gw.of('batch_sensor_data').length, 0, 'idle boards do not stream');
  assert.deepEqual(gw.invalid, []);
});

test('streams batches only between start_collection and stop_collection', { timeout: 15_000 }, async () => {
  const { gw, board } = await setup({ rateHz: 100, batchMs: 50, mode: 'batch' });
  gw.queue('racket-1', 'start_collection', { session_id: 's1' });
  await board.start();
  await gw.until(() => gw.of('batch_sensor_data').length >= 3, 3000, 'three batches');
  const ack = gw.of('command_ack')[0]!;
  assert.equal(ack.ok, true);
  assert.deepEqual(ack.result, { state: 'recording', session_id: 's1', rate_hz: 100 });
  const stopped = once(board, 'command');
  gw.push('racket-1', 'stop_collection');
  await stopped;
  await gw.until(() => gw.of('upload_complete').length === 1, 3000, 'upload_complete');
  const batches = gw.of('batch_sensor_data');
  const done = gw.of('upload_complete')[0]!;
  assert.deepEqual(done, { type: 'upload_complete', session_id: 's1', last_seq: batches.at(-1)!.seq });
  assert.deepEqual(seqs(batches), batches.map((_, i) => i), 'seqs start at 0 in every session');
  for (const b of batches.slice(0, -1)) {
    assert.equal(b.session_id, 's1');
    assert.equal(b.rate_hz, 100);
    assert.deepEqual((b.samples as number[][])[0], [0.1, -0.9877, 0.3, 35.61, -18.1, 9.5]);
    assert.equal((b.samples as unknown[]).length, 5);
  }
  assert.equal((batches[1]!.start_ms as number) - (batches[0]!.start_ms as number), 50);
  const count = batches.length;
  await sleep(150);
  assert.equal(gw.of('batch_sensor_data').length, count, 'no frames after stop_collection');
  assert.equal(board.isStreaming, false);
  await waitFor(() => board.unackedCount === 0, 'acks');
  assert.deepEqual(gw.invalid, []);
});

test('sample mode sends one sensor_data per sample on the sample clock', { timeout: 15_000 }, async () => {
  const { gw, board } = await setup({ rateHz: 200, mode: 'sample', streamAlways: true });
  await board.start();
  await gw.until(() => gw.of('sensor_data').length >= 20, 3000, 'twenty samples');
  const frames = gw.of('sensor_data');
  assert.deepEqual(seqs(frames), frames.map((_, i) => i));
  assert.deepEqual(frames[0]!.data, { ax: 0.1, ay: -0.9877, az: 0.3, gx: 35.61, gy: -18.1, gz: 9.5 });
  assert.ok(!('session_id' in frames[0]!), 'no session_id outside a session');
  const gaps = frames.slice(1, 10).map((f, i) => (f.timestamp as number) - (frames[i]!.timestamp as number));
  for (const g of gaps) assert.ok(g === 5 || g === 4 || g === 6, `timestamps 5 ms apart, got ${gaps.join(',')}`);
  assert.deepEqual(gw.invalid, []);
});

test('runs a command once but acks every resend of it', { timeout: 15_000 }, async () => {
  const { gw, board } = await setup();
  await board.start();
  const events: { commandId: string; duplicate: boolean; ok: boolean }[] = [];
  board.on('command', (c) => events.push(c));
  gw.push('racket-1', 'start_collection', { session_id: 's9' }, 'c_dup');
  gw.push('racket-1', 'start_collection', { session_id: 'other' }, 'c_dup');
  gw.push('racket-1', 'status', {}, 'c_status');
  gw.push('racket-1', 'self_destruct', {}, 'c_bad');
  await gw.until(() => gw.of('command_ack').length === 4, 3000, 'four acks');
  const acks = gw.of('command_ack');
  assert.deepEqual(acks.map((a) => a.command_id), ['c_dup', 'c_dup', 'c_status', 'c_bad']);
  assert.deepEqual(acks[0]!.result, acks[1]!.result, 'a duplicate is answered with the first outcome');
  assert.deepEqual(events.map((e) => e.duplicate), [false, true, false, false]);
  const status = acks[2]!.result as Record<string, unknown>;
  assert.deepEqual([status.state, status.session_id], ['recording', 's9']);
  assert.equal(acks[3]!.ok, false);
  assert.deepEqual(gw.invalid, []);
});

test('resends unacked frames in seq order after the server cuts the socket', { timeout: 15_000 }, async () => {
  const { gw, board } = await setup({ rateHz: 100, batchMs: 20 });
  const disconnected = once(board, 'disconnected');
  gw.queue('racket-1', 'start_collection', { session_id: 's2' });
  await board.start();
  await gw.until(() => gw.of('batch_sensor_data').length >= 3, 3000, 'first batches');
  gw.receiving = false; // frames now vanish on the way, so they stay unacked
  const before = gw.of('batch_sensor_data').length;
  // Frames sent from now on are lost for sure (frames already in flight may still be acked).
  const sentAtSwitch = board.stats.framesSent;
  await waitFor(() => board.stats.framesSent >= sentAtSwitch + 3 && board.unackedCount >= 3, 'unacked frames piling up');
  const reconnected = once(board, 'connected');
  gw.killSockets();
  await disconnected;
  gw.receiving = true;
  const [info] = await reconnected;
  assert.equal(info.reconnect, true);
  const target = board.lastSeq + 3;
  await waitFor(() => board.lastSeq >= target, 'new frames after reconnect');
  gw.push('racket-1', 'stop_collection'); // while streaming, some frame is always in flight and unacked
  await waitFor(() => !board.isStreaming && board.unackedCount === 0, 'everything acked after reconnect');
  const got = seqs(gw.of('batch_sensor_data'));
  const afterCut = got.slice(before);
  assert.equal(afterCut[0], before, 'resending starts at the first lost frame (seqs count from 0)');
  assert.deepEqual(afterCut, [...afterCut].sort((a, b) => a - b), 'resent in seq order, before new frames');
  const uniq = [...new Set(got)].sort((a, b) => a - b);
  assert.deepEqual(uniq, uniq.map((_, i) => i), 'no seq missing');
  assert.ok(board.stats.resent >= 3);
  assert.equal(board.stats.reconnects, 1);
  assert.deepEqual(gw.invalid, []);
});

test('keeps sampling offline and never throws without an error listener', { timeout: 15_000 }, async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const board = new VirtualBoard({ url: `ws://127.0.0.1:${port}`, imuSource: fixedImu(), streamAlways: true, batchMs: 20, reconnectMinMs: 10, reconnectMaxMs: 20 });
  const started = board.start();
  await waitFor(() => board.stats.errors >= 2, 'it kept retrying');
  await waitFor(() => board.unackedCount >= 3, 'and kept the samples it made meanwhile');
  assert.equal(board.stats.framesSent, 0);
  await board.stop();
  await assert.rejects(started, /stopped before it connected/);
});

test('generates samples on a fixed schedule from the injected clock', { timeout: 15_000 }, async () => {
  const manual = new ManualClock(1_000_000);
  // The wall clock runs `late` ms ahead of the timers: a timer that fires late, as on a busy event loop.
  let late = 0;
  const clock: Clock = {
    now: () => manual.now() + late,
    setTimeout: (fn, ms) => manual.setTimeout(fn, ms),
    setInterval: (fn, ms) => manual.setInterval(fn, ms),
    clear: (h) => manual.clear(h),
  };
  const board = new VirtualBoard({ url: 'ws://127.0.0.1:9', imuSource: fixedImu(), streamAlways: true, reconnect: false, clock });
  board.on('error', () => {});
  void board.start();
  assert.equal(manual.pending(), 1, 'one stream timer');
  late = 900;
  manual.advance(100); // a single late tick must still produce every sample that fell due
  assert.equal(board.stats.samples, 100);
  assert.equal(board.stats.dataFrames, 10);
  manual.advance(900); // no more late ticks: one batch per tick, nothing made twice
  assert.equal(board.stats.samples, 190);
  assert.equal(board.stats.dataFrames, 19);
  await board.stop();
  assert.equal(manual.pending(), 0, 'stop clears every timer');
});

test('a fleet staggers its starts on the injected clock', { timeout: 15_000 }, async () => {
  const gw = await FakeGateway.start();
  gateways.push(gw);
  const clock = new ManualClock();
  const fleet = startFleet({ url: gw.url, devices: 3, staggerMs: 1000, clock });
  await gw.until(() => gw.isConnected('racket-1'), 3000, 'racket-1 at once');
  assert.equal(fleet.boards[1]!.connected || fleet.boards[2]!.connected, false, 'the others wait for the clock');
  clock.advance(1000);
  await gw.until(() => gw.isConnected('racket-2'), 3000, 'racket-2 after one stagger');
  assert.equal(gw.isConnected('racket-3'), false);
  clock.advance(1000);
  await fleet.ready;
  assert.equal(gw.isConnected('racket-3'), true);
  await fleet.stop();
});

test('a fleet starts racket-1..N staggered and stops them all', { timeout: 15_000 }, async () => {
  const gw = await FakeGateway.start();
  gateways.push(gw);
  const fleet = startFleet({ url: gw.url, devices: 3, staggerMs: 15, streamAlways: true, rateHz: 50 });
  await fleet.ready;
  assert.deepEqual(['racket-1', 'racket-2', 'racket-3'].map((d) => gw.isConnected(d)), [true, true, true]);
  await gw.until(() => new Set(gw.received.filter((r) => r.msg.type === 'batch_sensor_data').map((r) => r.device)).size === 3, 3000, 'data from all');
  await fleet.stop();
  const t = fleet.totals();
  assert.equal(t.boards, 3);
  assert.equal(t.everConnected, 3);
  assert.equal(t.connected, 0);
  assert.ok(t.framesSent >= 3);
  await gw.until(() => ![1, 2, 3].some((i) => gw.isConnected(`racket-${i}`)), 3000, 'the fake gateway seeing all three close');
  assert.equal([1, 2, 3].some((i) => gw.isConnected(`racket-${i}`)), false);
});
