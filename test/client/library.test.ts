/**
 * The client library in Node against a running gateway: the /ws envelope
 * with a gateway restarted mid-stream (every frame answered, none lost),
 * rooms (presence, the offline queue, back in the same room after a
 * restart), signaling (registered again after a restart), a player's queued
 * notification and session status, and the operator client's typed requests.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvelopeClient, OperatorClient, PlayerClient, RoomClient, SignalingClient, type ConnectionState, type RoomMessage } from '../../client/src/node.js';
import { Platform } from '../../main/gateway/platform/platform.js';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A gateway on a fixed port and database, so it can be stopped and started again as the same one. */
async function gatewayAt(opts: { port?: number; db: string; platform?: Platform }): Promise<TestGateway> {
  return startTestGateway({ parts: [], heartbeatIntervalMs: 0, ...opts });
}

function freshDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'courtside-client-'));
  dirs.push(d);
  return join(d, 'courtside.sqlite');
}

const fast = { backoffMinMs: 20, backoffMaxMs: 200 };
const opened = (s: { state: ConnectionState }) => waitFor(() => s.state.status === 'open', { what: 'open' });

describe('client library against a running gateway (Node)', () => {
  test('/ws: a gateway restarted mid-stream; every frame is answered and reached the handler', async () => {
    const db = freshDb();
    const seen = new Set<string>();
    const handlerPlatform = () => {
      const p = new Platform();
      p.registerHandler('text', (m) => {
        seen.add(String(m.id));
        return { type: 'text', content: { echo: (m.content as { n: number }).n } };
      });
      return p;
    };
    let gw = await gatewayAt({ db, platform: handlerPlatform() });
    const port = gw.port;
    const c = new EnvelopeClient({ url: `${gw.url}/ws`, ...fast, ackTimeoutMs: 30_000 });
    c.connect();
    await opened(c.socket);
    const N = 300;
    const answers: Promise<unknown>[] = [];
    let answered = 0;
    for (let n = 0; n < N; n++) {
      answers.push(
        c.request<{ echo: number }>('text', { n }).then((r) => {
          answered++;
          assert.equal(r.content.echo, n);
          return r.id;
        }),
      );
      // Mid-stream: the gateway goes away with frames in flight, and comes back.
      if (n === 120) {
        await gw.stop();
        assert.ok(c.unacked > 0, 'frames were in flight when the gateway stopped');
        gw = await gatewayAt({ port, db, platform: handlerPlatform() });
      }
    }
    const ids = await Promise.all(answers);
    assert.equal(answered, N);
    assert.equal(new Set(ids).size, N);
    for (const id of ids) assert.ok(seen.has(String(id)), `frame ${String(id)} never reached the handler`);
    assert.equal(c.unacked, 0);
    assert.ok(c.state.attempt === 0 && c.state.status === 'open');
    c.close();
    await gw.stop();
  });

  test('rooms: presence, the offline queue, and back in the same room after a gateway restart', async () => {
    const db = freshDb();
    let gw = await gatewayAt({ db });
    const port = gw.port;
    const a = new RoomClient({ url: `${gw.url}/`, deviceId: 'tablet-a', identity: 'coach', presence: true, ...fast });
    a.connect();
    const room = await new Promise<string>((r) => a.onRoom((x) => x.roomId && r(x.roomId)));
    const b = new RoomClient({ url: `${gw.url}/`, deviceId: 'tablet-b', identity: 'player', roomId: room, ...fast });
    const joins: string[] = [];
    a.onPresence((p) => joins.push(`${p.event} ${p.device_id}`));
    b.connect();
    await waitFor(() => joins.includes('join tablet-b'), { what: 'presence join' });
    assert.equal(a.present.get('tablet-b'), 'player');
    const info = await a.queryRoom();
    assert.deepEqual(info.clients, [{ device_id: 'tablet-b', identity: 'player' }]);
    const got: RoomMessage[] = [];
    a.onMessage((m) => got.push(m));

    await gw.stop();
    await waitFor(() => b.state.status === 'reconnecting', { what: 'b reconnecting' });
    // Written while the gateway is down: kept, sent after b is back in its room (and queued by the
    // gateway for a, if a is not back yet).
    b.direct('tablet-a', { score: '21-19' }, { queue: true });
    assert.equal(b.socket.queued, 1);
    gw = await gatewayAt({ port, db });
    await waitFor(() => got.length === 1, { what: 'the queued message', timeoutMs: 8000 });
    assert.deepEqual(got[0]!.content, { score: '21-19' });
    assert.equal(got[0]!.from_device_id, 'tablet-b');
    assert.equal(a.room, room);
    assert.equal(b.room, room);
    assert.equal(b.socket.queued, 0);
    b.close();
    await waitFor(() => joins.includes('leave tablet-b'), { what: 'presence leave' });
    a.close();
    await gw.stop();
  });

  test('signaling: offers reach the target with from; registered again after a restart', async () => {
    const db = freshDb();
    let gw = await gatewayAt({ db });
    const port = gw.port;
    const caller = new SignalingClient({ url: `${gw.url}/`, clientId: 'sender_001', ...fast });
    const callee = new SignalingClient({ url: `${gw.url}/`, clientId: 'receiver_001', ...fast });
    const got: Record<string, unknown>[] = [];
    callee.onSignal((s) => got.push(s));
    let registrations = 0;
    callee.onRegistered(() => registrations++);
    caller.connect();
    callee.connect();
    await waitFor(() => caller.registered && callee.registered, { what: 'registered' });
    caller.signal('offer', { sdp: 'v=0 one' }, 'receiver_001');
    await waitFor(() => got.length === 1, { what: 'offer' });
    assert.deepEqual(got[0], { type: 'offer', sdp: 'v=0 one', from: 'sender_001' });
    await gw.stop();
    gw = await gatewayAt({ port, db });
    await waitFor(() => registrations === 2 && caller.registered, { what: 're-registered', timeoutMs: 8000 });
    caller.signal('candidate', { candidate: 'c1' }, 'receiver_001');
    await waitFor(() => got.length === 2, { what: 'candidate after restart' });
    assert.deepEqual(got[1], { type: 'candidate', candidate: 'c1', from: 'sender_001' });
    caller.close();
    callee.close();
    await gw.stop();
  });

  test('player: a notification sent while the app was away arrives when it connects; session status; operator requests', async () => {
    const gw = await gatewayAt({ db: freshDb() });
    const op = new OperatorClient({ url: `${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`, ...fast });
    op.connect();
    await opened(op.socket);
    const sent = await op.request('notify_user', { user_id: 'player-7', payload: { type: 'coach_note', text: 'well played' } });
    assert.equal(typeof sent, 'object');
    const p = new PlayerClient({ baseUrl: gw.url, userId: 'player-7', ...fast });
    const notes: Record<string, unknown>[] = [];
    p.onNotification((n) => notes.push(n));
    p.connect();
    await waitFor(() => notes.length === 1, { what: 'queued notification' });
    assert.equal(notes[0]!.text, 'well played');
    const s = await p.sessionStatus();
    assert.equal(s.user_id, 'player-7');
    assert.equal(s.session, null);
    const rooms = await op.request('get_rooms', {});
    assert.ok(Array.isArray(rooms.rooms));
    await assert.rejects(op.requestAny('no_such_request', {}), (e: Error & { code?: string }) => e.code === 'UNKNOWN_TYPE');
    p.close();
    op.close();
    await gw.stop();
  });
});
