/**
 * Improv Wi-Fi over serial against the device-side peer on a pty: state,
 * device info, scan, credentials (accepted and refused), bad checksums in
 * both directions, and the packet bytes against the published example.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isUsbError } from '../../main/gateway/usb/errors.js';
import { decodeStrings, encodeImprovPacket, encodeRpc, encodeStrings, ImprovClient, ImprovCommand, ImprovStreamParser, ImprovType } from '../../main/gateway/usb/improv.js';
import { ManualClock } from '../../main/gateway/clock.js';
import { ImprovError, startBoardPeer, type BoardPeer, type ImprovDeviceOptions } from '../support/rom-peer/index.js';
import { until } from './fixtures.js';
import { isPending } from '../support/wait.js';

const NETWORKS: ImprovDeviceOptions['networks'] = [
  { ssid: 'Court-5', rssi: -48, secured: true, password: 'shuttle-cock' },
  { ssid: 'Guest', rssi: -71, secured: false },
];

const peers: BoardPeer[] = [];
const clients: ImprovClient[] = [];
after(async () => {
  for (const c of clients) await c.close();
  for (const p of peers) await p.stop();
});

async function setup(improv: ImprovDeviceOptions = {}) {
  const b = await startBoardPeer({ mode: 'app', improv: { firmware: 'courtside-fw', version: '2.1.0', chip: 'ESP32', deviceName: 'racket-07', networks: NETWORKS, url: 'http://192.168.4.77/', ...improv } });
  peers.push(b);
  const logs: string[] = [];
  const c = await ImprovClient.open(b.path, { resendMs: 150, timeoutMs: 2000, onLog: (l) => logs.push(l) });
  clients.push(c);
  return { b, c, logs };
}

describe('Improv Wi-Fi serial: bytes', () => {
  test('the Wi-Fi settings RPC matches the spec example, framed with header, version, type, length and checksum', () => {
    // Spec example: SSID MyWirelessAP, password mysecurepassword -> 01 1E 0C {MyWirelessAP} 10 {mysecurepassword}
    const rpc = encodeRpc(ImprovCommand.WIFI_SETTINGS, encodeStrings(['MyWirelessAP', 'mysecurepassword']));
    const data = Buffer.concat([Buffer.from([0x01, 0x1e, 0x0c]), Buffer.from('MyWirelessAP'), Buffer.from([0x10]), Buffer.from('mysecurepassword')]);
    assert.deepEqual(rpc.subarray(0, 9), Buffer.concat([Buffer.from('IMPROV'), Buffer.from([0x01, 0x03, data.length])]));
    assert.deepEqual(rpc.subarray(9, 9 + data.length), data);
    let sum = 0;
    for (const b of rpc.subarray(0, 9 + data.length)) sum += b;
    assert.equal(rpc[9 + data.length], sum & 0xff);
    assert.equal(rpc.at(-1), 0x0a);
    assert.deepEqual(decodeStrings(encodeStrings(['a', '', 'héllo'])), ['a', '', 'héllo']);
  });

  test('the parser finds packets amid console text and drops ones with a bad checksum', () => {
    const packets: number[] = [];
    const lines: string[] = [];
    const p = new ImprovStreamParser((x) => packets.push(x.data[0]!), (l) => lines.push(l));
    const good = encodeImprovPacket(ImprovType.CURRENT_STATE, Buffer.from([0x02]));
    const bad = Buffer.from(good);
    bad[9 + 1] ^= 0xff; // checksum byte
    const stream = Buffer.concat([Buffer.from('I (31) boot: hello\r\n'), bad, Buffer.from('IMPRESSIVE log\n'), good]);
    for (let i = 0; i < stream.length; i += 3) p.push(stream.subarray(i, i + 3)); // in small pieces
    assert.deepEqual(packets, [0x02]);
    assert.equal(p.badChecksums, 1);
    assert.deepEqual(lines, ['I (31) boot: hello', 'IMPRESSIVE log']);
  });
});

describe('Improv Wi-Fi serial against the device peer', () => {
  test('current state, device info and a scan; the console lines come through', async () => {
    const { c, logs } = await setup();
    assert.deepEqual(await c.currentState(), { state: 'authorized', code: 0x02, url: null });
    assert.deepEqual(await c.deviceInfo(), { firmware: 'courtside-fw', version: '2.1.0', chip: 'ESP32', name: 'racket-07', os_name: null, os_version: null });
    assert.deepEqual(await c.scan(), [
      { ssid: 'Court-5', rssi: -48, secured: true },
      { ssid: 'Guest', rssi: -71, secured: false },
    ]);
    peers.at(-1)!.print('I (900) courtside: still here');
    await until(() => logs.includes('I (900) courtside: still here'), 5000, 'console line');
  });

  test('credentials: accepted ones provision the board and return its URL; the state then says so', async () => {
    const { b, c } = await setup();
    assert.deepEqual(await c.sendWifi('Court-5', 'shuttle-cock'), { url: 'http://192.168.4.77/' });
    assert.deepEqual(b.improv!.credentials, { ssid: 'Court-5', password: 'shuttle-cock' });
    // The board went through provisioning (0x03) to provisioned (0x04), after clearing the error state.
    assert.deepEqual(c.events.filter((e) => e.type === 'state').map((e) => e.code), [0x03, 0x04]);
    assert.deepEqual(await c.currentState(), { state: 'provisioned', code: 0x04, url: 'http://192.168.4.77/' });
  });

  test('a wrong password is the board\'s "unable to connect" error', async () => {
    const { b, c } = await setup();
    await assert.rejects(c.sendWifi('Court-5', 'wrong'), (e: unknown) => isUsbError(e) && e.code === 'IMPROV_ERROR' && /unable to connect/.test(e.message));
    assert.equal(b.improv!.credentials, null);
  });

  test('a reply with a bad checksum is dropped and the request repeated; a request with a bad checksum gets error 0x01', async () => {
    const { b, c } = await setup({ badChecksumOnce: true });
    assert.equal((await c.currentState()).state, 'authorized');
    assert.equal(c.badChecksums, 1, 'the corrupted reply was not counted');
    // Now the client side: a hand-made RPC with its checksum off by one.
    const bad = encodeRpc(ImprovCommand.GET_CURRENT_STATE);
    bad[bad.length - 2] = (bad[bad.length - 2]! + 1) & 0xff;
    await c.sendRaw(bad);
    await until(() => b.improv!.badChecksums === 1 && c.events.at(-1)?.type === 'error', 5000, 'error state back');
    assert.deepEqual(c.events.at(-1), { type: 'error', code: ImprovError.INVALID_RPC });
  });

  test('a board that does not speak Improv (in its ROM loader): the request is repeated each second, then reported', async () => {
    const b = await startBoardPeer({ mode: 'download' });
    peers.push(b);
    const clock = new ManualClock();
    const c = await ImprovClient.open(b.path, { timeoutMs: 3000, resendMs: 1000, clock });
    clients.push(c);
    const packet = encodeRpc(ImprovCommand.GET_CURRENT_STATE).length;
    const result = c.currentState().then(() => 'answered', (e: unknown) => e);
    await until(() => b.received === packet, 3000, 'first request');
    clock.advance(1000);
    await until(() => b.received === 2 * packet, 3000, 'second request');
    clock.advance(1999);
    await until(() => b.received === 3 * packet, 3000, 'third request');
    assert.equal(await isPending(result), true, 'no answer 1 ms before the timeout');
    clock.advance(1);
    const e = await result;
    assert.ok(isUsbError(e) && e.code === 'IMPROV_NOT_DETECTED' && /speak Improv/.test(e.message), String(e));
  });
});
