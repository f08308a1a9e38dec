/**
 * A web page cannot speak for a board, and values a Float32 or a date cannot
 * hold are refused: each with the bytes that broke it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeviceToken } from '../../main/gateway/auth.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { operatorApi, waitFor } from '../sessions/support.js';

const EVIL = { origin: 'http://evil.example' };

describe('browser origins on device endpoints', () => {
  for (const deviceAuth of ['open', 'token'] as const) {
    test(`${deviceAuth} mode: a page from http://evil.example cannot connect as racket-77; the real board stays`, async () => {
      const gw = await startTestGateway({ deviceAuth, heartbeatIntervalMs: 0 });
      try {
        const token = await createDeviceToken(gw.core, 'racket-77', null);
        const q = deviceAuth === 'token' ? `?token=${token}` : '';
        const real = await TestClient.connect(`${gw.url}/ws/esp32/racket-77/${q}`);
        await real.next('connection_established');
        // Even with the board's own token (a page that somehow has it), the Origin is refused.
        for (const path of [`/ws/esp32/racket-77/${q}`, `/ws/miniprogram/player-7/${q}`, '/']) {
          await assert.rejects(TestClient.connect(gw.url + path, { headers: EVIL }), { status: 403 }, path);
        }
        assert.equal((await real.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack', 'the real board is still connected');
        assert.equal(gw.core.boards.onlineCount(), 1);
        real.ws.close();
      } finally {
        await gw.stop();
      }
    });
  }

  test('--allow-origin names the origins that may: that page connects; in token mode only with the token, and only then replaces', async () => {
    const gw = await startTestGateway({ deviceAuth: 'token', allowedOrigins: ['http://console.example'], heartbeatIntervalMs: 0 });
    try {
      const token = await createDeviceToken(gw.core, 'racket-78', null);
      const real = await TestClient.connect(`${gw.url}/ws/esp32/racket-78/?token=${token}`);
      await real.next('connection_established');
      const headers = { origin: 'http://console.example' };
      await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/racket-78/?token=wrong`, { headers }), { status: 401 });
      assert.equal((await real.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack', 'a failed attempt replaces nothing');
      const page = await TestClient.connect(`${gw.url}/ws/esp32/racket-78/?token=${token}`, { headers });
      await page.next('connection_established');
      assert.equal((await real.closed).code, 4000, 'an authenticated newer connection replaces the old one');
      page.ws.close();
    } finally {
      await gw.stop();
    }
  });
});

/** The documented binary example with its gyro_scale (offset 28) set to +Inf, 00 00 80 7f. */
const INF_GYRO = Buffer.from('43 53 01 06 00 00 00 00 00 a0 5f 18 fe 34 79 42 00 00 48 43 01 00 00 00 00 00 00 3a 00 00 80 7f 30 00 30 f8 66 00 18 00 db ff 00 00'.replace(/ /g, ''), 'hex');

describe('non-finite values are refused', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ heartbeatIntervalMs: 0 });
  });
  after(() => gw.stop());

  test('gyro_scale=+Inf (BAD_BINARY), 1e39 in a sample and start_ms 1e300 (BAD_FRAME): nothing stored', async () => {
    const api = operatorApi(`http://127.0.0.1:${gw.port}`, gw.operatorToken);
    const id = await api.create(['racket-inf']);
    const board = await TestClient.connect(`${gw.url}/ws/esp32/racket-inf/`);
    await board.next('connection_established');
    await api.start(id);
    const cmd = await board.next('command');
    board.send({ type: 'command_ack', command_id: cmd.command_id, ok: true });
    await waitFor('start confirmed', async () => (await api.get(id)).session.state === 'recording', 3000);

    board.ws.send(INF_GYRO);
    const e1 = await board.next('error');
    assert.equal(e1.code, 'BAD_BINARY');
    assert.match(String(e1.message), /gyro_scale must be finite/);
    board.send('{"type":"batch_sensor_data","seq":1,"start_ms":1732212000250,"rate_hz":200,"samples":[[1e39,0,0,0,0,0]]}');
    assert.equal((await board.next('error')).code, 'BAD_FRAME');
    board.send('{"type":"batch_sensor_data","seq":2,"start_ms":1e300,"rate_hz":200,"samples":[[0,0,1,0,0,0]]}');
    assert.equal((await board.next('error')).code, 'BAD_FRAME');
    board.send('{"type":"sensor_data","seq":3,"timestamp":1e300,"data":{"ax":0,"ay":0,"az":1,"gx":0,"gy":0,"gz":0}}');
    assert.equal((await board.next('error')).code, 'BAD_FRAME');
    // The largest Float32 itself is fine, and is what gets stored.
    board.send('{"type":"batch_sensor_data","seq":4,"start_ms":1732212000250,"rate_hz":200,"samples":[[3.4028234663852886e38,0,1,0,0,0]]}');
    const ack = await board.next('data_ack');
    assert.equal(ack.stored, true);
    await waitFor('the good frame stored', async () => (await gw.store.chunkStats(id)).length > 0, 3000);
    const stats = await gw.store.chunkStats(id);
    assert.deepEqual(stats.map((s) => [s.deviceId, s.samples]), [['racket-inf', 1]], 'only the good frame was stored');
    for await (const c of gw.store.readChunks(id, { deviceId: 'racket-inf' })) {
      assert.equal(c.seq, 4);
      assert.ok(Number.isFinite(c.startMs), 'no stored start time is out of range');
    }
    board.ws.close();
  });
});
