/**
 * What firmware not written for Courtside sends: `status_update` with a string status and
 * flat fields, and sample batches over HTTP (`POST /api/esp32/{device_code}/data`), acked only
 * once stored; in token mode with the board's own token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

type Json = Record<string, unknown>;

describe('board compatibility: string status, HTTP sample upload', () => {
  let gw: TestGateway;
  let op: TestClient;
  let token: string;
  before(async () => {
    gw = await startTestGateway({ deviceAuth: 'token' });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['devices', 'sensor', 'sessions'] }, 'subscribed');
    token = String((await op.ask({ type: 'create_device_token', device_id: 'hc-1', label: 'test' }, 'device_token')).token);
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('status_update with a string status and flat fields: stored as sent, shown to operators', async () => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/hc-1/?token=${token}`);
    await b.next('connection_established');
    assert.deepEqual(await b.ask({ type: 'status_update', status: 'idle', battery: 87, firmware: '0.9' }, 'status_ack'), { type: 'status_ack' });
    const sent = { status: 'idle', battery: 87, firmware: '0.9' };
    const ev = await op.next((f) => f.type === 'event' && f.event === 'status');
    assert.deepEqual((ev.device as Json).status, sent);
    assert.deepEqual((await gw.store.getDeviceStatus('hc-1'))?.status, sent);
    const list = (await (await gw.http('/api/devices')).json()) as { devices: Json[] };
    assert.deepEqual(list.devices.find((d) => d.device_id === 'hc-1')?.status, sent);
    // Today's object form is unchanged.
    await b.ask({ type: 'status_update', status: { state: 'recording' } }, 'status_ack');
    assert.deepEqual((await gw.store.getDeviceStatus('hc-1'))?.status, { state: 'recording' });
    await b.close();
  });

  test('POST /api/esp32/{code}/data: the board token admits it, the batch is stored before the data_ack', async () => {
    const post = (code: string, body: unknown, t: string | null = token) =>
      fetch(`http://127.0.0.1:${gw.port}/api/esp32/${code}/data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const samples = Array.from({ length: 50 }, (_, i) => [i / 100, 0.1, 0.98, 1, 2, 3]);

    assert.equal((await post('hc-1', { seq: 0, start_ms: 0, rate_hz: 100, samples }, null)).status, 401);
    assert.equal((await post('hc-1', { seq: 0, start_ms: 0, rate_hz: 100, samples }, OPERATOR_TOKEN)).status, 401);

    // No session: live only, said so, as on the socket.
    const live = await post('hc-1', { type: 'batch_sensor_data', seq: 0, start_ms: 0, rate_hz: 100, samples });
    assert.equal(live.status, 200);
    const liveAck = (await live.json()) as Json;
    assert.deepEqual([liveAck.type, liveAck.stored], ['data_ack', false]);
    const pushed = await op.next('sensor_samples');
    assert.equal(((pushed.batches as Json[])[0]!).device_id, 'hc-1');

    const s = (await op.ask({ type: 'create_session', boards: ['hc-1'] }, 'session')).session as { session_id: string };
    await op.ask({ type: 'start_session', session_id: s.session_id }, 'session');
    const res = await post('hc-1', { seq: 1, session_id: s.session_id, start_ms: 1000, rate_hz: 100, samples });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { type: 'data_ack', seq: 1, session_id: s.session_id, stored: true });
    // Acked means durable: the chunk is in the store when the answer arrives.
    assert.deepEqual(await gw.store.chunkSeqs(s.session_id, 'hc-1'), [1]);
    const again = await post('hc-1', { seq: 1, session_id: s.session_id, start_ms: 1000, rate_hz: 100, samples });
    assert.equal(((await again.json()) as Json).stored, true);
    assert.deepEqual(await gw.store.chunkSeqs(s.session_id, 'hc-1'), [1]);

    const bad = await post('hc-1', { seq: 2, start_ms: 0, rate_hz: 100, samples: [[1, 2]] });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: Json }).error.code, 'BAD_FRAME');
    const junk = await post('hc-1', '{"seq":');
    assert.equal(((await junk.json()) as { error: Json }).error.code, 'INVALID_JSON');
    const get = await fetch(`http://127.0.0.1:${gw.port}/api/esp32/hc-1/data`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(get.status, 405);
  });
});
