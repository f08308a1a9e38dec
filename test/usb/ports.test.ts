/**
 * Port listing without udev (this machine has no udevadm: SerialPort.list()
 * fails with `spawn udevadm ENOENT`), board hints, and the Web Serial
 * adapter's control lines: DTR and RTS always sent together, and ports with
 * no modem lines (ptys) degrade instead of failing.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicReset, HardReset, Transport, UsbJtagSerialReset } from 'esptool-js';
import { boardHint } from '../../firmware-protocol/index.js';
import { isUsbError } from '../../main/gateway/usb/errors.js';
import { listPorts, listSysfsPorts } from '../../main/gateway/usb/ports.js';
import { WebSerialAdapter, type NodePortLike } from '../../main/gateway/usb/serial-adapter.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { tempDir } from './fixtures.js';

const peers: BoardPeer[] = [];
after(async () => {
  for (const p of peers) await p.stop();
});

/** A sysfs + /dev tree as Linux lays it out for a CP210x on a hub, a native-USB ESP32-S3, a legacy UART and a console. */
function fakeSystem(): { sys: string; dev: string } {
  const root = tempDir('courtside-sysfs-');
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  const usb = (name: string, vid: string, pid: string, serial: string, product: string) => {
    const d = join(sys, 'devices/pci0000:00/0000:00:14.0/usb1', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'idVendor'), vid + '\n');
    writeFileSync(join(d, 'idProduct'), pid + '\n');
    writeFileSync(join(d, 'serial'), serial + '\n');
    writeFileSync(join(d, 'manufacturer'), 'Silicon Labs\n');
    writeFileSync(join(d, 'product'), product + '\n');
    return d;
  };
  const cp = usb('1-1.3', '10c4', 'ea60', '0001', 'CP2102N USB to UART Bridge Controller');
  mkdirSync(join(cp, '1-1.3:1.0/ttyUSB0'), { recursive: true });
  const s3 = usb('1-2', '303a', '1001', '24:EC:4A:00:11:22', 'USB JTAG/serial debug unit');
  mkdirSync(join(s3, '1-2:1.0/tty/ttyACM0'), { recursive: true });
  const cls = join(sys, 'class/tty');
  for (const n of ['ttyUSB0', 'ttyACM0', 'ttyS0', 'tty0']) mkdirSync(join(cls, n), { recursive: true });
  symlinkSync(join(cp, '1-1.3:1.0/ttyUSB0'), join(cls, 'ttyUSB0', 'device'));
  symlinkSync(join(s3, '1-2:1.0'), join(cls, 'ttyACM0', 'device'));
  mkdirSync(join(sys, 'devices/platform/serial8250/tty/ttyS0'), { recursive: true });
  symlinkSync(join(sys, 'devices/platform/serial8250'), join(cls, 'ttyS0', 'device'));
  mkdirSync(join(dev, 'serial/by-id'), { recursive: true });
  symlinkSync('../../ttyUSB0', join(dev, 'serial/by-id/usb-Silicon_Labs_CP2102N_0001-if00-port0'));
  for (const n of ['ttyUSB0', 'ttyACM0', 'ttyS0']) writeFileSync(join(dev, n), '');
  return { sys, dev };
}

