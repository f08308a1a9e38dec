/**
 * The whole OTA path on real sockets: an application image uploaded to the
 * library, rolled out to a mixed fleet of virtual boards (one already up to
 * date, healthy ones, one offline, one whose download breaks, one whose new
 * image rolls back) with a canary wave and an automatic stop past
 * max_failures; then a retry that brings every board to the new version,
 * the offline one once it is back. The download server's ranges, tokens and
 * headers are checked against the image bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { buildAppImage } from '../support/app-image.js';
import { VirtualBoard, type OtaBehaviour } from '../../main/simulator/board.js';
import type { Rollout } from '../../firmware-protocol/index.js';

describe('OTA rollouts to a mixed fleet', () => {
  let gw: TestGateway;
  let op: TestClient;
  const boards = new Map<string, VirtualBoard>();
  const behaviour = new Map<string, OtaBehaviour>();
  const image = buildAppImage({ version: '2.0.0', project: 'courtside-racket', codeSize: 64 * 1024 });
  let firmwareId = '';

  const board = (id: string, opts: { firmware?: string; fail?: OtaBehaviour['fail'] } = {}) => {
    const b: OtaBehaviour = { fail: opts.fail, rebootMs: 20 };
    behaviour.set(id, b);
    const vb = new VirtualBoard({ url: gw.url, deviceCode: id, firmware: opts.firmware, ota: b, reconnectMinMs: 40, reconnectMaxMs: 200, heartbeatIntervalMs: 60_000 });
    boards.set(id, vb);
    return vb;
  };
  const rollout = async (id: string) => ((await (await gw.http(`/api/ota/rollouts/${id}`)).json()) as { rollout: Rollout }).rollout;
  const stateOf = (r: Rollout) => Object.fromEntries(r.devices.map((d) => [d.device_id, d.state]));

  before(async () => {
    gw = await startTestGateway();
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.ask({ type: 'subscribe', topics: ['ota'] }, 'subscribed');
    board('r-uptodate', { firmware: '2.0.0' });
    for (const id of ['r-ok1', 'r-ok2', 'r-ok3']) board(id);
    board('r-offline');
    board('r-faildl', { fail: 'download' });
    board('r-rollback', { fail: 'rollback' });
    await Promise.all([...boards.values()].map((b) => b.start()));
    await waitFor(async () => {
      const list = ((await (await gw.http('/api/devices')).json()) as { devices: { device_id: string; status: { firmware?: string } | null }[] }).devices;
      return list.filter((d) => d.status?.firmware).length === boards.size;
    }, { what: 'every board reported its status' });
    await boards.get('r-offline')!.stop();
    await waitFor(() => !gw.core.boards.isConnected('r-offline'), { what: 'r-offline gone' });
  });

  after(async () => {
    await Promise.all([...boards.values()].map((b) => b.stop()));
    op.ws.close();
    await gw.stop();
  });

  test('upload: a real-layout image is read and listed, junk is refused with its code', async () => {
    const up = await gw.http('/api/firmware?name=racket-2.0.0.bin', { method: 'POST', body: image });
    assert.equal(up.status, 201);
    const fw = ((await up.json()) as { firmware: Record<string, unknown> }).firmware;
    assert.equal(fw.firmware_id, createHash('sha256').update(image).digest('hex'));
    assert.deepEqual([fw.version, fw.project, fw.chip, fw.size, fw.sha256], ['2.0.0', 'courtside-racket', 'ESP32', image.length, fw.firmware_id]);
    firmwareId = String(fw.firmware_id);
    const list = ((await (await gw.http('/api/firmware')).json()) as { firmware: { firmware_id: string }[] }).firmware;
    assert.deepEqual(list.map((f) => f.firmware_id), [firmwareId]);
    const text = await gw.http('/api/firmware', { method: 'POST', body: 'not firmware at all\n' });
    assert.equal(text.status, 415);
    assert.equal(((await text.json()) as { error: { code: string } }).error.code, 'FIRMWARE_NOT_IMAGE');
    const boot = await gw.http('/api/firmware', { method: 'POST', body: buildAppImage({ bootloader: true }) });
    assert.equal(((await boot.json()) as { error: { code: string } }).error.code, 'FIRMWARE_BOOTLOADER');
    const damaged = Buffer.from(image);
    damaged[100] ^= 0x40;
    const bad = await gw.http('/api/firmware', { method: 'POST', body: damaged });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'FIRMWARE_BAD_CHECKSUM');
    // The USB upload keeps taking what it took and lands in the same library.
    const usb = await gw.http('/api/usb/firmware', { method: 'POST', body: image });
    assert.equal(((await usb.json()) as { firmware: { id: string } }).firmware.id, firmwareId);
  });

  test('rollout: canary wave, skip up to date, failures stop it, retry finishes every board', async () => {
    const devices = ['r-uptodate', 'r-ok1', 'r-ok2', 'r-offline', 'r-faildl', 'r-rollback', 'r-ok3'];
    const res = await gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: firmwareId, devices, canary_percent: 34, max_concurrent: 1, max_failures: 1 }) });
    assert.equal(res.status, 201);
    const created = ((await res.json()) as { rollout: Rollout }).rollout;
    const id = created.rollout_id;
    // Six to update (one skipped); the canary is a third of them, rounded up, online boards first.
    assert.equal(created.devices.find((d) => d.device_id === 'r-uptodate')!.state, 'skipped');
    assert.deepEqual(created.waves.map((w) => [...w.devices].sort()), [['r-faildl', 'r-ok1', 'r-ok2'], ['r-offline', 'r-ok3', 'r-rollback']]);

    const stopped = await waitFor(async () => {
      const r = await rollout(id);
      return r.state === 'stopped' && r.devices.every((d) => d.state !== 'updating') ? r : null;
    }, { timeoutMs: 20_000, what: 'the rollout stopped itself' });
    assert.match(stopped.stop_reason ?? '', /max_failures/);
    assert.deepEqual(stateOf(stopped), {
      'r-uptodate': 'skipped', 'r-ok1': 'succeeded', 'r-ok2': 'succeeded', 'r-faildl': 'failed',
      'r-offline': 'cancelled', 'r-rollback': 'rolled_back', 'r-ok3': 'cancelled',
    });
    const dev = (r: Rollout, d: string) => r.devices.find((x) => x.device_id === d)!;
    assert.match(dev(stopped, 'r-faildl').error ?? '', /download_failed/);
    assert.match(dev(stopped, 'r-rollback').error ?? '', /came back with 1\.2\.0/);
    // What the boards themselves run is the independent truth.
    assert.equal(boards.get('r-ok1')!.firmware, '2.0.0');
    assert.equal(boards.get('r-rollback')!.firmware, '1.2.0');
    assert.equal(boards.get('r-faildl')!.firmware, '1.2.0');
    assert.equal(boards.get('r-ok3')!.firmware, '1.2.0');
    // The operator saw it live: the canary wave, the second wave, the stop.
    const events = op.frames.filter((f: Frame) => f.type === 'event' && f.topic === 'ota' && f.event === 'rollout').map((f) => (f.rollout as { state: string; wave: number }));
    assert.ok(events.some((e) => e.wave === 1), 'a second wave began');
    assert.equal(events.at(-1)!.state, 'stopped');

    // Fixed boards, and a retry: every failed, rolled-back and cancelled board goes again; the offline one when it is back.
    behaviour.get('r-faildl')!.fail = undefined;
    behaviour.get('r-rollback')!.fail = undefined;
    const retry = await gw.http(`/api/ota/rollouts/${id}/retry-failed`, { method: 'POST', body: '{}' });
    assert.equal(retry.status, 200);
    await waitFor(async () => {
      const r = await rollout(id);
      return ['r-faildl', 'r-rollback', 'r-ok3'].every((d) => dev(r, d).state === 'succeeded') && dev(r, 'r-offline').state === 'waiting_online';
    }, { timeoutMs: 20_000, what: 'the online boards updated, the offline one waiting' });
    assert.equal((await rollout(id)).state, 'running');
    await boards.get('r-offline')!.start();
    const done = await waitFor(async () => {
      const r = await rollout(id);
      return r.state === 'complete' ? r : null;
    }, { timeoutMs: 20_000, what: 'the rollout completed' });
    assert.deepEqual(Object.values(stateOf(done)).sort(), ['skipped', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    for (const [deviceId, b] of boards) assert.equal(b.firmware, '2.0.0', deviceId);
    const listed = ((await (await gw.http('/api/devices')).json()) as { devices: { device_id: string; status: { firmware?: string } | null }[] }).devices;
    for (const d of listed) assert.equal(d.status?.firmware, '2.0.0', d.device_id);
  });

  test('the download server: ranges, per-board tokens, the SHA-256 header', async () => {
    const ota = (await (await gw.http('/api/status')).json()) as { ota: { port: number } };
    assert.ok(ota.ota.port > 0);
    // A link as a board gets it, through a rollout of one board (already up to date, so forced);
    // the board waits before its reboot, so the link stays valid while the test uses it.
    behaviour.get('r-ok1')!.rebootMs = 1500;
    const res = await gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: firmwareId, devices: ['r-ok1'], skip_up_to_date: false }) });
    const r = ((await res.json()) as { rollout: Rollout }).rollout;
    const cmd = await waitFor(async () => {
      const c = ((await (await gw.http('/api/devices/r-ok1/commands')).json()) as { commands: { command: string; params: { url: string; sha256: string; size: number } }[] }).commands;
      return c.find((x) => x.command === 'ota_update' && x.params.url.includes('token='));
    }, { what: 'the ota_update command' });
    const url = cmd.params.url;
    await waitFor(async () => (await rollout(r.rollout_id)).devices[0]!.phase === 'rebooting', { what: 'the board downloaded and verified' });
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    {
      assert.equal(whole.headers.get('x-firmware-sha256'), cmd.params.sha256);
      assert.equal(whole.headers.get('accept-ranges'), 'bytes');
      const body = Buffer.from(await whole.arrayBuffer());
      assert.equal(createHash('sha256').update(body).digest('hex'), cmd.params.sha256);
      const part = await fetch(url, { headers: { range: 'bytes=1000-' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 1000-${image.length - 1}/${image.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), image.subarray(1000));
      const beyond = await fetch(url, { headers: { range: `bytes=${image.length}-` } });
      assert.equal(beyond.status, 416);
    }
    const wrong = await fetch(url.replace(/token=[0-9a-f]+/, 'token=' + '0'.repeat(32)));
    assert.equal(wrong.status, 403);
    await waitFor(async () => (await rollout(r.rollout_id)).state === 'complete', { timeoutMs: 10_000, what: 'one-board rollout complete' });
    // Once the update ended its token is gone.
    assert.equal((await fetch(url)).status, 403);
  });
});
