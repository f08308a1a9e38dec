/**
 * Reads an NVS partition image back into namespaces and typed values: ours for
 * round-trip tests, and a board's config partition read over USB. It is strict:
 * a bad page header or entry CRC throws instead of being skipped the way the
 * device would, since a silently shortened config is worse than an error.
 */
import { NvsError } from './csv.js';
import {
  ENTRIES_PER_PAGE, ENTRY_SIZE, FIRST_ENTRY_OFFSET, INT_TYPES, ItemType, PAGE_SIZE,
  PAGE_STATE_ACTIVE, PAGE_STATE_FULL, entryCrc, nvsCrc32, type NvsIntEncoding,
} from './generate.js';

export type NvsValueType = NvsIntEncoding | 'string' | 'blob';

export interface NvsParsedEntry {
  namespace: string;
  key: string;
  type: NvsValueType;
  /** number for 8..32-bit integers, bigint for 64-bit, string without its NUL, Buffer for blobs. */
  value: number | bigint | string | Buffer;
}

export interface NvsNamespace {
  name: string;
  index: number;
}

export interface NvsParsedPartition {
  namespaces: NvsNamespace[];
  entries: NvsParsedEntry[];
}

const PAGE_STATE_UNINITIALIZED = 0xffffffff;
// Set while the device moves a page's items elsewhere; the items are still valid.
const PAGE_STATE_FREEING = 0xfffffff8;
const ENTRY_WRITTEN = 0b10;

const INT_BY_CODE = new Map<number, NvsIntEncoding>(
  (Object.entries(INT_TYPES) as [NvsIntEncoding, (typeof INT_TYPES)[NvsIntEncoding]][]).map(([name, t]) => [t.code, name]),
);

type Item =
  | { kind: 'value'; ns: number; key: string; type: NvsValueType; value: number | bigint | string | Buffer }
  | { kind: 'index'; ns: number; key: string; size: number; chunkCount: number; chunkStart: number; where: string };

function invalid(msg: string): never {
  throw new NvsError('NVS_PARSE_INVALID', msg);
}

function readKey(entry: Buffer, where: string): string {
  const raw = entry.subarray(8, 24);
  const end = raw.indexOf(0);
  if (end < 0) invalid(`${where}: key is not NUL-terminated`);
  return raw.subarray(0, end).toString('utf8');
}

function readInt(entry: Buffer, enc: NvsIntEncoding): number | bigint {
  switch (enc) {
    case 'u8': return entry.readUInt8(24);
    case 'i8': return entry.readInt8(24);
    case 'u16': return entry.readUInt16LE(24);
    case 'i16': return entry.readInt16LE(24);
    case 'u32': return entry.readUInt32LE(24);
    case 'i32': return entry.readInt32LE(24);
    case 'u64': return entry.readBigUInt64LE(24);
    case 'i64': return entry.readBigInt64LE(24);
  }
}

