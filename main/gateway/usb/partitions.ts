/**
 * ESP-IDF partition tables (the binary gen_esp32part.py writes at 0x8000):
 * 32-byte entries `AA 50 type subtype offset size label[16] flags`, then an
 * MD5 entry `EB EB FF*14 md5(entries)`, then 0xFF. We read a board's table to
 * find where its NVS partition is, and tests build tables with the same code.
 */
import { createHash } from 'node:crypto';

export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_MAX_LEN = 0xc00;
const ENTRY = 32;
const MAGIC = 0x50aa; // bytes AA 50, little-endian
const MD5_MAGIC = 0xebeb;

export const PartitionType = { app: 0x00, data: 0x01 } as const;
export const DataSubtype = { ota: 0x00, phy: 0x01, nvs: 0x02, coredump: 0x03, nvs_keys: 0x04, efuse: 0x05, fat: 0x81, spiffs: 0x82, littlefs: 0x83 } as const;

export interface Partition {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: number;
}

export class PartitionTableError extends Error {}

/** Parses a table; throws PartitionTableError when there is none or it is damaged. */
export function parsePartitionTable(buf: Uint8Array): Partition[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const parts: Partition[] = [];
  let md5Checked = false;
  for (let off = 0; off + ENTRY <= Math.min(b.length, PARTITION_TABLE_MAX_LEN); off += ENTRY) {
    const magic = b.readUInt16LE(off);
    if (magic === 0xffff) break;
    if (magic === MD5_MAGIC) {
      const want = b.subarray(off + 16, off + 32);
      const got = createHash('md5').update(b.subarray(0, off)).digest();
      if (!got.equals(want)) throw new PartitionTableError('its MD5 does not match: the table is damaged');
      md5Checked = true;
      continue;
    }
    if (magic !== MAGIC) {
      if (parts.length === 0) throw new PartitionTableError(`no partition table magic (found ${b.subarray(off, off + 2).toString('hex')})`);
      throw new PartitionTableError(`entry ${parts.length + 1} has no magic: the table is damaged`);
    }
    const rawLabel = b.subarray(off + 12, off + 28);
    const end = rawLabel.indexOf(0);
    parts.push({
      type: b[off + 2]!,
      subtype: b[off + 3]!,
      offset: b.readUInt32LE(off + 4),
      size: b.readUInt32LE(off + 8),
      label: rawLabel.subarray(0, end < 0 ? 16 : end).toString('utf8'),
      flags: b.readUInt32LE(off + 28),
    });
  }
  if (parts.length === 0) throw new PartitionTableError('the table is empty (erased flash?)');
  // Tables made with gen_esp32part.py --disable-md5sum have no MD5 entry; that is allowed.
  void md5Checked;
  return parts;
}

/** Builds a table as gen_esp32part.py does (with the MD5 entry), padded with 0xFF to 0xC00 bytes. */
export function buildPartitionTable(parts: readonly Partition[]): Buffer {
  const out = Buffer.alloc(PARTITION_TABLE_MAX_LEN, 0xff);
  if ((parts.length + 1) * ENTRY > PARTITION_TABLE_MAX_LEN) throw new PartitionTableError('too many partitions');
  parts.forEach((p, i) => {
    const off = i * ENTRY;
    out.writeUInt16LE(MAGIC, off);
    out[off + 2] = p.type;
    out[off + 3] = p.subtype;
    out.writeUInt32LE(p.offset, off + 4);
    out.writeUInt32LE(p.size, off + 8);
    const label = Buffer.alloc(16, 0);
    label.write(p.label.slice(0, 16), 'utf8');
    label.copy(out, off + 12);
    out.writeUInt32LE(p.flags, off + 28);
  });
  const md5Off = parts.length * ENTRY;
  out.writeUInt16LE(MD5_MAGIC, md5Off);
  out.fill(0xff, md5Off + 2, md5Off + 16);
  createHash('md5').update(out.subarray(0, md5Off)).digest().copy(out, md5Off + 16);
  return out;
}

/** The data/nvs partition named `label` (or the first data/nvs one if none has that label). */
export function findNvsPartition(parts: readonly Partition[], label = 'nvs'): Partition | null {
  const nvs = parts.filter((p) => p.type === PartitionType.data && p.subtype === DataSubtype.nvs);
  return nvs.find((p) => p.label === label) ?? (label === 'nvs' ? nvs[0] ?? null : null);
}

/** ESP-IDF's default single-app layout (partitions_singleapp.csv), for tests and examples. */
export function defaultPartitions(appSize = 0x100000): Partition[] {
  return [
    { label: 'nvs', type: PartitionType.data, subtype: DataSubtype.nvs, offset: 0x9000, size: 0x6000, flags: 0 },
    { label: 'phy_init', type: PartitionType.data, subtype: DataSubtype.phy, offset: 0xf000, size: 0x1000, flags: 0 },
    { label: 'factory', type: PartitionType.app, subtype: 0x00, offset: 0x10000, size: appSize, flags: 0 },
  ];
}
