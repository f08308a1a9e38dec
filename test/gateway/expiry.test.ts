/**
 * Queued messages past their ttl_ms: status `expired` (what operators list), never delivered,
 * and out of the target's queue quota, whether the sweep timer, a full queue or an ack timer
 * saw them first. Both backends; ManualClock, nothing sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { EXPIRY_SWEEP_MS } from '../../main/gateway/message-expiry.js';
import { eventually, OPERATOR_TOKEN, startTestGateway, TestClient, type Backend, type TestGateway } from '../support/gateway.js';

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`expired queued messages (${backend})`, () => {
    let gw: TestGateway;
    let clock: ManualClock;
    let op: TestClient;
    before(async () => {
      clock = new ManualClock(Date.now());
      gw = await startTestGateway({ backend, clock, maxQueuedPerTarget: 2, commandResendMs: 10_000, heartbeatIntervalMs: 0, identifyTimeoutMs: 0 });
      op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
      await op.next('connection_established');
    });
    after(async () => {
      await op.close();
      await gw.stop();
    });

    const join = async (device: string, room?: string) => {
      const c = await TestClient.connect(gw.url + '/');
      c.send({ device_id: device, identity: 'u', ...(room ? { room_id: room } : {}) });
      const r = await c.next('room');
      return { c, room: String(r.room_id) };
    };
    /** The status operators see for a message, from get_messages. */
    const listed = async (room: string, id: number) => {
      const r = await op.ask({ type: 'get_messages', room_id: room, limit: 50 }, 'messages');
      return (r.messages as { id: number; status: string }[]).find((m) => m.id === id)?.status;
    };
    const queue = async (c: TestClient, target: string, content: string, extra: Record<string, unknown> = {}) => {
      c.send({ type: 'message', content, target_device_id: target, queue: true, ...extra });
      const f = await c.next((x) => x.type === 'queued' || x.type === 'error');
      return f;
    };

    test('a full queue drops what expired and takes the new message; the expired one is never delivered', async () => {
      const a = await join('ex-a');
      const m1 = await queue(a.c, 'ex-t', 'old', { ttl_ms: 1000 });
      const m2 = await queue(a.c, 'ex-t', 'keep');
      assert.deepEqual([m1.type, m2.type], ['queued', 'queued']);
      const refused = await queue(a.c, 'ex-t', 'too many');
      assert.equal(refused.code, 'QUOTA_EXCEEDED', 'two queued, the cap is two');
      clock.advance(1001);
      // No sweep has run yet: the full queue itself clears what expired, and the message fits.
      const m3 = await queue(a.c, 'ex-t', 'fits now');
      assert.equal(m3.type, 'queued');
      assert.equal(await listed(a.room, Number(m1.message_id)), 'expired');
      assert.equal(await listed(a.room, Number(m2.message_id)), 'queued');
      // Still two live ones: the next is refused again.
      assert.equal((await queue(a.c, 'ex-t', 'over')).code, 'QUOTA_EXCEEDED');
      const t = await join('ex-t');
      const got = [String((await t.c.next('message')).content), String((await t.c.next('message')).content)];
      assert.deepEqual(got, ['keep', 'fits now']);
      await t.c.nothing('message', 120);
      assert.equal(await listed(a.room, Number(m1.message_id)), 'expired', 'connecting does not deliver an expired message');
      assert.equal(await listed(a.room, Number(m2.message_id)), 'delivered');
      await Promise.all([a.c.close(), t.c.close()]);
    });

    test('the sweep timer marks expired messages nobody touches, and their target may queue again', async () => {
      const a = await join('ex-b');
      const ids: number[] = [];
      for (const content of ['one', 'two']) ids.push(Number((await queue(a.c, 'ex-u', content, { ttl_ms: 2000 })).message_id));
      clock.advance(2001);
      assert.equal(await listed(a.room, ids[0]!), 'queued', 'not swept yet');
      clock.advance(EXPIRY_SWEEP_MS);
      await eventually(async () => (await listed(a.room, ids[0]!)) === 'expired' && (await listed(a.room, ids[1]!)) === 'expired');
      assert.deepEqual(await gw.store.queuedMessagesFor('ex-u'), []);
      assert.deepEqual((await gw.store.messageUsage({ queuedFor: 'ex-u' })).target, { count: 0, bytes: 0 });
      for (const content of ['three', 'four']) assert.equal((await queue(a.c, 'ex-u', content)).type, 'queued');
      const u = await join('ex-u');
      assert.deepEqual([(await u.c.next('message')).content, (await u.c.next('message')).content], ['three', 'four']);
      await Promise.all([a.c.close(), u.c.close()]);
    });

    test('ack with ttl_ms to a target that never acks: expired to the sender, listed expired, the quota given back', async () => {
      const a = await join('ex-c');
      const b = await join('ex-v', a.room);
      a.c.send({ type: 'message', content: 'ack me', target_device_id: 'ex-v', ack: true, ttl_ms: 3000 });
      const id = Number((await a.c.next('queued')).message_id);
      await b.c.next('message');
      a.c.send({ type: 'message', content: 'ack me too', target_device_id: 'ex-v', ack: true });
      const second = Number((await a.c.next('queued')).message_id);
      await b.c.next('message');
      assert.equal((await queue(a.c, 'ex-v', 'third', { ack: true })).code, 'QUOTA_EXCEEDED');
      clock.advance(3000);
      assert.deepEqual(await a.c.next('expired'), { type: 'expired', message_id: id, target_device_id: 'ex-v' });
      await eventually(async () => (await listed(a.room, id)) === 'expired');
      assert.equal(await listed(a.room, second), 'queued');
      // One slot back: exactly one more fits.
      assert.equal((await queue(a.c, 'ex-v', 'third', { ack: true })).type, 'queued');
      assert.equal((await queue(a.c, 'ex-v', 'fourth', { ack: true })).code, 'QUOTA_EXCEEDED');
      // A late ack of the expired one is refused; it stays expired.
      assert.equal((await b.c.ask({ type: 'message_ack', message_id: id }, 'error')).code, 'NOT_FOUND');
      assert.equal(await listed(a.room, id), 'expired');
      await Promise.all([a.c.close(), b.c.close()]);
    });
  });
}
