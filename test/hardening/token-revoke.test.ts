/**
 * Revoking a device token closes that device's live sockets at once, with
 * 4403: the board socket, a room client and a signaling client of that id,
 * and every socket of a player (`user:<id>`). The revocation paths: the
 * operator frame, the HTTP DELETE, and core.tokens.revoke (what the USB part
 * calls). Other devices stay connected. In open mode revocation closes
 * nothing, since no socket there was admitted by a token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

async function operator(gw: TestGateway): Promise<TestClient> {
  const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
  await op.next('connection_established');
  return op;
}

let gwOf: TestGateway;
/** Minted the way the operator request and the USB part mint: core.tokens. */
async function mint(_op: TestClient, deviceId: string): Promise<string> {
  return gwOf.core.tokens.mint(deviceId, 'revoke test');
}

/** A room client and a signaling client on `/`, each identified. */
async function roomAndSignal(gw: TestGateway, id: string, token?: string): Promise<{ room: TestClient; signal: TestClient }> {
  const room = await TestClient.connect(gw.url + '/');
  room.send({ device_id: id, identity: 'mobile_user', ...(token ? { token } : {}) });
  await room.next('room');
  const signal = await TestClient.connect(gw.url + '/');
  signal.send({ type: 'register', client_id: id, ...(token ? { token } : {}) });
  await signal.next('registered');
  return { room, signal };
}

describe('revoking a device token (token mode)', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway({ deviceAuth: 'token', heartbeatIntervalMs: 0 });
    gwOf = gw;
    op = await operator(gw);
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('revoke_device_token closes the board socket and the room and signaling clients of that id with 4403', async () => {
    const t = await mint(op, 'racket-77');
    const other = await mint(op, 'racket-78');
    const board = await TestClient.connect(`${gw.url}/ws/esp32/racket-77/?token=${t}`);
    await board.next('connection_established');
    const { room, signal } = await roomAndSignal(gw, 'racket-77', t);
    const bystander = await TestClient.connect(`${gw.url}/ws/esp32/racket-78/?token=${other}`);
    await bystander.next('connection_established');

    const r = await op.ask({ type: 'revoke_device_token', device_id: 'racket-77' }, 'device_token_revoked');
    assert.equal(r.revoked, 1);
    for (const c of [board, room, signal]) {
      const closed = await Promise.race([c.closed, new Promise<null>((res) => setTimeout(() => res(null), 2000))]);
      assert.ok(closed, 'socket still open after its token was revoked');
      assert.equal(closed.code, 4403);
      assert.equal(closed.reason, 'device token revoked');
    }
    // The gateway's own view agrees: the board is offline and nobody holds the id.
    await eventually(() => !gw.core.boards.isConnected('racket-77') && gw.core.rooms.member('racket-77') === undefined
      && !gw.core.signaling.ids().includes('racket-77'));
    // Another board is untouched, and answers.
    bystander.send({ type: 'heartbeat' });
    await bystander.next('heartbeat_ack');
    // And the revoked token opens nothing again.
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/racket-77/?token=${t}`), { status: 401 });
    await bystander.close();
  });

  test('DELETE /api/device-tokens/:id closes the board at once', async () => {
    const t = await mint(op, 'racket-80');
    const board = await TestClient.connect(`${gw.url}/ws/esp32/racket-80/?token=${t}`);
    await board.next('connection_established');
    const res = await gw.http('/api/device-tokens/racket-80', { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { revoked: number }).revoked, 1);
    assert.equal((await board.closed).code, 4403);
  });

  test('a player token (user:<id>) closes every socket of that player, and no room device of the same name', async () => {
    const t = await mint(op, 'user:p7');
    const roomToken = await mint(op, 'p7');
    const a = await TestClient.connect(`${gw.url}/ws/miniprogram/p7/?token=${t}`);
    const b = await TestClient.connect(`${gw.url}/ws/miniprogram/p7/?token=${t}`);
    await a.next('connection_established');
    await b.next('connection_established');
    const { room, signal } = await roomAndSignal(gw, 'p7', roomToken);
    assert.equal(await gw.core.tokens.revoke('user:p7'), 1);
    assert.equal((await a.closed).code, 4403);
    assert.equal((await b.closed).code, 4403);
    await eventually(() => !gw.core.users.isConnected('p7'));
    // The room client p7 holds another token: it stays.
    room.send({ type: 'query_room' });
    assert.equal((await room.next('room_info')).type, 'room_info');
    signal.send({ type: 'offer', target_id: 'nobody', sdp: 'x' });
    assert.equal((await signal.next('error')).code, 'TARGET_NOT_FOUND');
    await room.close();
    await signal.close();
  });

  test('core.tokens.revoke (the USB part\'s path) closes a room client', async () => {
    const t = await mint(op, 'phone-9');
    const { room, signal } = await roomAndSignal(gw, 'phone-9', t);
    await gw.core.tokens.revoke('phone-9');
    assert.equal((await room.closed).code, 4403);
    assert.equal((await signal.closed).code, 4403);
  });
});

describe('revoking a device token (open mode)', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway({ deviceAuth: 'open', heartbeatIntervalMs: 0 });
    gwOf = gw;
    op = await operator(gw);
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('the tokens are marked revoked, and connected devices stay: none needed a token to connect', async () => {
    const t = await mint(op, 'racket-90');
    const board = await TestClient.connect(`${gw.url}/ws/esp32/racket-90/?token=${t}`);
    await board.next('connection_established');
    const { room, signal } = await roomAndSignal(gw, 'racket-90');
    const r = await op.ask({ type: 'revoke_device_token', device_id: 'racket-90' }, 'device_token_revoked');
    assert.equal(r.revoked, 1);
    assert.ok((await gw.store.listDeviceTokens()).every((x) => x.deviceId !== 'racket-90' || x.revokedAt !== null));
    board.send({ type: 'heartbeat' });
    await board.next('heartbeat_ack');
    room.send({ type: 'query_room' });
    await room.next('room_info');
    await signal.nothing(undefined, 200);
    assert.equal(gw.core.boards.isConnected('racket-90'), true);
    for (const c of [board, room, signal]) assert.equal((await c.close()).code, 1005);
  });
});
