/**
 * One board's hostile status_update (20,000 levels, 40 KB) used to be kept in
 * memory before its save failed, and every device listing answered 503 from
 * then on. Sent here over a real board socket, against both stores.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type Backend, type TestGateway } from '../support/gateway.js';

const DEEP = `{"type":"status_update","status":{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`a hostile status_update (${backend})`, () => {
    let gw: TestGateway;
    let op: TestClient;
    before(async () => {
      gw = await startTestGateway({ backend });
      op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
      await op.next('connection_established');
    });
    after(async () => {
      await op.close();
      await gw.stop();
    });

    test('is refused with BAD_FRAME, the board stays connected, and every listing still answers', async () => {
      assert.ok(DEEP.length >= 40_000);
      const b = await TestClient.connect(`${gw.url}/ws/esp32/deep-1/`);
      await b.next('connection_established');
      const good = { battery: 81, state: 'idle' };
      await b.ask({ type: 'status_update', status: good }, 'status_ack');

      b.send(DEEP);
      const e = await b.next('error');
      assert.equal(e.code, 'BAD_FRAME');
      assert.equal(e.message, 'status is nested deeper than 32 levels');
      await b.nothing('status_ack');
      // Still connected and served.
      assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');

      const list = await op.ask({ type: 'get_device_list', id: 1 }, (f) => f.id === 1);
      assert.equal(list.type, 'device_list');
      const mine = (list.devices as { device_id: string; status: unknown }[]).find((d) => d.device_id === 'deep-1');
      assert.deepEqual(mine?.status, good);

      const all = await gw.http('/api/devices');
      assert.equal(all.status, 200);
      assert.ok(((await all.json()) as { devices: { device_id: string }[] }).devices.some((d) => d.device_id === 'deep-1'));
      const one = await gw.http('/api/devices/deep-1');
      assert.equal(one.status, 200);
      assert.deepEqual(((await one.json()) as { status: unknown }).status, good);
      // The store kept the last good status, not the hostile one.
      assert.deepEqual((await gw.store.getDeviceStatus('deep-1'))?.status, good);
      await b.close();
    });

    test('a status the store cannot write is not kept in memory either', async () => {
      // No frame can carry such a value past validation any more; this drives the hub directly
      // to check the order "write, then keep" on its own.
      const b = await TestClient.connect(`${gw.url}/ws/esp32/cyc-1/`);
      await b.next('connection_established');
      await b.ask({ type: 'status_update', status: { battery: 50 } }, 'status_ack');
      const cyclic: Record<string, unknown> = { battery: 1 };
      cyclic.self = cyclic;
      await assert.rejects(gw.core.boards.setStatus('cyc-1', cyclic));
      assert.deepEqual(gw.core.boards.find('cyc-1')?.status, { battery: 50 });
      assert.equal((await gw.http('/api/devices')).status, 200);
      assert.equal((await gw.http('/api/devices/cyc-1')).status, 200);
      const list = await op.ask({ type: 'get_device_list', id: 2 }, (f) => f.id === 2);
      assert.equal(list.type, 'device_list');
      await b.close();
    });
  });
}
