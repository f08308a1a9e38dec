/**
 * A board's socket holds no listener of its own: its messages, pings, pongs, errors and close
 * reach the gateway through the socket class (peer.ts). What that must keep doing, checked
 * from outside with the ws client library and raw TCP as the truth: heartbeats answered, pings
 * answered with the same payload (ws's automatic pong is off), the keepalive hearing pongs (a
 * client that answers stays, one that does not is closed), a protocol error closing only that
 * socket, and the connection cap counting the sockets the gateway holds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import { ManualClock } from '../../main/gateway/clock.js';
import { eventually, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('board sockets without listeners of their own', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  const INTERVAL = 10_000;
  before(async () => {
    clock = new ManualClock(Date.now());
    gw = await startTestGateway({ clock, heartbeatIntervalMs: INTERVAL, maxConnections: 3 });
  });
  after(async () => {
    await gw.stop();
  });

  const board = async (code: string, options: WebSocket.ClientOptions = {}) => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/${code}/`, options);
    await b.next('connection_established');
    return b;
  };

  test('a heartbeat is answered, and a ping gets a pong with its own payload', async () => {
    const b = await board('quiet-1');
    const ack = await b.ask({ type: 'heartbeat', battery: 80, rssi: -40 }, 'heartbeat_ack');
    assert.equal(ack.server_time, clock.now());
    const pong = once(b.ws, 'pong') as Promise<[Buffer]>;
    b.ws.ping(Buffer.from('are you there'));
    const [payload] = await pong;
    assert.equal(payload.toString(), 'are you there');
    // The same socket still reads frames after the ping.
    await b.ask({ type: 'heartbeat', battery: 79 }, 'heartbeat_ack');
    await b.close();
  });

  test('the keepalive hears pongs: a board that answers stays, one that does not is closed', async () => {
    const live = await board('quiet-2');
    // A client that does not answer pings (and sends nothing): silent for two intervals.
    const deaf = await board('quiet-3', { autoPong: false });
    const pinged = once(live.ws, 'ping');
    for (let t = 0; t < INTERVAL; t += INTERVAL / 10) clock.advance(INTERVAL / 10);
    await pinged;
    // Its pong has to reach the gateway before the next sweep of its slot.
    await new Promise((r) => setTimeout(r, 100));
    for (let t = 0; t < INTERVAL; t += INTERVAL / 10) clock.advance(INTERVAL / 10);
    const closed = await deaf.closed;
    assert.equal(closed.code, 1006);
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    await live.ask({ type: 'heartbeat' }, 'heartbeat_ack');
    await live.close();
  });

  test('a protocol error closes that socket only; the cap counts the sockets held', async () => {
    // An unmasked client frame is a protocol error (RFC 6455 5.1): ws emits `error` on the socket.
    const raw = tcpConnect(gw.port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write('GET /ws/esp32/rude-1/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    let got = '';
    raw.on('data', (d: Buffer) => (got += d.toString('latin1')));
    await eventually(() => got.includes('connection_established'));
    const text = Buffer.from('{"type":"heartbeat"}');
    raw.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
    await once(raw, 'close');
    // Close code 1002 (protocol error) in the close frame the gateway sent.
    assert.ok(got.includes('\x88'), 'a close frame came back');
    const at = got.lastIndexOf('\x88');
    assert.equal(Buffer.from(got.slice(at + 2, at + 4), 'latin1').readUInt16BE(0), 1002);

    // Three held at most: the closed ones are no longer counted, a fourth is refused with 503.
    const held = [await board('cap-1'), await board('cap-2'), await board('cap-3')];
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/cap-4/`), (e: Error & { status?: number }) => e.status === 503);
    await held[0]!.close();
    await eventually(async () => {
      try {
        const b = await board('cap-4');
        held[0] = b;
        return true;
      } catch {
        return false;
      }
    });
    for (const b of held) await b.close();
  });
});
