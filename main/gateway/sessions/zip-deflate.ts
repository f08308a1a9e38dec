/**
 * yazl deflates an entry through `new zlib.DeflateRaw({ level })`, so with
 * zlib's default 16 KiB output chunk. Each chunk is a round trip from libuv's
 * pool back to the main thread, and the main thread is the one writing the
 * CSV rows: deflate then waits for the row writer between every 16 KiB,
 * and an hour of ten boards (460 MB of CSV) exported at 0.85 M samples/s with
 * both cores half idle. A 1 MiB chunk lets deflate run a few milliseconds on
 * its own at a time, in parallel with the rows. The compressed bytes do not
 * depend on the output chunk's size.
 *
 * yazl has no option for it, but it makes the compressor synchronously
 * inside the callback of `addReadStreamLazy`, so the class it finds on the
 * zlib module is swapped for exactly that call and put back before anything
 * else runs. Anything else that makes a DeflateRaw gets zlib's own.
 */
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';

/** zlib's output chunk for the large entries of an export. */
export const EXPORT_DEFLATE_CHUNK = 1 << 20;

type DeflateRawClass = typeof zlib.DeflateRaw;

/**
 * The `getReadStreamFunction` of yazl's `addReadStreamLazy` for `stream`,
 * whose compressor then deflates with `chunkSize` (default EXPORT_DEFLATE_CHUNK).
 */
export function withDeflateChunk(stream: Readable, chunkSize = EXPORT_DEFLATE_CHUNK) {
  return (cb: (err: unknown, stream: NodeJS.ReadableStream) => void): void => {
    const module = zlib as { DeflateRaw: DeflateRawClass };
    const Original = module.DeflateRaw;
    class ChunkedDeflateRaw extends Original {
      constructor(options?: zlib.ZlibOptions) {
        super({ chunkSize, ...options });
      }
    }
    module.DeflateRaw = ChunkedDeflateRaw as DeflateRawClass;
    try {
      cb(null, stream);
    } finally {
      module.DeflateRaw = Original;
    }
  };
}
