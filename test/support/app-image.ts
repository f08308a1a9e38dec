/**
 * ESP-IDF application images built byte by byte to the documented layout
 * (esp_image_header_t, esp_image_segment_header_t, the XOR checksum at the
 * 16-byte boundary, the appended SHA-256, esp_app_desc_t first in the DROM
 * segment), for tests that need a real-layout .bin without an ESP-IDF build.
 */
import { createHash } from 'node:crypto';

export interface AppImageOptions {
  version?: string;
  project?: string;
  chipId?: number;
  /** Bytes of code in the IROM segment (default 4096). */
  codeSize?: number;
  time?: string;
  date?: string;
  idf?: string;
  /** Leave out the app description (a bootloader-like image). */
  noAppDesc?: boolean;
  /** First segment starts with esp_bootloader_desc_t's magic byte, as a bootloader does. */
  bootloader?: boolean;
  seed?: number;
}

function fixed(s: string, len: number): Buffer {
  const b = Buffer.alloc(len);
  b.write(s.slice(0, len - 1), 'utf8');
  return b;
}

function pseudo(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export function appDesc(o: AppImageOptions): Buffer {
  const d = Buffer.alloc(256);
  d.writeUInt32LE(0xabcd5432, 0);
  d.writeUInt32LE(0, 4); // secure_version
  fixed(o.version ?? '1.0.0', 32).copy(d, 16);
  fixed(o.project ?? 'courtside-racket', 32).copy(d, 48);
  fixed(o.time ?? '10:20:30', 16).copy(d, 80);
  fixed(o.date ?? 'Nov 30 2026', 16).copy(d, 96);
  fixed(o.idf ?? 'v5.3.1', 32).copy(d, 112);
  pseudo(32, 7).copy(d, 144); // app_elf_sha256
  return d;
}

/** A complete application image: header, DROM (app desc), DRAM, IRAM and IROM segments, checksum, SHA-256. */
export function buildAppImage(o: AppImageOptions = {}): Buffer {
  const seed = o.seed ?? 1;
  const drom = o.bootloader
    ? Buffer.concat([Buffer.from([0x50, 0, 0, 0]), pseudo(60, seed)])
    : Buffer.concat([o.noAppDesc ? pseudo(256, seed) : appDesc(o), pseudo(1024, seed + 1)]);
  const segments: [number, Buffer][] = o.bootloader
    ? [[0x3fff0000, drom], [0x40078000, pseudo(2048, seed + 2)]]
    : [[0x3f400020, drom], [0x3ffb0000, pseudo(512, seed + 2)], [0x40080000, pseudo(1024, seed + 3)], [0x400d0020, pseudo(o.codeSize ?? 4096, seed + 4)]];
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 2; // DIO
  header[3] = 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x40081000, 4);
  header[8] = 0xee;
  header.writeUInt16LE(o.chipId ?? 0, 12);
  header[14] = 0; // min_chip_rev
  header.writeUInt16LE(0, 15);
  header.writeUInt16LE(0xffff, 17);
  header[23] = 1; // hash_appended
  const parts: Buffer[] = [header];
  let sum = 0xef;
  for (const [addr, data] of segments) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(addr, 0);
    h.writeUInt32LE(data.length, 4);
    parts.push(h, data);
    for (const b of data) sum ^= b;
  }
  let len = parts.reduce((n, p) => n + p.length, 0);
  const pad = 15 - (len % 16);
  parts.push(Buffer.alloc(pad), Buffer.from([sum]));
  len += pad + 1;
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}
