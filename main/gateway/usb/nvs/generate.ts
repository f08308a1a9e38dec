/**
 * NVS partition images byte-identical to ESP-IDF's nvs_partition_gen.py
 * (`generate`, unencrypted). The page-filling rules below, including their
 * off-by-one quirks, are the tool's: the output has to match it byte for byte
 * so a board flashed from either tool ends up with the same flash contents.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { NvsError, parseNvsCsv, where, type NvsCsvRow, type NvsErrorCode } from './csv.js';

export { NvsError } from './csv.js';

export type NvsIntEncoding = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';
export type NvsEncoding = NvsIntEncoding | 'string' | 'hex2bin' | 'base64' | 'binary';

interface EntryOrigin {
  /** 1-based CSV line, for error messages. */
  line?: number;
  /** CSV file name, for error messages. */
  source?: string;
}

/**
 * `value` is text the way the CSV writes it (decimal integers, hex, base64),
 * or a number/bigint for integers, or raw bytes (the blob itself for
 * hex2bin/base64/binary; UTF-8 text for string).
 */
export type NvsEntry =
  | ({ type: 'namespace'; key: string } & EntryOrigin)
  | ({ type: 'data'; key: string; encoding: NvsEncoding; value: string | number | bigint | Uint8Array } & EntryOrigin);

export interface NvsGenerateOptions {
  /** 2 (default) splits blobs into blob_data/blob_index chunks; 1 is the pre-v4.0 single-page blob format. */
  version?: 1 | 2;
}

export const PAGE_SIZE = 4096;
export const ENTRY_SIZE = 32;
export const ENTRIES_PER_PAGE = 126;
export const FIRST_ENTRY_OFFSET = 64;
export const PAGE_STATE_ACTIVE = 0xfffffffe;
export const PAGE_STATE_FULL = 0xfffffffc;
export const MAX_KEY_BYTES = 15;

export const ItemType = {
  U8: 0x01, I8: 0x11, U16: 0x02, I16: 0x12, U32: 0x04, I32: 0x14, U64: 0x08, I64: 0x18,
  SZ: 0x21, BLOB: 0x41, BLOB_DATA: 0x42, BLOB_IDX: 0x48,
} as const;

export const INT_TYPES: Record<NvsIntEncoding, { code: number; bytes: number; signed: boolean }> = {
  u8: { code: ItemType.U8, bytes: 1, signed: false },
  i8: { code: ItemType.I8, bytes: 1, signed: true },
  u16: { code: ItemType.U16, bytes: 2, signed: false },
  i16: { code: ItemType.I16, bytes: 2, signed: true },
  u32: { code: ItemType.U32, bytes: 4, signed: false },
  i32: { code: ItemType.I32, bytes: 4, signed: true },
  u64: { code: ItemType.U64, bytes: 8, signed: false },
  i64: { code: ItemType.I64, bytes: 8, signed: true },
};
const BLOB_ENCODINGS = new Set<string>(['hex2bin', 'base64', 'binary']);
const ENCODINGS = new Set<string>([...Object.keys(INT_TYPES), 'string', ...BLOB_ENCODINGS]);

// Written by hand instead of zlib.crc32 because package.json allows Node
// 20.11 and zlib.crc32 only arrived in 20.15. This is Python's
// zlib.crc32(data, 0xFFFFFFFF) == ESP-IDF's esp_rom_crc32_le(0xFFFFFFFF, ...):
// the reflected 0xEDB88320 polynomial, but with the register starting at 0
// (the seed is inverted on entry) rather than the usual 0xFFFFFFFF.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function nvsCrc32(data: Uint8Array, seed = 0xffffffff): number {
  let c = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Entry CRC: bytes 0..3 and 8..31, i.e. everything but the CRC field itself. */
export function entryCrc(entry: Uint8Array): number {
  const b = Buffer.alloc(28);
  b.set(entry.subarray(0, 4), 0);
  b.set(entry.subarray(8, 32), 4);
  return nvsCrc32(b);
}

/** Parses the size argument like the tool's int(size, 0) (decimal or 0x hex) and validates it. */
export function parseNvsSize(size: string | number): number {
  let n = Number.NaN;
  if (typeof size === 'number') n = size;
  else if (/^\s*0x[0-9a-f]+\s*$/i.test(size)) n = parseInt(size.trim().slice(2), 16);
  else if (/^\s*\d+\s*$/.test(size)) n = parseInt(size.trim(), 10);
  // Smaller partitions are "read-only NVS" for the tool; a provisioning image
  // the board will write to must have two data pages plus the reserved one.
  if (!Number.isSafeInteger(n) || n % PAGE_SIZE !== 0 || n < 3 * PAGE_SIZE) {
    throw new NvsError('NVS_SIZE_INVALID', `size must be a multiple of 4096 and at least 0x3000 (got ${String(size).trim() || "''"})`);
  }
  return n;
}

