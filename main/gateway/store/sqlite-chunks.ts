/**
 * Sample chunks on their way to the SQLite writer process, as one Buffer of
 * records instead of an array of objects: structured clone walks every
 * object and string of a message, and a batch of thousands of chunks was a
 * large part of the gateway's work on the durable path. A Buffer is copied
 * once. Imported by both ends (sqlite.ts, sqlite-process.ts).
 *
 * Each record, little-endian:
 *   f64 seq, f64 start_ms, f64 rate_hz, f64 received_at (ms), u32 count,
 *   u32 data bytes, u16 session id bytes, u16 device id bytes,
 *   then the session id and device id (UTF-8) and the data.
 */
import type { SampleChunk } from './types.js';

const FIXED = 8 * 4 + 4 * 2 + 2 * 2;
const MAX_ID_BYTES = 0xffff;

/** The insert every record becomes (columns in record order). */
export const INSERT_CHUNK_SQL =
  'INSERT OR IGNORE INTO sample_chunks (session_id, device_id, seq, start_ms, rate_hz, count, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/** Checks what the SQL store's own insert checks, so a bad chunk fails here and not in the writer. */
function check(c: SampleChunk): number {
  if (!Number.isSafeInteger(c.seq) || c.seq < 0) throw new RangeError(`seq must be a non-negative integer, got ${c.seq}`);
  if (c.data.length !== c.count * 24) throw new RangeError(`chunk data must be ${c.count * 24} bytes for ${c.count} samples, got ${c.data.length}`);
  const at = c.receivedAt.getTime();
  if (!Number.isFinite(at)) throw new RangeError('receivedAt must be a valid date');
  return at;
}

/** The bytes `packChunks` needs for this chunk (ids measured as UTF-8). */
export function packedBytes(c: SampleChunk): number {
  return FIXED + Buffer.byteLength(c.sessionId) + Buffer.byteLength(c.deviceId) + c.data.length;
}

export function packChunks(chunks: readonly SampleChunk[]): Buffer {
  let total = 0;
  for (const c of chunks) total += packedBytes(c);
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  for (const c of chunks) {
    const at = check(c);
    buf.writeDoubleLE(c.seq, o);
    buf.writeDoubleLE(c.startMs, o + 8);
    buf.writeDoubleLE(c.rateHz, o + 16);
    buf.writeDoubleLE(at, o + 24);
    buf.writeUInt32LE(c.count, o + 32);
    buf.writeUInt32LE(c.data.length, o + 36);
    const ids = o + FIXED;
    const s = buf.write(c.sessionId, ids, 'utf8');
    const d = buf.write(c.deviceId, ids + s, 'utf8');
    if (s > MAX_ID_BYTES || d > MAX_ID_BYTES) throw new RangeError('session and device ids must be under 64 KiB');
    buf.writeUInt16LE(s, o + 40);
    buf.writeUInt16LE(d, o + 42);
    o = ids + s + d;
    c.data.copy(buf, o);
    o += c.data.length;
  }
  return buf;
}

/** Calls `row` with each record's insert parameters, in INSERT_CHUNK_SQL's order. */
export function forEachPackedChunk(buf: Buffer, row: (params: [string, string, number, number, number, number, Buffer, number]) => void): void {
  let o = 0;
  let lastSession = '';
  let lastSessionBytes: Buffer | null = null;
  while (o < buf.length) {
    const seq = buf.readDoubleLE(o);
    const startMs = buf.readDoubleLE(o + 8);
    const rateHz = buf.readDoubleLE(o + 16);
    const at = buf.readDoubleLE(o + 24);
    const count = buf.readUInt32LE(o + 32);
    const n = buf.readUInt32LE(o + 36);
    const s = buf.readUInt16LE(o + 40);
    const d = buf.readUInt16LE(o + 42);
    const ids = o + FIXED;
    // A batch is mostly one session: decode its id once.
    const sBytes = buf.subarray(ids, ids + s);
    if (lastSessionBytes === null || !sBytes.equals(lastSessionBytes)) {
      lastSession = sBytes.toString('utf8');
      lastSessionBytes = sBytes;
    }
    const deviceId = buf.toString('utf8', ids + s, ids + s + d);
    o = ids + s + d;
    row([lastSession, deviceId, seq, startMs, rateHz, count, buf.subarray(o, o + n), at]);
    o += n;
  }
}
