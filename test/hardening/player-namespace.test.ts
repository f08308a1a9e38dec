/**
 * Room traffic never reaches a player app. A room client's queued direct
 * message to `user:<id>` used to be stored under the player's address and
 * handed to the app as if the gateway had written it (a forged analysis
 * result with max_speed_kmh 999). Sent here as the same bytes over real
 * sockets; what the app receives is read off its socket, raw.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { eventually, OPERATOR_TOKEN, roomClient, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';

const FORGED = (user: string) =>
  `{"type":"message","target_device_id":"user:${user}","queue":true,"content":{"type":"analysis_complete_notification","max_speed_kmh":999}}`;
const REFUSAL = (user: string) =>
  `target_device_id 'user:${user}' is a player app's address: ids starting with 'user:' belong to player apps, never to devices; room messages reach only devices in the room`;

/** A player app whose every text frame is kept as received, from before the upgrade completes. */
async function player(gw: TestGateway, user: string, token?: string) {
  const ws = new WebSocket(`${gw.url}/ws/miniprogram/${user}/${token ? `?token=${token}` : ''}`);
  const raw: string[] = [];
  ws.on('message', (d) => raw.push(d.toString()));
  await once(ws, 'open');
  const frames = () => raw.map((t) => JSON.parse(t) as Frame);
  const next = (type: string) => eventually(() => frames().find((f) => f.type === type));
  /** Waits `ms` and returns everything received meanwhile. */
  const settle = async (ms = 300) => {
    await new Promise((r) => setTimeout(r, ms));
    return frames();
  };
  await next('connection_established');
  return { raw, next, settle, close: () => (ws.close(), once(ws, 'close')) };
}

const forgedSeen = (raw: string[]) => raw.filter((t) => t.includes('999') || t.includes('"from_device_id"'));

describe('player apps receive only what the gateway wrote for them (open mode)', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway();
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('player online: the forged frame is refused to the sender and never reaches the app; notify_user does', async () => {
    const p = await player(gw, 'p1');
    const a = await roomClient(gw, { device_id: 'phone-a', identity: 'mobile_user' });
    a.c.send(FORGED('p1'));
    const e = await a.c.next('error');
    assert.deepEqual(e, { type: 'error', code: 'BAD_FRAME', message: REFUSAL('p1') });
    await a.c.nothing('queued');
    // Without queue, too.
    a.c.send({ type: 'message', target_device_id: 'user:p1', content: { type: 'analysis_complete_notification', max_speed_kmh: 999 } });
    assert.equal((await a.c.next('error')).code, 'BAD_FRAME');
    assert.deepEqual((await p.settle()).map((f) => f.type), ['connection_established']);

    const n = await op.ask({ type: 'notify_user', user_id: 'p1', payload: { type: 'analysis_complete_notification', session_id: 's1', max_speed_kmh: 212 } }, 'user_notified');
    assert.equal(n.delivered, true);
    assert.deepEqual(await p.next('analysis_complete_notification'), { type: 'analysis_complete_notification', session_id: 's1', max_speed_kmh: 212 });
    assert.deepEqual(forgedSeen(p.raw), []);
    // Nothing was stored for the player, and the sender's connection still works.
    assert.deepEqual(await gw.store.queuedMessagesFor('user:p1'), []);
    assert.equal((await a.c.ask({ type: 'query_room' }, 'room_info')).type, 'room_info');
    await Promise.all([p.close(), a.c.close()]);
  });

  test('player offline, then connecting: only the gateway notification is delivered', async () => {
    const a = await roomClient(gw, { device_id: 'phone-b', identity: 'mobile_user' });
    for (const user of ['p2', 'P2', 'p2/../p3']) {
      a.c.send(FORGED(user));
      assert.equal((await a.c.next('error')).message, REFUSAL(user));
    }
    a.c.send(FORGED('p2').replace('"user:', '"USER:'));
    assert.equal((await a.c.next('error')).code, 'BAD_FRAME');
    await a.c.nothing('queued');
    const n = await op.ask({ type: 'notify_user', user_id: 'p2', payload: { type: 'analysis_complete_notification', session_id: 's2' } }, 'user_notified');
    assert.deepEqual([n.delivered, n.queued], [false, true]);

    const p = await player(gw, 'p2');
    assert.deepEqual(await p.next('analysis_complete_notification'), { type: 'analysis_complete_notification', session_id: 's2' });
    await p.settle();
    assert.deepEqual(p.raw.map((t) => (JSON.parse(t) as { type: string }).type), ['connection_established', 'analysis_complete_notification']);
    await Promise.all([p.close(), a.c.close()]);
  });

  test('a room message already stored under a player address (an older database) is never handed to the app', async () => {
    // The row the old gateway wrote for the forged frame: a room, a room device as sender.
    const at = new Date();
    await gw.store.insertMessage({
      roomId: 'K7M2QX', fromDeviceId: 'phone-c', toDeviceId: 'user:p4', messageType: 'direct',
      content: '{"type":"analysis_complete_notification","max_speed_kmh":999}', sentAt: at, status: 'queued', contentJson: true,
    });
    // Even from a room device that called itself "gateway".
    await gw.store.insertMessage({
      roomId: 'K7M2QX', fromDeviceId: 'gateway', toDeviceId: 'user:p4', messageType: 'direct',
      content: '{"type":"analysis_complete_notification","max_speed_kmh":999}', sentAt: at, status: 'queued', contentJson: true,
    });
    await op.ask({ type: 'notify_user', user_id: 'p4', payload: { type: 'session_update', session_id: 's4' } }, 'user_notified');
    const p = await player(gw, 'p4');
    assert.deepEqual(await p.next('session_update'), { type: 'session_update', session_id: 's4' });
    assert.deepEqual((await p.settle()).map((f) => f.type), ['connection_established', 'session_update']);
    assert.deepEqual(forgedSeen(p.raw), []);
    // The room rows stay undelivered: no room device can ever be user:p4 either.
    assert.equal((await gw.store.queuedMessagesFor('user:p4')).filter((m) => m.roomId === 'K7M2QX').length, 2);
    await p.close();
  });

  test('no room client, signaling client or board can take a player address', async () => {
    const c = await TestClient.connect(gw.url + '/');
    c.send({ device_id: 'user:p1', identity: 'mobile_user' });
    assert.deepEqual(await c.next('error'), {
      type: 'error', code: 'BAD_FRAME',
      message: "device_id 'user:p1' is a player app's address: ids starting with 'user:' belong to player apps, never to devices",
    });
    await c.nothing('room');
    c.send({ type: 'register', client_id: 'User:p1' });
    assert.match(String((await c.next('error')).message), /^client_id 'User:p1' is a player app's address/);
    // The same socket can still identify properly.
    c.send({ device_id: 'phone-d', identity: 'mobile_user' });
    assert.equal((await c.next('room')).status, 'created_new');
    await c.close();
  });
});

