/**
 * The durable binary path's codecs: chunks packed for the SQLite writer
 * process come back field for field, and a binary frame's values computed
 * straight from its int16 payload are the decoder's samples rounded to
 * Float32 (what the store kept before, through packSamples).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachPackedChunk, packChunks } from '../../main/gateway/store/sqlite-chunks.js';
import { packSamples, sampleValues } from '../../main/gateway/sessions/ingest.js';
import { binaryFrameValues, decodeBinaryBatch, encodeBinaryBatch } from '../../firmware-protocol/index.js';
import type { SampleChunk } from '../../main/gateway/store/types.js';

function chunk(sessionId: string, deviceId: string, seq: number, count: number): SampleChunk {
  const data = Buffer.alloc(count * 24);
  for (let i = 0; i < data.length; i++) data[i] = (seq * 31 + i) & 0xff;
  return { sessionId, deviceId, seq, startMs: seq * 500.25, rateHz: 199.5, count, data, receivedAt: new Date(1_732_212_000_000 + seq) };
}

test('packed chunks come back field for field, ids in any script, sessions mixed', () => {
  const chunks = [
    chunk('s-1', 'board-1', 0, 1),
    chunk('s-1', 'board-1', 2 ** 40, 100),
    chunk('s-1', 'raquette-é-ü-漢字', 7, 3),
    chunk('s-2', 'board-1', 1, 4000),
    chunk('s-1', 'board-2', 3, 2),
  ];
  const got: unknown[][] = [];
  forEachPackedChunk(packChunks(chunks), (p) => got.push([...p]));
  assert.deepEqual(got, chunks.map((c) => [c.sessionId, c.deviceId, c.seq, c.startMs, c.rateHz, c.count, c.data, c.receivedAt.getTime()]));
});

test('a chunk the SQL store would refuse is refused before it is packed', () => {
  const bad = { ...chunk('s-1', 'b', 0, 2), count: 3 };
  assert.throws(() => packChunks([chunk('s-1', 'b', 1, 1), bad]), { name: 'RangeError', message: 'chunk data must be 72 bytes for 3 samples, got 48' });
  assert.throws(() => packChunks([{ ...chunk('s-1', 'b', 0, 1), seq: -1 }]), /seq must be a non-negative integer/);
  assert.throws(() => packChunks([{ ...chunk('s-1', 'b', 0, 1), receivedAt: new Date(NaN) }]), /receivedAt must be a valid date/);
});

test("a binary frame's values are the decoder's samples as Float32, at any byte offset and in a shared slab", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  for (let t = 0; t < 200; t++) {
    const n = 1 + (t * 37) % 400;
    const samples = Array.from({ length: n }, () => Array.from({ length: 6 }, (_, c) => rnd() * (c < 3 ? 40 : 5000)));
    const frame = encodeBinaryBatch({ seq: t, startMs: t, rateHz: 200, accelScale: (16 / 32768) * (1 + (t % 5)), gyroScale: 2000 / 32768, samples });
    const shift = t % 3;
    const at = Buffer.alloc(frame.length + shift);
    at.set(frame, shift);
    const buf = at.subarray(shift);
    const d = decodeBinaryBatch(buf);
    assert.ok(d.ok);
    const want = packSamples(d.batch.samples);
    const own = binaryFrameValues(buf);
    const slab = binaryFrameValues(buf, sampleValues(n));
    assert.ok(Buffer.from(own.buffer, own.byteOffset, own.byteLength).equals(want), `frame ${t}`);
    assert.ok(Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength).equals(want), `frame ${t} in a slab`);
  }
  assert.throws(() => binaryFrameValues(encodeBinaryBatch({ seq: 0, startMs: 0, rateHz: 1, accelScale: 1, gyroScale: 1, samples: [[1, 2, 3, 4, 5, 6]] }), new Float32Array(5)), RangeError);
});

test('slab slices do not overlap: one frame written later leaves the others as they were', () => {
  const a = sampleValues(100);
  a.fill(1);
  const b = sampleValues(100);
  b.fill(2);
  const big = sampleValues(300_000); // past a slab: an array of its own
  big.fill(3);
  assert.equal(big.length, 1_800_000);
  assert.ok(a.every((x) => x === 1) && b.every((x) => x === 2));
  // Many frames' worth: the slab rolls over to a new one without touching slices handed out.
  const kept = Array.from({ length: 2000 }, (_, i) => sampleValues(100).fill(i));
  kept.forEach((s, i) => assert.ok(s.every((x) => x === i), `slice ${i}`));
});
