/** The badminton protocol's board endpoint: every frame, commands queued/pushed/resent/acked, and what operators see. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { eventually, OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('board endpoint (the badminton protocol)', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let op: TestClient;
  before(async () => {
    clock = new ManualClock(Date.now());
    // Keepalive off: advancing the manual clock by many intervals at once would fire sweeps back to back.
    gw = await startTestGateway({ clock, commandResendMs: 10_000, heartbeatIntervalMs: 0 });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    await op.ask({ type: 'subscribe', topics: ['devices', 'commands', 'sensor'] }, 'subscribed');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const board = async (code: string) => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/${code}/`);
    const hello = await b.next('connection_established');
    assert.equal(hello.device_code, code);
    return b;
  };

  test('connect: welcome frame, online event to operators, device in the list', async () => {
    const b = await board('racket-1');
    const ev = await op.next((f) => f.type === 'event' && f.event === 'online');
    assert.equal((ev.device as { device_id: string }).device_id, 'racket-1');
    const list = await op.ask({ type: 'get_device_list', id: 7 }, 'device_list');
    assert.equal(list.id, 7);
    const d = (list.devices as { device_id: string; online: boolean }[]).find((x) => x.device_id === 'racket-1');
    assert.equal(d?.online, true);
    await b.close();
    const off = await op.next((f) => f.type === 'event' && f.event === 'offline');
    assert.equal((off.device as { online: boolean }).online, false);
  });

  test('heartbeat is answered with the server time and updates battery/rssi', async () => {
    const b = await board('hb-1');
    const ack = await b.ask({ type: 'heartbeat', battery: 77, rssi: -61 }, 'heartbeat_ack');
    assert.equal(ack.server_time, clock.now());
    const d = gw.core.boards.find('hb-1');
    assert.equal(d?.last_heartbeat_at, new Date(clock.now()).toISOString());
    assert.deepEqual(d?.status, { battery: 77, rssi: -61 });
    await b.close();
  });

  test('status_update is kept as the last status, stored, and shown to operators', async () => {
    const b = await board('st-1');
    const status = { battery: 90, rssi: -50, firmware: '1.2.0', state: 'idle' };
    assert.deepEqual(await b.ask({ type: 'status_update', status }, 'status_ack'), { type: 'status_ack' });
    const ev = await op.next((f) => f.type === 'event' && f.event === 'status');
    assert.deepEqual((ev.device as { status: unknown }).status, status);
    assert.deepEqual((await gw.store.getDeviceStatus('st-1'))?.status, status);
    const res = await gw.http('/api/devices');
    const body = (await res.json()) as { devices: { device_id: string; status: unknown }[] };
    assert.deepEqual(body.devices.find((d) => d.device_id === 'st-1')?.status, status);
    await b.close();
  });

  test('a command to an offline board is queued, delivered on reconnect, resent until acked', async () => {
    const r = await op.ask({ type: 'send_command', id: 'c1', device_id: 'cmd-1', command: 'start_collection', params: { session_id: 's1' } }, 'command_queued');
    assert.equal(r.pushed, false);
    const commandId = String(r.command_id);
    const b = await board('cmd-1');
    const pushed = await b.next('command');
    assert.deepEqual(pushed, { type: 'command', command_id: commandId, command: 'start_collection', params: { session_id: 's1' } });
    // Not acked: after the resend interval it comes again.
    clock.advance(10_000);
    assert.equal((await b.next('command')).command_id, commandId);
    b.send({ type: 'command_ack', command_id: commandId, ok: true, result: { state: 'recording' } });
    const acked = await op.next((f) => f.type === 'event' && f.event === 'acked');
    assert.equal(acked.command_id, commandId);
    const row = await gw.store.getCommand(commandId);
    assert.equal(row?.state, 'acked');
    assert.ok((row?.attempts ?? 0) >= 2);
    clock.advance(30_000);
    await b.nothing('command');
    await b.close();
  });

  test('poll_commands answers the unacked commands', async () => {
    const b = await board('poll-1');
    assert.deepEqual(await b.ask({ type: 'poll_commands' }, 'commands'), { type: 'commands', commands: [] });
    const res = await gw.http('/api/devices/poll-1/commands', { method: 'POST', body: JSON.stringify({ command: 'stop' }) });
    assert.equal(res.status, 202);
    const { command_id } = (await res.json()) as { command_id: string };
    await b.next('command');
    const polled = await b.ask({ type: 'poll_commands' }, 'commands');
    assert.deepEqual(polled.commands, [{ command_id, command: 'stop_collection', params: {} }]);
    b.send({ type: 'command_ack', command_id });
    await eventually(async () => (await gw.store.getCommand(command_id))?.state === 'acked');
    assert.deepEqual((await b.ask({ type: 'poll_commands' }, 'commands')).commands, []);
    await b.close();
  });

  test('a board cannot ack another board\'s command', async () => {
    const a = await board('own-a');
    const other = await board('own-b');
    const r = await op.ask({ type: 'send_command', device_id: 'own-a', command: 'identify' }, 'command_queued');
    await a.next('command');
    other.send({ type: 'command_ack', command_id: r.command_id });
    // One connection's frames are handled in order: this reply comes after the ack was dealt with.
    await other.ask({ type: 'heartbeat' }, 'heartbeat_ack');
    assert.equal((await gw.store.getCommand(String(r.command_id)))?.state, 'sent');
    await Promise.all([a.close(), other.close()]);
  });

  test('sensor_data and batch_sensor_data are validated, acked by seq, and reach operators batched', async () => {
    const b = await board('sens-1');
    b.send({ type: 'sensor_data', seq: 1, timestamp: 1000, data: { ax: 0.1, ay: -0.9, az: 0.3, gx: 35.6, gy: -18.1, gz: 9.5 } });
    b.send({ type: 'batch_sensor_data', seq: 2, start_ms: 1010, rate_hz: 100, samples: [[0, 0, 1, 0, 0, 0], [0, 0, 1, 5, 5, 5]] });
    // No recording session: live only, acked as not stored so the board drops them.
    assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: 1, session_id: null, stored: false });
    assert.deepEqual(await b.next('data_ack'), { type: 'data_ack', seq: 2, session_id: null, stored: false });
    const got: unknown[] = [];
    while (got.length < 2) {
      const f = await op.next('sensor_samples');
      got.push(...(f.batches as unknown[]));
    }
    assert.deepEqual(got[0], { device_id: 'sens-1', seq: 1, session_id: null, start_ms: 1000, rate_hz: 0, samples: [[0.1, -0.9, 0.3, 35.6, -18.1, 9.5]] });
    assert.deepEqual((got[1] as { samples: unknown }).samples, [[0, 0, 1, 0, 0, 0], [0, 0, 1, 5, 5, 5]]);
    b.send({ type: 'batch_sensor_data', seq: 3, start_ms: 1, rate_hz: 100, samples: [[0, 0, 1, 0, 0]] });
    assert.equal((await b.next('error')).message, 'samples[0] must have exactly 6 items');
    b.send({ type: 'sensor_data', seq: -1, timestamp: 1, data: { ax: 0, ay: 0, az: 0, gx: 0, gy: 0, gz: 0 } });
    assert.equal((await b.next('error')).message, 'seq must be at least 0');
    b.send({ type: 'sensor_data', timestamp: 1, data: { ax: 0, ay: 0, az: 0, gx: 0, gy: 0 } });
    assert.equal((await b.next('error')).message, 'data.gz is required');
    b.send({ type: 'batch_sensor_data', seq: 4, start_ms: 1, rate_hz: 0, samples: [[0, 0, 1, 0, 0, 0]] });
    assert.equal((await b.next('error')).message, 'rate_hz must be greater than 0');
    assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    await b.close();
  });

  test('upload_complete is acked with the last seq', async () => {
    const b = await board('up-1');
    assert.deepEqual(await b.ask({ type: 'upload_complete', session_id: 's9', last_seq: 41 }, 'upload_ack'), { type: 'upload_ack', session_id: 's9', last_seq: 41, missing: [] });
    b.send({ type: 'upload_complete' });
    assert.equal((await b.next('error')).message, 'last_seq is required');
    await b.close();
  });

  test('bad frames on the board endpoint: errors, connection stays', async () => {
    const b = await board('bad-1');
    b.send('nope');
    assert.equal((await b.next('error')).code, 'INVALID_JSON');
    b.send({ type: 'selfdestruct' });
    assert.equal((await b.next('error')).code, 'UNKNOWN_TYPE');
    // A string status is accepted since issue 12 (flat fields beside it); a number is not.
    b.send({ type: 'status_update', status: 7 });
    assert.equal((await b.next('error')).message, 'status must be an object or a string');
    b.ws.send(Buffer.from([1, 2, 3]));
    assert.equal((await b.next('error')).code, 'BAD_BINARY');
    assert.equal((await b.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    await b.close();
  });

  test('broadcast_devices sends a command to every connected board', async () => {
    const b1 = await board('all-1');
    const b2 = await board('all-2');
    const r = await op.ask({ type: 'broadcast_devices', command: 'identify' }, 'broadcast_sent');
    assert.ok((r.devices as number) >= 2);
    assert.equal((await b1.next('command')).command, 'identify');
    assert.equal((await b2.next('command')).command, 'identify');
    await Promise.all([b1.close(), b2.close()]);
  });

  test('a newer connection of the same board replaces the old one', async () => {
    const b1 = await board('twin-1');
    const b2 = await board('twin-1');
    assert.equal((await b1.closed).code, 4000);
    assert.equal(gw.core.boards.isConnected('twin-1'), true);
    assert.equal((await b2.ask({ type: 'heartbeat' }, 'heartbeat_ack')).type, 'heartbeat_ack');
    await b2.close();
  });
});
