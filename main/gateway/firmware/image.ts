/**
 * Reads an ESP-IDF application image the way the second-stage bootloader and
 * `esptool image_info` do: the 24-byte header (magic 0xE9, segment count,
 * entry point, the extended header with the chip id), the segments, the
 * one-byte XOR checksum at the next 16-byte boundary, the SHA-256 of all of
 * that when the header says one is appended, and the `esp_app_desc_t` that
 * the linker puts first in the first (flash-mapped data) segment. What is not
 * an application a board can boot from its OTA partition is refused with the
 * reason.
 */
import { createHash } from 'node:crypto';
import { IMAGE_CHIP_IDS } from '../usb/images.js';
import { firmwareError } from './errors.js';

export const IMAGE_MAGIC = 0xe9;
export const APP_DESC_MAGIC = 0xabcd5432;
/** esp_bootloader_desc_t starts with this byte (ESP-IDF 5.2 and later). */
const BOOTLOADER_DESC_MAGIC = 0x50;
const CHECKSUM_SEED = 0xef;
const HEADER_LEN = 24;
const SEGMENT_HEADER_LEN = 8;
const APP_DESC_LEN = 256;

export interface ImageSegment {
  load_addr: number;
  /** Offset of the segment's data in the file. */
  file_offset: number;
  length: number;
}

export interface AppImageInfo {
  chip: string;
  chip_id: number;
  entry: number;
  segments: ImageSegment[];
  checksum: number;
  /** SHA-256 the image carries (hex); null when the header says none is appended. */
  appended_sha256: string | null;
  /** SHA-256 of the whole file: what a board's download must hash to. */
  sha256: string;
  size: number;
  min_chip_rev: number;
  version: string;
  project: string;
  build_time: string;
  build_date: string;
  idf_version: string;
  secure_version: number;
  app_elf_sha256: string;
}

function cString(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const end = s.indexOf(0);
  return s.subarray(0, end === -1 ? len : end).toString('utf8');
}

function looksLikeText(b: Buffer): boolean {
  const head = b.subarray(0, 256);
  return head.every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c < 0x7f) || c >= 0x80);
}

/** A merged flash image has the partition table (magic 0xAA50) at 0x8000 and the app beyond. */
function isMerged(b: Buffer): boolean {
  return b.length > 0x9000 && b[0x8000] === 0xaa && b[0x8001] === 0x50;
}

export function parseAppImage(data: Buffer): AppImageInfo {
  if (data.length === 0) throw firmwareError('FIRMWARE_EMPTY');
  if (isMerged(data)) throw firmwareError('FIRMWARE_MERGED');
  if (data[0] !== IMAGE_MAGIC) {
    throw firmwareError('FIRMWARE_NOT_IMAGE', looksLikeText(data) ? 'it is a text file' : `the first byte is 0x${data[0]!.toString(16).padStart(2, '0')}, not the image magic 0xe9`);
  }
  if (data.length < HEADER_LEN) throw firmwareError('FIRMWARE_TRUNCATED', `${data.length} bytes, shorter than the 24-byte header`);
  const count = data[1]!;
  if (count < 1 || count > 16) throw firmwareError('FIRMWARE_NOT_IMAGE', `the header names ${count} segments (1 to 16 are possible)`);
  const entry = data.readUInt32LE(4);
  const chipId = data.readUInt16LE(12);
  const chip = IMAGE_CHIP_IDS[chipId];
  if (chip === undefined) throw firmwareError('FIRMWARE_UNKNOWN_CHIP', chipId);
  const minChipRev = data.readUInt16LE(15);
  const hashAppended = data[23] === 1;

  const segments: ImageSegment[] = [];
  let off = HEADER_LEN;
  let sum = CHECKSUM_SEED;
  for (let i = 0; i < count; i++) {
    if (off + SEGMENT_HEADER_LEN > data.length) throw firmwareError('FIRMWARE_TRUNCATED', `segment ${i} header at 0x${off.toString(16)}`);
    const loadAddr = data.readUInt32LE(off);
    const length = data.readUInt32LE(off + 4);
    const start = off + SEGMENT_HEADER_LEN;
    if (length > data.length - start) throw firmwareError('FIRMWARE_TRUNCATED', `segment ${i} claims ${length} bytes at 0x${start.toString(16)}`);
    for (let j = start; j < start + length; j++) sum ^= data[j]!;
    segments.push({ load_addr: loadAddr, file_offset: start, length });
    off = start + length;
  }
  // The checksum byte sits where the file position becomes 15 mod 16.
  const checksumAt = off + (15 - (off % 16));
  if (checksumAt >= data.length) throw firmwareError('FIRMWARE_TRUNCATED', 'no checksum after the last segment');
  const checksum = data[checksumAt]!;
  if (checksum !== sum) throw firmwareError('FIRMWARE_BAD_CHECKSUM', checksum, sum);
  const hashedLen = checksumAt + 1;
  let appended: string | null = null;
  if (hashAppended) {
    if (hashedLen + 32 > data.length) throw firmwareError('FIRMWARE_TRUNCATED', 'the appended SHA-256 is missing');
    appended = data.subarray(hashedLen, hashedLen + 32).toString('hex');
    const computed = createHash('sha256').update(data.subarray(0, hashedLen)).digest('hex');
    if (computed !== appended) throw firmwareError('FIRMWARE_BAD_HASH');
  }

  const first = segments[0]!;
  const desc = data.subarray(first.file_offset, first.file_offset + Math.min(first.length, APP_DESC_LEN));
  if (desc.length < APP_DESC_LEN || desc.readUInt32LE(0) !== APP_DESC_MAGIC) {
    if (desc.length > 0 && desc[0] === BOOTLOADER_DESC_MAGIC) throw firmwareError('FIRMWARE_BOOTLOADER');
    // Older bootloaders carry no description: small, and loaded entirely into RAM.
    if (data.length < 0x10000 && segments.every((s) => !isFlashMapped(s.load_addr))) throw firmwareError('FIRMWARE_BOOTLOADER');
    throw firmwareError('FIRMWARE_NO_APP_DESC');
  }
  return {
    chip,
    chip_id: chipId,
    entry,
    segments,
    checksum,
    appended_sha256: appended,
    sha256: createHash('sha256').update(data).digest('hex'),
    size: data.length,
    min_chip_rev: minChipRev,
    secure_version: desc.readUInt32LE(4),
    version: cString(desc, 16, 32),
    project: cString(desc, 48, 32),
    build_time: cString(desc, 80, 16),
    build_date: cString(desc, 96, 16),
    idf_version: cString(desc, 112, 32),
    app_elf_sha256: desc.subarray(144, 176).toString('hex'),
  };
}

/** Flash-mapped (instruction or data cache) address ranges across the ESP32 family. */
function isFlashMapped(addr: number): boolean {
  return (addr >= 0x3f400000 && addr < 0x3f800000) || (addr >= 0x400d0000 && addr < 0x40400000) || (addr >= 0x3c000000 && addr < 0x3e000000) || (addr >= 0x42000000 && addr < 0x44000000);
}
