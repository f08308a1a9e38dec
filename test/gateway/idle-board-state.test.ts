/**
 * What an idle board costs the gateway was made smaller (one record a board, times kept as
 * small integers, history lists at their exact length, a heartbeat's values shared with the
 * status, connection info made only when read, no listener table on a socket until one is
 * added); what users see of those boards must not change. Checked from outside with real ws boards on a manual clock, against what the test
 * itself did and when (the clock is the truth for every time): the device list's times and
 * online state through connects, a replacing connection and a disconnect; each heartbeat in
 * the history with its own time and values, past the length where lists stop being copied,
 * and unchanged by a later status; and the connection info an embedding application reads
 * (`connections()`, `sendToConnection`, `connection:removed`) for sockets nobody asked about
 * while they connected, and a listener added late to a socket made without a listener table.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import type { ConnectionInfo } from '../../main/gateway/index.js';
import { eventually, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

interface Device {
  device_id: string;
  online: boolean;
  ip: string | null;
  connected_at: string | null;
  disconnected_at: string | null;
  last_seen_at: string | null;
  last_heartbeat_at: string | null;
  status: Record<string, unknown> | null;
  status_at: string | null;
}

interface History {
  statuses: { at: string; source: string; values: Record<string, unknown> }[];
  more: { statuses: boolean };
}

describe('idle boards: what the device list, the history and connection info show', () => {
  let gw: TestGateway;
  // A time of today (a boxed number, were it kept as it is) that moves only when told.
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 12, 0, 0, 0));
  before(async () => {
    gw = await startTestGateway({ clock, heartbeatIntervalMs: 0 });
  });
  after(async () => {
    await gw.stop();
  });

  const iso = (t: number) => new Date(t).toISOString();
  const board = async (code: string) => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/${code}/`);
    await b.next('connection_established');
    return b;
  };
  const devices = async (): Promise<Device[]> => ((await (await gw.http('/api/devices')).json()) as { devices: Device[] }).devices;
  const device = async (id: string) => (await devices()).find((d) => d.device_id === id);
  const history = async (id: string, q = '') => (await (await gw.http(`/api/devices/${id}/history?only=statuses${q}`)).json()) as History;

  test('device list: times from the clock, online while a connection is held, offline after the last', async () => {
    const t0 = clock.now();
    const a = await board('idle-a');
    const b = await board('idle-b');
    clock.advance(1234);
    await a.ask({ type: 'heartbeat', battery: 90, rssi: -40 }, 'heartbeat_ack');
    let d = await device('idle-a');
    assert.deepEqual(
      { online: d?.online, ip: d?.ip, connected_at: d?.connected_at, last_seen_at: d?.last_seen_at, last_heartbeat_at: d?.last_heartbeat_at, status: d?.status, disconnected_at: d?.disconnected_at },
      { online: true, ip: '127.0.0.1', connected_at: iso(t0), last_seen_at: iso(t0 + 1234), last_heartbeat_at: iso(t0 + 1234), status: { battery: 90, rssi: -40 }, disconnected_at: null },
    );
    assert.equal((await device('idle-b'))?.last_heartbeat_at, null, 'a board that sent nothing has no heartbeat');

    // A second connection of the same board replaces the first: still online, connected at the new time.
    clock.advance(1000);
    const a2 = await board('idle-a');
    await a.closed;
    d = await device('idle-a');
    assert.equal(d?.online, true);
    assert.equal(d?.connected_at, iso(t0 + 2234));
    assert.equal(gw.core.boards.onlineCount(), 2);
    // In the order they connected: the replacing connection is the newest.
    assert.deepEqual(gw.core.boards.connected().map((c) => c.deviceId), ['idle-b', 'idle-a']);

    clock.advance(500);
    await a2.close();
    await eventually(async () => (await device('idle-a'))?.online === false);
    d = await device('idle-a');
    assert.equal(d?.disconnected_at, iso(t0 + 2734));
    assert.equal(d?.connected_at, iso(t0 + 2234), 'an offline board keeps its last connect time');
    assert.equal(gw.core.boards.onlineCount(), 1);
    assert.equal(gw.core.boards.isConnected('idle-a'), false);
    // Online first, then by id.
    assert.deepEqual((await devices()).filter((x) => x.device_id.startsWith('idle-')).map((x) => [x.device_id, x.online]), [['idle-b', true], ['idle-a', false]]);
    await b.close();
  });

  test('history: every heartbeat with its own time and values, in order, past the short lists; a later status changes none', async () => {
    const c = await board('idle-c');
    const sent: { at: number; values: Record<string, unknown> }[] = [];
    for (let i = 0; i < 40; i++) {
      clock.advance(15_000);
      // Mostly the same values (shared objects), now and then new ones, once only one of the two.
      const values = i === 7 ? { battery: 70 } : { battery: 80 - Math.floor(i / 10), rssi: -50 };
      await c.ask({ type: 'heartbeat', ...values }, 'heartbeat_ack');
      sent.push({ at: clock.now(), values });
    }
    const page = await history('idle-c', '&limit=100');
    assert.deepEqual(page.statuses, sent.map((e) => ({ at: iso(e.at), source: 'heartbeat', values: e.values })).reverse());
    assert.deepEqual((await device('idle-c'))?.status, { battery: 77, rssi: -50 });

    // A status with other keys: the device list shows it; the heartbeats kept before are as they were.
    clock.advance(1000);
    await c.ask({ type: 'status_update', status: { mode: 'idle', battery: 76 } }, 'status_ack');
    const after = await history('idle-c', '&limit=100');
    assert.deepEqual(after.statuses[0], { at: iso(clock.now()), source: 'status_update', values: { mode: 'idle', battery: 76 } });
    assert.deepEqual(after.statuses.slice(1), page.statuses);
    clock.advance(1000);
    await c.ask({ type: 'heartbeat', battery: 75, rssi: -51 }, 'heartbeat_ack');
    assert.deepEqual((await device('idle-c'))?.status, { mode: 'idle', battery: 75, rssi: -51 });
    const last = await history('idle-c', '&limit=3');
    assert.deepEqual(last.statuses.map((s) => s.values), [{ battery: 75, rssi: -51 }, { mode: 'idle', battery: 76 }, { battery: 77, rssi: -50 }]);

    // Pages cut by time read the same as slices of what was sent.
    const older = await history('idle-c', `&limit=5&before=${encodeURIComponent(iso(sent[20]!.at))}`);
    assert.deepEqual(older.statuses.map((s) => s.at), sent.slice(15, 20).map((e) => iso(e.at)).reverse());
    assert.equal(older.more.statuses, true);
    await c.close();
  });

  test('connection info of sockets nobody asked about while they connected', async () => {
    const t0 = clock.now();
    const d1 = await board('idle-d1');
    clock.advance(10);
    const d2 = await board('idle-d2');
    const platform = gw.core.platform;
    const mine = () => platform.connections().filter((c) => c.path.startsWith('/ws/esp32/idle-d'));
    const infos = mine().sort((x, y) => x.path.localeCompare(y.path));
    assert.deepEqual(
      infos.map((c) => ({ endpoint: c.endpoint, ip: c.ip, path: c.path, connectedAt: c.connectedAt, sessionId: c.sessionId, userId: c.userId, metadata: c.metadata, userAgent: c.userAgent, origin: c.origin })),
      [
        { endpoint: 'board', ip: '127.0.0.1', path: '/ws/esp32/idle-d1/', connectedAt: t0, sessionId: null, userId: null, metadata: {}, userAgent: null, origin: null },
        { endpoint: 'board', ip: '127.0.0.1', path: '/ws/esp32/idle-d2/', connectedAt: t0 + 10, sessionId: null, userId: null, metadata: {}, userAgent: null, origin: null },
      ],
    );
    assert.notEqual(infos[0]!.id, infos[1]!.id);
    // Made once: read again, the same objects (what an application wrote in them stays).
    infos[0]!.metadata.tag = 'seen';
    assert.equal(mine().find((c) => c.id === infos[0]!.id), infos[0]);
    assert.equal(mine().find((c) => c.id === infos[0]!.id)?.metadata.tag, 'seen');

    // Reached by id; an id of no connection, or not of this gateway, reaches nothing.
    const got = d2.next('app_hello');
    assert.equal(platform.sendToConnection(infos[1]!.id, { type: 'app_hello', n: 2 }), true);
    assert.equal((await got).n, 2);
    assert.equal(platform.sendToConnection(`${infos[1]!.id}0`, { type: 'app_hello' }), false);
    assert.equal(platform.sendToConnection('nobody-1', { type: 'app_hello' }), false);

    // A socket never read: its info made at its close, with the time it connected.
    // Closed without a code: 1005 (no status) is what the gateway heard.
    const removed: (ConnectionInfo & { code: number })[] = [];
    platform.on('connection:removed', (c) => removed.push(c));
    const d3 = await board('idle-d3');
    const d3Id = mine().find((c) => c.path === '/ws/esp32/idle-d3/')?.id;
    // The gateway's socket keeps no listener table until a listener comes; one added then is heard.
    const ws = gw.core.boards.get('idle-d3')!.peer.ws;
    assert.equal(ws.listenerCount('close'), 0);
    const heard = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    await d3.close();
    assert.equal(await heard, 1005);
    await d1.close();
    await eventually(() => removed.length === 2);
    assert.deepEqual(removed.map((r) => [r.path, r.connectedAt, r.code]).sort(), [['/ws/esp32/idle-d1/', t0, 1005], ['/ws/esp32/idle-d3/', t0 + 10, 1005]]);
    assert.equal(removed.find((r) => r.path === '/ws/esp32/idle-d1/')?.id, infos[0]!.id);
    assert.equal(removed.find((r) => r.path === '/ws/esp32/idle-d3/')?.id, d3Id);
    assert.equal(platform.sendToConnection(infos[0]!.id, { type: 'app_hello' }), false, 'a closed connection is no longer reached');
    assert.deepEqual(mine().map((c) => c.path), ['/ws/esp32/idle-d2/']);
    await d2.close();
  });
});
