/**
 * What to flash, from what operators have: a merged .bin (esptool merge_bin,
 * written at 0x0), an ESP-IDF build folder (its flasher_args.json), an
 * address file (`0x1000 bootloader.bin` per line, like ESP-IDF's
 * flash_project_args), or address/file pairs on the command line. And the
 * checks that turn a bad combination into an error the operator can act on
 * before anything is written: wrong chip, image beyond the flash, overlaps.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { errorText, usbError, usbErrorWithCause } from './errors.js';

export interface FlashImage {
  address: number;
  data: Buffer;
  /** File name or firmware id, for messages. */
  name: string;
}

export interface ImageSet {
  images: FlashImage[];
  /** The chip the build was made for (flasher_args.json `chip`), e.g. `esp32s3`. */
  chip: string | null;
}

/** esp_chip_id_t in the image header's extended part (byte 12). */
export const IMAGE_CHIP_IDS: Record<number, string> = {
  0x0000: 'ESP32',
  0x0002: 'ESP32-S2',
  0x0005: 'ESP32-C3',
  0x0009: 'ESP32-S3',
  0x000c: 'ESP32-C2',
  0x000d: 'ESP32-C6',
  0x0010: 'ESP32-H2',
  0x0012: 'ESP32-P4',
  0x0014: 'ESP32-C61',
  0x0017: 'ESP32-C5',
  0x0019: 'ESP32-H21',
  0x001c: 'ESP32-H4',
};

const ADDRESS = /^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/;

export function parseAddress(s: string): number | null {
  if (!ADDRESS.test(s.trim())) return null;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff ? n : null;
}

function readImage(path: string, address: number, name = basename(path)): FlashImage {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw usbErrorWithCause(err, 'BAD_INPUT', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? errorText(err)}`);
  }
  if (data.length === 0) throw usbError('BAD_INPUT', `${path} is empty`);
  return { address, data, name };
}

/** An ESP-IDF build folder: the files and chip named in flasher_args.json. */
export function loadBuildDir(dir: string): ImageSet {
  const file = join(dir, 'flasher_args.json');
  let args: { flash_files?: Record<string, string>; extra_esptool_args?: { chip?: string } };
  try {
    args = JSON.parse(readFileSync(file, 'utf8')) as typeof args;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : errorText(err);
    throw usbErrorWithCause(err, 'BAD_INPUT', `${file}: ${why}; give an ESP-IDF build folder (run 'idf.py build' first)`);
  }
  const files = Object.entries(args.flash_files ?? {});
  if (files.length === 0) throw usbError('BAD_INPUT', `${file} lists no flash_files`);
  const images = files.map(([addr, rel]) => {
    const a = parseAddress(addr);
    if (a === null) throw usbError('BAD_INPUT', `${file}: '${addr}' is not a flash address`);
    return readImage(isAbsolute(rel) ? rel : join(dir, rel), a, rel);
  });
  return { images: images.sort((x, y) => x.address - y.address), chip: args.extra_esptool_args?.chip ?? null };
}

/** A text file of `<address> <file>` lines; `--option` and `#` lines are skipped. Paths are relative to the file. */
export function loadAddressFile(path: string): ImageSet {
  const text = readFileSync(path, 'utf8');
  const images: FlashImage[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('--')) return;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    const a = m ? parseAddress(m[1]!) : null;
    if (!m || a === null) throw usbError('BAD_INPUT', `${path}:${i + 1}: expected '<address> <file>', got '${line}'`);
    const f = m[2]!.trim();
    images.push(readImage(isAbsolute(f) ? f : join(dirname(path), f), a, f));
  });
  if (images.length === 0) throw usbError('BAD_INPUT', `${path} names no images`);
  return { images, chip: null };
}

function looksLikeText(buf: Buffer): boolean {
  const head = buf.subarray(0, 512);
  for (const b of head) if (b === 0 || (b < 0x09) || (b > 0x0d && b < 0x20)) return false;
  return head.length > 0;
}

/**
 * Turns command-line inputs into images: `0x1000 a.bin 0x8000 b.bin`, a build
 * folder, an address file, or one merged image (at 0x0).
 */
