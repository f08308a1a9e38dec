/**
 * What the durable-ingest benchmark (npm run bench:ingest) relies on, checked
 * with a fixed amount of data instead of a fixed time: boards that keep a few
 * frames in flight (a closed loop) get every frame acked as stored, into
 * SQLite and MariaDB, as JSON batches and as binary frames, and the store
 * holds exactly the samples that were acked. How fast is the benchmark's
 * business, not this test's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBinaryBatch } from '../../firmware-protocol/sessions.js';
import { boardEndpoint } from '../../main/simulator/frames.js';
import { OPERATOR_TOKEN, TestClient, startTestGateway, type Backend, type Frame, type TestGateway } from '../support/gateway.js';
import { operatorApi } from './support.js';

const BOARDS = 2;
const FRAMES = 40;
const PER_FRAME = 20;
const WINDOW = 4;
const RATE = 200;

function frameOf(mode: 'json' | 'binary', sessionId: string, seq: number): string | Buffer {
  const samples = Array.from({ length: PER_FRAME }, (_, i) => [0.01 * i, -0.5, 1, seq % 100, -i, 0.5]);
  const startMs = seq * ((PER_FRAME * 1000) / RATE);
  if (mode === 'json') return JSON.stringify({ type: 'batch_sensor_data', seq, session_id: sessionId, start_ms: startMs, rate_hz: RATE, samples });
  return Buffer.from(encodeBinaryBatch({ seq, startMs, rateHz: RATE, accelScale: 16 / 32768, gyroScale: 2000 / 32768, samples }));
}

/** Streams FRAMES frames with at most WINDOW unacked; resolves with every data_ack and error seen. */
async function stream(b: TestClient, mode: 'json' | 'binary', sessionId: string): Promise<{ acks: Frame[]; errors: Frame[] }> {
  const acks: Frame[] = [];
  const errors: Frame[] = [];
  let sent = 0;
  while (acks.length < FRAMES) {
    while (sent < FRAMES && sent - acks.length < WINDOW) b.ws.send(frameOf(mode, sessionId, sent++));
    const f = await b.next((x) => x.type === 'data_ack' || x.type === 'error', 10_000);
    if (f.type === 'error') errors.push(f);
    else acks.push(f);
    if (errors.length) break;
  }
  return { acks, errors };
}

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`closed-loop ingest into ${backend === 'mysql' ? 'MariaDB' : 'SQLite'}`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ backend });
    });
    after(() => gw.stop());

    for (const mode of ['json', 'binary'] as const) {
      test(`${mode}: ${BOARDS} boards x ${FRAMES} frames, ${WINDOW} in flight: every frame acked as stored, the store holds exactly those samples`, { timeout: 60_000 }, async () => {
        const api = operatorApi(`http://127.0.0.1:${gw.port}`, OPERATOR_TOKEN);
        const ids = Array.from({ length: BOARDS }, (_, i) => `loop-${backend}-${mode}-${i + 1}`);
        const sessionId = await api.create(ids, RATE);
        await api.start(sessionId);
        const boards = await Promise.all(ids.map(async (id) => {
          const c = await TestClient.connect(boardEndpoint(gw.url, id));
          await c.next('connection_established');
          const cmd = await c.next('command');
          c.send({ type: 'command_ack', command_id: cmd.command_id, ok: true });
          return c;
        }));
        const results = await Promise.all(boards.map((b) => stream(b, mode, sessionId)));
        for (const [i, r] of results.entries()) {
          assert.deepEqual(r.errors, [], `${ids[i]}: error frames`);
          assert.deepEqual(r.acks.map((a) => [a.seq, a.stored]).sort((x, y) => Number(x[0]) - Number(y[0])),
            Array.from({ length: FRAMES }, (_, s) => [s, true]), `${ids[i]}: one stored ack per frame`);
        }
        const { session } = await api.get(sessionId);
        assert.deepEqual(session.progress.map((p) => [p.device_id, p.frames, p.samples]).sort(),
          ids.map((id) => [id, FRAMES, FRAMES * PER_FRAME]).sort());
        const stats = await gw.store.chunkStats(sessionId);
        assert.equal(stats.reduce((n, s) => n + s.samples, 0), BOARDS * FRAMES * PER_FRAME, 'samples in the store');
        await Promise.all(boards.map((b) => b.close()));
      });
    }
  });
}
