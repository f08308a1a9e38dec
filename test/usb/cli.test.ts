/**
 * The `courtside` USB commands against board peers on ptys: ports, flash,
 * provision, monitor, bulk, improv. Most run in this process with captured
 * output; flash and monitor also run as the binary (exit code, Ctrl-C).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken } from '../../main/gateway/auth.js';
import { parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import { openStore } from '../../main/gateway/store/index.js';
import { spawn } from 'node:child_process';
import { captureIO, CLI, ROOT, runCli } from '../support/cli.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { buildDir, firmware, tempDir, until, writeTemp } from './fixtures.js';
import { flashCommand } from '../../main/gateway/usb/cli/flash.js';
import { improvCommand } from '../../main/gateway/usb/cli/improv.js';
import { portsCommand } from '../../main/gateway/usb/cli/ports.js';
import { provisionCommand } from '../../main/gateway/usb/cli/provision.js';
import { bulkCommand } from '../../main/gateway/usb/cli/bulk.js';
import { monitorCommand } from '../../main/gateway/usb/cli/monitor.js';
import type { CommandIO } from '../../main/cli/io.js';

/** Runs a command in this process, capturing what it prints. */
async function inProcess(run: (io: CommandIO) => Promise<number>, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captureIO({ env });
  return { code: await run(c.io), stdout: c.stdout(), stderr: c.stderr() };
}

const dir = tempDir();
const peers: BoardPeer[] = [];
const fw = firmware({ appSize: 0x18000 });
const merged = writeTemp('merged.bin', fw.merged);
const env = { COURTSIDE_EXTRA_PORTS: join(dir, 'board-*') };

async function board(name: string, opts: Parameters<typeof startBoardPeer>[0] = {}): Promise<BoardPeer> {
  const b = await startBoardPeer({ dir, name, ...opts });
  peers.push(b);
  return b;
}
after(async () => {
  for (const p of peers) await p.stop();
});
const nvsOf = (b: BoardPeer) => Object.fromEntries(parseNvsPartition(b.flash.subarray(0x9000, 0xf000)).entries.map((e) => [e.key, e.value]));

