/** The renderer's stores: pure rules directly, live behaviour against a real gateway with simulated boards and room clients. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { launchOptions } from '../../main/gateway/launch.js';
import { get } from 'svelte/store';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDevicesStore, liveChoices, mergeDevices } from '../../renderer/src/lib/stores/devices.js';
import { GatewayClient, type WebSocketLike } from '../../renderer/src/lib/client.js';
import { createRoomsStore } from '../../renderer/src/lib/stores/rooms.js';
import { createStatusStore, ratesBetween, warningsFor } from '../../renderer/src/lib/stores/status.js';
import { createLiveStore } from '../../renderer/src/lib/stores/live.js';
import { createSettingsStore } from '../../renderer/src/lib/stores/settings.js';
import { createSessionsStore, readResults } from '../../renderer/src/lib/stores/sessions.js';
import { normalizeBulk } from '../../renderer/src/lib/stores/usb.js';
import type { DeviceInfo, SystemStatus } from '../../renderer/src/lib/protocol.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { roomClient, startTestGateway, type TestGateway } from '../support/gateway.js';
import { connected, FakeSocket, sleep, until } from './helpers.js';
import { firstError } from '../protocol/json-schema.js';
import { SCHEMA_DIR } from '../protocol/doc.js';

const device = (id: string, online: boolean, status: DeviceInfo['status'] = null): DeviceInfo => ({
  device_id: id, online, source: online ? 'connected' : 'known', mdns: null, ip: online ? '10.0.0.5' : null, connected_at: null, disconnected_at: null,
  last_seen_at: '2024-11-21T18:00:00.000Z', last_seen_age_ms: 0, last_heartbeat_at: null, last_heartbeat_age_ms: null, status, status_at: null,
});

describe('pure store rules', () => {
  test('mergeDevices joins gateway, LAN and USB by id, online first, numeric order', () => {
    const rows = mergeDevices({
      devices: [device('racket-10', false), device('racket-2', true, { battery: 80, rssi: -60, firmware: '1.2.0' })],
      discovered: [{ device_id: 'racket-2', addresses: ['10.0.0.5'] }, { device_id: 'wled-kitchen', addresses: ['10.0.0.9'], txt: { fw: '0.14' } }],
      usb: [{ path: '/dev/ttyUSB0', device_id: 'racket-10' }, { path: '/dev/ttyACM0' }],
      roomOf: new Map([['racket-2', 'K7M2QX']]),
      commands: new Map(),
    });
    assert.deepEqual(rows.map((r) => r.device_id), ['racket-2', 'racket-10', '/dev/ttyACM0', 'wled-kitchen']);
    assert.deepEqual(rows[0]!.sources, ['gateway', 'lan']);
    assert.equal(rows[0]!.battery, 80);
    assert.equal(rows[0]!.room, 'K7M2QX');
    assert.deepEqual(rows[1]!.sources, ['gateway', 'usb']);
    assert.equal(rows[1]!.usbPort, '/dev/ttyUSB0');
    assert.equal(rows[3]!.firmware, '0.14');
    assert.equal(rows[3]!.online, false);
  });

  test('a board seen only over mDNS is listed as not connected and never offered in Live', async () => {
    const mdns = (id: string, address: string) => ({
      name: id, service_type: '_courtside-dev._tcp', host: `${id}.local`, addresses: [address], port: 80, txt: { id, fw: '1.4.0' }, last_seen_age_ms: 1200,
    });
    // The shape the gateway sends (the device list merges its boards with mDNS by device id).
    const reply = {
      type: 'device_list',
      devices: [
        { ...device('racket-1', true, { battery: 90 }), mdns: [mdns('racket-1', '10.0.0.5')] },
        device('racket-2', false),
        {
          device_id: 'racket-9', online: false, source: 'lan', ip: '10.0.0.9', connected_at: null, disconnected_at: null,
          last_seen_at: '2024-11-21T18:00:00.000Z', last_seen_age_ms: 1200, last_heartbeat_at: null, last_heartbeat_age_ms: null,
          status: { firmware: '1.4.0', board: null, mac: null }, status_at: null, mdns: [mdns('racket-9', '10.0.0.9')],
        },
      ],
    };
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, 'operator/server/device_list.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(firstError(schema, { ...reply, id: 1 }), null, 'the test frame is one the contract allows');

    const sockets: FakeSocket[] = [];
    const client = new GatewayClient({
      baseUrl: 'http://127.0.0.1:9',
      token: 'x'.repeat(20),
      createSocket: (url) => {
        const s = new FakeSocket(url);
        // The parts' lists come from the same frame kinds; this gateway has no USB part.
        s.onSend = (f) => {
          const answer =
            f.type === 'get_device_list' ? { ...reply, id: f.id }
            : f.type === 'get_discovered' ? { type: 'discovered', id: f.id, gateway_id: 'gw-1', devices: [], links: [], mdns: [], probe_port: null, probes: null }
            : f.type === 'subscribe' || f.type === 'unsubscribe' ? { type: `${f.type}d`, id: f.id, topics: f.topics }
            : { type: 'error', code: 'UNKNOWN_TYPE', message: `unknown message type '${String(f.type)}'`, id: f.id };
          setTimeout(() => s.receive(answer), 0);
        };
        sockets.push(s);
        return s as WebSocketLike;
      },
    });
    const store = createDevicesStore(client, { subscribe: (fn: (m: ReadonlyMap<string, string>) => void) => (fn(new Map()), () => {}) });
    try {
      client.connect();
      store.start();
      const rows = await until(() => {
        const r = get(store).rows;
        return r.length === 3 && !get(store).loading ? r : null;
      });
      const lan = rows.find((r) => r.device_id === 'racket-9')!;
      assert.equal(lan.connected, false);
      assert.equal(lan.online, false);
      assert.deepEqual(lan.sources, ['lan']);
      assert.equal(lan.lanAddress, '10.0.0.9');
      assert.equal(lan.firmware, '1.4.0');
      const on = rows.find((r) => r.device_id === 'racket-1')!;
      assert.equal(on.connected, true);
      assert.deepEqual(on.sources, ['gateway', 'lan']);
      assert.equal(rows.find((r) => r.device_id === 'racket-2')!.connected, true);
      // Online first, then the boards that connected before, then the LAN-only one.
      assert.deepEqual(rows.map((r) => r.device_id), ['racket-1', 'racket-2', 'racket-9']);
      assert.deepEqual(liveChoices(rows).map((r) => r.device_id), ['racket-1', 'racket-2']);
    } finally {
      store.stop();
      client.close();
    }
  });

  test('rates come from total deltas; a restarted gateway gives no point', () => {
    const st = (frames: number, samples: number) => ({ totals: { frames_in: frames, sensor_samples: samples } }) as SystemStatus;
    assert.deepEqual(ratesBetween({ at: 1000, status: st(10, 100) }, { at: 3000, status: st(30, 500) }), { at: 3000, messages: 10, samples: 200 });
    assert.equal(ratesBetween({ at: 1000, status: st(10, 100) }, { at: 2000, status: st(5, 0) }), null);
  });

  test('warnings name what needs attention', () => {
    const base = { totals: { store_errors: 0 }, urls: { operator: ['http://x'] }, device_auth: 'token', commands_pending: 0 } as unknown as SystemStatus;
    assert.deepEqual(warningsFor(base, true), []);
    const w = warningsFor({ ...base, totals: { ...base.totals, store_errors: 3 }, urls: { board: [], operator: [] }, device_auth: 'open', commands_pending: 2 }, false);
    assert.equal(w.length, 5);
    assert.match(w[0]!, /Not connected/);
    assert.match(w.join(' '), /3 database writes failed/);
  });

  test('the bulk status is read the same whether a queue ran or not', () => {
    assert.deepEqual(normalizeBulk({ state: 'stopped', rows: [] }), { status: { state: 'stopped', current: null, queued: [], done: 0, ok: 0, failed: 0, next_id: '' }, rows: [] });
    assert.equal(normalizeBulk({ state: 'running', current: '/dev/ttyUSB0', queued: ['/dev/ttyUSB1'], done: 1, ok: 1, failed: 0, next_id: 'racket-2' }).status?.queued.length, 1);
    assert.deepEqual(normalizeBulk(null), { status: null, rows: null });
  });

  test('readResults reads whole-session and per-board analysis', () => {
    assert.equal(readResults(null), null);
    const whole = readResults({
      strokes: [{ t: 2000, type: 'smash', racketHeadSpeedKmh: 120, peakAngularSpeedDps: 1500, saturated: false, confidence: 0.9 }, { t: 1000, type: 'clear', racketHeadSpeedKmh: 80 }],
      summary: { count: 2, durationS: 60, strokesPerMinute: 2, maxSpeedKmh: 120, medianSpeedKmh: 100, countsByType: { clear: 1, drive: 0, lift: 0, smash: 1 } },
    })!;
    assert.deepEqual(whole.strokes.map((s) => s.type), ['clear', 'smash']);
    assert.equal(whole.countsByType.smash, 1);
    assert.equal(whole.maxSpeedKmh, 120);
    const withList = readResults({ count: 1, countsByType: { smash: 1 } }, [{ device_id: 'racket-1', t_ms: 1500, type: 'smash', speed_kmh: 140, peak_dps: 1800, saturated: true, confidence: 0.8 }])!;
    assert.deepEqual(withList.strokes, [{ device_id: 'racket-1', t: 1500, type: 'smash', speedKmh: 140, peakDps: 1800, saturated: true, confidence: 0.8 }]);
    assert.equal(withList.maxSpeedKmh, 140);
    const perBoard = readResults({ boards: { 'racket-1': { strokes: [{ t: 5, type: 'drive', racketHeadSpeedKmh: 50 }] }, 'racket-2': { strokes: [{ t: 1, type: 'lift', racketHeadSpeedKmh: 30 }] } } })!;
    assert.deepEqual(perBoard.strokes.map((s) => `${s.device_id}:${s.type}`), ['racket-2:lift', 'racket-1:drive']);
    assert.deepEqual(perBoard.countsByType, { lift: 1, drive: 1 });
    assert.equal(perBoard.count, 2);
  });
});

describe('stores against a gateway', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  before(async () => {
    gw = await startTestGateway();
    fleet = startFleet({ url: gw.url, devices: 3, rateHz: 100, mode: 'batch', streamAlways: true, staggerMs: 5 });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await gw.stop();
  });

  test('status polls and turns totals into per-second rates', async () => {
    const c = await connected(gw);
    const s = createStatusStore(c, { intervalMs: 100 });
    s.start();
    const st = await until(() => get(s).rates.length >= 3 && get(s));
    assert.equal(st.status!.boards_online, 3);
    assert.ok(st.rates.at(-1)!.samples > 100, `samples/s ${st.rates.at(-1)!.samples}`);
    s.stop();
    c.close();
  });

  test('devices: boards online, offline on disconnect, commands followed to the ack', async () => {
    const c = await connected(gw);
    const rooms = createRoomsStore(c);
    const d = createDevicesStore(c, rooms.roomOf);
    d.start();
    await until(() => get(d).rows.filter((r) => r.online).length === 3);
    const row = get(d).rows.find((r) => r.device_id === 'racket-1')!;
    assert.equal(row.firmware, '1.2.0');
    assert.ok(row.battery !== null && row.rssi !== null);
    await d.sendCommand('racket-1', 'status');
    const acked = await until(() => get(d).rows.find((r) => r.device_id === 'racket-1')?.lastCommand?.state === 'acked');
    assert.ok(acked);
    await fleet.boards[2]!.stop();
    await until(() => get(d).rows.find((r) => r.device_id === 'racket-3')?.online === false);
    await fleet.boards[2]!.start();
    await until(() => get(d).rows.find((r) => r.device_id === 'racket-3')?.online === true);
    d.stop();
    c.close();
  });

  test('rooms: members, the live log of the open room, and sending into it', async () => {
    const c = await connected(gw);
    const rooms = createRoomsStore(c);
    rooms.start();
    const a = await roomClient(gw, { device_id: 'phone-a', identity: 'mobile_user' });
    const roomId = String(a.room.room_id);
    const b = await roomClient(gw, { device_id: 'phone-b', identity: 'mobile_user', room_id: roomId });
    await until(() => get(rooms).rooms.find((r) => r.room_id === roomId)?.total_clients === 2);
    await rooms.select(roomId);
    a.c.send({ type: 'message', content: 'serve!' });
    await until(() => get(rooms).log.some((m) => m.content === 'serve!' && m.from === 'phone-a'));
    const n = await rooms.send(roomId, 'court 3 is free');
    assert.equal(n, 2);
    const got = await b.c.next((f) => f.type === 'message' && f.from_device_id === 'operator');
    assert.equal(got.content, 'court 3 is free');
    await rooms.send(roomId, 'just you', 'phone-a');
    const direct = await a.c.next((f) => f.type === 'message' && f.message_type === 'direct');
    assert.equal(direct.content, 'just you');
    assert.equal(get(rooms.roomOf).get('phone-b'), roomId);
    await b.c.close();
    await until(() => get(rooms).rooms.find((r) => r.room_id === roomId)?.total_clients === 1);
    await a.c.close();
    rooms.stop();
    c.close();
  });

  test('live: subscribes per charted board and fills bounded ring buffers', async () => {
    const c = await connected(gw);
    const live = createLiveStore(c, { keepSeconds: 2 });
    live.start();
    live.choose(['racket-1', 'racket-2']);
    assert.deepEqual(c.watchedTopics(), ['sensor:racket-1', 'sensor:racket-2']);
    const s1 = live.stream('racket-1')!;
    await until(() => s1.ring.length > 50);
    // 2 s at 100 Hz: the ring never holds more, however long it runs.
    assert.equal(s1.ring.capacity, 400);
    await until(() => s1.received > 450, 8000);
    assert.equal(s1.ring.length, 400);
    live.toggle('racket-2');
    assert.deepEqual(c.watchedTopics(), ['sensor:racket-1']);
    assert.equal(live.stream('racket-2'), undefined);
    live.stop();
    assert.deepEqual(c.watchedTopics(), []);
    live.start();
    assert.deepEqual(get(live.selected), ['racket-1'], 'the choice comes back when the view opens again');
    live.stop();
    c.close();
  });

  test('sessions: created, started, stopped, analysed; the event stream moves the open one along', async () => {
    const c = await connected(gw);
    const s = createSessionsStore(c);
    s.start();
    const created = await s.create({ boards: ['racket-1'], player_id: 'p-1', court: '2' });
    assert.equal(created?.state, 'created');
    assert.equal(get(s).selected?.session_id, created!.session_id);
    await s.startSession(created!.session_id);
    await until(() => get(s).selected?.state === 'recording');
    await until(() => (get(s).selected?.progress[0]?.samples ?? 0) > 100, 8000);
    await s.stopSession(created!.session_id);
    await until(() => get(s).selected?.state === 'complete', 20_000);
    assert.ok(readResults(get(s).selected!.summary, get(s).strokes), 'results readable once complete');
    await until(() => get(s).list.some((x) => x.session_id === created!.session_id && x.state === 'complete'));
    s.setSearch('p-1');
    await sleep(400);
    assert.deepEqual(get(s).list.map((x) => x.player_id), ['p-1']);
    const zip = await s.exportZip(created!.session_id);
    assert.ok(zip && zip.data.byteLength > 100 && zip.filename.endsWith('.zip'));
    const err = await s.startSession('no-such-session');
    assert.equal(err, null);
    assert.match(get(s).error ?? '', /no-such-session/, 'the gateway\'s refusal, in words');
    s.stop();
    c.close();
  });

  test('settings: mint, list and revoke device tokens', async () => {
    const c = await connected(gw);
    const s = createSettingsStore(c);
    await s.load();
    // Every gateway runs discovery now: the choices are this machine's non-internal IPv4 interfaces, as the OS lists them.
    const osInterfaces = Object.entries(networkInterfaces()).flatMap(([name, l]) => (l ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => `${name}=${a.address}`));
    assert.deepEqual(get(s).interfaces?.map((i) => `${i.name}=${i.address}`).sort(), osInterfaces.sort());
    await s.mint('racket-9', 'bench');
    assert.equal(get(s).minted?.device_id, 'racket-9');
    assert.ok((get(s).minted?.token.length ?? 0) > 16);
    assert.equal(get(s).tokens.find((t) => t.device_id === 'racket-9')?.label, 'bench');
    await s.revoke('racket-9');
    assert.ok(get(s).tokens.find((t) => t.device_id === 'racket-9')?.revoked_at);
    c.close();
  });

  test('settings: the start-up settings are the settings file, saved whole, applied at the next start', async () => {
    const c = await connected(gw);
    const s = createSettingsStore(c);
    await s.load();
    const startup = get(s).startup!;
    assert.equal(startup.file, join(gw.dataDir, 'settings.json'));
    assert.deepEqual(startup.saved, {});
    assert.equal(startup.running.db, join(gw.dataDir, 'courtside.sqlite'));
    assert.ok(await s.saveStartup({ port: 9876, device_auth: 'token', udp_probe_port: null }));
    // The test run keeps discovery off, so a saved `udp_probe_port: null` is what runs already.
    assert.deepEqual(get(s).startup!.restart_required.sort(), ['device_auth', 'port']);
    // What the next start reads: the file on disk, and the options the composition makes of it.
    assert.deepEqual(JSON.parse(readFileSync(join(gw.dataDir, 'settings.json'), 'utf8')), { port: 9876, device_auth: 'token', udp_probe_port: null });
    const next = launchOptions({ dataDir: gw.dataDir });
    assert.deepEqual([next.port, next.deviceAuth, next.discovery?.udpProbePort], [9876, 'token', false]);
    // A value the schema refuses is an error in the store, and the file stays as it was.
    assert.equal(await s.saveStartup({ port: 70000 }), false);
    assert.match(get(s).error ?? '', /port must be at most 65535/);
    assert.equal(JSON.parse(readFileSync(join(gw.dataDir, 'settings.json'), 'utf8')).port, 9876);
    c.close();
  });
});
