/**
 * Board configuration: the NVS image (our parser reads it back, and its bytes
 * have the layout ESP-IDF's nvs_flash expects), and provisioning on the board
 * peer: the partition table is read from 0x8000 and the config lands in the
 * nvs partition it names.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NVS_CONFIG_KEYS, NVS_CONFIG_NAMESPACE, boardConfigEntries, deviceIdFromTemplate, validIdTemplate, type BoardConfig } from '../../firmware-protocol/index.js';
import { isUsbError } from '../../main/gateway/usb/errors.js';
import { provisionBoard } from '../../main/gateway/usb/flash.js';
import { nvsCrc32, parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import { buildPartitionTable, DataSubtype, defaultPartitions, findNvsPartition, parsePartitionTable, PartitionType } from '../../main/gateway/usb/partitions.js';
import { configNvsImage } from '../../main/gateway/usb/provision.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware } from './fixtures.js';

const CONFIG: BoardConfig = {
  wifi_ssid: 'Court-5',
  wifi_pass: 'shuttle-cock',
  gw_host: '192.168.4.2',
  gw_port: 8765,
  gw_path: '/ws/esp32/',
  gw_sha256: 'e43c4ec590bc5b9bb5029888a720776394440512ebfac05c208eac7250b57932',
  device_id: 'racket-07',
  device_token: 'tok_0123456789abcdefABCDEF',
  room_id: 'ABC123',
  sample_hz: 200,
};

const peers: BoardPeer[] = [];
after(async () => {
  for (const p of peers) await p.stop();
});

function valuesOf(image: Buffer): Record<string, unknown> {
  const parsed = parseNvsPartition(image);
  assert.deepEqual(parsed.namespaces.map((n) => n.name), [NVS_CONFIG_NAMESPACE]);
  return Object.fromEntries(parsed.entries.map((e) => [e.key, e.value]));
}

describe('board configuration as an NVS partition', () => {
  test('every key reads back with its NVS type', () => {
    const img = configNvsImage(CONFIG, 0x6000);
    assert.equal(img.length, 0x6000);
    const parsed = parseNvsPartition(img);
    const types = Object.fromEntries(parsed.entries.map((e) => [e.key, e.type]));
    assert.deepEqual(types, { cfg_ver: 'u8', wifi_ssid: 'string', wifi_pass: 'string', gw_host: 'string', gw_port: 'u16', gw_path: 'string', gw_sha256: 'string', device_id: 'string', device_token: 'string', room_id: 'string', sample_hz: 'u16' });
    assert.deepEqual(valuesOf(img), { cfg_ver: 1, ...CONFIG });
    // The key table in firmware-protocol is what was written, in its order.
    assert.deepEqual(parsed.entries.map((e) => e.key), NVS_CONFIG_KEYS.map((k) => k.key));
  });

  test('byte layout: page header, namespace entry, typed entries, string data, entry bitmap', () => {
    const img = configNvsImage({ wifi_ssid: 'Court-5', gw_host: 'gw', device_id: 'r1', gw_port: 8765 }, 0x3000);
    // Page header: state ACTIVE, sequence 0, version 0xFE (v2), CRC32 of bytes 4..27.
    assert.equal(img.readUInt32LE(0), 0xfffffffe);
    assert.equal(img.readUInt32LE(4), 0);
    assert.equal(img[8], 0xfe);
    assert.equal(img.readUInt32LE(28), nvsCrc32(img.subarray(4, 28)));
    const entry = (i: number) => img.subarray(64 + 32 * i, 96 + 32 * i);
    const key = (e: Buffer) => e.subarray(8, 24).toString('utf8').replace(/\0+$/, '');
    const crcOk = (e: Buffer) => e.readUInt32LE(4) === nvsCrc32(Buffer.concat([e.subarray(0, 4), e.subarray(8, 32)]));
    // Entry 0: the namespace (in namespace 0, type U8, value = its index 1).
    const ns = entry(0);
    assert.deepEqual([ns[0], ns[1], ns[2], ns[3]], [0, 0x01, 1, 0xff]);
    assert.equal(key(ns), 'courtside');
    assert.equal(ns[24], 1);
    assert.ok(crcOk(ns));
    // Entry 1: cfg_ver u8 = 1 in namespace 1.
    assert.deepEqual([entry(1)[0], entry(1)[1], key(entry(1)), entry(1)[24]], [1, 0x01, 'cfg_ver', 1]);
    // Entry 2: wifi_ssid, a string (0x21) of 8 bytes with its NUL, spanning 2 entries; the data follows.
    const sz = entry(2);
    assert.deepEqual([sz[0], sz[1], sz[2], key(sz)], [1, 0x21, 2, 'wifi_ssid']);
    assert.equal(sz.readUInt16LE(24), 8);
    assert.equal(sz.readUInt32LE(28), nvsCrc32(Buffer.from('Court-5\0')));
    assert.ok(crcOk(sz));
    assert.equal(entry(3).subarray(0, 8).toString('latin1'), 'Court-5\0');
    // gw_host (2 entries) and gw_port: u16 (0x02) little-endian at byte 24.
    const port = entry(6);
    assert.deepEqual([port[1], key(port), port.readUInt16LE(24)], [0x02, 'gw_port', 8765]);
    // Entry state bitmap (2 bits per entry, 0b10 = written): entries 0..8 written, entry 9 still empty.
    const state = (i: number) => (img[32 + (i >> 2)]! >> ((i & 3) * 2)) & 3;
    for (let i = 0; i < 9; i++) assert.equal(state(i), 0b10, `entry ${i}`);
    assert.equal(state(9), 0b11);
    // The last page stays erased (NVS keeps one free page for garbage collection).
    assert.ok(img.subarray(0x2000).every((b) => b === 0xff));
  });

  test('invalid configurations are refused with the key at fault', () => {
    const bad: [Partial<BoardConfig>, RegExp][] = [
      [{ wifi_ssid: 'x'.repeat(33) }, /wifi_ssid is 33 bytes; at most 32/],
      [{ gw_host: '' }, /gw_host must not be empty/],
      [{ device_id: undefined }, /device_id is required/],
      [{ gw_port: 0 }, /gw_port must be between 1 and 65535/],
      [{ device_token: 'a\0b' }, /device_token must not contain NUL/],
    ];
    for (const [patch, msg] of bad) {
      const r = boardConfigEntries({ ...CONFIG, ...patch } as BoardConfig);
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, msg);
      assert.throws(() => configNvsImage({ ...CONFIG, ...patch } as BoardConfig, 0x6000), (e: unknown) => isUsbError(e) && e.code === 'CONFIG_INVALID');
    }
    assert.throws(() => configNvsImage(CONFIG, 0x1000), (e: unknown) => isUsbError(e) && e.code === 'CONFIG_INVALID');
  });

  test('absent optional keys are not written (the firmware keeps its defaults; no gw_host: mDNS)', () => {
    const r = boardConfigEntries({ wifi_ssid: 'Open-Court', device_id: 'r9', wifi_pass: '' });
    assert.ok(r.ok);
    assert.deepEqual(r.entries.map((e) => [e.key, e.value]), [['cfg_ver', 1], ['wifi_ssid', 'Open-Court'], ['wifi_pass', ''], ['device_id', 'r9']]);
    assert.deepEqual(valuesOf(configNvsImage({ wifi_ssid: 'Open-Court', device_id: 'r9' }, 0x3000)), { cfg_ver: 1, wifi_ssid: 'Open-Court', device_id: 'r9' });
  });

  test('device id templates', () => {
    assert.equal(deviceIdFromTemplate('racket-{n}', 7), 'racket-7');
    assert.equal(deviceIdFromTemplate('racket-{n:3}', 7), 'racket-007');
    assert.equal(validIdTemplate('racket-{n}'), true);
    assert.equal(validIdTemplate('racket'), false);
    assert.equal(validIdTemplate('bad id {n}'), false);
  });

  test('partition tables: built, parsed, MD5-checked, nvs found', () => {
    const parts = defaultPartitions();
    const table = buildPartitionTable(parts);
    assert.equal(table.length, 0xc00);
    assert.deepEqual(parsePartitionTable(table), parts);
    assert.deepEqual(findNvsPartition(parts), parts[0]);
    const broken = Buffer.from(table);
    broken[4] ^= 1;
    assert.throws(() => parsePartitionTable(broken), /MD5 does not match/);
    assert.throws(() => parsePartitionTable(Buffer.alloc(0xc00, 0xff)), /empty/);
  });
});

describe('provision on the board peer', () => {
  test('reads the partition table from 0x8000 and writes the config into the nvs partition', async () => {
    const fw = firmware();
    const b = await startBoardPeer({ flash: fw.merged }); // flashed earlier
    peers.push(b);
    const before = Buffer.from(b.flash);
    const r = await provisionBoard(b.path, CONFIG, { baud: 921600 });
    assert.deepEqual(r.partition, { label: 'nvs', offset: 0x9000, size: 0x6000 });
    assert.ok(b.loader.seen.includes('READ_FLASH'), 'the partition table was not read from the board');
    assert.deepEqual(valuesOf(b.flash.subarray(0x9000, 0xf000)), { cfg_ver: 1, ...CONFIG });
    // Only the nvs partition changed.
    assert.ok(b.flash.subarray(0, 0x9000).equals(before.subarray(0, 0x9000)));
    assert.ok(b.flash.subarray(0xf000).equals(before.subarray(0xf000)));
  });

  test('a table with nvs elsewhere (and a second data partition) is followed; --partition picks by label', async () => {
    const parts = [
      { label: 'otadata', type: PartitionType.data, subtype: DataSubtype.ota, offset: 0x9000, size: 0x2000, flags: 0 },
      { label: 'nvs', type: PartitionType.data, subtype: DataSubtype.nvs, offset: 0xb000, size: 0x4000, flags: 0 },
      { label: 'cfg', type: PartitionType.data, subtype: DataSubtype.nvs, offset: 0x30000, size: 0x3000, flags: 0 },
      { label: 'factory', type: PartitionType.app, subtype: 0, offset: 0x40000, size: 0x100000, flags: 0 },
    ];
    const flash = Buffer.alloc(0x40000, 0xff);
    buildPartitionTable(parts).copy(flash, 0x8000);
    const b = await startBoardPeer({ flash });
    peers.push(b);
    await provisionBoard(b.path, CONFIG, { baud: 921600 });
    assert.equal(valuesOf(b.flash.subarray(0xb000, 0xf000)).device_id, 'racket-07');
    await provisionBoard(b.path, { ...CONFIG, device_id: 'racket-08' }, { baud: 921600, partition: 'cfg' });
    assert.equal(valuesOf(b.flash.subarray(0x30000, 0x33000)).device_id, 'racket-08');
    await assert.rejects(provisionBoard(b.path, CONFIG, { partition: 'nope' }), (e: unknown) => isUsbError(e) && e.code === 'NO_NVS_PARTITION');
  });

  test('a blank board has no partition table: the operator is told to flash first', async () => {
    const b = await startBoardPeer();
    peers.push(b);
    await assert.rejects(provisionBoard(b.path, CONFIG, { baud: 921600 }), (e: unknown) => isUsbError(e) && e.code === 'NO_PARTITION_TABLE' && /flash the firmware first/.test(e.message));
    assert.ok(b.flash.every((x) => x === 0xff));
  });
});