export function resolveFlashInputs(args: readonly string[], cwd = process.cwd()): ImageSet {
  if (args.length === 0) throw usbError('BAD_INPUT', 'nothing to flash: give a .bin, an ESP-IDF build folder or address/file pairs');
  const images: FlashImage[] = [];
  let chip: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const addr = parseAddress(arg);
    if (addr !== null) {
      const f = args[i + 1];
      if (f === undefined) throw usbError('BAD_INPUT', `address ${arg} has no file after it`);
      images.push(readImage(resolve(cwd, f), addr, f));
      i++;
      continue;
    }
    const path = resolve(cwd, arg);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw usbErrorWithCause(err, 'BAD_INPUT', `${arg}: no such file or folder`);
    }
    if (isDir) {
      const set = loadBuildDir(path);
      images.push(...set.images);
      chip = set.chip ?? chip;
    } else if (!/\.(bin|img)$/i.test(arg) && looksLikeText(readFileSync(path))) {
      images.push(...loadAddressFile(path).images);
    } else {
      images.push(readImage(path, 0, arg));
    }
  }
  return { images, chip };
}

/** Pads like esptool-js does before writing (to 4 bytes, with 0xFF), so MD5s compare. */
export function padImage(data: Uint8Array): Buffer {
  const rem = data.length % 4;
  if (rem === 0) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([Buffer.from(data), Buffer.alloc(4 - rem, 0xff)]);
}

/** The chip id in an ESP-IDF image header at `off`, or null when there is no plausible header there. */
export function imageChipId(data: Uint8Array, off: number): number | null {
  if (off < 0 || off + 24 > data.length || data[off] !== 0xe9) return null;
  const segments = data[off + 1]!;
  if (segments < 1 || segments > 16 || data[off + 2]! > 5) return null;
  const id = data[off + 12]! | (data[off + 13]! << 8);
  return id in IMAGE_CHIP_IDS ? id : null;
}

export interface BoardFacts {
  /** esptool-js CHIP_NAME, e.g. `ESP32-S3`. */
  chipName: string;
  /** IMAGE_CHIP_ID of the board's chip (undefined for the ESP8266, whose images have no chip id). */
  chipId: number | undefined;
  bootloaderOffset: number;
  /** Flash size in bytes, or null if it could not be detected. */
  flashSize: number | null;
}

const normChip = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Throws WRONG_CHIP, IMAGES_OVERLAP or IMAGE_TOO_LARGE before anything is written. */
export function checkImages(set: ImageSet, board: BoardFacts): void {
  if (set.chip && normChip(set.chip) !== normChip(board.chipName)) {
    throw usbError('WRONG_CHIP', set.chip.toUpperCase().replace(/^ESP32(?=[A-Z])/, 'ESP32-'), board.chipName);
  }
  for (const img of set.images) {
    if (board.chipId === undefined) break;
    const offsets = [0, board.bootloaderOffset - img.address, 0x10000 - img.address];
    for (const off of new Set(offsets)) {
      const id = imageChipId(img.data, off);
      if (id !== null && id !== board.chipId) throw usbError('WRONG_CHIP', IMAGE_CHIP_IDS[id]!, board.chipName);
    }
  }
  const sorted = [...set.images].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (prev.address + prev.data.length > sorted[i]!.address) throw usbError('IMAGES_OVERLAP', prev.name, sorted[i]!.name);
  }
  if (board.flashSize !== null) {
    for (const img of sorted) {
      const end = img.address + padImage(img.data).length;
      if (end > board.flashSize) throw usbError('IMAGE_TOO_LARGE', img.name, end, board.flashSize);
    }
  }
}

/**
 * Adds `extra` to an image set: spliced into the image that covers its range
 * (a merged image spans the NVS partition, usually as 0xFF), else appended.
 * A partial overlap is an error: one of them would be written half.
 */
export function overlay(images: readonly FlashImage[], extra: FlashImage): FlashImage[] {
  const end = extra.address + extra.data.length;
  const out: FlashImage[] = [];
  let placed = false;
  for (const img of images) {
    const imgEnd = img.address + img.data.length;
    if (imgEnd <= extra.address || img.address >= end) {
      out.push(img);
      continue;
    }
    if (img.address > extra.address || imgEnd < end) throw usbError('IMAGES_OVERLAP', img.name, extra.name);
    const data = Buffer.from(img.data);
    extra.data.copy(data, extra.address - img.address);
    out.push({ ...img, data, name: `${img.name} + ${extra.name}` });
    placed = true;
  }
  if (!placed) out.push(extra);
  return out;
}
