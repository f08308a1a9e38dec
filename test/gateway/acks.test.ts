/**
 * Receiver acks: room direct messages and player notifications sent with `ack: true` are
 * stored first, resent until the receiver acks (a socket that died before acking gets them
 * again on its next connection) or until they expire; notifications queue by priority.
 * ManualClock: nothing sleeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { eventually, OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('receiver acks and expiry', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let op: TestClient;
  before(async () => {
    clock = new ManualClock(Date.now());
    gw = await startTestGateway({ clock, commandResendMs: 10_000, heartbeatIntervalMs: 0, identifyTimeoutMs: 0 });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['messages'] }, 'subscribed');
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
  const player = async (id: string) => {
    const p = await TestClient.connect(`${gw.url}/ws/miniprogram/${id}/`);
    await p.next('connection_established');
    return p;
  };
  const status = async (id: number) => (await gw.store.listMessages({ limit: 500 })).find((m) => m.id === id)?.status;

  test('room: sent with message_id, resent every interval until message_ack, then delivered to the sender', async () => {
    const a = await join('ak-a');
    const b = await join('ak-b', a.room);
    a.c.send({ type: 'message', content: { score: [21, 19] }, target_device_id: 'ak-b', ack: true });
    const q = await a.c.next('queued');
    const id = Number(q.message_id);
    const first = await b.c.next('message');
    assert.deepEqual([first.content, first.message_id, first.ack], [{ score: [21, 19] }, id, true]);
    assert.equal(await status(id), 'queued');
    clock.advance(10_000);
    assert.equal((await b.c.next('message')).message_id, id);
    b.c.send({ type: 'message_ack', message_id: id });
    assert.deepEqual(await a.c.next('delivered'), { type: 'delivered', message_id: id, target_device_id: 'ak-b' });
    await eventually(async () => (await status(id)) === 'delivered');
    clock.advance(30_000);
    await b.c.nothing('message', 80);
    // Acking again, or a message that is not yours: NOT_FOUND, the socket stays.
    assert.equal((await b.c.ask({ type: 'message_ack', message_id: id }, 'error')).code, 'NOT_FOUND');
    await Promise.all([a.c.close(), b.c.close()]);
  });

  test('room: a receiver whose socket died before acking gets the message again on its next identity', async () => {
    const a = await join('ak-c');
    const b = await join('ak-d', a.room);
    a.c.send({ type: 'message', content: 'serve now', target_device_id: 'ak-d', ack: true });
    const id = Number((await a.c.next('queued')).message_id);
    assert.equal((await b.c.next('message')).message_id, id);
    b.c.ws.terminate();
    await b.c.closed;
    clock.advance(10_000);
    assert.equal(await status(id), 'queued', 'written to a dying socket is not delivered');
    // A third device may not ack it for the target.
    const x = await join('ak-x', a.room);
    assert.equal((await x.c.ask({ type: 'message_ack', message_id: id }, 'error')).code, 'NOT_FOUND');
    const again = await join('ak-d');
    const m = await again.c.next('message');
    assert.deepEqual([m.content, m.message_id], ['serve now', id]);
    again.c.send({ type: 'message_ack', message_id: id });
    assert.equal((await a.c.next('delivered')).message_id, id);
    await Promise.all([a.c.close(), again.c.close(), x.c.close()]);
  });

  test('room: ttl_ms passes without an ack: the sender hears expired, and it is never delivered', async () => {
    const a = await join('ak-e');
    const b = await join('ak-f', a.room);
    a.c.send({ type: 'message', content: 'quick', target_device_id: 'ak-f', ack: true, ttl_ms: 5000 });
    const id = Number((await a.c.next('queued')).message_id);
    await b.c.next('message');
    clock.advance(5000);
    assert.deepEqual(await a.c.next('expired'), { type: 'expired', message_id: id, target_device_id: 'ak-f' });
    await b.c.close();
    const back = await join('ak-f', a.room);
    await back.c.nothing('message', 120);
    // ttl_ms on a plain queued message too.
    a.c.send({ type: 'message', content: 'later', target_device_id: 'ak-g', queue: true, ttl_ms: 1000 });
    await a.c.next('queued');
    clock.advance(1001);
    const g = await join('ak-g');
    await g.c.nothing('message', 120);
    await Promise.all([a.c.close(), back.c.close(), g.c.close()]);
  });

  test('player: notify_user with ack: message_id, resent until notification_ack, again after a reconnect; a delivered event', async () => {
    const p = await player('ak-p1');
    const r = await op.ask({ type: 'notify_user', user_id: 'ak-p1', payload: { type: 'court_ready', court: 3 }, ack: true }, 'user_notified');
    assert.deepEqual([r.delivered, r.queued], [false, true]);
    const id = Number(r.message_id);
    assert.deepEqual(await p.next('court_ready'), { type: 'court_ready', court: 3, message_id: id, ack: true });
    clock.advance(10_000);
    assert.equal((await p.next('court_ready')).message_id, id);
    p.ws.terminate();
    await p.closed;
    const p2 = await player('ak-p1');
    assert.equal((await p2.next('court_ready')).message_id, id);
    p2.send({ type: 'notification_ack', message_id: id });
    const ev = await op.next((f) => f.type === 'event' && f.event === 'delivered' && f.message_id === id);
    assert.equal(ev.to_device_id, 'user:ak-p1');
    await eventually(async () => (await gw.store.queuedMessagesFor('user:ak-p1')).length === 0);
    clock.advance(30_000);
    await p2.nothing('court_ready', 80);
    assert.equal((await p2.ask({ type: 'notification_ack', message_id: id }, 'error')).code, 'NOT_FOUND');
    await p2.close();
  });

  test('player: queued notifications arrive high priority first', async () => {
    for (const [n, priority] of [['l', 'low'], ['n', undefined], ['h', 'high']] as const) {
      await op.ask({ type: 'notify_user', user_id: 'ak-p2', payload: { type: 'note', n }, ...(priority ? { priority } : {}) }, 'user_notified');
    }
    const p = await player('ak-p2');
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) got.push((await p.next('note')).n);
    assert.deepEqual(got, ['h', 'n', 'l']);
    await p.close();
  });
});
