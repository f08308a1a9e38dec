/**
 * The Live view's backfill: `get_recent_samples` gives back exactly what a
 * board streamed (checked against the simulator's own rows and against what an
 * operator subscribed to the board received), boards above 200 Hz decimated,
 * memory bounded at 300 s per board, bad requests refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';
import { VirtualBoard, sampleRow, type ImuSourceLike, type SampleRow } from '../../main/simulator/board.js';
import { createImuSource } from '../../main/simulator/swing.js';

interface Run { start_ms: number; rate_hz: number; samples: number[][] }
type Timed = { t: number; s: number[] };

/** Every sample of a list of runs or batches with its time, oldest first. */
function flatten(runs: readonly Run[]): Timed[] {
  return runs.flatMap((r) => r.samples.map((s, i) => ({ t: r.start_ms + (r.rate_hz > 0 ? (i * 1000) / r.rate_hz : 0), s })));
}

/** An IMU source that keeps every row the board sends, as the board rounds it. */
function recording(rateHz: number, seed: number): { source: ImuSourceLike; rows: SampleRow[] } {
  const inner = createImuSource({ rateHz, seed, strokesPerMinute: 60 });
  const rows: SampleRow[] = [];
  return { rows, source: { next: () => { const s = inner.next(); rows.push(sampleRow(s)); return s; } } };
}

