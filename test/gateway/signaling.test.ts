/** The signaling protocol on `/`, beside the rooms. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { openConnections, waitFor } from '../support/wait.js';

async function register(gw: TestGateway, id: string): Promise<TestClient> {
  const c = await TestClient.connect(gw.url + '/');
  assert.deepEqual(await c.ask({ type: 'register', client_id: id }), { type: 'registered', client_id: id });
  return c;
}

describe('signaling (the signaling protocol)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());

  test('offer/answer/candidate between two clients: target_id removed, from added, the rest unchanged', async () => {
    const sender = await register(gw, 'sender_001');
    const receiver = await register(gw, 'receiver_001');
    sender.send({ type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1', target_id: 'receiver_001' });
    assert.deepEqual(await receiver.next(), { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1', from: 'sender_001' });
    receiver.send({ type: 'answer', sdp: 'v=0 answer', target_id: 'sender_001' });
    assert.deepEqual(await sender.next(), { type: 'answer', sdp: 'v=0 answer', from: 'receiver_001' });
    const cand = { candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    sender.send({ type: 'candidate', candidate: cand, target_id: 'receiver_001' });
    assert.deepEqual(await receiver.next(), { type: 'candidate', candidate: cand, from: 'sender_001' });
    await Promise.all([sender.close(), receiver.close()]);
  });

  test('without target_id a frame goes to every other registered client, not to room clients', async () => {
    const a = await register(gw, 'bc_a');
    const b = await register(gw, 'bc_b');
    const c = await register(gw, 'bc_c');
    const room = await TestClient.connect(gw.url + '/');
    room.send({ device_id: 'room-only', identity: 'u' });
    await room.next('room');
    a.send({ type: 'offer', sdp: 'x' });
    assert.deepEqual(await b.next(), { type: 'offer', sdp: 'x', from: 'bc_a' });
    assert.deepEqual(await c.next(), { type: 'offer', sdp: 'x', from: 'bc_a' });
    await a.nothing();
    await room.nothing('offer');
    await Promise.all([a.close(), b.close(), c.close(), room.close()]);
  });

  test('a target that is not registered gets an error; the connection stays', async () => {
    const a = await register(gw, 'lonely');
    a.send({ type: 'offer', sdp: 'x', target_id: 'ghost' });
    const e = await a.next('error');
    assert.equal(e.code, 'TARGET_NOT_FOUND');
    assert.match(String(e.message), /ghost/);
    a.send('{broken');
    assert.equal((await a.next('error')).code, 'INVALID_JSON');
    a.send({ sdp: 'no type' });
    assert.equal((await a.next('error')).message, 'type is required');
    const b = await register(gw, 'lonely_peer');
    a.send({ type: 'ping', target_id: 'lonely_peer' });
    assert.deepEqual(await b.next(), { type: 'ping', from: 'lonely' });
    await Promise.all([a.close(), b.close()]);
  });

  test('register without client_id is refused with the field named', async () => {
    const c = await TestClient.connect(gw.url + '/');
    c.send({ type: 'register' });
    assert.deepEqual(await c.next(), { type: 'error', code: 'BAD_FRAME', message: 'client_id is required' });
    assert.deepEqual(await c.ask({ type: 'register', client_id: 'late' }), { type: 'registered', client_id: 'late' });
    await c.close();
  });

  test('a client that leaves is no longer a target', async () => {
    const a = await register(gw, 'gone_a');
    const b = await register(gw, 'gone_b');
    const registered = (await openConnections(gw)).signaling!;
    await b.close();
    await waitFor(async () => (await openConnections(gw)).signaling === registered - 1, { what: 'the gateway seeing gone_b leave' });
    a.send({ type: 'offer', sdp: 'x', target_id: 'gone_b' });
    assert.equal((await a.next('error')).code, 'TARGET_NOT_FOUND');
    await a.close();
  });
});
