/**
 * The serial monitor on the board peer: console lines (colours stripped,
 * ESP-IDF levels), a board that vanishes and comes back (same path, or a new
 * path with the same USB serial number), idle flush on an injected clock, and
 * reset control with DTR and RTS always set together.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, systemClock } from '../../main/gateway/clock.js';
import { isUsbError } from '../../main/gateway/usb/errors.js';
import { SerialMonitor, type MonitorLine, type MonitorStatus } from '../../main/gateway/usb/monitor.js';
import type { SerialPortInfo } from '../../main/gateway/usb/ports.js';
import type { NodePortLike } from '../../main/gateway/usb/serial-adapter.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { until } from './fixtures.js';

const peers: BoardPeer[] = [];
const monitors: SerialMonitor[] = [];
after(async () => {
  for (const m of monitors) await m.stop();
  for (const p of peers) await p.stop();
});

async function watch(path: string, extra: Partial<ConstructorParameters<typeof SerialMonitor>[1]> = {}) {
  const lines: MonitorLine[] = [];
  const statuses: [MonitorStatus, string][] = [];
  const m = new SerialMonitor(path, { pollMs: 40, onLine: (l) => lines.push(l), onStatus: (s, p) => statuses.push([s, p]), ...extra });
  monitors.push(m);
  await m.start();
  return { m, lines, statuses };
}

function port(path: string, serial: string | null): SerialPortInfo {
  return { path, vendor_id: '303a', product_id: '1001', serial_number: serial, manufacturer: null, product: null, location: null, by_id: null, hint: null, source: 'os' };
}

describe('serial monitor', () => {
  test('lines arrive without colour codes, with the ESP-IDF log level', async () => {
    const b = await startBoardPeer({ mode: 'app' });
    peers.push(b);
    const { lines } = await watch(b.path);
    b.print('\x1b[0;31mE (1200) imu: sensor not found\x1b[0m');
    b.print('plain text');
    await until(() => lines.some((l) => l.text === 'plain text'), 10_000, 'two lines');
    // The peer's boot log may come first, depending on when the monitor opened the port: the two printed lines are checked.
    const printed = lines.filter((l) => !l.text.startsWith('I (') && !l.text.startsWith('ets ') && !l.text.startsWith('rst:'));
    assert.deepEqual(printed.map((l) => [l.text, l.level]).slice(-2), [['E (1200) imu: sensor not found', 'E'], ['plain text', null]]);
    assert.equal(printed.at(-1)!.port, b.path);
  });

  test('the board vanishes and comes back on the same path: lost, reconnected, lines again', async () => {
    const b = await startBoardPeer({ mode: 'app' });
    peers.push(b);
    const { lines, statuses } = await watch(b.path);
    await b.unplug();
    await until(() => statuses.some(([s]) => s === 'lost'), 10_000, 'lost');
    await b.replug();
    await until(() => statuses.some(([s]) => s === 'reconnected'), 10_000, 'reconnected');
    b.print('I (5) courtside: after the reset');
    await until(() => lines.some((l) => l.text === 'I (5) courtside: after the reset'), 10_000, 'line after reconnect');
    assert.deepEqual(statuses.map(([s]) => s), ['open', 'lost', 'reconnected']);
  });

  test('a board that comes back under another name is found by its USB serial number', async () => {
    const first = await startBoardPeer({ mode: 'app', name: 'ttyACM0' });
    peers.push(first);
    const second = await startBoardPeer({ mode: 'app', name: 'ttyACM1' });
    peers.push(second);
    await second.unplug(); // not there yet
    let ports = [port(first.path, 'SN-42')];
    const { lines, statuses } = await watch(first.path, { listPorts: async () => ports });
    await first.unplug();
    await until(() => statuses.some(([s]) => s === 'lost'), 10_000, 'lost');
    await second.replug();
    ports = [port(second.path, 'SN-42')];
    await until(() => statuses.some(([s]) => s === 'reconnected'), 10_000, 'reconnected');
    assert.deepEqual(statuses.at(-1), ['reconnected', second.path]);
    second.print('hello from ttyACM1');
    await until(() => lines.some((l) => l.text === 'hello from ttyACM1' && l.port === second.path), 10_000, 'line on the new path');
  });

  test('a partial line (a prompt) is flushed after the idle time of the injected clock', async () => {
    const b = await startBoardPeer({ mode: 'app' });
    peers.push(b);
    const clock = new ManualClock();
    let bytes = 0;
    const { lines } = await watch(b.path, { clock, idleFlushMs: 300, onData: (c) => (bytes += c.length) });
    b.print('line one');
    await until(() => lines.some((l) => l.text === 'line one'), 10_000, 'first line');
    const before = bytes;
    b.write(Buffer.from('courtside> '));
    await until(() => bytes >= before + 11, 10_000, 'prompt bytes');
    const count = lines.length;
    clock.advance(299);
    assert.equal(lines.length, count, 'flushed too early');
    clock.advance(1);
    assert.equal(lines.at(-1)!.text, 'courtside> ');
  });

  test('reset: a pty has no DTR/RTS (LINES_UNSUPPORTED); on a real port both lines are always set together', async () => {
    const b = await startBoardPeer({ mode: 'app' });
    peers.push(b);
    const { m } = await watch(b.path);
    await assert.rejects(m.reset('run'), (e: unknown) => isUsbError(e) && e.code === 'LINES_UNSUPPORTED' && /press EN/.test(e.message));

    const sets: { dtr?: boolean; rts?: boolean }[] = [];
    const fake: NodePortLike = {
      isOpen: true,
      open: (cb) => cb(null),
      close: (cb) => cb(null),
      write: (_d, cb) => (cb(null), true),
      drain: (cb) => cb(null),
      set: (o, cb) => (sets.push({ ...o }), cb(null)),
      update: (_o, cb) => cb(null),
      on: () => fake,
      removeAllListeners: () => fake,
    };
    const real = new SerialMonitor(b.path, { clock: systemClock, openPort: () => fake });
    await real.start();
    await real.reset('run');
    assert.deepEqual(sets, [{ dtr: false, rts: true }, { dtr: false, rts: false }]);
    sets.length = 0;
    await real.reset('bootloader');
    assert.deepEqual(sets, [{ dtr: false, rts: true }, { dtr: true, rts: false }, { dtr: false, rts: false }]);
    await real.stop();
  });
});