function fail(code: NvsErrorCode, e: EntryOrigin, msg: string): never {
  throw new NvsError(code, where(e.line, e.source) + msg, e.line);
}

function keyBytes(e: NvsEntry): Buffer {
  if (typeof e.key !== 'string' || e.key === '') fail('NVS_KEY_INVALID', e, 'key must not be empty');
  const b = Buffer.from(e.key, 'utf8');
  if (b.includes(0)) fail('NVS_KEY_INVALID', e, `key '${e.key}' contains a NUL character`);
  if (b.length > MAX_KEY_BYTES) {
    const unit = [...e.key].length > MAX_KEY_BYTES ? 'characters' : 'bytes of UTF-8';
    fail('NVS_KEY_TOO_LONG', e, `key '${e.key}' is longer than ${MAX_KEY_BYTES} ${unit}`);
  }
  return b;
}

function toBigInt(e: NvsEntry & { type: 'data' }, enc: NvsIntEncoding): bigint {
  const v = e.value;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  // Python's int(): optional sign, surrounding whitespace, `_` between digits.
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return BigInt(v.trim().replace(/_/g, ''));
  const shown = v instanceof Uint8Array ? 'binary data' : `'${String(v)}'`;
  return fail('NVS_VALUE_INVALID', e, `value ${shown} for key '${e.key}' is not a decimal integer (${enc})`);
}

function intField(e: NvsEntry & { type: 'data' }, enc: NvsIntEncoding): Buffer {
  const { bytes, signed } = INT_TYPES[enc];
  const bits = BigInt(bytes * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  let v = toBigInt(e, enc);
  if (v < min || v > max) fail('NVS_VALUE_RANGE', e, `value ${v} for key '${e.key}' is out of range for ${enc} (${min}..${max})`);
  if (v < 0n) v += 1n << bits;
  const out = Buffer.alloc(8, 0xff);
  for (let i = 0; i < bytes; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

function blobBytes(e: NvsEntry & { type: 'data' }): Buffer {
  const v = e.value;
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v !== 'string') fail('NVS_VALUE_INVALID', e, `value for key '${e.key}' must be text or bytes for ${e.encoding}`);
  if (e.encoding === 'binary') return Buffer.from(v, 'utf8');
  if (e.encoding === 'hex2bin') {
    const hex = v.trim();
    if (hex.length % 2 !== 0) fail('NVS_VALUE_INVALID', e, `hex value for key '${e.key}' has an odd number of digits`);
    if (!/^[0-9a-fA-F]*$/.test(hex)) fail('NVS_VALUE_INVALID', e, `hex value for key '${e.key}' contains a character that is not a hex digit`);
    return Buffer.from(hex, 'hex');
  }
  // Stricter than binascii.a2b_base64, which skips stray characters silently.
  const b64 = v.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    fail('NVS_VALUE_INVALID', e, `value for key '${e.key}' is not valid base64`);
  }
  return Buffer.from(b64, 'base64');
}

function stringBytes(e: NvsEntry & { type: 'data' }): Buffer {
  const v = e.value;
  let text: string;
  if (typeof v === 'string') text = v;
  else if (v instanceof Uint8Array) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(v); } catch {
      return fail('NVS_VALUE_INVALID', e, `value for key '${e.key}' is not valid UTF-8 text`);
    }
  } else return fail('NVS_VALUE_INVALID', e, `value for key '${e.key}' must be text for string`);
  // The tool measures len() of the Python str (code points) but writes UTF-8
  // bytes, which corrupts non-ASCII strings; the size here is the byte count.
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]);
}

class Page {
  readonly buf = Buffer.alloc(PAGE_SIZE, 0xff);
  entryNum = 0;

  constructor(seq: number, version: number) {
    this.buf.writeUInt32LE(PAGE_STATE_ACTIVE, 0);
    this.buf.writeUInt32LE(seq, 4);
    this.buf[8] = version;
    this.buf.writeUInt32LE(nvsCrc32(this.buf.subarray(4, 28)), 28);
  }

  /** Copies `data` at the next free entry and marks `count` entries written. */
  put(data: Uint8Array, count: number): void {
    this.buf.set(data, FIRST_ENTRY_OFFSET + ENTRY_SIZE * this.entryNum);
    for (let i = 0; i < count; i++) {
      const bit = this.entryNum * 2;
      // 0b11 -> 0b10 is "written" in the two-bit entry state.
      this.buf[32 + (bit >> 3)]! &= ~(1 << (bit & 7));
      this.entryNum++;
    }
  }
}