describe('courtside USB commands', () => {
  test('ports --json lists the board; the table shows it; bad flags are one line and exit 2', async () => {
    const b = await board('board-p');
    const r = await inProcess((io) => portsCommand(['--json'], io), env);
    assert.equal(r.code, 0, r.stderr);
    const ports = JSON.parse(r.stdout) as { path: string; source: string }[];
    assert.ok(ports.some((p) => p.path === b.path && p.source === 'extra'));
    const table = await inProcess((io) => portsCommand([], io), env);
    assert.match(table.stdout, /^PORT\s+USB ID\s+SERIAL\s+BOARD/m);
    assert.match(table.stdout, new RegExp(`${b.path}\\s+-\\s+-\\s+virtual`));
    const cases: [string, (io: CommandIO) => Promise<number>][] = [
      ['--bogus', (io) => portsCommand(['--bogus'], io)],
      ['no --port', (io) => flashCommand([merged], io)],
      ['--baud fast', (io) => flashCommand(['--port', b.path, '--baud', 'fast', merged], io)],
      ['provision without --ssid', (io) => provisionCommand(['--port', b.path], io)],
      ['provision --gw-sha256 short', (io) => provisionCommand(['--port', b.path, '--ssid', 'x', '--device-id', 'y', '--gw-sha256', 'abcd'], io)],
    ];
    for (const [what, run] of cases) {
      const bad = await inProcess(run);
      assert.equal(bad.code, 2, what);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, /^courtside: /, what);
    }
  });

  test('flash: a merged image and a build folder, with progress, board facts and a verified write', async () => {
    const b = await board('board-f');
    const r = await runCli(['flash', '--port', b.path, '--baud', '921600', merged]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Board: ESP32-D0WD-V3 \(revision 3\), MAC 24:0a:c4:12:34:56, 4 MB flash/);
    assert.match(r.stderr, /\[#{30}\] 100\.0%/);
    assert.match(r.stdout, /Wrote .* to ESP32 24:0a:c4:12:34:56; verified \(MD5\)\./);
    assert.match(r.stdout, /press EN \(RST\)/);
    assert.ok(b.flash.subarray(0, fw.merged.length).equals(fw.merged));

    const b2 = await board('board-f2');
    const j = await inProcess((io) => flashCommand(['--port', b2.path, '--baud', '921600', '--json', buildDir(fw)], io));
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as { ok: boolean; images: { address: number }[]; info: { chip: string } };
    assert.deepEqual([out.ok, out.info.chip, out.images.map((i) => i.address)], [true, 'ESP32', [0x1000, 0x8000, 0x10000]]);
    assert.ok(b2.flash.subarray(0x10000, 0x10000 + fw.app.length).equals(fw.app));
  });

  test('flash: a board that does not answer gets the advice and exit 1', async () => {
    const b = await board('board-na', { mode: 'app' });
    const r = await inProcess((io) => flashCommand(['--port', b.path, '--connect-attempts', '1', merged], io));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /courtside: no answer from the board on .*: hold BOOT and press EN/);
  });

  test('provision --mint-token writes the config with a token the store admits', async () => {
    const b = await board('board-pv', { flash: fw.merged });
    const data = tempDir();
    const r = await inProcess((io) => provisionCommand(['--port', b.path, '--ssid', 'Court-5', '--password', 'shuttle-cock', '--host', '192.168.4.2', '--device-id', 'racket-09', '--room', 'HALL01', '--mint-token', '--data-dir', data, '--baud', '921600'], io));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Configured 24:0a:c4:12:34:56 as racket-09 with a new device token: partition 'nvs' at 0x9000 \(24 KB\)/);
    const cfg = nvsOf(b);
    assert.deepEqual([cfg.wifi_ssid, cfg.wifi_pass, cfg.gw_host, cfg.device_id, cfg.room_id], ['Court-5', 'shuttle-cock', '192.168.4.2', 'racket-09', 'HALL01']);
    const store = await openStore(join(data, 'courtside.sqlite'));
    try {
      assert.equal(await store.checkDeviceToken('racket-09', hashToken(String(cfg.device_token))), true);
    } finally {
      await store.close();
    }
  });

  test('provision --gw-sha256: the fingerprint as browsers show it is written as hex, for the board to pin', async () => {
    const b = await board('board-tls', { flash: fw.merged });
    const hex = 'e43c4ec590bc5b9bb5029888a720776394440512ebfac05c208eac7250b57932';
    const colons = hex.toUpperCase().match(/../g)!.join(':');
    const r = await inProcess((io) => provisionCommand(['--port', b.path, '--ssid', 'Court-5', '--host', '192.168.4.2', '--device-id', 'racket-10', '--gw-sha256', colons, '--baud', '921600'], io));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(nvsOf(b).gw_sha256, hex);
  });

  test('monitor prints the console and waits through a re-enumeration', async () => {
    const b = await board('board-m', { mode: 'app' });
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'monitor', '--port', b.path, '--plain'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const m = { proc, stdout: () => out, stderr: () => err };
    try {
      await until(() => /monitoring/.test(m.stderr()), 10000, 'monitor started');
      b.print('\x1b[0;32mI (10) courtside: hello\x1b[0m');
      await until(() => m.stdout().includes('I (10) courtside: hello\n'), 5000, 'first line');
      await b.unplug();
      await until(() => /is gone; waiting/.test(m.stderr()), 5000, 'gone');
      await b.replug();
      await until(() => /connected again/.test(m.stderr()), 5000, 'back');
      b.print('I (11) courtside: back');
      await until(() => m.stdout().includes('I (11) courtside: back'), 5000, 'line after replug');
      const exited = new Promise<number | null>((r) => m.proc.once('exit', (c) => r(c)));
      m.proc.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      m.proc.kill('SIGKILL');
    }
  });

  test('monitor in this process prints the console and ends on a stop request', async () => {
    const b = await board('board-m2', { mode: 'app' });
    const c = captureIO();
    const run = monitorCommand(['--port', b.path, '--plain'], c.io);
    try {
      await until(() => /monitoring/.test(c.stderr()), 10000, 'monitor started');
      b.print('I (12) courtside: in-process');
      await until(() => c.stdout().includes('I (12) courtside: in-process\n'), 5000, 'the line');
      assert.equal(c.listeners(), 1);
      c.stop('SIGINT');
      assert.equal(await run, 0);
      assert.equal(c.listeners(), 0);
    } finally {
      c.stop('SIGINT');
      await run;
    }
  });

  test('bulk: two boards, a CSV report and tokens in the store', async () => {
    const b1 = await board('board-k1', { mac: '24:0a:c4:00:09:01' });
    const b2 = await board('board-k2', { mac: '24:0a:c4:00:09:02' });
    const data = tempDir();
    const report = join(data, 'report.csv');
    const r = await inProcess((io) => bulkCommand(['--firmware', merged, '--id-template', 'bat-{n:3}', '--ssid', 'Court-5', '--host', 'gw.local', '--port', b1.path, '--port', b2.path, '--count', '2', '--report', report, '--data-dir', data, '--baud', '921600'], io));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /2 board\(s\) provisioned, 0 failed/);
    const rows = readFileSync(report, 'utf8').trim().split('\r\n');
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.slice(1).map((l) => l.split(',').slice(1, 5)).sort(), [['24:0a:c4:00:09:01', 'ESP32', 'bat-001', 'ok'], ['24:0a:c4:00:09:02', 'ESP32', 'bat-002', 'ok']].sort());
    const store = await openStore(join(data, 'courtside.sqlite'));
    try {
      for (const b of [b1, b2]) {
        const cfg = nvsOf(b);
        assert.equal(await store.checkDeviceToken(String(cfg.device_id), hashToken(String(cfg.device_token))), true);
      }
    } finally {
      await store.close();
    }
  });

  test('improv state --json', async () => {
    const b = await board('board-iv', { mode: 'app', improv: { networks: [] } });
    const r = await inProcess((io) => improvCommand(['--port', b.path, 'state', '--json'], io));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { state: 'authorized', code: 2, url: null });
  });
});