describe('serial ports', () => {
  test('without udevadm the list comes from /sys/class/tty and /dev/serial/by-id', async () => {
    const { sys, dev } = fakeSystem();
    const udevMissing = () => Promise.reject(Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' }));
    const ports = await listPorts({ lister: udevMissing, sysRoot: sys, devRoot: dev, platform: 'linux' });
    assert.deepEqual(ports.map((p) => p.path), [join(dev, 'ttyACM0'), join(dev, 'ttyUSB0')]);
    const [acm, usb] = ports;
    assert.deepEqual(
      { vid: usb!.vendor_id, pid: usb!.product_id, sn: usb!.serial_number, hint: usb!.hint, loc: usb!.location, byId: usb!.by_id, src: usb!.source },
      { vid: '10c4', pid: 'ea60', sn: '0001', hint: 'CP210x', loc: '1-1.3', byId: join(dev, 'serial/by-id/usb-Silicon_Labs_CP2102N_0001-if00-port0'), src: 'sysfs' },
    );
    assert.equal(acm!.hint, 'Espressif USB-Serial/JTAG');
    assert.equal(acm!.serial_number, '24:EC:4A:00:11:22');
    assert.deepEqual(listSysfsPorts(join(sys, 'nothing'), dev), []);
  });

  test('on this machine (udevadm or not) listing works and virtual boards can be added', async () => {
    const b = await startBoardPeer();
    peers.push(b);
    const ports = await listPorts({ extra: [b.path.replace(/board$/, 'bo*')] });
    assert.ok(Array.isArray(ports));
    const mine = ports.find((p) => p.path === b.path);
    assert.ok(mine, JSON.stringify(ports));
    assert.equal(mine.source, 'extra');
    // The wildcard matched the host end only, and nothing else was made up.
    assert.deepEqual(ports.filter((p) => p.source === 'extra').map((p) => p.path), [b.path]);
  });

  test('elsewhere a failing OS lister is a clear error', async () => {
    await assert.rejects(listPorts({ platform: 'darwin', lister: () => Promise.reject(new Error('IOKit said no')) }), (e: unknown) => isUsbError(e) && e.code === 'PORT_LIST_FAILED' && /IOKit said no/.test(e.message));
  });

  test('board hints from USB ids', () => {
    assert.equal(boardHint('1a86', '7523'), 'CH340');
    assert.equal(boardHint('0403', '6001'), 'FTDI FT232R');
    assert.equal(boardHint('10C4', 'EA60'), 'CP210x');
    assert.equal(boardHint('303a', '4001'), 'Espressif native USB');
    assert.equal(boardHint('2341', '0043'), null);
    assert.equal(boardHint(undefined, undefined), null);
  });
});

describe('Web Serial adapter control lines', () => {
  function fakePort(failSet?: Error) {
    const sets: Record<string, unknown>[] = [];
    const port: NodePortLike = {
      isOpen: true,
      open: (cb) => cb(null),
      close: (cb) => cb(null),
      write: (_d, cb) => (cb(null), true),
      drain: (cb) => cb(null),
      set: (o, cb) => (sets.push({ ...o }), cb(failSet ?? null)),
      update: (_o, cb) => cb(null),
      on: () => port,
      removeAllListeners: () => port,
    };
    return { port, sets };
  }

  test('every esptool-js reset sequence sends DTR and RTS together, never one alone', async () => {
    const { port, sets } = fakePort();
    const adapter = new WebSerialAdapter('/dev/fake', { openPort: () => port });
    const transport = new Transport(adapter as unknown as ConstructorParameters<typeof Transport>[0]);
    await adapter.open({ baudRate: 115200 });
    await new ClassicReset(transport, 0).reset();
    // esptool's classic sequence: EN low, then EN high with IO0 low, then both released.
    assert.deepEqual(sets.map((s) => [s.dtr, s.rts]), [[false, true], [true, false], [false, false]]);
    sets.length = 0;
    await transport.setRTS(true); // a lone RTS change keeps DTR as it was
    await new UsbJtagSerialReset(transport).reset();
    await new HardReset(transport).reset();
    assert.ok(sets.length > 5);
    for (const s of sets) assert.deepEqual(Object.keys(s).filter((k) => k === 'dtr' || k === 'rts').sort(), ['dtr', 'rts'], JSON.stringify(s));
    assert.deepEqual([sets[0]!.dtr, sets[0]!.rts], [false, true]);
    assert.deepEqual(adapter.signalLog.slice(3), sets.map((x) => ({ dtr: x.dtr, rts: x.rts })));
    await adapter.close();
  });

  test('a port without modem lines (ENOTTY) is noted once and resets become no-ops', async () => {
    const { port, sets } = fakePort(new Error('Inappropriate ioctl for device, cannot set'));
    let noted = 0;
    const adapter = new WebSerialAdapter('/dev/pts/9', { openPort: () => port, onNoLines: () => noted++ });
    await adapter.open({ baudRate: 115200 });
    await adapter.setSignals({ dataTerminalReady: false, requestToSend: true });
    await adapter.setSignals({ requestToSend: false });
    assert.equal(adapter.linesSupported, false);
    assert.equal(noted, 1);
    assert.equal(sets.length, 1, 'later changes should not reach the port');
    assert.deepEqual(adapter.lines, { dtr: false, rts: false });
    await adapter.close();
  });

  test('other line errors are not swallowed', async () => {
    const { port } = fakePort(new Error('EIO: device went away'));
    const adapter = new WebSerialAdapter('/dev/fake', { openPort: () => port });
    await adapter.open({ baudRate: 115200 });
    await assert.rejects(adapter.setSignals({ requestToSend: true }), /EIO/);
  });
});
