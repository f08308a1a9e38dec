/**
 * A session holds exactly the frames the board sent for it: the numbering
 * start_collection began, in time order, nothing from the live stream before
 * the start or after the stop, whatever reconnects happen in between; and
 * the summary, the progress, the export and `courtside analyze` on that
 * export agree. The truth is what the boards say: their upload_complete
 * last_seq, the times they executed start and stop, their sample clocks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeBinaryBatch } from '../../firmware-protocol/index.js';
import { VirtualBoard } from '../../main/simulator/board.js';
import { analyzeCommand } from '../../main/gateway/sessions/analysis/cli.js';
import { OPERATOR_TOKEN, eventually, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';
import { captureIO } from '../support/cli.js';

type Json = Record<string, unknown>;
interface Progress { device_id: string; samples: number; frames: number; last_seq: number | null; final_seq: number | null; missing: number[]; complete: boolean }
interface BoardSummary { count: number; duration_s: number; samples: number; incomplete: boolean; counts_by_type: Record<string, number> }
interface Session { session_id: string; state: string; progress: Progress[]; summary: (BoardSummary & { boards: Record<string, BoardSummary> }) | null }
interface Stroke { device_id: string; t_ms: number; type: string }

const run = promisify(execFile);

async function operator(gw: TestGateway): Promise<TestClient> {
  const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
  await op.next('connection_established');
  return op;
}

async function board(gw: TestGateway, id: string): Promise<TestClient> {
  const c = await TestClient.connect(`${gw.url}/ws/esp32/${id}/`);
  await c.next('connection_established');
  return c;
}

async function complete(op: TestClient, id: string, ms = 20_000): Promise<{ session: Session; strokes: Stroke[] }> {
  await eventually(async () => ((await op.ask({ type: 'get_session', session_id: id }, 'session')).session as Session).state === 'complete', ms);
  const r = await op.ask({ type: 'get_session', session_id: id }, 'session');
  return { session: r.session as Session, strokes: r.strokes as Stroke[] };
}

/** samples.csv and strokes.csv of the session's export, read back with Debian's unzip. */
async function exported(gw: TestGateway, id: string, dir: string) {
  const res = await gw.http(`/api/sessions/${id}/export`);
  assert.equal(res.status, 200);
  const zip = join(dir, `${id}.zip`);
  writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
  const text = async (entry: string) => (await run('unzip', ['-p', zip, entry], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const samplesCsv = await text('samples.csv');
  const byDevice = new Map<string, number[]>();
  for (const line of samplesCsv.trim().split('\n').slice(1)) {
    const [device, t] = line.split(',');
    if (!byDevice.has(device!)) byDevice.set(device!, []);
    byDevice.get(device!)!.push(Number(t));
  }
  return { samplesCsv, byDevice, strokesCsv: await text('strokes.csv'), zip };
}

const batch = (seq: number, startMs: number, extra: Json = {}) => ({
  type: 'batch_sensor_data', seq, start_ms: startMs, rate_hz: 200, samples: Array.from({ length: 10 }, () => [0, 0, 1, 0, 0, 0]), ...extra,
});

describe('sessions hold what the board sent for them', () => {
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'courtside-truth-'));
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('frame by frame: live before the start ack, a live resend after a reconnect, live after the stop ack stay out; a gap resent after the stop comes in', async () => {
    const op = await operator(gw);
    let b = await board(gw, 'truth-1');
    // Live streaming, no session yet: its own numbering.
    b.send(batch(100, 1000));
    assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: 100, session_id: null, stored: false });
    const s = (await op.ask({ type: 'create_session', boards: ['truth-1'] }, 'session')).session as Session;
    await op.ask({ type: 'start_session', session_id: s.session_id }, 'session');
    const start = await b.next('command');
    assert.equal(start.command, 'start_collection');
    // In flight before the board switched: still live, acked without a session so the board drops it.
    b.send(batch(101, 1050));
    b.send(batch(102, 1100));
    for (const seq of [101, 102]) {
      const ack = await b.next('data_ack');
      assert.deepEqual([ack.seq, ack.session_id, ack.stored], [seq, null, false]);
      assert.match(String(ack.reason), /has not confirmed start_collection/);
    }
    b.send({ type: 'command_ack', command_id: start.command_id, ok: true });
    b.send(batch(0, 1200));
    b.ws.send(encodeBinaryBatch({ seq: 1, startMs: 1250, rateHz: 200, accelScale: 16 / 32768, gyroScale: 2000 / 32768, samples: Array.from({ length: 10 }, () => [0, 0, 1, 0, 0, 0]) }));
    for (const seq of [0, 1]) assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq, session_id: s.session_id, stored: true });

    // Reconnect: the board sends again what it holds unacked, oldest first, a live frame among them.
    await b.close();
    b = await board(gw, 'truth-1');
    b.send(batch(99, 950));
    const stale = await b.next('data_ack');
    assert.deepEqual([stale.seq, stale.session_id, stale.stored], [99, null, false]);
    assert.match(String(stale.reason), /from before session/);
    b.send(batch(2, 1300));
    assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: 2, session_id: s.session_id, stored: true });

    await op.ask({ type: 'stop_session', session_id: s.session_id }, 'session');
    const stop = await b.next('command');
    assert.equal(stop.command, 'stop_collection');
    b.send({ type: 'command_ack', command_id: stop.command_id, ok: true });
    // Back to live streaming: its seq 103 is not the session's seq 3 that got lost.
    b.send(batch(103, 1400));
    const after = await b.next('data_ack');
    assert.deepEqual([after.seq, after.session_id, after.stored], [103, null, false]);
    assert.match(String(after.reason), /stopped recording/);
    b.send({ type: 'upload_complete', session_id: s.session_id, last_seq: 3 });
    assert.deepEqual(await b.next('resend'), { type: 'resend', session_id: s.session_id, seqs: [3] });
    await b.next('upload_ack');
    // The gap, sent again without an id (as a binary board would): it lies inside the session.
    b.send(batch(3, 1350));
    assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: 3, session_id: s.session_id, stored: true });

    const done = await complete(op, s.session_id);
    assert.deepEqual(await gw.store.chunkSeqs(s.session_id, 'truth-1'), [0, 1, 2, 3]);
    const p = done.session.progress[0]!;
    assert.deepEqual([p.frames, p.samples, p.last_seq, p.final_seq, p.complete], [4, 40, 3, 3, true]);
    const { byDevice } = await exported(gw, s.session_id, dir);
    const t = byDevice.get('truth-1')!;
    assert.equal(t.length, 40);
    assert.deepEqual([t[0], t[t.length - 1]], [1200, 1395]);
    for (let i = 1; i < t.length; i++) assert.ok(t[i]! > t[i - 1]!, `samples.csv goes back in time at row ${i}`);
    assert.equal(done.session.summary!.boards['truth-1']!.duration_s, 0.195);
    assert.equal(done.session.summary!.boards['truth-1']!.samples, 40);
    await op.close();
    await b.close();
  });

  test('simulated boards streaming before, during and after, each dropped in the middle: exact numbering, time order, summary = progress = export = courtside analyze', { timeout: 60_000 }, async () => {
    // Every board at the session's rate (start_collection sets it), each on another frame type.
    const rateHz = 100;
    const modes = [['live-json', 'batch'], ['live-bin', 'binary'], ['live-sample', 'sample']] as const;
    const boards = modes.map(([deviceCode, mode], i) =>
      new VirtualBoard({ url: gw.url, deviceCode, mode, rateHz, batchMs: 50, streamAlways: true, seed: 70 + i, strokesPerMinute: 40, reconnectMinMs: 50, reconnectMaxMs: 200 }),
    );
    const commandAt = new Map<string, Map<string, number>>();
    const refused = new Map<string, string[]>();
    for (const b of boards) {
      commandAt.set(b.deviceCode, new Map());
      refused.set(b.deviceCode, []);
      // The first time each command arrived: one pushed again after a reconnect (the board is
      // dropped mid-session) must not move the board's start later than it was.
      b.on('command', (c) => {
        const at = commandAt.get(b.deviceCode)!;
        if (!at.has(c.command)) at.set(c.command, Date.now());
      });
      b.on('frame', (m) => {
        if (m.type === 'data_ack' && m.stored === false && typeof m.reason === 'string') refused.get(b.deviceCode)!.push(m.reason);
      });
    }
    try {
      await Promise.all(boards.map((b) => b.start()));
      const op = await operator(gw);
      const ids = boards.map((b) => b.deviceCode);
      await new Promise((r) => setTimeout(r, 1000)); // a second of live streaming before
      const s = (await op.ask({ type: 'create_session', boards: ids, sample_rate_hz: rateHz }, 'session')).session as Session;
      boards[0]!.simulateDrop(); // its live frames in flight come again after the reconnect, into a recording session
      await op.ask({ type: 'start_session', session_id: s.session_id }, 'session');
      await eventually(() => boards.every((b) => commandAt.get(b.deviceCode)!.has('start_collection')), 5000);
      await new Promise((r) => setTimeout(r, 1500));
      for (const b of boards) b.simulateDrop();
      await eventually(() => boards.every((b) => b.connected), 5000);
      await new Promise((r) => setTimeout(r, 2500));
      await op.ask({ type: 'stop_session', session_id: s.session_id }, 'session');
      const done = await complete(op, s.session_id, 30_000);
      await new Promise((r) => setTimeout(r, 500)); // and live after
      const { byDevice, strokesCsv, zip } = await exported(gw, s.session_id, dir);
      const summary = done.session.summary!;

      let total = 0;
      for (const [deviceCode] of modes) {
        const p = done.session.progress.find((x) => x.device_id === deviceCode)!;
        const seqs = await gw.store.chunkSeqs(s.session_id, deviceCode);
        // The board's own numbering, 0..its last seq, each once.
        assert.ok(p.final_seq !== null && p.final_seq > 10, `${deviceCode} final_seq ${p.final_seq}`);
        assert.deepEqual(seqs, Array.from({ length: p.final_seq + 1 }, (_, i) => i), `${deviceCode}: stored seqs`);
        assert.equal(p.last_seq, p.final_seq, `${deviceCode}: last_seq ${p.last_seq} of final_seq ${p.final_seq}`);
        const t = byDevice.get(deviceCode)!;
        assert.equal(t.length, p.samples, `${deviceCode}: samples.csv rows vs progress`);
        assert.equal(summary.boards[deviceCode]!.samples, p.samples, `${deviceCode}: summary vs progress`);
        for (let i = 1; i < t.length; i++) assert.ok(t[i]! > t[i - 1]!, `${deviceCode}: samples.csv goes back in time at row ${i}: ${t[i - 1]} then ${t[i]}`);
        // Within what the board recorded: from its start_collection to its stop_collection.
        const period = 1000 / rateHz;
        const started = commandAt.get(deviceCode)!.get('start_collection')!;
        const stopped = commandAt.get(deviceCode)!.get('stop_collection')!;
        assert.ok(t[0]! >= started - period - 5, `${deviceCode}: first sample ${t[0]} before the board started at ${started}`);
        assert.ok(t[t.length - 1]! <= stopped + period + 5, `${deviceCode}: last sample ${t[t.length - 1]} after the board stopped at ${stopped}`);
        const duration = summary.boards[deviceCode]!.duration_s;
        assert.ok(Math.abs(duration - (stopped - started) / 1000) < 0.3, `${deviceCode}: duration_s ${duration} vs ${(stopped - started) / 1000}`);
        total += summary.boards[deviceCode]!.count;
        assert.ok(refused.get(deviceCode)!.every((r) => /has not confirmed|from before|stopped recording|is analyzing|is complete/.test(r)), refused.get(deviceCode)!.join('; '));
      }
      assert.equal(summary.count, total);
      assert.equal(strokesCsv.trim().split('\n').length - 1, summary.count);
      // The same export through `courtside analyze`: the same strokes, at the same times, of the same types.
      const csv = join(dir, 'samples.csv');
      writeFileSync(csv, (await run('unzip', ['-p', zip, 'samples.csv'], { maxBuffer: 64 * 1024 * 1024 })).stdout);
      const io = captureIO();
      assert.equal(await analyzeCommand([csv, '--json'], io.io), 0, io.stderr());
      const cli = JSON.parse(io.stdout()) as { recordings: { device: string; strokes: { t_ms: number; type: string }[] }[] };
      for (const rec of cli.recordings) {
        const gwStrokes = done.strokes.filter((k) => k.device_id === rec.device).map((k) => [k.t_ms, k.type]);
        assert.deepEqual(rec.strokes.map((k) => [k.t_ms, k.type]), gwStrokes, `${rec.device}: gateway and courtside analyze disagree`);
      }
      assert.ok(boards.every((b) => b.stats.reconnects >= 1));
      const kept = modes.map(([d]) => `${d} ${done.session.progress.find((x) => x.device_id === d)!.frames} frames`).join(', ');
      const out = modes.map(([d]) => `${d} ${refused.get(d)!.length}`).join(', ');
      console.log(`# stored: ${kept}; live frames kept out (before start ack / after stop ack): ${out}; strokes ${summary.count}`);
      await op.close();
    } finally {
      await Promise.all(boards.map((b) => b.stop()));
    }
  });
});
