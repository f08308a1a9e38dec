/**
 * Priority while connected: a client that stops reading backs its socket up; what is sent to
 * it past the threshold waits in the peer's backlog and leaves high first, then normal, then
 * low, in send order within each. Real sockets (a ws server and client on 127.0.0.1); the
 * client pauses reading, so the kernel buffers fill for real. The clock is a ManualClock that
 * never moves: the backlog drains on the socket's flush callbacks, not on timers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ManualClock } from '../../main/gateway/clock.js';
import { TokenBucket } from '../../main/gateway/limits.js';
import { Metrics } from '../../main/gateway/metrics.js';
import { Peer } from '../../main/gateway/peer.js';
import { SendBacklog } from '../../main/gateway/send-backlog.js';

const THRESHOLD = 64 * 1024;
const FILLER = JSON.stringify({ type: 'filler', pad: 'x'.repeat(32 * 1024) });

describe('priority send backlog of a backed-up socket', () => {
  let wss: WebSocketServer;
  let url: string;
  const clock = new ManualClock(Date.now());
  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  /** A server-side Peer and the client socket it talks to; the client reads every frame into `got`. */
  const pair = async (maxSendBufferBytes = 0) => {
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(url);
    const got: Record<string, unknown>[] = [];
    client.on('message', (d) => got.push(JSON.parse(String(d)) as Record<string, unknown>));
    await once(client, 'open');
    const [ws] = await accepted;
    const metrics = new Metrics();
    const peer = new Peer(ws, '127.0.0.1', 'legacy', { maxSendBufferBytes, sendQueueThresholdBytes: THRESHOLD, clock }, metrics, new TokenBucket(1e6, 1e6, clock));
    return { peer, client, got, metrics };
  };
  /** Writes filler until the server side holds more than the threshold unsent (the kernel buffers are full). */
  const backUp = (peer: Peer) => {
    let n = 0;
    while (peer.buffered < THRESHOLD) {
      peer.sendText(FILLER);
      n++;
      assert.ok(n < 10_000, 'the socket never backed up');
    }
    return n;
  };
  const waitFor = async (fn: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  test('backed up: high frames overtake normal and low ones sent before them; order kept within a priority', async () => {
    const { peer, client, got } = await pair();
    client.pause();
    const fillers = backUp(peer);
    assert.equal(peer.backlogged, 0, 'nothing waits while the socket keeps up');
    const sent: [string, number | undefined][] = [['l1', 2], ['n1', 1], ['u1', undefined], ['h1', 0], ['l2', 2], ['n2', 1], ['h2', 0]];
    for (const [n, rank] of sent) peer.sendText(JSON.stringify({ type: 'm', n }), rank);
    // An object frame goes the same way (send), high.
    peer.send({ type: 'm', n: 'h3' }, 0);
    assert.equal(peer.backlogged, 8);
    client.resume();
    await waitFor(() => got.length === fillers + 8);
    assert.ok(got.slice(0, fillers).every((f) => f.type === 'filler'), 'what was written before stays first');
    assert.deepEqual(got.slice(fillers).map((f) => f.n), ['h1', 'h2', 'h3', 'n1', 'u1', 'n2', 'l1', 'l2']);
    assert.equal(peer.backlogged, 0);
    // Drained: sends go straight out again, in plain send order whatever their priority.
    got.length = 0;
    peer.sendText(JSON.stringify({ type: 'm', n: 'low' }), 2);
    peer.sendText(JSON.stringify({ type: 'm', n: 'high' }), 0);
    assert.equal(peer.backlogged, 0);
    await waitFor(() => got.length === 2);
    assert.deepEqual(got.map((f) => f.n), ['low', 'high']);
    client.close();
  });

  test('drained() resolves once the backlog is written; frames count when written', async () => {
    const { peer, client, got, metrics } = await pair();
    client.pause();
    const fillers = backUp(peer);
    const out = metrics.framesOut;
    for (let i = 0; i < 5; i++) peer.sendText(JSON.stringify({ type: 'm', n: i }), 1);
    assert.equal(metrics.framesOut, out, 'a frame in the backlog is not sent yet');
    // What waits in the backlog counts as unsent (operators' sample dropping looks at it).
    assert.ok(peer.buffered >= peer.ws.bufferedAmount + 5 * 10, 'the backlog is in buffered');
    let done = false;
    const drained = peer.drained().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'still backed up while the client does not read');
    client.resume();
    await drained;
    assert.equal(metrics.framesOut, out + 5);
    await waitFor(() => got.length === fillers + 5);
    client.close();
  });

  test('the send-buffer cap counts the backlog: a client that never reads is closed (1008)', async () => {
    // Filling stops within one filler past the threshold: under this cap, until the backlog adds to it.
    const { peer, client } = await pair(THRESHOLD + 64 * 1024);
    client.pause();
    backUp(peer);
    assert.equal(client.readyState, WebSocket.OPEN);
    const closed = once(client, 'close') as Promise<[number, Buffer]>;
    peer.sendText(JSON.stringify({ type: 'm', pad: 'y'.repeat(100 * 1024) }), 0);
    // Closing at once: the backlog is dropped with the connection.
    assert.deepEqual([peer.open, peer.backlogged], [false, 0]);
    client.resume();
    const [code] = await closed;
    assert.equal(code, 1008);
  });

  test('SendBacklog: highest rank first, FIFO within a rank, sizes kept, ranks clamped', () => {
    const q = new SendBacklog();
    for (const [t, r] of [['a', 2], ['bb', 1], ['c', 0], ['dd', 5], ['e', -1], ['f', 1]] as const) q.push(t, r);
    assert.deepEqual([q.length, q.size], [6, 8]);
    const out: string[] = [];
    for (let t = q.shift(); t !== undefined; t = q.shift()) out.push(t);
    assert.deepEqual(out, ['c', 'e', 'bb', 'f', 'a', 'dd']);
    assert.deepEqual([q.length, q.size], [0, 0]);
  });
});
