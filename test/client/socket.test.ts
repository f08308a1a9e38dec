/**
 * The reconnecting socket's timing without sleeping: backoff from the minimum
 * to the ceiling with jitter from the injected random source, the offline
 * queue's bound, and queued frames going out after the handshake.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReconnectingSocket, type WebSocketLike } from '../../client/src/index.js';
import { ManualClock } from '../../main/shared/clock.js';

/** A socket that fails to connect, or opens on the next turn. */
class Fake implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: string[] = [];
  constructor(ok: boolean) {
    queueMicrotask(() => {
      if (ok) {
        this.readyState = 1;
        this.onopen?.({});
      } else {
        this.readyState = 3;
        this.onclose?.({ code: 1006, reason: '' });
      }
    });
  }
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.readyState = 3;
  }
}

const turn = () => new Promise((r) => setImmediate(r));

describe('ReconnectingSocket', () => {
  test('delays double from the minimum to the ceiling, each scaled by the injected jitter', async () => {
    const clock = new ManualClock();
    // The random source cycles 0, 0.5, 0.999: factors 0.8, 1.0, ~1.2.
    const rolls = [0, 0.5, 0.999];
    let r = 0;
    let made = 0;
    const s = new ReconnectingSocket('ws://x', { clock, random: () => rolls[r++ % 3]!, backoffMinMs: 100, backoffMaxMs: 1000, createSocket: () => (made++, new Fake(false)) });
    s.connect();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await turn();
      const st = s.state;
      assert.equal(st.status, 'reconnecting');
      const d = st.retryAt! - clock.now();
      delays.push(Math.round(d));
      clock.advance(d - 1);
      assert.equal(made, i + 1, 'no attempt before the delay ran out');
      clock.advance(1);
      assert.equal(made, i + 2);
    }
    // Bases 100, 200, 400, 800, 1000, 1000 times 0.8, 1.0, 1.2, 0.8, 1.0, 1.2.
    assert.deepEqual(delays, [80, 200, 480, 640, 1000, 1200]);
    s.close();
    assert.equal(s.state.status, 'closed');
  });

  test('offline frames are kept up to the bound and go out after the handshake, in order', async () => {
    const clock = new ManualClock();
    const sockets: Fake[] = [];
    const s = new ReconnectingSocket('ws://x', { clock, maxQueued: 3, createSocket: () => (sockets.push(new Fake(true)), sockets.at(-1)!) });
    for (let i = 1; i <= 5; i++) s.send({ type: 'm', n: i });
    assert.equal(s.queued, 3);
    assert.equal(s.dropped, 2);
    s.onOpen = () => s.sendNow({ type: 'hello' });
    s.connect();
    await turn();
    assert.deepEqual(sockets[0]!.sent.map((t) => JSON.parse(t) as { type: string; n?: number }), [{ type: 'hello' }, { type: 'm', n: 3 }, { type: 'm', n: 4 }, { type: 'm', n: 5 }]);
    assert.equal(s.queued, 0);
    s.close();
  });

  test('maxAttempts: after that many failed attempts in a row it gives up', async () => {
    const clock = new ManualClock();
    let made = 0;
    const s = new ReconnectingSocket('ws://x', { clock, random: () => 0.5, backoffMinMs: 10, maxAttempts: 3, createSocket: () => (made++, new Fake(false)) });
    s.connect();
    for (let i = 0; i < 3; i++) {
      await turn();
      assert.equal(s.state.status, 'reconnecting');
      clock.advance(s.state.retryAt! - clock.now());
    }
    await turn();
    assert.equal(made, 4, 'the first attempt and three retries');
    assert.equal(s.state.status, 'closed');
    assert.match(s.state.lastError!, /gave up after 3 attempts/);
    clock.advance(60_000);
    assert.equal(made, 4);
  });
});
