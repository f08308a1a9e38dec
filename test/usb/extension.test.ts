/**
 * Everything through the gateway, as the UI drives it from a browser: the
 * `usb_*` operator requests and `/api/usb/...` (firmware upload by HTTP),
 * live events on topic `usb`, device tokens in the gateway's store that the
 * board endpoint then accepts, all against board peers on ptys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { espImage, firmware, tempDir } from './fixtures.js';

const dir = tempDir();
const peers: BoardPeer[] = [];
let gw: TestGateway;
let op: TestClient;
const fw = firmware({ appSize: 0x20000 });
let firmwareId = '';

async function board(name: string, opts: Parameters<typeof startBoardPeer>[0] = {}): Promise<BoardPeer> {
  const b = await startBoardPeer({ dir, name, ...opts });
  peers.push(b);
  return b;
}
const isEvent = (event: string, extra: (f: Frame) => boolean = () => true) => (f: Frame) => f.type === 'event' && f.topic === 'usb' && f.event === event && extra(f);
const nvsOf = (b: BoardPeer) => Object.fromEntries(parseNvsPartition(b.flash.subarray(0x9000, 0xf000)).entries.map((e) => [e.key, e.value]));
const CONFIG = { wifi_ssid: 'Court-5', wifi_pass: 'shuttle-cock', gw_host: '127.0.0.1', gw_port: 8765 };

before(async () => {
  gw = await startTestGateway({
    deviceAuth: 'token',
    usb: { extraPorts: [join(dir, 'board-*')], portPollMs: 300, bulkPollMs: 150, connect: { baud: 921600, connectAttempts: 2 } },
  });
  op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
  await op.next('connection_established');
  assert.deepEqual((await op.ask({ type: 'subscribe', topics: ['usb'] }, 'subscribed')).topics, ['usb']);
});
after(async () => {
  await op?.close();
  await gw?.stop();
  for (const p of peers) await p.stop();
});

describe('USB through the operator API', () => {
  test('ports: listed over WebSocket and HTTP, and a plugged board is announced', async () => {
    // The watcher's first look is its baseline; plug the board after it.
    assert.ok(!((await op.ask({ type: 'usb_list_ports' }, 'usb_ports')).ports as { path: string }[]).some((p) => p.path.startsWith(dir)));
    const b = await board('board-1');
    const changed = await op.next(isEvent('ports_changed', (f) => (f.ports as { path: string }[]).some((p) => p.path === b.path)), 5000);
    assert.ok(changed);
    const list = await op.ask({ type: 'usb_list_ports', id: 1 }, 'usb_ports');
    assert.equal(list.id, 1);
    assert.ok((list.ports as { path: string; hint: string }[]).some((p) => p.path === b.path && p.hint === 'virtual'));
    const http = await gw.http('/api/usb/ports');
    assert.equal(http.status, 200);
    assert.ok(((await http.json()) as { ports: { path: string }[] }).ports.some((p) => p.path === b.path));
    assert.equal((await gw.http('/api/usb/ports', { token: null })).status, 401);
  });

  test('firmware uploaded by HTTP is flashed by a usb_flash request, with progress and done events', async () => {
    const up = await gw.http('/api/usb/firmware?name=racket-2.1.0.bin', { method: 'POST', body: fw.merged, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 201);
    const meta = ((await up.json()) as { firmware: { id: string; size: number; name: string; chip: string } }).firmware;
    firmwareId = meta.id;
    assert.equal(meta.id, createHash('sha256').update(fw.merged).digest('hex'));
    assert.deepEqual([meta.size, meta.name, meta.chip], [fw.merged.length, 'racket-2.1.0.bin', 'ESP32']);
    const listed = (await (await gw.http('/api/usb/firmware')).json()) as { firmware: { id: string }[] };
    assert.ok(listed.firmware.some((f) => f.id === firmwareId));

    const b = peers.find((p) => p.path.endsWith('board-1'))!;
    op.send({ type: 'usb_flash', id: 'f1', port: b.path, firmware_id: firmwareId });
    op.send({ type: 'usb_flash', id: 'f2', port: b.path, firmware_id: firmwareId });
    const job = (await op.next((f) => f.type === 'usb_job' && f.id === 'f1')).job as { id: string; state: string };
    assert.equal(job.state, 'running');
    const busy = await op.next((f) => f.type === 'error' && f.id === 'f2');
    assert.equal(busy.code, 'PORT_BUSY');
    assert.match(String(busy.message), /in use by flash job/);
    const info = await op.next(isEvent('board_info', (f) => f.job_id === job.id), 10000);
    assert.equal((info.info as { mac: string }).mac, '24:0a:c4:12:34:56');
    const done = await op.next(isEvent('flash_done', (f) => f.job_id === job.id), 20000);
    assert.equal(done.ok, true, JSON.stringify(done.error));
    const last = await op.next(isEvent('flash_progress', (f) => f.job_id === job.id && f.percent === 100));
    assert.equal(last.bytes, fw.merged.length);
    assert.ok(b.flash.subarray(0, fw.merged.length).equals(fw.merged));
    const status = (await (await gw.http(`/api/usb/jobs/${job.id}`)).json()) as { job: { state: string; result: { bytes: number } } };
    assert.deepEqual([status.job.state, status.job.result.bytes], ['done', fw.merged.length]);
  });

  test('provision with a minted token: the board endpoint admits that board with it and nothing else', async () => {
    const b = peers.find((p) => p.path.endsWith('board-1'))!;
    const r = await gw.http('/api/usb/provision', { method: 'POST', body: JSON.stringify({ port: b.path, config: { ...CONFIG, gw_port: gw.port, device_id: 'racket-41' }, mint_token: true }) });
    assert.equal(r.status, 202);
    const job = ((await r.json()) as { job: { id: string } }).job;
    const done = await op.next(isEvent('provision_done', (f) => f.job_id === job.id), 20000);
    assert.equal(done.ok, true, JSON.stringify(done.error));
    assert.deepEqual((done.result as { partition: unknown }).partition, { label: 'nvs', offset: 0x9000, size: 0x6000 });
    const cfg = nvsOf(b);
    assert.equal(cfg.device_id, 'racket-41');
    assert.equal(cfg.gw_port, gw.port);
    const token = String(cfg.device_token);
    const board1 = await TestClient.connect(`${gw.url}/ws/esp32/racket-41/?token=${encodeURIComponent(token)}`);
    assert.equal((await board1.next()).type, 'connection_established');
    await board1.close();
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/racket-42/?token=${encodeURIComponent(token)}`), { status: 401 });
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/racket-41/`), { status: 401 });
  });

  test('Improv over HTTP: state, credentials (refused and accepted), with an event', async () => {
    const b = await board('board-im', { mode: 'app', improv: { networks: [{ ssid: 'Court-5', rssi: -50, secured: true, password: 'shuttle-cock' }], url: 'http://10.0.0.9/' } });
    const post = (path: string, body: object) => gw.http(`/api/usb/improv/${path}`, { method: 'POST', body: JSON.stringify(body) });
    const state = await post('state', { port: b.path });
    assert.equal(state.status, 200);
    assert.deepEqual(await state.json(), { port: b.path, state: 'authorized', code: 2, url: null });
    const refused = await post('wifi', { port: b.path, ssid: 'Court-5', password: 'nope' });
    assert.equal(refused.status, 502);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'IMPROV_ERROR');
    const ok = await post('wifi', { port: b.path, ssid: 'Court-5', password: 'shuttle-cock' });
    assert.deepEqual(await ok.json(), { port: b.path, state: 'provisioned', url: 'http://10.0.0.9/' });
    assert.equal((await op.next(isEvent('improv_state', (f) => f.port === b.path))).url, 'http://10.0.0.9/');
    const bad = await post('wifi', { port: b.path, ssid: '' });
    assert.equal(bad.status, 400);
  });

  test('serial monitor: lines as events, reset refused on a port without lines, stop', async () => {
    const b = await board('board-mon', { mode: 'app' });
    const started = await op.ask({ type: 'usb_monitor_start', id: 'm', port: b.path }, 'usb_monitor');
    assert.equal(started.running, true);
    b.print('I (77) courtside: imu ready');
    const line = await op.next(isEvent('monitor_line', (f) => f.text === 'I (77) courtside: imu ready'));
    assert.deepEqual([line.port, line.level], [b.path, 'I']);
    const reset = await op.ask({ type: 'usb_reset', id: 'r', port: b.path, mode: 'run' }, (f) => f.id === 'r');
    assert.deepEqual([reset.type, reset.code], ['error', 'LINES_UNSUPPORTED']);
    assert.equal((await op.ask({ type: 'usb_monitor_stop', port: b.path }, 'usb_monitor')).running, false);
    const again = await op.ask({ type: 'usb_monitor_stop', id: 's2', port: b.path }, (f) => f.id === 's2');
    assert.equal(again.code, 'MONITOR_NOT_RUNNING');
  });

  test('board info on a monitored port: the monitor steps aside and comes back', async () => {
    const b = await board('board-bi', { mac: '24:0a:c4:00:0b:01' });
    await op.ask({ type: 'usb_monitor_start', port: b.path }, 'usb_monitor');
    const r = await op.ask({ type: 'usb_board_info', id: 'bi', port: b.path }, (f) => f.id === 'bi');
    assert.equal(r.type, 'usb_board_info', JSON.stringify(r));
    const info = r.info as { chip: string; mac: string; flash_size: number };
    assert.deepEqual([info.chip, info.mac, info.flash_size], ['ESP32', '24:0a:c4:00:0b:01', 4 * 1024 * 1024]);
    await op.next(isEvent('monitor_status', (f) => f.port === b.path && f.status === 'paused'));
    await op.next(isEvent('monitor_status', (f) => f.port === b.path && f.status === 'reconnected'));
    b.print('after board info');
    await op.next(isEvent('monitor_line', (f) => f.port === b.path && f.text === 'after board info'));
    await op.ask({ type: 'usb_monitor_stop', port: b.path }, 'usb_monitor');
  });

  test('cancel: a running flash stops and the job says cancelled', async () => {
    const b = await board('board-cx');
    const up = await gw.http('/api/usb/firmware', { method: 'POST', body: espImage(0x100000) });
    const big = ((await up.json()) as { firmware: { id: string } }).firmware.id;
    const job = ((await op.ask({ type: 'usb_flash', port: b.path, images: [{ address: 0x10000, firmware_id: big }] }, 'usb_job')).job as { id: string });
    await op.next(isEvent('flash_progress', (f) => f.job_id === job.id && Number(f.bytes) > 0), 15000);
    const c = await op.ask({ type: 'usb_cancel', job_id: job.id }, 'usb_job');
    assert.equal((c.job as { id: string }).id, job.id);
    const done = await op.next(isEvent('flash_done', (f) => f.job_id === job.id), 15000);
    assert.deepEqual([done.ok, done.state, (done.error as { code: string }).code], [false, 'cancelled', 'CANCELLED']);
  });

  test('bulk mode from the API: two boards, tokens in the store, CSV report over HTTP', async () => {
    const b1 = await board('board-b1', { mac: '24:0a:c4:00:01:01' });
    const b2 = await board('board-b2', { mac: '24:0a:c4:00:01:02' });
    const start = await op.ask({ type: 'usb_bulk_start', firmware_id: firmwareId, id_template: 'court-{n:2}', config: CONFIG, ports: [b1.path, b2.path] }, 'usb_bulk');
    assert.equal((start.bulk as { state: string }).state, 'running');
    const again = await op.ask({ type: 'usb_bulk_start', id: 'dup', firmware_id: firmwareId, id_template: 'x-{n}', config: CONFIG }, (f) => f.id === 'dup');
    assert.equal(again.code, 'BULK_RUNNING');
    const rows = [await op.next(isEvent('bulk_board'), 20000), await op.next(isEvent('bulk_board'), 20000)];
    assert.deepEqual(rows.map((r) => [r.result, r.device_id]).sort(), [['ok', 'court-01'], ['ok', 'court-02']]);
    const stop = await op.ask({ type: 'usb_bulk_stop' }, 'usb_bulk');
    assert.equal((stop.bulk as { state: string; ok: number }).ok, 2);
    const csv = await (await gw.http('/api/usb/bulk/report.csv')).text();
    assert.match(csv, /^port,mac,chip,device_id,result,error_code,error,finished_at\r\n/);
    assert.match(csv, /,24:0a:c4:00:01:01,ESP32,court-0\d,ok,/);
    const tokens = (await op.ask({ type: 'list_device_tokens' }, 'device_tokens')).tokens as { device_id: string; revoked_at: string | null }[];
    for (const id of ['court-01', 'court-02']) assert.ok(tokens.some((t) => t.device_id === id), id);
    assert.equal(nvsOf(b1).gw_host, '127.0.0.1');
  });

  test('errors carry the USB code: unknown firmware, missing port, bad bodies', async () => {
    const unknown = await op.ask({ type: 'usb_flash', id: 'u', port: peers[0]!.path, firmware_id: 'a'.repeat(64) }, (f) => f.id === 'u');
    assert.deepEqual([unknown.type, unknown.code], ['error', 'FIRMWARE_NOT_FOUND']);
    const missing = await gw.http('/api/usb/flash', { method: 'POST', body: JSON.stringify({ port: '/dev/ttyUSB-gone', firmware_id: firmwareId }) });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'PORT_NOT_FOUND');
    const badBody = await gw.http('/api/usb/flash', { method: 'POST', body: JSON.stringify({ port: 5 }) });
    assert.equal(badBody.status, 400);
    const badFrame = await op.ask({ type: 'usb_reset', id: 'b', port: 'x', mode: 'sideways' }, (f) => f.id === 'b');
    assert.equal(badFrame.code, 'BAD_FRAME');
    const noJob = await gw.http('/api/usb/jobs/nope');
    assert.equal(noJob.status, 404);
  });
});