function readPage(page: Buffer, pageNo: number, items: Item[], blobChunks: Map<string, Buffer>, namespaces: Map<number, string>): void {
  for (let i = 0; i < ENTRIES_PER_PAGE;) {
    const bit = i * 2;
    const state = (page[32 + (bit >> 3)]! >> (bit & 7)) & 0b11;
    if (state !== ENTRY_WRITTEN) { i++; continue; }
    const where = `page ${pageNo} entry ${i}`;
    const off = FIRST_ENTRY_OFFSET + i * ENTRY_SIZE;
    const entry = page.subarray(off, off + ENTRY_SIZE);
    if (entry.readUInt32LE(4) !== entryCrc(entry)) {
      throw new NvsError('NVS_PARSE_CRC', `${where}: entry CRC mismatch`);
    }
    const [ns, type, span, chunk] = [entry[0]!, entry[1]!, entry[2]!, entry[3]!];
    if (span < 1 || i + span > ENTRIES_PER_PAGE) invalid(`${where}: span ${span} runs past the end of the page`);
    const key = readKey(entry, where);

    const intType = INT_BY_CODE.get(type);
    if (intType) {
      if (span !== 1) invalid(`${where}: ${intType} item with span ${span}`);
      const value = readInt(entry, intType);
      if (ns === 0) {
        if (intType !== 'u8') invalid(`${where}: namespace '${key}' is not a u8`);
        namespaces.set(value as number, key);
      } else {
        items.push({ kind: 'value', ns, key, type: intType, value });
      }
    } else if (type === ItemType.SZ || type === ItemType.BLOB || type === ItemType.BLOB_DATA) {
      const size = entry.readUInt16LE(24);
      if (size > (span - 1) * ENTRY_SIZE) invalid(`${where}: ${size} bytes of data do not fit in span ${span}`);
      const data = Buffer.from(page.subarray(off + ENTRY_SIZE, off + ENTRY_SIZE + size));
      if (entry.readUInt32LE(28) !== nvsCrc32(data)) throw new NvsError('NVS_PARSE_CRC', `${where}: data CRC mismatch for key '${key}'`);
      if (type === ItemType.SZ) {
        const end = data.indexOf(0);
        items.push({ kind: 'value', ns, key, type: 'string', value: data.subarray(0, end < 0 ? data.length : end).toString('utf8') });
      } else if (type === ItemType.BLOB) {
        items.push({ kind: 'value', ns, key, type: 'blob', value: data });
      } else {
        blobChunks.set(`${ns}\0${key}\0${chunk}`, data);
      }
    } else if (type === ItemType.BLOB_IDX) {
      items.push({
        kind: 'index', ns, key, where,
        size: entry.readUInt32LE(24), chunkCount: entry[28]!, chunkStart: entry[29]!,
      });
    } else {
      invalid(`${where}: unknown item type 0x${type.toString(16)}`);
    }
    i += span;
  }
}

/** Parses a whole NVS partition image (any multiple of 4096 bytes). */
export function parseNvsPartition(buf: Uint8Array): NvsParsedPartition {
  const image = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (image.length === 0 || image.length % PAGE_SIZE !== 0) invalid(`image is ${image.length} bytes, not a whole number of 4096-byte pages`);

  const pages: { seq: number; no: number; buf: Buffer }[] = [];
  for (let no = 0; no < image.length / PAGE_SIZE; no++) {
    const page = image.subarray(no * PAGE_SIZE, (no + 1) * PAGE_SIZE);
    const state = page.readUInt32LE(0);
    if (state === PAGE_STATE_UNINITIALIZED) continue;
    if (state !== PAGE_STATE_ACTIVE && state !== PAGE_STATE_FULL && state !== PAGE_STATE_FREEING) {
      invalid(`page ${no}: state 0x${state.toString(16)} is not active, full or freeing`);
    }
    if (page.readUInt32LE(28) !== nvsCrc32(page.subarray(4, 28))) throw new NvsError('NVS_PARSE_CRC', `page ${no}: header CRC mismatch`);
    pages.push({ seq: page.readUInt32LE(4), no, buf: page });
  }
  // Sequence numbers, not flash position, give the order items were written in.
  pages.sort((a, b) => a.seq - b.seq);

  const items: Item[] = [];
  const blobChunks = new Map<string, Buffer>();
  const namespaces = new Map<number, string>();
  for (const p of pages) readPage(p.buf, p.no, items, blobChunks, namespaces);

  const nsName = (ns: number, key: string): string => {
    const name = namespaces.get(ns);
    if (name === undefined) invalid(`key '${key}' is in namespace index ${ns}, which is not defined`);
    return name;
  };
  const entries = items.map((it): NvsParsedEntry => {
    if (it.kind === 'value') return { namespace: nsName(it.ns, it.key), key: it.key, type: it.type, value: it.value };
    const parts: Buffer[] = [];
    for (let c = it.chunkStart; c < it.chunkStart + it.chunkCount; c++) {
      const part = blobChunks.get(`${it.ns}\0${it.key}\0${c}`);
      if (!part) invalid(`${it.where}: blob '${it.key}' is missing chunk ${c}`);
      parts.push(part);
    }
    const value = Buffer.concat(parts);
    if (value.length !== it.size) invalid(`${it.where}: blob '${it.key}' chunks hold ${value.length} bytes, index says ${it.size}`);
    return { namespace: nsName(it.ns, it.key), key: it.key, type: 'blob', value };
  });

  return {
    namespaces: [...namespaces].sort((a, b) => a[0] - b[0]).map(([index, name]) => ({ name, index })),
    entries,
  };
}
