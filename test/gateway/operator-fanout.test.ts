/**
 * The operator fan-out's two savings, checked for what they must not change:
 * samples go to operators as the board wrote them (sample-text.ts), and
 * batches are gathered while the loop is busy. The truth is the test's own
 * JSON.parse of each frame a board sent: every batch arrives once, in order,
 * with the very numbers the board sent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchTail, samplesText } from '../../main/gateway/sample-text.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

/** Board texts the gateway takes, in formats JSON allows but JSON.stringify never makes. */
const ODD_FRAMES = [
  '{"type":"batch_sensor_data","seq":1,"start_ms":10,"rate_hz":100,"samples":[[0,0,1,0,0,0]]}',
  '{ "type" : "batch_sensor_data" , "seq" : 2 , "start_ms" : 20 , "rate_hz" : 100 , "samples" : [ [ 1.50 , -0.0 , 1E2 , 2e-7 , -3.25E+1 , 12345678901234567890 ] ,\n\t[0.1,0.2,0.3,0.4,0.5,0.6] ] }',
  // samples not last; a session id that is the word itself, and one with an escaped quote and the key in it.
  '{"type":"batch_sensor_data","samples":[[9,8,7,6,5,4]],"seq":3,"start_ms":30,"rate_hz":50,"session_id":"samples"}',
  '{"type":"batch_sensor_data","session_id":"x\\"samples\\":[[1,1,1,1,1,1]]","seq":4,"start_ms":40,"rate_hz":50,"samples":[[2,2,2,2,2,2]]}',
  // A repeated key: JSON.parse keeps the last, so must the fan-out.
  '{"type":"batch_sensor_data","seq":5,"start_ms":50,"rate_hz":100,"samples":[[1,1,1,1,1,1]],"samples":[[3,3,3,3,3,3.000000000000001]]}',
  '{"type":"batch_sensor_data","seq":6,"start_ms":60.125,"rate_hz":100,"samples":[[3.4028234663852886e38,-1.401298464324817e-45,0.30000000000000004,1,2,3],[4,5,6,7,8,9]]}',
  // Times and rates in other number forms, a repeated time, and a session id holding the keys.
  '{"type":"batch_sensor_data","seq":7,"start_ms":7.0E1,"rate_hz":1e2,"samples":[[1,2,3,4,5,6]]}',
  '{"type":"batch_sensor_data","seq":8,"start_ms":1,"rate_hz" :\t200.5,"start_ms" : 80.0000001,"samples":[[1,2,3,4,5,6]]}',
  '{"type":"batch_sensor_data","session_id":"\\"start_ms\\":5,\\"rate_hz\\":6","seq":9,"start_ms":90,"rate_hz":100,"samples":[[6,5,4,3,2,1]]}',
];

describe('samplesText: a batch frame\'s samples as written', () => {
  test('is the value JSON.parse gives for samples, whatever the formatting', () => {
    for (const text of ODD_FRAMES) {
      const got = samplesText(text);
      assert.notEqual(got, null, text);
      assert.deepEqual(JSON.parse(got!), (JSON.parse(text) as { samples: unknown }).samples, text);
    }
  });

  test('random spacing and number forms: equal to JSON.parse on 2000 frames', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const sp = (): string => [' ', '', '\n', '\t', '  ', ''][Math.floor(rnd() * 6)]!;
    const number = (): string => {
      const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12 - 6);
      const forms = [String(v), v.toExponential(), v.toExponential().toUpperCase(), v.toFixed(8), String(Math.round(v))];
      return forms[Math.floor(rnd() * forms.length)]!;
    };
    for (let n = 0; n < 2000; n++) {
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => `[${sp()}${Array.from({ length: 6 }, number).join(`${sp()},${sp()}`)}${sp()}]`);
      const text = `{${sp()}"type"${sp()}:${sp()}"batch_sensor_data",${sp()}"seq":${n},"start_ms":${n},"rate_hz":100,${sp()}"samples"${sp()}:${sp()}[${sp()}${rows.join(`${sp()},${sp()}`)}${sp()}]${sp()}}`;
      const got = samplesText(text);
      assert.notEqual(got, null, text);
      assert.deepEqual(JSON.parse(got!), (JSON.parse(text) as { samples: unknown }).samples, text);
    }
  });

  test('batchTail: start_ms, rate_hz and samples as JSON.parse gives them, on odd and on 2000 random frames', () => {
    const check = (text: string): void => {
      const tail = batchTail(text);
      assert.notEqual(tail, null, text);
      const sent = JSON.parse(text) as { start_ms: number; rate_hz: number; samples: number[][] };
      assert.deepEqual(JSON.parse(`{${tail!}}`), { start_ms: sent.start_ms, rate_hz: sent.rate_hz, samples: sent.samples }, text);
    };
    for (const text of ODD_FRAMES) check(text);
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const sp = (): string => [' ', '', '\n', '\t', '  ', ''][Math.floor(rnd() * 6)]!;
    const positive = (): string => {
      const v = rnd() * 10 ** Math.floor(rnd() * 14 - 3);
      const forms = [String(v), v.toExponential(), v.toExponential().toUpperCase(), v.toFixed(3), String(Math.round(v) + 1)];
      return forms[Math.floor(rnd() * forms.length)]!;
    };
    for (let n = 0; n < 2000; n++) {
      const fields = [`"seq"${sp()}:${sp()}${n}`, `"start_ms"${sp()}:${sp()}${rnd() < 0.2 ? '-' : ''}${positive()}`, `"rate_hz"${sp()}:${sp()}${positive()}`, `"samples"${sp()}:${sp()}[[1,2,3,4,5,${positive()}]]`];
      // Any key order JSON allows.
      for (let i = fields.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [fields[i], fields[j]] = [fields[j]!, fields[i]!];
      }
      check(`{${sp()}"type":"batch_sensor_data",${fields.join(`${sp()},${sp()}`)}${sp()}}`);
    }
  });

  test('batchTail: null when a value is not a plain number (the caller serializes instead)', () => {
    assert.equal(batchTail('{"start_ms":"5","rate_hz":100,"samples":[[1,2,3,4,5,6]]}'), null);
    assert.equal(batchTail('{"start_ms":5,"samples":[[1,2,3,4,5,6]]}'), null);
    assert.equal(batchTail('{"start_ms":5,"rate_hz":null,"samples":[[1,2,3,4,5,6]]}'), null);
  });

  test('null when the value is not arrays of numbers (the caller serializes instead)', () => {
    assert.equal(samplesText('{"type":"batch_sensor_data","seq":1}'), null);
    assert.equal(samplesText('{"samples":"[[1]]"}'), null);
    assert.equal(samplesText('{"samples":[[[1]]]}'), null);
    assert.equal(samplesText('{"samples":[[true,1]]}'), null);
    assert.equal(samplesText('{"samples":[[1,2]'), null);
  });
});

