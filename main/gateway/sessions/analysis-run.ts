/**
 * Runs the stroke analysis on a stored session: each board's chunks are read
 * back in seq order, analysed, and the strokes and a session summary stored.
 */
import type { Store, SessionRow, StrokeRow } from '../store/types.js';
import { analyzeSamples } from './analysis/analyze.js';
import { median } from './analysis/detect.js';
import { STROKE_TYPES, type ImuSample, type SessionSummary, type StrokeType } from './analysis/types.js';
import { unpackSamples } from './ingest.js';
import { missingSeqs, type BoardProgress } from './json.js';

export interface SessionAnalysisSummary extends SessionSummary {
  boards: Record<string, SessionSummary & { rateHz: number; samples: number; incomplete: boolean }>;
}

/** One board's samples in time order. */
export async function boardSamples(store: Store, sessionId: string, deviceId: string): Promise<ImuSample[]> {
  const out: ImuSample[] = [];
  for await (const c of store.readChunks(sessionId, { deviceId })) {
    const f = unpackSamples(c.data, c.count);
    const step = c.rateHz > 0 ? 1000 / c.rateHz : 0;
    for (let i = 0; i < c.count; i++) {
      const o = i * 6;
      out.push({ t: c.startMs + i * step, ax: f[o]!, ay: f[o + 1]!, az: f[o + 2]!, gx: f[o + 3]!, gy: f[o + 4]!, gz: f[o + 5]! });
    }
  }
  return out;
}

const yieldToLoop = () => new Promise((r) => setImmediate(r));

export async function runAnalysis(store: Store, row: SessionRow, boards: BoardProgress[]): Promise<SessionAnalysisSummary> {
  const strokes: StrokeRow[] = [];
  const perBoard: SessionAnalysisSummary['boards'] = {};
  let durationS = 0;
  for (const b of boards) {
    const samples = await boardSamples(store, row.sessionId, b.deviceId);
    await yieldToLoop();
    const r = analyzeSamples(samples);
    // Finished by the operator before the board reported its last seq, or with seqs still missing.
    const incomplete = b.finalSeq === null || missingSeqs(b).length > 0;
    perBoard[b.deviceId] = { ...r.summary, rateHz: Math.round(r.rateHz * 10) / 10, samples: samples.length, incomplete };
    durationS = Math.max(durationS, r.summary.durationS);
    for (const s of r.strokes) {
      strokes.push({
        sessionId: row.sessionId,
        deviceId: b.deviceId,
        idx: s.index,
        tMs: s.t,
        peakDps: s.peakAngularSpeedDps,
        speedKmh: s.racketHeadSpeedKmh,
        peakG: s.peakAccelG,
        saturated: s.saturated,
        type: s.type,
        confidence: s.confidence,
      });
    }
    await yieldToLoop();
  }
  await store.saveStrokes(row.sessionId, strokes);
  const speeds = strokes.map((s) => s.speedKmh);
  const countsByType = Object.fromEntries(STROKE_TYPES.map((t) => [t, 0])) as Record<StrokeType, number>;
  for (const s of strokes) if (s.type in countsByType) countsByType[s.type as StrokeType]++;
  return {
    count: strokes.length,
    durationS,
    strokesPerMinute: durationS > 0 ? strokes.length / (durationS / 60) : 0,
    maxSpeedKmh: speeds.length ? Math.max(...speeds) : 0,
    medianSpeedKmh: speeds.length ? median(speeds) : 0,
    countsByType,
    boards: perBoard,
  };
}
