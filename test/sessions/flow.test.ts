/**
 * A session end to end against a real gateway: created -> recording ->
 * uploading -> analyzing -> complete with simulated boards, the player told,
 * the API answering; and the gateway side of the upload protocol driven by
 * hand (seqs, duplicates, gaps and resend requests, binary frames).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBinaryBatch } from '../../firmware-protocol/index.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { OPERATOR_TOKEN, eventually, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

type Json = Record<string, unknown>;
type Session = { session_id: string; state: string; progress: { device_id: string; samples: number; final_seq: number | null; complete: boolean; missing: number[] }[]; summary: Json | null };

async function operator(gw: TestGateway): Promise<TestClient> {
  const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
  await op.next('connection_established');
  return op;
}

async function waitState(op: TestClient, id: string, state: string, ms = 20_000): Promise<Session> {
  const ev = await op.next((f) => f.type === 'event' && f.topic === 'sessions' && (f.session as Session).session_id === id && (f.session as Session).state === state, ms);
  return ev.session as Session;
}

describe('a session with simulated boards', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  before(async () => {
    gw = await startTestGateway();
    fleet = startFleet({ url: gw.url, devices: 2, rateHz: 200, mode: 'batch', batchMs: 50, strokesPerMinute: 40 });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await gw.stop();
  });

  test('create, start, stop: analysis stored, the player and the operators told', async () => {
    const op = await operator(gw);
    await op.ask({ type: 'subscribe', topics: ['sessions'] }, 'subscribed');
    const player = await TestClient.connect(`${gw.url}/ws/miniprogram/player-42/`);
    await player.next('connection_established');

    const created = (await op.ask({ type: 'create_session', id: 1, boards: ['racket-1', 'racket-2'], player_id: 'player-42', court: 'Court 2', notes: 'smash drill' }, 'session')).session as Session;
    assert.equal(created.state, 'created');
    const before = await player.ask({ type: 'session_status' }, 'session_status');
    assert.deepEqual([(before.session as Session).session_id, (before.session as Session).state], [created.session_id, 'created']);

    const started = (await op.ask({ type: 'start_session', session_id: created.session_id }, 'session')).session as Session;
    assert.equal(started.state, 'recording');
    // The boards stream only between start_collection and stop_collection: wait for a few seconds of data.
    await eventually(async () => {
      const s = (await op.ask({ type: 'get_session', session_id: created.session_id }, 'session')).session as Session;
      return s.progress.every((p) => p.samples >= 200 * 4);
    }, 15_000);
    const status = await player.ask({ type: 'session_status' }, 'session_status');
    assert.equal((status.session as Session).state, 'recording');

    await op.ask({ type: 'stop_session', session_id: created.session_id }, 'session');
    const done = await waitState(op, created.session_id, 'complete');
    for (const p of done.progress) {
      assert.equal(p.complete, true, JSON.stringify(p));
      assert.ok(p.final_seq !== null && p.final_seq >= 0);
      assert.deepEqual(p.missing, []);
    }
    const summary = done.summary as { count: number; countsByType: Record<string, number>; boards: Record<string, { samples: number }> };
    assert.ok(summary.count >= 1, `strokes detected: ${JSON.stringify(summary)}`);
    assert.ok(summary.boards['racket-1']!.samples >= 800);

    const note = await player.next('analysis_complete_notification', 10_000);
    assert.equal(note.session_id, created.session_id);
    assert.equal((note.summary as { count: number }).count, summary.count);
    assert.equal((await op.next('analysis_complete_notification')).session_id, created.session_id);

    // Stored: every sample the boards had acked as stored, strokes, the session row.
    const stats = await gw.store.chunkStats(created.session_id);
    assert.equal(stats.reduce((n, s) => n + s.samples, 0), done.progress.reduce((n, p) => n + p.samples, 0));
    for (const s of stats) assert.deepEqual(await gw.store.chunkSeqs(created.session_id, s.deviceId), Array.from({ length: s.maxSeq! + 1 }, (_, i) => i));
    const got = await op.ask({ type: 'get_session', session_id: created.session_id }, 'session');
    assert.equal((got.strokes as unknown[]).length, summary.count);
    const http = (await (await gw.http(`/api/sessions/${created.session_id}`)).json()) as { session: Session; strokes: unknown[] };
    assert.equal(http.session.state, 'complete');
    const signal = (await (await gw.http(`/api/sessions/${created.session_id}/signal?points=100`)).json()) as { boards: { device_id: string; t_ms: number[]; gyro_dps: number[] }[] };
    assert.deepEqual(signal.boards.map((b) => b.device_id), ['racket-1', 'racket-2']);
    for (const b of signal.boards) {
      assert.ok(b.t_ms.length >= 50 && b.t_ms.length <= 100, String(b.t_ms.length));
      assert.equal(b.t_ms.length, b.gyro_dps.length);
      assert.ok(b.t_ms.every((t, i) => i === 0 || t > b.t_ms[i - 1]!), 'time increases');
    }
    // Peaks survive the thinning: the fastest stroke's angular speed is in the signal.
    const strokes = got.strokes as { device_id: string; peak_dps: number }[];
    const top = strokes.reduce((a, b) => (b.peak_dps > a.peak_dps ? b : a));
    const board = signal.boards.find((b) => b.device_id === top.device_id)!;
    assert.ok(Math.max(...board.gyro_dps) >= top.peak_dps * 0.9, `${Math.max(...board.gyro_dps)} vs ${top.peak_dps}`);
    const listed = (await (await gw.http('/api/sessions?search=smash')).json()) as { sessions: Session[] };
    assert.deepEqual(listed.sessions.map((s) => s.session_id), [created.session_id]);
    const statusDone = await player.ask({ type: 'session_status', session_id: created.session_id }, 'session_status');
    assert.equal((statusDone.session as Session).state, 'complete');
    await Promise.all([op.close(), player.close()]);
  });
});

describe('upload protocol, frame by frame', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway();
    op = await operator(gw);
    await op.ask({ type: 'subscribe', topics: ['sessions'] }, 'subscribed');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const batch = (seq: number, extra: Json = {}) => ({ type: 'batch_sensor_data', seq, start_ms: 1000 + seq * 100, rate_hz: 100, samples: Array.from({ length: 10 }, (_, i) => [0, 0, 1, seq, i, 0]), ...extra });

  async function recording(boards: string[]): Promise<{ id: string; clients: TestClient[] }> {
    const clients = [];
    for (const b of boards) {
      const c = await TestClient.connect(`${gw.url}/ws/esp32/${b}/`);
      await c.next('connection_established');
      clients.push(c);
    }
    const s = (await op.ask({ type: 'create_session', boards }, 'session')).session as Session;
    await op.ask({ type: 'start_session', session_id: s.session_id }, 'session');
    for (const c of clients) {
      const cmd = await c.next('command');
      assert.equal(cmd.command, 'start_collection');
      assert.deepEqual((cmd.params as Json).session_id, s.session_id);
      c.send({ type: 'command_ack', command_id: cmd.command_id });
    }
    return { id: s.session_id, clients };
  }

  test('acks say stored; a duplicate is acked and stored once; a gap is asked for again; the session completes', async () => {
    const { id, clients: [b] } = await recording(['hand-1']);
    for (const seq of [0, 1, 3]) b!.send(batch(seq));
    for (const seq of [0, 1, 3]) assert.deepEqual(await b!.next('data_ack'), { type: 'data_ack', seq, session_id: id, stored: true });
    b!.send(batch(1, { samples: [[9, 9, 9, 9, 9, 9]] }));
    assert.deepEqual(await b!.next('data_ack'), { type: 'data_ack', seq: 1, session_id: id, stored: true });
    await op.ask({ type: 'stop_session', session_id: id }, 'session');
    const stop = await b!.next('command');
    assert.equal(stop.command, 'stop_collection');
    b!.send({ type: 'command_ack', command_id: stop.command_id });
    b!.send({ type: 'upload_complete', session_id: id, last_seq: 3 });
    assert.deepEqual(await b!.next('resend'), { type: 'resend', session_id: id, seqs: [2] });
    assert.deepEqual(await b!.next('upload_ack'), { type: 'upload_ack', session_id: id, last_seq: 3, missing: [2] });
    b!.send(batch(2));
    await b!.next('data_ack');
    const done = await waitState(op, id, 'complete');
    assert.deepEqual(done.progress[0]!.missing, []);
    assert.deepEqual(await gw.store.chunkSeqs(id, 'hand-1'), [0, 1, 2, 3]);
    // The first copy of seq 1 was kept.
    const chunks = [];
    for await (const c of gw.store.readChunks(id)) chunks.push(c);
    assert.equal(chunks[1]!.count, 10);
    // After completion, a late resend is acked as not stored so the board drops it.
    b!.send(batch(3, { session_id: id }));
    const late = await b!.next('data_ack');
    assert.deepEqual([late.stored, late.reason], [false, `session ${id} is not recording`]);
    await b!.close();
  });

  test('binary frames are stored like JSON batches, scaled', async () => {
    const { id, clients: [b] } = await recording(['bin-1']);
    const samples = [[0.5, -1, 0.25, 100, -250, 1999], [0, 0, 1, 0, 0, 0]];
    b!.ws.send(encodeBinaryBatch({ seq: 0, startMs: 5000, rateHz: 500, accelScale: 16 / 32768, gyroScale: 2000 / 32768, samples }));
    assert.deepEqual(await b!.next('data_ack'), { type: 'data_ack', seq: 0, session_id: id, stored: true });
    b!.ws.send(Buffer.from('CS\x02\x06'));
    const bad = await b!.next('error');
    assert.equal(bad.code, 'BAD_BINARY');
    assert.match(String(bad.message), /shorter than its 32-byte header/);
    const chunks = [];
    for await (const c of gw.store.readChunks(id)) chunks.push(c);
    assert.equal(chunks.length, 1);
    const f = new Float32Array(chunks[0]!.data.buffer.slice(chunks[0]!.data.byteOffset, chunks[0]!.data.byteOffset + 48));
    assert.ok(Math.abs(f[3]! - 100) < 0.07 && Math.abs(f[5]! - 1999) < 0.07 && Math.abs(f[0]! - 0.5) < 0.001, String([...f]));
    assert.deepEqual([chunks[0]!.startMs, chunks[0]!.rateHz, chunks[0]!.count], [5000, 500, 2]);
    await op.ask({ type: 'stop_session', session_id: id }, 'session');
    b!.send({ type: 'upload_complete', last_seq: 0 });
    assert.deepEqual((await b!.next('upload_ack')).missing, []);
    await waitState(op, id, 'complete');
    await b!.close();
  });

  test('during a session a frame without seq is refused; frames for another session are acked as not stored', async () => {
    const { id, clients: [b] } = await recording(['noseq-1']);
    b!.send({ type: 'sensor_data', timestamp: 1, data: { ax: 0, ay: 0, az: 1, gx: 0, gy: 0, gz: 0 } });
    assert.equal((await b!.next('error')).message, `seq is required while session ${id} records`);
    b!.send(batch(0, { session_id: 's-elsewhere' }));
    const ack = await b!.next('data_ack');
    assert.deepEqual([ack.stored, ack.reason], [false, 'session s-elsewhere is not recording']);
    // An empty session_id is the same as none: the board's current session.
    b!.send(batch(0, { session_id: '' }));
    assert.deepEqual(await b!.next('data_ack'), { type: 'data_ack', seq: 0, session_id: id, stored: true });
    await op.ask({ type: 'stop_session', session_id: id }, 'session');
    b!.send({ type: 'upload_complete', session_id: '', last_seq: 0 });
    assert.deepEqual(await b!.next('upload_ack'), { type: 'upload_ack', session_id: id, last_seq: 0, missing: [] });
    const done = await waitState(op, id, 'complete');
    assert.equal((done.summary as { count: number }).count, 0);
    await b!.close();
  });

  test('operator errors: unknown session, wrong state, a board already recording elsewhere', async () => {
    assert.equal((await op.ask({ type: 'start_session', session_id: 'nope' }, 'error')).code, 'NOT_FOUND');
    const { id } = await recording(['busy-1']);
    const again = await op.ask({ type: 'start_session', session_id: id }, 'error');
    assert.match(String(again.message), /is recording; only a created session can start/);
    const other = (await op.ask({ type: 'create_session', boards: ['busy-1'] }, 'session')).session as Session;
    const clash = await op.ask({ type: 'start_session', session_id: other.session_id }, 'error');
    assert.match(String(clash.message), new RegExp(`board busy-1 is already recording in session ${id}`));
    assert.equal((await op.ask({ type: 'create_session', boards: [] }, 'error')).message, 'boards must have at least 1 item');
    const r = await gw.http('/api/sessions', { method: 'POST', body: JSON.stringify({ boards: 'racket-1' }) });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { message: string } }).error.message, 'boards must be an array');
    assert.equal((await gw.http('/api/sessions/nope/export')).status, 404);
    assert.equal((await gw.http('/api/sessions?state=bogus')).status, 400);
  });
});
