/**
 * The gateway's analysis of a stored session (boardColumns, runAnalysis) against
 * the object-per-sample pipeline it replaced: the previous read-back (each chunk
 * unpacked, rounded as samples.csv writes it, an object per sample, a stable
 * sort by time) fed to the previous analysis (test/analysis/reference/). A real
 * recording of the badminton-imu dataset, at 200 Hz, stored as 100-sample
 * chunks, some written out of order and one overlapping another in time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import { packSamples, unpackSamples } from '../../main/gateway/sessions/ingest.js';
import { boardColumns, boardSamples, runAnalysis } from '../../main/gateway/sessions/analysis-run.js';
import { analyzeSamples } from '../../main/gateway/sessions/analysis/analyze.js';
import { round3, round5 } from '../../main/gateway/sessions/export.js';
import type { ImuSample } from '../../main/gateway/sessions/analysis/types.js';
import type { SampleChunk, Store } from '../../main/gateway/store/types.js';
import * as ref from '../analysis/reference/analyze.js';
import { SKIP_NO_DATASET, loadDataset, upsample } from '../analysis/helpers.js';

/** The read-back as it was: objects, rounded, stably sorted by time. */
async function previousBoardSamples(store: Store, sessionId: string, deviceId: string): Promise<ImuSample[]> {
  const out: ImuSample[] = [];
  for await (const c of store.readChunks(sessionId, { deviceId })) {
    const f = unpackSamples(c.data, c.count);
    const step = c.rateHz > 0 ? 1000 / c.rateHz : 0;
    for (let i = 0; i < c.count; i++) {
      const o = i * 6;
      out.push({ t: round3(c.startMs + i * step), ax: round5(f[o]!), ay: round5(f[o + 1]!), az: round5(f[o + 2]!), gx: round3(f[o + 3]!), gy: round3(f[o + 4]!), gz: round3(f[o + 5]!) });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

test('stored session: the analysis on columns finds exactly the strokes the previous pipeline found', { skip: SKIP_NO_DATASET, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-analysis-stored-'));
  const store = await openSqliteStore(join(dir, 'db.sqlite'));
  try {
    const t0 = Date.UTC(2025, 0, 1);
    const boards = ['smash-1', 'drive-1'];
    await store.createSession({
      sessionId: 's-1', state: 'uploading', boards, playerId: null, court: null, roomId: null, notes: null, sampleRateHz: 200,
      createdAt: new Date(t0), startedAt: new Date(t0), stoppedAt: null, completedAt: null, failureReason: null, summary: null,
    });
    for (const [b, type] of [[boards[0]!, 'smash'], [boards[1]!, 'drive']] as const) {
      const rec = upsample(await loadDataset(type), 20);
      const chunks: SampleChunk[] = [];
      for (let seq = 0; seq * 100 < rec.length; seq++) {
        const part = rec.slice(seq * 100, seq * 100 + 100);
        // Chunk 7 starts 40 ms early: its times interleave with chunk 6's, so the read-back must sort.
        const startMs = t0 + seq * 500 - (seq === 7 ? 40 : 0);
        chunks.push({ sessionId: 's-1', deviceId: b, seq, startMs, rateHz: 200, count: part.length, data: packSamples(part.map((s) => [s.ax, s.ay, s.az, s.gx, s.gy, s.gz])), receivedAt: new Date(t0) });
      }
      // Written newest first: the store's seq order is what the read-back follows.
      await store.insertChunks(chunks.reverse());
    }
    let total = 0;
    for (const b of boards) {
      const before = await previousBoardSamples(store, 's-1', b);
      const cols = await boardColumns(store, 's-1', b);
      assert.deepEqual(await boardSamples(store, 's-1', b), before, `${b}: samples`);
      const want = ref.analyzeSamples(before);
      assert.ok(want.strokes.length >= 25, `${b}: ${want.strokes.length} strokes`);
      assert.deepEqual(analyzeSamples(cols), want, `${b}: analysis`);
      total += want.strokes.length;
    }
    const progress = boards.map((deviceId) => ({ deviceId, accepted: new Set<number>(), durable: new Set<number>(), frames: 0, samples: 0, finalSeq: null, lastSeq: null }));
    const row = (await store.getSession('s-1'))!;
    const summary = await runAnalysis(store, row, progress);
    const stored = await store.listStrokes('s-1');
    assert.equal(stored.length, total);
    assert.equal(summary.count, total);
    for (const b of boards) {
      const want = ref.analyzeSamples(await previousBoardSamples(store, 's-1', b)).strokes;
      assert.deepEqual(stored.filter((s) => s.deviceId === b).map((s) => [s.idx, s.tMs, s.type, s.peakDps, s.speedKmh, s.peakG, s.saturated, s.confidence]),
        want.map((s) => [s.index, s.tMs, s.type, s.peakDps, s.speedKmh, s.peakG, s.saturated, s.confidence]), `${b}: stored strokes`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
