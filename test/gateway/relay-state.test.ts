/**
 * The relay's per-connection economy: the keepalive wheel pings a slot of the
 * sockets at a time (never all at once) and still closes a silent one within
 * two intervals; the platform's frame totals and /metrics are one count; live
 * samples reach an operator that negotiated permessage-deflate uncompressed
 * (bytes on the wire, read from its TCP socket; that other large frames are
 * compressed is compression.test.ts's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { KeepaliveManager } from '../../main/gateway/keepalive.js';
import { PlatformStats } from '../../main/gateway/platform/stats.js';
import { ManualClock } from '../../main/shared/clock.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('keepalive wheel', () => {
  test('a tenth of the sockets per tenth of the interval; each pinged once per interval; a silent one closed within two', () => {
    const clock = new ManualClock();
    const mk = (i: number) => ({ i, pings: [] as number[], terminatedAt: -1, ping() { this.pings.push(clock.now()); }, terminate() { this.terminatedAt = clock.now(); } });
    const socks = Array.from({ length: 100 }, (_, i) => mk(i));
    const k = new KeepaliveManager(clock, 15_000);
    const t0 = clock.now();
    k.start();
    for (const s of socks) k.add(s);
    clock.advance(1_500);
    assert.equal(socks.filter((s) => s.pings.length > 0).length, 10);
    clock.advance(13_500);
    assert.ok(socks.every((s) => s.pings.length === 1), 'every socket pinged exactly once in the first interval');
    // All but socket 7 answer; it is closed at its own slot of the second interval, nobody else is.
    for (const s of socks) if (s.i !== 7) k.seen(s);
    clock.advance(15_000);
    const gone = socks.filter((s) => s.terminatedAt >= 0);
    assert.deepEqual(gone.map((s) => s.i), [7]);
    assert.ok(gone[0]!.terminatedAt - t0 <= 30_000);
    assert.equal(k.size(), 99);
    k.stop();
    assert.equal(clock.pending(), 0);
  });

  test('an interval that ten does not divide: fewer slots, the same once-per-interval sweep', () => {
    const clock = new ManualClock();
    let pings = 0;
    const k = new KeepaliveManager(clock, 1_001);
    k.start();
    for (let i = 0; i < 14; i++) k.add({ ping: () => void pings++, terminate: () => assert.fail('answered sockets stay') });
    clock.advance(1_001);
    assert.equal(pings, 14);
    k.stop();
  });
});

describe('frame counters', () => {
  test('the platform reads the gateway\'s counters, and keeps its totals when bound to new ones', () => {
    const stats = new PlatformStats(new ManualClock());
    const first = { framesIn: 0, framesOut: 0 };
    stats.countFrom(first);
    first.framesIn = 5;
    first.framesOut = 3;
    assert.equal(stats.received, 5);
    assert.equal(stats.sent, 3);
    const second = { framesIn: 0, framesOut: 0 };
    stats.countFrom(second);
    second.framesIn = 2;
    assert.equal(stats.received, 7);
    assert.equal(stats.sent, 3);
  });
});

describe('live samples on a compressed operator socket', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ heartbeatIntervalMs: 0 });
  });
  after(() => gw.stop());

  const wire = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket.bytesRead;

  test('sensor_samples arrive uncompressed: at least the frame\'s bytes on the wire', async () => {
    const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`, { perMessageDeflate: true });
    assert.match(op.ws.extensions, /permessage-deflate/);
    await op.ask({ type: 'subscribe', topics: ['sensor'] }, 'subscribed');
    const b = await TestClient.connect(`${gw.url}/ws/esp32/wire-1/`, { perMessageDeflate: false });
    await b.next('connection_established');
    // Repetitive values: deflate would shrink this frame many times over.
    const samples = Array.from({ length: 200 }, () => [0.5, 0.5, 0.5, 10, 10, 10]);
    const before = wire(op.ws);
    b.send({ type: 'batch_sensor_data', seq: 1, start_ms: 1000, rate_hz: 100, samples });
    const f = await op.next('sensor_samples');
    const text = JSON.stringify(f);
    assert.equal(((f.batches as { samples: unknown[] }[])[0]!).samples.length, 200);
    assert.ok(wire(op.ws) - before >= text.length, `${wire(op.ws) - before} bytes on the wire for a ${text.length}-byte frame`);
    await b.close();
    await op.close();
  });
});
