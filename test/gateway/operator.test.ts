/** The operator endpoint and HTTP API: auth (token, Origin), every request, and the error shapes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, OPERATOR_TOKEN, roomClient, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('operator endpoint and HTTP API', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ allowedOrigins: ['http://tablet.local:5173'] });
  });
  after(() => gw.stop());

  const operator = async () => {
    const c = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await c.next('connection_established');
    return c;
  };

  test('upgrade without a token, with a wrong one, or from a foreign Origin is refused', async () => {
    await assert.rejects(TestClient.connect(`${gw.url}/ws/admin/`), { status: 401 });
    await assert.rejects(TestClient.connect(`${gw.url}/ws/admin/?token=wrong-token-wrong-token`), { status: 401 });
    await assert.rejects(TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`, { origin: 'http://evil.example' }), { status: 403 });
    const ok = await TestClient.connect(`${gw.url}/ws/admin/`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, origin: `http://127.0.0.1:${gw.port}` });
    assert.equal((await ok.next()).type, 'connection_established');
    await ok.close();
    const allowed = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`, { origin: 'http://tablet.local:5173' });
    await allowed.close();
  });

  test('HTTP: health is open; the API and metrics need the token and a good Origin', async () => {
    const health = await gw.http('/api/health', { token: null });
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; database: string };
    assert.equal(h.status, 'ok');
    assert.equal(h.database, 'ok');
    for (const path of ['/api/status', '/api/devices', '/api/rooms', '/metrics']) {
      const r = await gw.http(path, { token: null });
      assert.equal(r.status, 401, path);
      assert.deepEqual(await r.json(), { error: { code: 'UNAUTHORIZED', message: 'operator token missing or invalid' } });
    }
    const viaQuery = await fetch(`http://127.0.0.1:${gw.port}/api/status?token=${OPERATOR_TOKEN}`);
    assert.equal(viaQuery.status, 200);
    const foreign = await gw.http('/api/status', { headers: { origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'FORBIDDEN_ORIGIN');
    const missing = await gw.http('/api/nothing-here');
    assert.equal(missing.status, 404);
  });

  test('GET /api/status, /api/rooms, /api/rooms/:id and /metrics reflect the live state', async () => {
    const a = await roomClient(gw, { device_id: 'op-a', identity: 'phone' });
    const roomId = String(a.room.room_id);
    a.c.send({ type: 'message', content: 'hello' });
    const status = (await (await gw.http('/api/status')).json()) as { connections: { room: number }; database: { kind: string } };
    assert.equal(status.connections.room, 1);
    assert.equal(status.database.kind, 'sqlite');
    const rooms = (await (await gw.http('/api/rooms')).json()) as { rooms: { room_id: string; total_clients: number }[] };
    assert.deepEqual(rooms.rooms.map((r) => [r.room_id, r.total_clients]), [[roomId, 1]]);
    const detail = await eventually(async () => {
      const d = (await (await gw.http(`/api/rooms/${roomId}`)).json()) as { messages: { content: string }[]; members: unknown[] };
      return d.messages.length > 0 ? d : null;
    });
    assert.equal(detail.messages[0]!.content, 'hello');
    assert.equal(detail.members.length, 1);
    assert.equal((await gw.http('/api/rooms/NOPE99')).status, 404);
    const metrics = await (await gw.http('/metrics')).text();
    assert.match(metrics, /^courtside_connections\{endpoint="room"\} 1$/m);
    assert.match(metrics, /^courtside_room_messages_total [1-9]/m);
    await a.c.close();
  });

  test('operator requests: status, rooms, room detail, messages, with request ids echoed', async () => {
    const op = await operator();
    const a = await roomClient(gw, { device_id: 'op-b', identity: 'phone' });
    const roomId = String(a.room.room_id);
    const st = await op.ask({ type: 'get_system_status', id: 'r1' }, 'system_status');
    assert.equal(st.id, 'r1');
    assert.equal((st.connections as { operator: number }).operator, 1);
    const rooms = await op.ask({ type: 'get_rooms' }, 'rooms');
    assert.ok((rooms.rooms as { room_id: string }[]).some((r) => r.room_id === roomId));
    const room = await op.ask({ type: 'get_room', room_id: roomId }, 'room_detail');
    assert.equal(room.total_clients, 1);
    const nf = await op.ask({ type: 'get_room', id: 9, room_id: 'ZZZZZZ' }, 'error');
    assert.deepEqual(nf, { type: 'error', code: 'NOT_FOUND', message: 'room ZZZZZZ not found', id: 9 });
    const msgs = await op.ask({ type: 'get_messages', room_id: roomId, limit: 5 }, 'messages');
    assert.ok(Array.isArray(msgs.messages));
    await Promise.all([op.close(), a.c.close()]);
  });

  test('subscribe: live room membership and message events; unsubscribe stops them', async () => {
    const op = await operator();
    assert.deepEqual((await op.ask({ type: 'subscribe', topics: ['rooms', 'messages'] }, 'subscribed')).topics, ['rooms', 'messages']);
    const a = await roomClient(gw, { device_id: 'live-a', identity: 'phone' });
    const join = await op.next((f) => f.type === 'event' && f.event === 'join');
    assert.equal(join.device_id, 'live-a');
    a.c.send({ type: 'message', content: 'watched' });
    const m = await op.next((f) => f.type === 'event' && f.topic === 'messages');
    assert.equal(m.content, 'watched');
    assert.deepEqual((await op.ask({ type: 'unsubscribe', topics: ['messages'] }, 'unsubscribed')).topics, ['rooms']);
    a.c.send({ type: 'message', content: 'unwatched' });
    await op.nothing((f) => f.topic === 'messages');
    const bad = await op.ask({ type: 'subscribe', topics: ['everything'] }, 'error');
    assert.equal(bad.code, 'BAD_FRAME');
    assert.match(String(bad.message), /topics\[0\]/);
    await Promise.all([op.close(), a.c.close()]);
  });

  test('send_room_message: operator broadcast and direct into a room', async () => {
    const op = await operator();
    const a = await roomClient(gw, { device_id: 'srm-a', identity: 'phone' });
    const roomId = String(a.room.room_id);
    assert.equal((await op.ask({ type: 'send_room_message', room_id: roomId, content: 'from the desk' }, 'room_message_sent')).recipients, 1);
    const m = await a.c.next('message');
    assert.equal(m.from_device_id, 'operator');
    assert.equal(m.content, 'from the desk');
    await op.ask({ type: 'send_room_message', room_id: roomId, content: 'just you', target_device_id: 'srm-a' }, 'room_message_sent');
    assert.equal((await a.c.next('message')).message_type, 'direct');
    assert.equal((await op.ask({ type: 'send_room_message', room_id: roomId, content: 'x', target_device_id: 'ghost' }, 'error')).code, 'TARGET_NOT_FOUND');
    assert.equal((await op.ask({ type: 'send_room_message', room_id: 'EMPTY2', content: 'x' }, 'error')).code, 'NOT_FOUND');
    await Promise.all([op.close(), a.c.close()]);
  });

  test('system_notification reaches every operator', async () => {
    const op1 = await operator();
    const op2 = await operator();
    const r = await op1.ask({ type: 'system_notification', message: 'court 3 closes at 22:00', level: 'warning' }, 'notification_sent');
    assert.equal(r.operators, 2);
    for (const o of [op1, op2]) {
      const n = await o.next('system_notification');
      assert.equal(n.message, 'court 3 closes at 22:00');
      assert.equal(n.level, 'warning');
    }
    assert.equal((await op1.ask({ type: 'system_notification', message: '' }, 'error')).message, 'message must not be empty');
    await Promise.all([op1.close(), op2.close()]);
  });

  test('bad operator frames get errors and the connection stays', async () => {
    const op = await operator();
    op.send('nope');
    assert.equal((await op.next('error')).code, 'INVALID_JSON');
    assert.equal((await op.ask({ type: 'drop_tables', id: 3 }, 'error')).id, 3);
    assert.equal((await op.ask({ type: 'send_command', command: 'x' }, 'error')).message, 'device_id is required');
    assert.equal((await op.ask({ type: 'get_system_status' }, 'system_status')).type, 'system_status');
    await op.close();
  });

  test('POST /api/devices/:id/commands validates its body', async () => {
    const bad = await gw.http('/api/devices/r-1/commands', { method: 'POST', body: '{"command": 5}' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /command must be/);
    const notJson = await gw.http('/api/devices/r-1/commands', { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);
    const ok = await gw.http('/api/devices/r-1/commands', { method: 'POST', body: JSON.stringify({ command: 'start', params: { session_id: 'abc' } }) });
    assert.equal(ok.status, 202);
    const body = (await ok.json()) as { command: string; pushed: boolean; connected: boolean };
    assert.deepEqual([body.command, body.pushed, body.connected], ['start_collection', false, false]);
    const list = (await (await gw.http('/api/devices/r-1/commands')).json()) as { commands: { state: string; params: unknown }[] };
    assert.deepEqual(list.commands.map((c) => [c.state, c.params]), [['queued', { session_id: 'abc' }]]);
  });

  test('unknown WebSocket paths get 404', async () => {
    await assert.rejects(TestClient.connect(`${gw.url}/ws/nothing/`), { status: 404 });
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/bad code!/`), { status: 404 });
  });

  test('the UI placeholder is served at / with security headers', async () => {
    const r = await fetch(`http://127.0.0.1:${gw.port}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await r.text(), /Courtside/);
  });
});
