/**
 * Cumulative acks: a board that connects with `?ack=cumulative` gets one
 * `data_acks` frame for the sample frames of a round instead of a `data_ack`
 * each; seqs it never sent within the range are named in `except`, so the
 * board drops exactly what it sent. Checked against the seqs the test sent
 * and against the exported schema of the frame. A board that does not ask
 * keeps its per-frame `data_ack`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../main/gateway/clock.js';
import { ROOT } from '../support/cli.js';
import { startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let clock: ManualClock;
before(async () => {
  clock = new ManualClock(Date.now());
  gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, cumulativeAckMs: 40 });
});
after(async () => {
  await gw.stop();
});

const sample = (seq: number) => ({ type: 'sensor_data', seq, timestamp: 1000 + seq * 10, data: { ax: 0.1, ay: 0.2, az: 1, gx: 10, gy: 20, gz: 30 } });

/** Every seq a data_acks frame acks, per its own fields. */
function ackedBy(f: Frame): number[] {
  const out: number[] = [];
  const except = new Set(f.except as number[]);
  for (let s = f.from_seq as number; s <= (f.to_seq as number); s++) if (!except.has(s)) out.push(s);
  return out;
}

test('a board on cumulative acks gets one data_acks for a round, gaps named in except', async () => {
  const b = await TestClient.connect(`${gw.url}/ws/esp32/cum-1/?ack=cumulative`);
  const hello = await b.next('connection_established');
  assert.equal(hello.ack, 'cumulative');
  const sent = [0, 1, 2, 3, 5, 6, 7, 8, 9, 40, 41];
  for (const s of sent) b.send(sample(s));
  // Frames are handled in order: once the heartbeat is answered every sample frame before it was too.
  await b.ask({ type: 'heartbeat' }, 'heartbeat_ack');
  await b.nothing((f) => f.type === 'data_ack' || f.type === 'data_acks', 100);
  clock.advance(40);
  const first = await b.next('data_acks');
  const second = await b.next('data_acks');
  // 4 is a small gap: an exception; 10..39 is a long one: a second frame rather than 30 exceptions.
  assert.deepEqual(first, { type: 'data_acks', session_id: null, stored: false, from_seq: 0, to_seq: 9, except: [4] });
  assert.deepEqual(second, { type: 'data_acks', session_id: null, stored: false, from_seq: 40, to_seq: 41, except: [] });
  assert.deepEqual([...ackedBy(first), ...ackedBy(second)], sent);
  await b.nothing((f) => f.type === 'data_ack' || f.type === 'data_acks', 100);

  const schema = JSON.parse(readFileSync(join(ROOT, 'firmware-protocol/schemas/esp32/server/data_acks.json'), 'utf8')) as { required: string[]; properties: Record<string, unknown> };
  assert.deepEqual([...schema.required].sort(), Object.keys(first).sort());
  await b.close();
});

test('without ?ack=cumulative every frame still gets its own data_ack', async () => {
  const b = await TestClient.connect(`${gw.url}/ws/esp32/cum-2/`);
  const hello = await b.next('connection_established');
  assert.equal(hello.ack, undefined);
  for (const s of [0, 1, 2]) b.send(sample(s));
  for (const s of [0, 1, 2]) assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: s, session_id: null, stored: false });
  clock.advance(100);
  await b.nothing('data_acks', 100);
  await b.close();
});