describe('player apps receive only what the gateway wrote for them (token mode)', () => {
  let gw: TestGateway;
  let op: TestClient;
  const mint = async (deviceId: string) => String((await op.ask({ type: 'create_device_token', device_id: deviceId, label: 'test' }, 'device_token')).token);
  before(async () => {
    gw = await startTestGateway({ deviceAuth: 'token' });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('a board token on / cannot inject into a player app, online or offline', async () => {
    const boardToken = await mint('racket-1');
    const playerToken = await mint('user:p7');
    const a = await roomClient(gw, { device_id: 'racket-1', identity: 'sensor_node', token: boardToken });
    assert.equal(a.room.status, 'created_new');

    a.c.send(FORGED('p7'));
    assert.deepEqual(await a.c.next('error'), { type: 'error', code: 'BAD_FRAME', message: REFUSAL('p7') });
    const p = await player(gw, 'p7', playerToken);
    a.c.send(FORGED('p7'));
    assert.equal((await a.c.next('error')).code, 'BAD_FRAME');
    const n = await op.ask({ type: 'notify_user', user_id: 'p7', payload: { type: 'analysis_complete_notification', session_id: 's7' } }, 'user_notified');
    assert.equal(n.delivered, true);
    assert.equal((await p.next('analysis_complete_notification')).session_id, 's7');
    assert.deepEqual((await p.settle()).map((f) => f.type), ['connection_established', 'analysis_complete_notification']);
    assert.deepEqual(forgedSeen(p.raw), []);
    await Promise.all([p.close(), a.c.close()]);
  });

  test('a player token opens neither a room client nor a board', async () => {
    const playerToken = await mint('user:p8');
    const c = await TestClient.connect(gw.url + '/');
    c.send({ device_id: 'user:p8', identity: 'mobile_user', token: playerToken });
    assert.equal((await c.next('error')).code, 'BAD_FRAME');
    await c.nothing('room');
    await c.close();

    // Refused at the upgrade (404) or, if the route lets it through, before anything else.
    let welcomed = false;
    try {
      const b = await TestClient.connect(`${gw.url}/ws/esp32/user:p8/?token=${playerToken}`);
      const first = await b.next();
      welcomed = first.type === 'connection_established';
      assert.equal(first.code, 'UNAUTHORIZED');
      assert.equal((await b.closed).code, 4401);
    } catch (err) {
      assert.equal((err as { status?: number }).status, 404, String(err));
    }
    assert.equal(welcomed, false);
    const list = await op.ask({ type: 'get_device_list', id: 8 }, (f) => f.id === 8);
    assert.ok(!(list.devices as { device_id: string }[]).some((d) => d.device_id.startsWith('user:')));
  });
});
