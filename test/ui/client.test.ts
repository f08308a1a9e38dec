/** The renderer's one client, against a real gateway (and a fake socket where the gateway cannot misbehave on cue). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ManualClock } from '../../main/shared/clock.js';
import { GatewayClient, type WebSocketLike } from '../../renderer/src/lib/client.js';
import { describeError, GatewayRequestError } from '../../renderer/src/lib/errors.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { clientFor, connected, FakeSocket, stateWhere } from './helpers.js';
import { waitFor as waitUntil } from '../support/wait.js';

describe('GatewayClient against a gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  test('requests are matched to replies by id, also when several are in flight', async () => {
    const c = await connected(gw);
    const [status, devices, rooms] = await Promise.all([
      c.request('get_system_status', {}),
      c.request('get_device_list', {}),
      c.request('get_rooms', {}),
    ]);
    assert.equal(typeof status.version, 'string');
    assert.equal(status.database.kind, 'sqlite');
    assert.deepEqual(devices.devices, []);
    assert.deepEqual(rooms.rooms, []);
    c.close();
  });

  test('an error reply rejects that request with the gateway code, said in words', async () => {
    const c = await connected(gw);
    const err = await c.request('get_room', { room_id: 'NOPE99' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GatewayRequestError);
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(describeError(err), 'Room NOPE99 not found.');
    const unknown = await rejection(c.requestAny('no_such_request'));
    assert.equal(unknown.code, 'UNKNOWN_TYPE');
    assert.match(describeError(unknown), /does not offer that/);
    c.close();
  });

  test('watch counts topics: the gateway keeps sending until the last watcher lets go', async () => {
    const c = await connected(gw);
    const events: string[] = [];
    c.onEvent('devices', (e) => events.push(`${e.event}:${(e.device as { device_id: string }).device_id}`));
    const a = c.watch(['devices']);
    const b = c.watch(['devices']);
    await handled(c);
    const board = await TestClient.connect(`${gw.url}/ws/esp32/board-w1/`);
    await board.next('connection_established');
    await waitFor(() => events.includes('online:board-w1'));
    a();
    assert.deepEqual(c.watchedTopics(), ['devices']);
    await board.close();
    await waitFor(() => events.includes('offline:board-w1'));
    b();
    assert.deepEqual(c.watchedTopics(), []);
    await handled(c);
    // A second operator still watching sees board-w2 come online; the event went to every
    // subscriber at once, so after one more round trip `c` would have it too, had it stayed.
    const witness = await connected(gw);
    const seen: string[] = [];
    witness.onEvent('devices', (e) => seen.push(`${e.event}:${(e.device as { device_id: string }).device_id}`));
    witness.watch(['devices']);
    await handled(witness);
    const board2 = await TestClient.connect(`${gw.url}/ws/esp32/board-w2/`);
    await waitFor(() => seen.includes('online:board-w2'));
    await handled(c);
    assert.ok(!events.some((e) => e.endsWith('board-w2')), 'no events after unsubscribe');
    await board2.close();
    witness.close();
    c.close();
  });

  test('requests fail at once while disconnected, with a sentence that says so', async () => {
    const c = clientFor(gw);
    const err = await rejection(c.request('get_rooms', {}));
    assert.equal(err.code, 'DISCONNECTED');
    assert.match(describeError(err), /Not connected/);
  });

  test('a wrong token ends in "unauthorized" and no more retries', async () => {
    const clock = new ManualClock();
    let sockets = 0;
    const createSocket = (url: string): WebSocketLike => {
      sockets++;
      return new WebSocket(url) as unknown as WebSocketLike;
    };
    const c = clientFor(gw, { token: 'wrong-token-0123456789abcdef', clock, createSocket });
    c.connect();
    const s = await stateWhere(c, (x) => x.status === 'unauthorized');
    assert.equal(s.retryAt, null);
    clock.advance(60_000); // far past the longest backoff: a retry left scheduled would run now
    assert.equal(c.connection.status, 'unauthorized');
    assert.equal(sockets, 1, 'no attempt after the token was refused');
    assert.equal(clock.pending(), 0);
    c.close();
  });

  test('http() sends the token and turns gateway errors into GatewayRequestError', async () => {
    const c = clientFor(gw);
    const status = await c.http<{ version: string }>('/api/status');
    assert.equal(typeof status.version, 'string');
    const err = await rejection(c.http('/api/devices/nobody'));
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.httpStatus, 404);
    const bad = clientFor(gw, { token: 'wrong-token-0123456789abcdef' });
    const denied = await rejection(bad.http('/api/status'));
    assert.equal(denied.code, 'UNAUTHORIZED');
    assert.match(describeError(denied), /token was not accepted/);
    const file = await c.download('/api/status');
    assert.ok(file.data.byteLength > 10);
    assert.match(file.type, /json/);
  });

  test('sensor_samples frames reach onSensor', async () => {
    const c = await connected(gw);
    const got: string[] = [];
    c.onSensor((batches) => got.push(...batches.map((b) => `${b.device_id}:${b.samples.length}`)));
    c.watch(['sensor:board-s1']);
    await handled(c);
    const board = await TestClient.connect(`${gw.url}/ws/esp32/board-s1/`);
    await board.next('connection_established');
    board.send({ type: 'batch_sensor_data', seq: 1, start_ms: 1000, rate_hz: 100, samples: [[0, 0, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1]] });
    await waitFor(() => got.includes('board-s1:2'));
    await board.close();
    c.close();
  });
});

describe('GatewayClient reconnects', () => {
  test('with backoff while the gateway is down, then resubscribes and reloads', async () => {
    let gw = await startTestGateway();
    const port = gw.port;
    const clock = new ManualClock();
    const c = await connected(gw, { clock });
    let opens = 0;
    c.onOpen(() => opens++);
    c.watch(['devices']);
    const events: string[] = [];
    c.onEvent('devices', (e) => events.push(String(e.event)));
    await gw.stop();
    // Each retry waits for the clock; a refused connection then counts one more attempt.
    const s0 = await stateWhere(c, (s) => s.status === 'reconnecting' && s.attempt >= 1 && s.retryAt !== null);
    clock.advance(s0.retryAt! - clock.now());
    const s1 = await stateWhere(c, (s) => s.status === 'reconnecting' && s.attempt >= 2 && s.retryAt !== null);
    assert.ok(s1.retryAt !== null && s1.lastError !== null);
    assert.ok(s1.retryAt - clock.now() > s0.retryAt! - s0.since, 'the second delay is longer');
    gw = await startTestGateway({ port });
    try {
      assert.equal(c.connection.status, 'reconnecting', 'no attempt before the delay ran out');
      clock.advance(s1.retryAt - clock.now());
      await stateWhere(c, (s) => s.status === 'open', 8000);
      assert.ok(opens >= 1);
      await handled(c); // the topics sent again on open
      const board = await TestClient.connect(`${gw.url}/ws/esp32/board-r1/`);
      await board.next('connection_established');
      await waitFor(() => events.includes('online'));
      await board.close();
    } finally {
      c.close();
      await gw.stop();
    }
  });

  test('delays grow from the minimum to the ceiling', async () => {
    const clock = new ManualClock();
    const sockets: FakeSocket[] = [];
    const c = new GatewayClient({
      baseUrl: 'http://127.0.0.1:9',
      token: 'x'.repeat(20),
      createSocket: (url) => {
        const s = new FakeSocket(url, false);
        sockets.push(s);
        return s;
      },
      fetch: (async () => {
        throw new Error('offline');
      }) as unknown as typeof fetch,
      backoffMinMs: 20,
      backoffMaxMs: 100,
      clock,
    });
    const delays: number[] = [];
    c.state.subscribe((s) => {
      if (s.status === 'reconnecting' && s.retryAt) delays.push(s.retryAt - clock.now());
    });
    c.connect();
    for (let attempt = 1; attempt <= 6; attempt++) {
      const s = await stateWhere(c, (x) => x.attempt >= attempt && x.retryAt !== null, 3000);
      const delay = s.retryAt! - clock.now();
      const base = Math.min(100, 20 * 2 ** (attempt - 1));
      assert.ok(delay >= base * 0.8 && delay <= base * 1.2, `attempt ${attempt}: ${delay} ms is ${base} ms ± 20 %`);
      clock.advance(delay - 1);
      assert.equal(sockets.length, attempt, 'no attempt before its delay ran out');
      clock.advance(1);
      assert.equal(sockets.length, attempt + 1);
    }
    c.close();
    assert.ok(delays[0]! < 40, `first delay ${delays[0]}`);
    assert.ok(Math.max(...delays) <= 125, `ceiling respected: ${delays.join(',')}`);
    assert.ok(delays.at(-1)! > delays[0]!, 'delays grow');
  });

  test('a request with no answer times out; a silent socket is replaced', async () => {
    const clock = new ManualClock();
    const sockets: FakeSocket[] = [];
    const c = new GatewayClient({
      baseUrl: 'http://127.0.0.1:9',
      token: 'x'.repeat(20),
      createSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      requestTimeoutMs: 60,
      idleCheckMs: 100,
      backoffMinMs: 10,
      clock,
    });
    c.connect();
    await stateWhere(c, (s) => s.status === 'open');
    let settled = false;
    const timedOut = rejection(c.request('get_rooms', {})).finally(() => (settled = true));
    clock.advance(59);
    await turn();
    assert.equal(settled, false, 'still waiting 1 ms before the timeout');
    clock.advance(1);
    const err = await timedOut;
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(sockets[0]!.sent.at(-1)!.type, 'get_rooms');
    assert.equal(typeof sockets[0]!.sent.at(-1)!.id, 'string');
    // Nothing arrives: the idle check (every max(1 s, idleCheckMs / 2)) asks for the status...
    clock.advance(939);
    assert.equal(sockets[0]!.sent.length, 1, 'no check before the first second');
    clock.advance(1);
    assert.equal(sockets[0]!.sent.at(-1)!.type, 'get_system_status');
    // ...gets no answer within the request timeout and reconnects.
    clock.advance(60);
    await stateWhere(c, (s) => s.status === 'reconnecting', 2000);
    assert.equal(sockets[0]!.readyState, 3, 'the silent socket is closed');
    clock.advance(12); // past the first backoff (10 ms + 20 % jitter)
    assert.equal(sockets.length, 2);
    await stateWhere(c, (s) => s.status === 'open');
    assert.equal(c.serverNow(), clock.now(), 'server time from the injected clock (no connection_established yet)');
    c.close();
  });
});

/** Lets sockets and promises settle: one turn of the real event loop, no waiting on time. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const waitFor = (cond: () => boolean, ms = 3000) => waitUntil(cond, { timeoutMs: ms });

/**
 * Resolves once the gateway has handled every frame `c` sent so far (a
 * subscribe, an unsubscribe): it answers one connection's frames in order, so
 * the reply to a request sent now comes after them, and any event they caused
 * or stopped arrives (or not) before that reply.
 */
async function handled(c: GatewayClient): Promise<void> {
  await c.request('get_rooms', {});
}

/** The GatewayRequestError a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<GatewayRequestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayRequestError, `expected a GatewayRequestError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected a rejection');
}
