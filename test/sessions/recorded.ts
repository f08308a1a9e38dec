/**
 * Recorded strokes as a board streams them, for the corrections tests: the
 * badminton-imu recordings' halves back to back as a (possibly slower)
 * player swings them, and a board that records them for a new session
 * through the operator HTTP API and the board socket, as a real board does.
 */
import assert from 'node:assert/strict';
import { augment } from '../../main/gateway/sessions/analysis/augment.js';
import type { Rotation } from '../../main/gateway/sessions/analysis/rotate.js';
import { STROKE_TYPES, type ImuSample, type StrokeType } from '../../main/gateway/sessions/analysis/types.js';
import { eventually, TestClient, type TestGateway } from '../support/gateway.js';

export const RATE = 10;
const STEP = 1000 / RATE;

/** The four recordings' halves back to back, 3 s of rest between, evenly at 10 Hz; which type each time span holds. */
export function sessionSignal(recs: Map<StrokeType, ImuSample[]>, half: 0 | 1, rotation: Rotation, slow: boolean) {
  const samples: ImuSample[] = [];
  const spans: { type: StrokeType; from: number; to: number }[] = [];
  for (const type of STROKE_TYPES) {
    const raw = recs.get(type)!;
    const turned = augment(raw, { rotation, speed: slow ? 0.45 : 1, tempo: 1, arm: slow ? 0.7 : 1 });
    const part = half === 0 ? turned.slice(0, turned.length >> 1) : turned.slice(turned.length >> 1);
    const from = samples.length * STEP;
    for (const s of part) samples.push({ ...s, t: samples.length * STEP });
    const rest = part[part.length - 1]!;
    for (let i = 0; i < 30; i++) samples.push({ ...rest, gx: 0, gy: 0, gz: 0, t: samples.length * STEP });
    spans.push({ type, from, to: samples.length * STEP });
  }
  const truth = (t: number) => spans.find((s) => t >= s.from && t < s.to)!.type;
  return { samples, truth };
}

/** A board records `samples` for a new session of `player`; answers the session id once it is complete. */
export async function recordSession(gw: TestGateway, player: string, board: string, samples: readonly ImuSample[]): Promise<string> {
  const ok = async (method: string, path: string, body?: unknown, status = 200) => {
    const res = await gw.http(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const json = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const id = (await ok('POST', '/api/sessions', { boards: [board], player_id: player, sample_rate_hz: RATE }, 201)).session.session_id as string;
  const b = await TestClient.connect(`${gw.url}/ws/esp32/${board}/`);
  await b.next('connection_established');
  await ok('POST', `/api/sessions/${id}/start`);
  const start = await b.next('command');
  b.send({ type: 'command_ack', command_id: start.command_id, ok: true });
  let seq = 0;
  for (let i = 0; i < samples.length; i += 10, seq++) {
    const part = samples.slice(i, i + 10);
    b.send({ type: 'batch_sensor_data', seq, start_ms: part[0]!.t, rate_hz: RATE, samples: part.map((s) => [s.ax, s.ay, s.az, s.gx, s.gy, s.gz]) });
    assert.equal((await b.next('data_ack')).stored, true);
  }
  await ok('POST', `/api/sessions/${id}/stop`);
  const stop = await b.next('command');
  b.send({ type: 'command_ack', command_id: stop.command_id, ok: true });
  b.send({ type: 'upload_complete', session_id: id, last_seq: seq - 1 });
  await eventually(async () => (await ok('GET', `/api/sessions/${id}`)).session.state === 'complete', 20_000);
  await b.close();
  return id;
}

