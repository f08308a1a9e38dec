/**
 * permessage-deflate: negotiated on every endpoint when the client offers it, never when it
 * does not or when `--compression off`; a small compressed frame that inflates past the frame
 * limit is refused (FRAME_TOO_LARGE up to 4x the limit, close 1009 past it) and the gateway
 * goes on answering.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
    const before = b.ws['_socket'].bytesRead as number;
    a.send({ type: 'message', content });
    const m = await b.next('message');
    assert.equal(m.content, content);
    const wire = (b.ws['_socket'].bytesRead as number) - before;
    assert.ok(wire < content.length / 10, `${wire} bytes read for ${content.length}`);
    await a.close();
    await b.close();
  });

  test('compressed frames that inflate past the limit: FRAME_TOO_LARGE below 4x, close 1009 above, the gateway unharmed', async () => {
    const c = await TestClient.connect(gw.url + '/ws/esp32/z-bomb/');
    await c.next('connection_established');
    const sock = c.ws['_socket'];
    let written = sock.bytesWritten as number;
    c.send(JSON.stringify({ type: 'status_update', status: { pad: 'x'.repeat(LIMIT * 2) } }));
    const e = await c.next('error');
    assert.equal(e.code, 'FRAME_TOO_LARGE');
    assert.ok((sock.bytesWritten as number) - written < 4096, 'the frame was small on the wire');

    written = sock.bytesWritten as number;
    // 16 MiB of zeros deflate to about 16 KB.
    c.send(JSON.stringify({ type: 'status_update', status: { pad: '0'.repeat(16 * 1024 * 1024) } }));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.ok((sock.bytesWritten as number) - written < 64 * 1024, 'the bomb was small on the wire');

    const again = await TestClient.connect(gw.url + '/ws/esp32/z-bomb/');
    assert.equal((await again.next()).type, 'connection_established');
    assert.equal((await again.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    await again.close();
    assert.equal((await gw.http('/api/health')).status, 200);
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
