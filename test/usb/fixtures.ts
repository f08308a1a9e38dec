/**
 * Firmware fixtures: ESP-IDF-shaped images (a real image header with its
 * chip id, random contents), a partition table, a merged image, an ESP-IDF
 * build folder with flasher_args.json, and an address file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPartitionTable, defaultPartitions, type Partition } from '../../main/gateway/usb/partitions.js';

export const CHIP_ESP32 = 0x0000;
export const CHIP_ESP32S3 = 0x0009;

/** An image with an ESP-IDF header (magic 0xE9, one segment, DIO, 4 MB) naming `chipId`, then random bytes. */
export function espImage(size: number, chipId = CHIP_ESP32, seed?: Buffer): Buffer {
  const img = seed ? Buffer.from(seed.subarray(0, size)) : randomBytes(size);
  img[0] = 0xe9;
  img[1] = 1; // segments
  img[2] = 2; // DIO
  img[3] = 0x20; // 4 MB, 40 MHz
  img.writeUInt32LE(0x40080000, 4);
  img[8] = 0xee; // WP pin: not used
  img.fill(0, 9, 12);
  img.writeUInt16LE(chipId, 12);
  img.fill(0, 14, 24);
  return img;
}

export interface Firmware {
  bootloader: Buffer;
  table: Buffer;
  app: Buffer;
  partitions: Partition[];
  /** The three at 0x1000, 0x8000 and 0x10000 in one image starting at 0x0 (gaps 0xFF). */
  merged: Buffer;
}

export function firmware(opts: { appSize?: number; chipId?: number; partitions?: Partition[] } = {}): Firmware {
  const chipId = opts.chipId ?? CHIP_ESP32;
  const bootloader = espImage(0x5000, chipId);
  const partitions = opts.partitions ?? defaultPartitions();
  const table = buildPartitionTable(partitions);
  const app = espImage(opts.appSize ?? 0x30000, chipId);
  const merged = Buffer.alloc(0x10000 + app.length, 0xff);
  bootloader.copy(merged, 0x1000);
  table.copy(merged, 0x8000);
  app.copy(merged, 0x10000);
  return { bootloader, table, app, partitions, merged };
}

export function tempDir(prefix = 'courtside-usb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An ESP-IDF build folder: flasher_args.json naming bootloader, table and app. */
export function buildDir(fw: Firmware, chip = 'esp32'): string {
  const dir = tempDir('courtside-idf-');
  mkdirSync(join(dir, 'bootloader'));
  mkdirSync(join(dir, 'partition_table'));
  writeFileSync(join(dir, 'bootloader', 'bootloader.bin'), fw.bootloader);
  writeFileSync(join(dir, 'partition_table', 'partition-table.bin'), fw.table);
  writeFileSync(join(dir, 'racket.bin'), fw.app);
  writeFileSync(
    join(dir, 'flasher_args.json'),
    JSON.stringify({
      write_flash_args: ['--flash_mode', 'dio', '--flash_size', '4MB', '--flash_freq', '40m'],
      flash_settings: { flash_mode: 'dio', flash_size: '4MB', flash_freq: '40m' },
      flash_files: { '0x1000': 'bootloader/bootloader.bin', '0x10000': 'racket.bin', '0x8000': 'partition_table/partition-table.bin' },
      extra_esptool_args: { after: 'hard_reset', before: 'default_reset', stub: true, chip },
    }, null, 4),
  );
  return dir;
}

/** A flash_project_args-style file (options line, then address/file lines) in the build folder. */
export function addressFile(dir: string): string {
  const f = join(dir, 'flash_project_args');
  writeFileSync(f, '--flash_mode dio --flash_freq 40m --flash_size 4MB\n0x1000 bootloader/bootloader.bin\n0x10000 racket.bin\n0x8000 partition_table/partition-table.bin\n');
  return f;
}

export function writeTemp(name: string, data: Buffer): string {
  const p = join(tempDir(), name);
  writeFileSync(p, data);
  return p;
}

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Waits for a condition, polling (for things that happen on the peer side). */
export async function until<T>(fn: () => T | Promise<T>, ms = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