describe('operator fan-out of board batches', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway({ heartbeatIntervalMs: 0 });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['sensor'] }, 'subscribed');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('odd board texts reach the operator with the numbers the board sent', async () => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/odd-1/`);
    await b.next('connection_established');
    for (const t of ODD_FRAMES) b.send(t);
    const got: Record<string, unknown>[] = [];
    while (got.length < ODD_FRAMES.length) got.push(...((await op.next('sensor_samples')).batches as Record<string, unknown>[]));
    ODD_FRAMES.forEach((t, i) => {
      const sent = JSON.parse(t) as { seq: number; start_ms: number; rate_hz: number; samples: number[][]; session_id?: string };
      assert.deepEqual(got[i], { device_id: 'odd-1', seq: sent.seq, session_id: sent.session_id ?? null, start_ms: sent.start_ms, rate_hz: sent.rate_hz, samples: sent.samples });
    });
    await b.close();
  });

  test('20 boards sending bursts at once: every batch once, in order per board, gathered into fewer frames', async () => {
    const boards = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const c = await TestClient.connect(`${gw.url}/ws/esp32/burst-${i}/`);
      await c.next('connection_established');
      return c;
    }));
    const sent = new Map<string, number[][][]>();
    const FRAMES = 25;
    for (let k = 0; k < FRAMES; k++) {
      boards.forEach((c, i) => {
        const samples = Array.from({ length: 5 }, (_, j) => [i, k, j, Math.sin(i * 100 + k * 5 + j), Math.cos(k + j) * 1e-3, (k * 5 + j) / 7]);
        const list = sent.get(`burst-${i}`) ?? [];
        list.push(samples);
        sent.set(`burst-${i}`, list);
        c.send(`{"type":"batch_sensor_data","seq":${k},"start_ms":${k * 50},"rate_hz":100,"samples":${JSON.stringify(samples)}}`);
      });
    }
    const total = 20 * FRAMES;
    // Each board's acks (held until the fan-out of their turn went out): one per frame, in order.
    const acked = Promise.all(boards.map(async (c) => {
      const seqs: unknown[] = [];
      for (let k = 0; k < FRAMES; k++) seqs.push((await c.next('data_ack')).seq);
      return seqs;
    }));
    const got = new Map<string, { seq: number; samples: number[][] }[]>();
    let n = 0;
    let frames = 0;
    while (n < total) {
      const f = await op.next('sensor_samples');
      frames++;
      for (const b of f.batches as { device_id: string; seq: number; samples: number[][] }[]) {
        const list = got.get(b.device_id) ?? [];
        list.push(b);
        got.set(b.device_id, list);
        n++;
      }
    }
    assert.equal(n, total);
    for (const [id, samples] of sent) {
      const mine = got.get(id)!;
      assert.deepEqual(mine.map((b) => b.seq), Array.from({ length: FRAMES }, (_, k) => k), id);
      assert.deepEqual(mine.map((b) => b.samples), samples, id);
    }
    for (const seqs of await acked) assert.deepEqual(seqs, Array.from({ length: FRAMES }, (_, k) => k));
        // 500 batches that arrive while the loop is busy with the others share frames.
    assert.ok(frames < total / 2, `${frames} frames for ${total} batches`);
    await Promise.all(boards.map((c) => c.close()));
  });
});
