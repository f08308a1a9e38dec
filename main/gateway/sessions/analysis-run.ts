/**
 * Runs the stroke analysis on a stored session: each board's chunks are read
 * back in seq order, analysed, and the strokes and a session summary stored.
 */
import type { CorrectionRow, Store, SessionRow, StrokeRow } from '../store/types.js';
import { analyzeSamples, summariseStrokes } from './analysis/analyze.js';
import type { PlayerProfile } from './analysis/profile.js';
import { STROKE_TYPES, type StrokeType } from './analysis/types.js';
import { correctedSummary, overlay } from './corrections.js';
import type { ImuSample, StrokeOutcome } from './analysis/types.js';
import { summaryJson, type WireSummary } from './analysis/wire.js';
import { unpackSamples } from './ingest.js';
import { round3, round5 } from './export.js';
import { missingSeqs, playerOfBoard, type BoardProgress } from './json.js';
import { emptyColumns, fromColumns, sortedByTime, type SampleColumns } from './analysis/columns.js';

export type { WireSummary };

export interface SessionAnalysisSummary extends WireSummary {
  boards: Record<string, WireSummary & { rate_hz: number; samples: number; incomplete: boolean }>;
}

const wire = summaryJson;

/**
 * One board's samples in time order, rounded as samples.csv writes them: the
 * gateway's analysis and `courtside analyze` on the export read the same
 * numbers and so find the same strokes. As columns, straight from the chunks.
 */
export async function boardColumns(store: Store, sessionId: string, deviceId: string): Promise<SampleColumns> {
  const chunks: { startMs: number; rateHz: number; count: number; f: Float32Array }[] = [];
  let n = 0;
  for await (const c of store.readChunks(sessionId, { deviceId, pageSize: 500 })) {
    // The row's bytes as floats in place when aligned (usually), else an aligned copy.
    const f = c.data.byteOffset % 4 === 0 ? new Float32Array(c.data.buffer, c.data.byteOffset, c.count * 6) : unpackSamples(c.data, c.count);
    chunks.push({ startMs: c.startMs, rateHz: c.rateHz, count: c.count, f });
    n += c.count;
  }
  const out = emptyColumns(n);
  const { t, ax, ay, az, gx, gy, gz } = out;
  let j = 0;
  for (const c of chunks) {
    const { f } = c;
    const step = c.rateHz > 0 ? 1000 / c.rateHz : 0;
    for (let i = 0; i < c.count; i++, j++) {
      const o = i * 6;
      t[j] = round3(c.startMs + i * step);
      ax[j] = round5(f[o]!); ay[j] = round5(f[o + 1]!); az[j] = round5(f[o + 2]!);
      gx[j] = round3(f[o + 3]!); gy[j] = round3(f[o + 4]!); gz[j] = round3(f[o + 5]!);
    }
  }
  // Stable: equal times keep seq order, as parseRecording's sort does.
  return sortedByTime(out);
}

/** boardColumns as one object per sample (the correction and signal requests). */
export async function boardSamples(store: Store, sessionId: string, deviceId: string): Promise<ImuSample[]> {
  return fromColumns(await boardColumns(store, sessionId, deviceId));
}

const yieldToLoop = () => new Promise((r) => setImmediate(r));

/** The corrected strokes of a player (every session of theirs) as the profile the analysis adapts to. */
export function profileOf(corrections: readonly CorrectionRow[]): PlayerProfile {
  return {
    examples: corrections
      .filter((c) => c.features && (STROKE_TYPES as readonly string[]).includes(c.type))
      .map((c) => ({ type: c.type as StrokeType, features: c.features! })),
  };
}

export async function playerProfile(store: Store, playerId: string | null): Promise<PlayerProfile> {
  return playerId ? profileOf(await store.listCorrections({ playerId })) : { examples: [] };
}

/**
 * Analyses the session with its player's current profile (the general model
 * alone for a player without corrections), stores the strokes and answers
 * the summary with the session's corrections counted in.
 */
export async function runAnalysis(store: Store, row: SessionRow, boards: BoardProgress[]): Promise<SessionAnalysisSummary> {
  // Each board's strokes adapt to the player holding it.
  const profiles = new Map<string | null, PlayerProfile>();
  const strokes: StrokeRow[] = [];
  const perBoard: SessionAnalysisSummary['boards'] = {};
  let durationS = 0;
  // The next board is read from the store while this one is analysed.
  const read = (i: number) => {
    const p = i < boards.length ? boardColumns(store, row.sessionId, boards[i]!.deviceId) : null;
    p?.catch(() => undefined);
    return p;
  };
  let next = read(0);
  for (let i = 0; i < boards.length; i++) {
    const b = boards[i]!;
    const samples = (await next)!;
    next = read(i + 1);
    await yieldToLoop();
    const who = playerOfBoard(row, b.deviceId);
    if (!profiles.has(who)) profiles.set(who, await playerProfile(store, who));
    const r = analyzeSamples(samples, {}, { profile: profiles.get(who)! });
    // Finished by the operator before the board reported its last seq, or with seqs still missing.
    const incomplete = b.finalSeq === null || missingSeqs(b).length > 0;
    perBoard[b.deviceId] = { ...wire(r.summary), rate_hz: Math.round(r.rateHz * 10) / 10, samples: samples.length, incomplete };
    durationS = Math.max(durationS, r.summary.durationS);
    for (const s of r.strokes) {
      strokes.push({
        sessionId: row.sessionId,
        deviceId: b.deviceId,
        idx: s.index,
        tMs: s.tMs,
        peakDps: s.peakDps,
        speedKmh: s.speedKmh,
        peakG: s.peakG,
        saturated: s.saturated,
        type: s.type,
        confidence: s.confidence,
      });
    }
    await yieldToLoop();
  }
  await store.saveStrokes(row.sessionId, strokes);
  const all = strokes.map((s) => ({ speedKmh: s.speedKmh, type: s.type as StrokeOutcome }));
  const summary: SessionAnalysisSummary = { ...wire(summariseStrokes(durationS, all)), boards: perBoard };
  const o = overlay(strokes, await store.listCorrections({ sessionId: row.sessionId }));
  return correctedSummary(summary, o.strokes, o.rejected.length) as SessionAnalysisSummary;
}
