/**
 * yazl checksums every entry with buffer-crc32, a byte-at-a-time table loop
 * in JavaScript: a third of the CPU of exporting an hour of ten boards. Node's
 * own zlib.crc32 (the same CRC-32, native) gives the same numbers, so the
 * function yazl calls is pointed at it once, here. Only `unsigned` over a
 * Buffer with a numeric running value is taken over; any other call goes to
 * the original as before.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

type Crc = { unsigned: (buf: unknown, previous?: unknown) => number; fastCrc?: true };

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
// The instance yazl itself requires, whichever copy of buffer-crc32 that is.
const crc = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32') as Crc;
if (native && !crc.fastCrc) {
  const original = crc.unsigned;
  crc.unsigned = (buf: unknown, previous?: unknown) =>
    Buffer.isBuffer(buf) && (previous === undefined || typeof previous === 'number') ? native(buf, previous ?? 0) : original(buf, previous);
  crc.fastCrc = true;
}
