/**
 * permessage-deflate: negotiated on every endpoint when the client offers it, never when it
 * does not or when `--compression off`; a small compressed frame that inflates past the frame
 * limit is refused (FRAME_TOO_LARGE up to 4x the limit, close 1009 past it) and the gateway
 * goes on answering.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

/** Opens a socket and returns the Sec-WebSocket-Extensions header the gateway answered with. */
function negotiated(url: string, perMessageDeflate: boolean): Promise<{ header: string | undefined; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate });
    let header: string | undefined;
    ws.once('upgrade', (res) => (header = res.headers['sec-websocket-extensions'] as string | undefined));
    ws.once('open', () => resolve({ header, ws }));
    ws.once('error', reject);
  });
}

/** The client's TCP socket (ws keeps it on a private field): bytes actually on the wire. */
const sock = (ws: WebSocket) => (ws as unknown as { _socket: import('node:net').Socket })._socket;

const closeWs = (ws: WebSocket) => new Promise<void>((r) => (ws.once('close', () => r()), ws.close()));

describe('permessage-deflate on (the default)', () => {
  let gw: TestGateway;
  const LIMIT = 64 * 1024;
  before(async () => {
    gw = await startTestGateway({ maxPayloadBytes: LIMIT });
  });
  after(() => gw.stop());

  test('negotiated on /, boards, players and operators when offered; absent when not offered', async () => {
    for (const path of ['/', '/ws/esp32/z-b1/', '/ws/miniprogram/z-p1/', `/ws/admin/?token=${OPERATOR_TOKEN}`]) {
      const on = await negotiated(gw.url + path, true);
      assert.match(on.header ?? '', /^permessage-deflate\b/, path);
      assert.match(on.ws.extensions, /permessage-deflate/, path);
      await closeWs(on.ws);
      const off = await negotiated(gw.url + path, false);
      assert.equal(off.header, undefined, path);
      await closeWs(off.ws);
    }
  });

  test('a large room message travels compressed: far fewer bytes on the wire than the frame', async () => {
    const a = await TestClient.connect(gw.url + '/');
    a.send({ device_id: 'z-a', identity: 'a' });
    const room = await a.next('room');
    const b = await TestClient.connect(gw.url + '/');
    b.send({ device_id: 'z-b', identity: 'b', room_id: room.room_id });
    await b.next('room');
    const content = 'rally '.repeat(8000);
    const before = sock(b.ws).bytesRead;
    a.send({ type: 'message', content });
    const m = await b.next('message');
    assert.equal(m.content, content);
    const wire = (sock(b.ws).bytesRead) - before;
    assert.ok(wire < content.length / 10, `${wire} bytes read for ${content.length}`);
    await a.close();
    await b.close();
  });

  test('compressed frames that inflate past the limit: FRAME_TOO_LARGE below 4x, close 1009 above, the gateway unharmed', async () => {
    const c = await TestClient.connect(gw.url + '/ws/esp32/z-bomb/');
    await c.next('connection_established');
    const s = sock(c.ws);
    let written = s.bytesWritten;
    c.send(JSON.stringify({ type: 'status_update', status: { pad: 'x'.repeat(LIMIT * 2) } }));
    const e = await c.next('error');
    assert.equal(e.code, 'FRAME_TOO_LARGE');
    assert.ok((s.bytesWritten) - written < 4096, 'the frame was small on the wire');

    written = s.bytesWritten;
    // 16 MiB of zeros deflate to about 16 KB.
    c.send(JSON.stringify({ type: 'status_update', status: { pad: '0'.repeat(16 * 1024 * 1024) } }));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.ok((s.bytesWritten) - written < 64 * 1024, 'the bomb was small on the wire');

    const again = await TestClient.connect(gw.url + '/ws/esp32/z-bomb/');
    assert.equal((await again.next()).type, 'connection_established');
    assert.equal((await again.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    await again.close();
    assert.equal((await gw.http('/api/health')).status, 200);
  });
});

describe('permessage-deflate and the send-buffer cap', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ maxSendBufferBytes: 256 * 1024, maxBytesPerSecond: 0, heartbeatIntervalMs: 0 });
  });
  after(() => gw.stop());

  test('a compressing room client that never reads is still closed past the cap', async () => {
    const sender = await TestClient.connect(gw.url + '/');
    sender.send({ device_id: 'zc-loud', identity: 'x' });
    const R = String((await sender.next('room')).room_id);
    const deaf = await TestClient.connect(gw.url + '/');
    deaf.send({ device_id: 'zc-deaf', identity: 'x', room_id: R });
    await deaf.next('room');
    assert.match(deaf.ws.extensions, /permessage-deflate/);
    sock(deaf.ws).pause();
    for (let i = 0; i < 400 && gw.core.rooms.membersOf(R).length > 1; i++) {
      // Random bytes do not deflate: what waits is as large as what was sent.
      sender.send({ type: 'message', content: randomBytes(45_000).toString('base64') });
      await new Promise((r) => setTimeout(r, 2));
    }
    const until = Date.now() + 5000;
    while (gw.core.rooms.membersOf(R).length > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(gw.core.rooms.membersOf(R).map((m) => m.deviceId), ['zc-loud']);
    sock(deaf.ws).resume();
    const closed = await deaf.closed;
    assert.ok(closed.code === 1008 || closed.code === 1006, `closed with ${closed.code}`);
    sender.ws.close();
  });
});

describe('--compression off', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ compression: false });
  });
  after(() => gw.stop());

  test('never negotiated, even when offered', async () => {
    const s = await negotiated(gw.url + '/ws/esp32/z-off/', true);
    assert.equal(s.header, undefined);
    assert.equal(s.ws.extensions, '');
    await closeWs(s.ws);
  });
});