function header(ns: number, type: number, span: number, chunk: number, key: Buffer): Buffer {
  const h = Buffer.alloc(ENTRY_SIZE, 0xff);
  h[0] = ns; h[1] = type; h[2] = span; h[3] = chunk;
  h.fill(0, 8, 24);
  key.copy(h, 8);
  return h;
}

function seal(h: Buffer): Buffer {
  h.writeUInt32LE(entryCrc(h), 4);
  return h;
}

class Writer {
  private readonly pages: Page[] = [];
  private cur: Page;
  // Bytes left for data pages; the tool reserves the last page up front.
  private budget: number;
  private entry: NvsEntry | undefined;

  constructor(private readonly size: number, private readonly version: number) {
    this.budget = size - PAGE_SIZE;
    this.cur = this.newPage();
  }

  at(e: NvsEntry): this { this.entry = e; return this; }

  private newPage(): Page {
    const prev = this.pages[this.pages.length - 1];
    if (prev && prev.buf.readUInt32LE(0) === PAGE_STATE_ACTIVE) prev.buf.writeUInt32LE(PAGE_STATE_FULL, 0);
    if (this.budget === 0) {
      const e: EntryOrigin & { key: string } = this.entry ?? { key: '' };
      fail('NVS_PARTITION_FULL', e, `partition of ${this.size} bytes (0x${this.size.toString(16)}) is full at key '${e.key}'; give a larger size`);
    }
    this.budget -= PAGE_SIZE;
    const page = new Page(this.pages.length, this.version);
    this.pages.push(page);
    this.cur = page;
    return page;
  }

  primitive(ns: number, key: Buffer, type: number, field: Buffer): void {
    if (this.cur.entryNum >= ENTRIES_PER_PAGE) this.newPage();
    const h = header(ns, type, 1, 0xff, key);
    field.copy(h, 24);
    this.cur.put(seal(h), 1);
  }

  /** A string (and a v1 blob): all in one page, header then data entries. */
  single(ns: number, key: Buffer, type: number, data: Buffer): void {
    const dataEntries = Math.ceil(data.length / ENTRY_SIZE);
    // `>=` rather than `>`: the tool never lets a string end on the last entry.
    if (this.cur.entryNum + dataEntries + 1 >= ENTRIES_PER_PAGE) this.newPage();
    const h = header(ns, type, dataEntries + 1, 0xff, key);
    h.writeUInt16LE(data.length, 24);
    h.writeUInt32LE(nvsCrc32(data), 28);
    this.cur.put(seal(h), 1);
    this.cur.put(data, dataEntries);
  }

  /** A v2 blob: blob_data chunks filling each page's tail, then a blob_index. */
  blob(ns: number, key: Buffer, data: Buffer): void {
    if (this.cur.entryNum >= ENTRIES_PER_PAGE) this.newPage();
    let offset = 0;
    let chunks = 0;
    for (;;) {
      // Chunk indexes 128..254 belong to the other half of the device's chunk-start scheme.
      if (chunks >= 128) fail('NVS_VALUE_TOO_LONG', this.entry ?? {}, `blob for key '${key.toString()}' needs more than 128 chunks`);
      const tailroom = (ENTRIES_PER_PAGE - this.cur.entryNum - 1) * ENTRY_SIZE;
      // The tool writes a zero-length chunk when only one entry is left; so do we.
      const size = Math.min(tailroom, data.length - offset);
      const chunk = data.subarray(offset, offset + size);
      const dataEntries = Math.ceil(size / ENTRY_SIZE);
      const h = header(ns, ItemType.BLOB_DATA, dataEntries + 1, chunks, key);
      h.writeUInt16LE(size, 24);
      h.writeUInt32LE(nvsCrc32(chunk), 28);
      this.cur.put(seal(h), 1);
      this.cur.put(chunk, dataEntries);
      chunks++;
      offset += size;
      if (offset < data.length || tailroom - size < ENTRY_SIZE) this.newPage();
      if (offset === data.length) break;
    }
    const idx = header(ns, ItemType.BLOB_IDX, 1, 0xff, key);
    idx.writeUInt32LE(data.length, 24);
    idx[28] = chunks;
    idx[29] = 0;
    this.cur.put(seal(idx), 1);
  }

  finish(): Buffer {
    // Untouched pages (including the reserved last one) stay erased: 0xFF.
    const out = Buffer.alloc(this.size, 0xff);
    this.pages.forEach((p, i) => p.buf.copy(out, i * PAGE_SIZE));
    return out;
  }
}

