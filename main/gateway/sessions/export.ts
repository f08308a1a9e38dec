/**
 * A session as a zip: samples.csv (device, time, ax, ay, az, gx, gy, gz),
 * strokes.csv, summary.json, session.json. Streamed: samples are read a page
 * of chunks at a time and written as the zip is consumed, so a one-hour,
 * ten-board session exports in bounded memory. Rows are written as bytes by
 * sample-csv.ts. Zip framing is yazl's; its deflate runs in large chunks
 * (zip-deflate.ts) and its checksum natively (zip-crc.ts).
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { Store } from '../store/types.js';
import { unpackSamples } from './ingest.js';
import { maxRowBytes, writeChunkRows } from './sample-csv.js';
import './zip-crc.js';
import { withDeflateChunk } from './zip-deflate.js';
import { sessionJson } from './json.js';
import { indexed, overlay, type CorrectedStroke } from './corrections.js';
import { SeqSet } from './seq-set.js';

export const SAMPLES_HEADER = 'device,time,ax,ay,az,gx,gy,gz\n';
/**
 * `type` is what the stroke is (a coach's correction if any), `original_type`
 * what the analysis said (empty for a stroke a coach added), `corrected_type`
 * the coach's (empty when uncorrected). A detection a coach marked as not a
 * stroke is a row with type `not_a_stroke` and no index.
 */
export const STROKES_HEADER = 'device,index,t_ms,type,confidence,peak_dps,speed_kmh,peak_g,saturated,original_type,corrected_type,corrected_by,corrected_at\n';

/**
 * Float32 noise trimmed: 5 decimals of g, 3 of degrees/s, 3 of ms. The
 * gateway's own analysis reads samples rounded the same way, so it and
 * `courtside analyze` on the export see the same numbers.
 */
export const round5 = (x: number) => Math.round(x * 1e5) / 1e5;
export const round3 = (x: number) => Math.round(x * 1e3) / 1e3;
const r3 = (x: number) => String(round3(x));

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Chunks read per page; their rows go out as one buffer (about 1.4 MB at 100 samples a chunk). */
const PAGE_CHUNKS = 200;

async function* sampleBytes(store: Store, sessionId: string): AsyncGenerator<Buffer> {
  yield Buffer.from(SAMPLES_HEADER);
  let scratch = Buffer.allocUnsafe(0);
  let pos = 0;
  let inPage = 0;
  let device = '';
  let deviceBytes = Buffer.from(csvField(device));
  for await (const c of store.readChunks(sessionId, { pageSize: PAGE_CHUNKS })) {
    if (c.deviceId !== device) {
      device = c.deviceId;
      deviceBytes = Buffer.from(csvField(device));
    }
    const need = pos + c.count * maxRowBytes(deviceBytes.length);
    if (need > scratch.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, 2 * scratch.length));
      scratch.copy(grown, 0, 0, pos);
      scratch = grown;
    }
    // The row's bytes as floats in place when aligned (usually), else an aligned copy.
    const f = c.data.byteOffset % 4 === 0 ? new Float32Array(c.data.buffer, c.data.byteOffset, c.count * 6) : unpackSamples(c.data, c.count);
    pos = writeChunkRows(scratch, pos, deviceBytes, c.startMs, c.rateHz, f, c.count);
    if (++inPage === PAGE_CHUNKS) {
      // A copy: the scratch buffer is written again while zlib still reads this one.
      yield Buffer.from(scratch.subarray(0, pos));
      pos = 0;
      inPage = 0;
    }
  }
  if (pos > 0) yield Buffer.from(scratch.subarray(0, pos));
}

export class ExportError extends Error {
  readonly code = 'NOT_FOUND';
}

/** Writes the zip to `out`; rejects with ExportError if the session does not exist. */
export async function exportSession(store: Store, sessionId: string, out: Writable): Promise<void> {
  const row = await store.getSession(sessionId);
  if (!row) throw new ExportError(`session ${sessionId} not found`);
  const o = overlay(await store.listStrokes(sessionId), await store.listCorrections({ sessionId }));
  const stats = new Map((await store.chunkStats(sessionId)).map((s) => [s.deviceId, s]));
  const finals = new Map((await store.finalSeqs(sessionId)).map((f) => [f.deviceId, f.finalSeq]));
  const progress = new Map(
    row.boards.map((id) => [id, { deviceId: id, accepted: new SeqSet(), durable: new SeqSet(), frames: stats.get(id)?.frames ?? 0, samples: stats.get(id)?.samples ?? 0, finalSeq: finals.get(id) ?? null, lastSeq: stats.get(id)?.maxSeq ?? null }]),
  );

  const zip = new yazl.ZipFile();
  const mtime = row.completedAt ?? row.createdAt;
  // Level 1: the hour-long export spends half its CPU in deflate at the default level for ~10 % less size.
  // A byte stream, not objects: backpressure counts bytes, so a few pages at most wait for deflate.
  const samples = Readable.from(sampleBytes(store, sessionId), { objectMode: false, highWaterMark: 4 << 20 });
  zip.addReadStreamLazy('samples.csv', { mtime, compressionLevel: 1 }, withDeflateChunk(samples));
  const line = (s: CorrectedStroke, index: number | '') => {
    const c = s.correction;
    return `${csvField(s.deviceId)},${index},${r3(s.tMs)},${s.type},${r3(s.confidence)},${r3(s.peakDps)},${r3(s.speedKmh)},${r3(s.peakG)},${s.saturated ? 1 : 0},` +
      `${s.modelType ?? ''},${c ? c.type : ''},${c ? csvField(c.madeBy) : ''},${c ? c.madeAt.toISOString() : ''}\n`;
  };
  const strokeCsv = STROKES_HEADER + indexed(o.strokes).map((s) => line(s, s.index)).join('') + o.rejected.map((s) => line(s, '')).join('');
  zip.addBuffer(Buffer.from(strokeCsv), 'strokes.csv', { mtime });
  zip.addBuffer(Buffer.from(JSON.stringify(row.summary ?? null, null, 2) + '\n'), 'summary.json', { mtime });
  zip.addBuffer(Buffer.from(JSON.stringify(sessionJson(row, progress), null, 2) + '\n'), 'session.json', { mtime });
  zip.end();
  await pipeline(zip.outputStream, out);
}