describe('recent samples (Live backfill)', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway();
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const recent = async (id: string, seconds?: number) => {
    const r = await gw.http(`/api/devices/${id}/recent-samples${seconds ? `?seconds=${seconds}` : ''}`);
    assert.equal(r.status, 200);
    return (await r.json()) as { device_id: string; seconds: number; decimation: number; runs: Run[] };
  };

  test('the backfill is exactly what the board streamed: the simulator\'s rows and the subscriber\'s batches', async () => {
    const rec = recording(100, 7);
    const live: Run[] = [];
    const sub = await op.ask({ type: 'subscribe', topics: ['sensor:bf-1'] }, 'subscribed');
    assert.deepEqual(sub.topics, ['sensor:bf-1']);
    const collect = (f: Frame) => {
      if (f.type === 'sensor_samples') for (const b of f.batches as (Run & { device_id: string })[]) if (b.device_id === 'bf-1') live.push(b);
      return false;
    };
    op.ws.on('message', (d) => collect(JSON.parse(d.toString()) as Frame));
    const board = new VirtualBoard({ url: gw.url, deviceCode: 'bf-1', rateHz: 100, mode: 'batch', batchMs: 100, streamAlways: true, imuSource: rec.source, heartbeatIntervalMs: 60_000, statusIntervalMs: 60_000 });
    await board.start();
    await new Promise((r) => setTimeout(r, 2500));
    await board.stop();
    await new Promise((r) => setTimeout(r, 200));

    const sent = board.stats.samples;
    assert.ok(sent >= 150, `the board sent ${sent} samples`);
    const back = await recent('bf-1', 60);
    assert.equal(back.decimation, 1);
    const got = flatten(back.runs);
    // Every sample the board sent, in order, with the values it rounded: nothing lost, nothing added.
    assert.equal(got.length, sent);
    assert.deepEqual(got.map((x) => x.s), rec.rows.slice(0, sent));
    // And the same samples at the same times as the subscriber saw them live.
    const seen = flatten(live);
    assert.equal(seen.length, sent);
    assert.deepEqual(got, seen);
    // At 100 Hz the board's batches join into one run without a gap.
    assert.equal(back.runs.length, 1);
    assert.equal(back.runs[0]!.rate_hz, 100);

    // A shorter window is the newest part of it.
    const last1 = flatten((await recent('bf-1', 1)).runs);
    assert.ok(last1.length >= 100 && last1.length <= 101, `1 s at 100 Hz: ${last1.length}`);
    assert.deepEqual(last1, got.slice(got.length - last1.length));
    // Over the operator socket the same answer.
    const ws = await op.ask({ type: 'get_recent_samples', id: 'q', device_id: 'bf-1', seconds: 60 }, (f) => f.id === 'q');
    assert.equal(ws.type, 'recent_samples');
    assert.deepEqual(flatten(ws.runs as Run[]), got);
  });

  test('a board above 200 Hz is kept decimated: every k-th sample of what it sent', async () => {
    const board = await TestClient.connect(`${gw.url}/ws/esp32/fast-1/`);
    await board.next('connection_established');
    const sent: Timed[] = [];
    for (let f = 0; f < 20; f++) {
      const samples = Array.from({ length: 50 }, (_, i) => [f, i, 0.5, 1, 2, f * 50 + i]);
      const start = 1_000_000 + f * 50;
      board.send({ type: 'batch_sensor_data', seq: f, start_ms: start, rate_hz: 1000, samples });
      samples.forEach((s, i) => sent.push({ t: start + i, s }));
      await board.next('data_ack');
    }
    const back = await recent('fast-1', 300);
    assert.equal(back.decimation, 5);
    const got = flatten(back.runs);
    assert.deepEqual(got, sent.filter((_, i) => i % 5 === 0));
    assert.ok(back.runs.every((r) => r.rate_hz === 200));
    await board.close();
  });

  test('memory is bounded: 300 s per board, older samples fall out, a clock reset starts over', async () => {
    const board = await TestClient.connect(`${gw.url}/ws/esp32/long-1/`);
    await board.next('connection_established');
    // 400 s at 100 Hz, one frame a second, in board time (sent fast).
    for (let f = 0; f < 400; f++) {
      board.send({ type: 'batch_sensor_data', seq: f, start_ms: f * 1000, rate_hz: 100, samples: Array.from({ length: 100 }, (_, i) => [f, i, 0, 0, 0, 0]) });
    }
    for (let f = 0; f < 400; f++) await board.next('data_ack', 10_000);
    const back = await recent('long-1', 300);
    const got = flatten(back.runs);
    assert.equal(got.length, 30_000);
    assert.equal(got[0]!.t, 100_000);
    assert.deepEqual(got[0]!.s, [100, 0, 0, 0, 0, 0]);
    assert.equal(got.at(-1)!.t, 399_990);
    // 30 000 samples x 60 bytes for this board (the other boards of this file add theirs).
    assert.ok(gw.core.recent.bytes() <= 3 * 60_000 * 60, `held ${gw.core.recent.bytes()} bytes`);
    // Resent frames do not duplicate; a board whose clock restarted from 0 starts a new history.
    board.send({ type: 'batch_sensor_data', seq: 398, start_ms: 398_000, rate_hz: 100, samples: Array.from({ length: 100 }, () => [9, 9, 9, 9, 9, 9]) });
    await board.next('data_ack');
    assert.equal(flatten((await recent('long-1', 300)).runs).length, 30_000);
    board.send({ type: 'batch_sensor_data', seq: 0, start_ms: 5, rate_hz: 100, samples: [[1, 2, 3, 4, 5, 6]] });
    await board.next('data_ack');
    assert.deepEqual(flatten((await recent('long-1', 300)).runs), [{ t: 5, s: [1, 2, 3, 4, 5, 6] }]);
    await board.close();
  });

  test('bad requests are refused with the catalogue\'s codes; a board never seen is NOT_FOUND', async () => {
    const tooLong = await gw.http('/api/devices/bf-1/recent-samples?seconds=3600');
    assert.equal(tooLong.status, 400);
    assert.equal(((await tooLong.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    const unknown = await gw.http('/api/devices/never-here/recent-samples');
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    const bad = await op.ask({ type: 'get_recent_samples', id: 'z', device_id: 'bf-1', seconds: 0 }, (f) => f.id === 'z');
    assert.equal(bad.type, 'error');
    assert.equal(bad.code, 'BAD_FRAME');
    // The gateway still answers.
    assert.equal((await recent('bf-1', 5)).device_id, 'bf-1');
  });
});

describe('recent samples: the board bound', () => {
  test('64 boards at most; a 65th waits for one quiet for 300 s instead of taking turns', async () => {
    const { RecentSamples, RECENT_MAX_BOARDS } = await import('../../main/gateway/recent-samples.js');
    let now = 0;
    const r = new RecentSamples(() => now);
    const row = [[1, 2, 3, 4, 5, 6]];
    for (let i = 0; i < RECENT_MAX_BOARDS; i++) r.add(`b${i}`, 1000, 100, row);
    assert.equal(r.size, 64);
    const held = r.bytes();
    // 100 Hz boards: 30 000 samples x 60 bytes each.
    assert.equal(held, 64 * 30_000 * 60);
    now = 299_000;
    for (let i = 1; i < RECENT_MAX_BOARDS; i++) r.add(`b${i}`, 2000, 100, row);
    r.add('late', 1000, 100, row);
    assert.equal(r.size, 64);
    assert.deepEqual(r.read('late', 60).runs, []);
    assert.equal(r.read('b0', 60).runs.length, 1, 'a board still in its window keeps its place');
    // b0 has been quiet for more than 300 s: its place goes to the newcomer (after the once-a-second rescan).
    now = 302_000;
    r.add('late', 1010, 100, row);
    assert.equal(r.size, 64);
    assert.deepEqual(r.read('b0', 60).runs, []);
    assert.deepEqual(r.read('late', 60).runs, [{ start_ms: 1010, rate_hz: 100, samples: row }]);
    assert.equal(r.bytes(), held);
  });
});