/** Builds the partition image for `entries` in order, as nvs_partition_gen.py would. */
export function generateNvsPartition(entries: readonly NvsEntry[], size: number, options: NvsGenerateOptions = {}): Buffer {
  const total = parseNvsSize(size);
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) throw new NvsError('NVS_VALUE_INVALID', `version must be 1 or 2 (got ${String(version)})`);
  const w = new Writer(total, version === 2 ? 0xfe : 0xff);
  const namespaces = new Map<string, number>();
  let ns = 0;

  for (const e of entries) {
    w.at(e);
    const key = keyBytes(e);
    if (e.type === 'namespace') {
      const known = namespaces.get(e.key);
      if (known !== undefined) { ns = known; continue; }
      // Index 0 holds the namespace table and 255 means "any" on the device.
      if (namespaces.size >= 254) fail('NVS_TOO_MANY_NAMESPACES', e, `namespace '${e.key}' would be the 255th; NVS allows 254`);
      ns = namespaces.size + 1;
      namespaces.set(e.key, ns);
      const field = Buffer.alloc(8, 0xff);
      field[0] = ns;
      w.primitive(0, key, ItemType.U8, field);
      continue;
    }
    if (e.type !== 'data') fail('NVS_BAD_CSV', e, `type '${String((e as { type: unknown }).type)}' must be namespace or data`);
    if (!ENCODINGS.has(e.encoding)) {
      fail('NVS_ENCODING_UNSUPPORTED', e, `encoding '${String(e.encoding)}' of key '${e.key}' is not one of ${[...ENCODINGS].join(', ')}`);
    }
    if (ns === 0) fail('NVS_NO_NAMESPACE', e, `key '${e.key}' comes before any namespace row`);

    if (e.encoding in INT_TYPES) {
      const enc = e.encoding as NvsIntEncoding;
      w.primitive(ns, key, INT_TYPES[enc].code, intField(e, enc));
    } else if (e.encoding === 'string') {
      const data = stringBytes(e);
      // v2 strings stay in one page: 124 data entries at most, given the `>=` rule.
      const max = version === 2 ? (ENTRIES_PER_PAGE - 2) * ENTRY_SIZE : 1984;
      if (data.length > max) {
        fail('NVS_VALUE_TOO_LONG', e, `string for key '${e.key}' is ${data.length - 1} bytes; at most ${max - 1} fit`);
      }
      w.single(ns, key, ItemType.SZ, data);
    } else {
      const data = blobBytes(e);
      if (version === 2) w.blob(ns, key, data);
      else if (data.length > 1984) fail('NVS_VALUE_TOO_LONG', e, `blob for key '${e.key}' is ${data.length} bytes; version 1 allows 1984`);
      else w.single(ns, key, ItemType.BLOB, data);
    }
  }
  return w.finish();
}

export interface NvsCsvOptions extends NvsGenerateOptions {
  /** Where `file` rows' relative paths start; the tool uses the working directory, not the CSV's. */
  baseDir?: string;
  /** CSV name for error messages. */
  source?: string;
}

/** Turns CSV rows into entries, reading `file` rows' files. */
export function csvRowsToEntries(rows: readonly NvsCsvRow[], options: NvsCsvOptions = {}): NvsEntry[] {
  const baseDir = options.baseDir ?? process.cwd();
  const { source } = options;
  return rows.map((r): NvsEntry => {
    const origin = { line: r.line, source };
    const bad = (msg: string): never => fail('NVS_BAD_CSV', origin, msg);
    if (r.key === undefined) bad('row has no key');
    const key = r.key!;
    const type = (r.type ?? '').trim();
    if (type === 'namespace') return { type, key, ...origin };
    if (type !== 'data' && type !== 'file') bad(`type '${r.type ?? ''}' must be namespace, data or file`);
    const encoding = (r.encoding ?? '').trim().toLowerCase();
    if (!ENCODINGS.has(encoding)) bad(`encoding '${r.encoding ?? ''}' of key '${key}' is not one of ${[...ENCODINGS].join(', ')}`);
    if (r.value === undefined) bad(`row for key '${key}' has no value column`);
    let value: string | Uint8Array = r.value!;
    if (type === 'file') {
      const path = isAbsolute(r.value!) ? r.value! : join(baseDir, r.value!);
      let content: Buffer;
      try { content = readFileSync(path); } catch (err) {
        const why = (err as NodeJS.ErrnoException).code ?? String(err);
        return fail('NVS_FILE_UNREADABLE', origin, `cannot read file '${r.value}' for key '${key}' (${why})`);
      }
      // A file holding hex or base64 is text to decode; binary/string files are the bytes themselves.
      value = encoding === 'hex2bin' || encoding === 'base64' ? content.toString('latin1') : content;
    }
    return { type: 'data', key, encoding: encoding as NvsEncoding, value, ...origin };
  });
}

/** The tool's `generate` for one CSV text. */
export function generateNvsFromCsv(csvText: string, size: number | string, options: NvsCsvOptions = {}): Buffer {
  const total = parseNvsSize(size);
  const entries = csvRowsToEntries(parseNvsCsv(csvText, options.source), options);
  return generateNvsPartition(entries, total, options);
}
