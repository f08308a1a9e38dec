/**
 * The export's deflate in 1 MiB chunks (zip-deflate.ts): only the compressor
 * yazl makes for that entry gets them, zlib's class is back afterwards even
 * when the callback throws, and the zip is byte for byte the one yazl writes
 * with zlib's default chunk, read back by Debian's `unzip`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import yazl from 'yazl';
import { withDeflateChunk } from '../../main/gateway/sessions/zip-deflate.js';

const run = promisify(execFile);

/** 4 MB of CSV-like text that compresses about as samples.csv does. */
function csv(): Buffer {
  const rows: string[] = [];
  let x = 1;
  for (let i = 0; rows.length < 60_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    rows.push(`racket-1,${1735689600000 + i * 5},${(x % 20000) / 10000 - 1},0.01234,-0.98,${(x % 90000) / 100},12.5,-3.25\n`);
  }
  return Buffer.from(rows.join(''));
}

/** The sizes of the chunks a DeflateRaw made here emits for `input`. */
async function chunkSizes(input: Buffer): Promise<number[]> {
  const d = new zlib.DeflateRaw({ level: 1 });
  const sizes: number[] = [];
  d.on('data', (b: Buffer) => sizes.push(b.length));
  const done = new Promise((ok) => d.once('end', ok));
  d.end(input);
  await done;
  return sizes;
}

async function zipBytes(data: Buffer, chunked: boolean): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date(Date.UTC(2025, 0, 1));
  const stream = Readable.from([data], { objectMode: false });
  if (chunked) zip.addReadStreamLazy('samples.csv', { mtime, compressionLevel: 1 }, withDeflateChunk(stream));
  else zip.addReadStream(stream, 'samples.csv', { mtime, compressionLevel: 1 });
  zip.end();
  const parts: Buffer[] = [];
  for await (const p of zip.outputStream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

test('only the compressor made in the callback deflates in 1 MiB chunks; zlib is as before afterwards', async () => {
  const input = csv();
  const Original = zlib.DeflateRaw;
  const outside = await chunkSizes(input);
  assert.ok(Math.max(...outside) <= 16 * 1024, `zlib's default chunk is 16 KiB, got ${Math.max(...outside)}`);

  let inside: Promise<number[]> | undefined;
  withDeflateChunk(Readable.from([]))(() => { inside = chunkSizes(input); });
  const sizes = await inside!;
  assert.ok(Math.max(...sizes) > 256 * 1024, `chunks inside the callback: ${sizes.join(', ')}`);
  assert.equal(zlib.DeflateRaw, Original);

  assert.throws(() => withDeflateChunk(Readable.from([]))(() => { throw new Error('boom'); }), /boom/);
  assert.equal(zlib.DeflateRaw, Original, 'put back after a throw');
  assert.deepEqual(await chunkSizes(input), outside);
});

test('the zip is the bytes yazl writes with the default chunk, and unzip reads the entry back', async () => {
  const input = csv();
  const [chunked, plain] = [await zipBytes(input, true), await zipBytes(input, false)];
  assert.ok(chunked.length < input.length / 2, `compressed: ${chunked.length} of ${input.length}`);
  assert.ok(chunked.equals(plain), 'the same zip bytes');
  const dir = mkdtempSync(join(tmpdir(), 'courtside-zip-deflate-'));
  try {
    writeFileSync(join(dir, 'a.zip'), chunked);
    await run('unzip', ['-tq', join(dir, 'a.zip')]);
    const { stdout } = await run('unzip', ['-p', join(dir, 'a.zip'), 'samples.csv'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    assert.ok((stdout as Buffer).equals(input), 'unzip gives the input back');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
