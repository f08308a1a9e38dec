/**
 * Coaches' corrections laid over a session's detected strokes.
 *
 * A correction says "a stroke of this type at t_ms on this board" (or "not a
 * stroke" there). It is keyed by board and time, never by the stroke's row or
 * index, because analysis rewrites the strokes and may number them anew.
 *
 * The attach rule: on each board, corrections take detected strokes newest
 * correction first; each takes the detected stroke nearest its t_ms that lies
 * within ATTACH_TOLERANCE_MS and that no newer correction took. One that finds
 * none is, for a stroke type, a stroke of its own (the coach said there is
 * one there, the detector now misses it) and, for "not a stroke", nothing.
 * The detector keeps strokes at least 400 ms apart (refractoryMs), so within
 * 300 ms there is rarely more than one candidate, and 300 ms covers the shift
 * of a drive's instant between its two near-equal peaks (0.2-0.3 s apart,
 * analysis/README.md) when a detector change picks the other one.
 */
import type { CorrectionRow, StrokeRow } from '../store/types.js';
import { summariseStrokes } from './analysis/analyze.js';
import { OUTCOMES, STROKE_TYPES, type StrokeOutcome } from './analysis/types.js';
import { summaryJson } from './analysis/wire.js';

export const ATTACH_TOLERANCE_MS = 300;
export const NOT_A_STROKE = 'not_a_stroke';
export const CORRECTION_TYPES = [...STROKE_TYPES, NOT_A_STROKE] as const;

export interface CorrectedStroke {
  deviceId: string;
  tMs: number;
  /** The analysis's type; null for a stroke a coach added. */
  modelType: string | null;
  /** What the stroke is: the correction's type if any, else the analysis's. */
  type: string;
  confidence: number;
  peakDps: number;
  speedKmh: number;
  peakG: number;
  saturated: boolean;
  correction: CorrectionRow | null;
}

export interface Overlay {
  /** Per board in time order: detected strokes (corrected or not) and added ones, not-a-stroke left out. */
  strokes: CorrectedStroke[];
  /** Detections a coach marked as not a stroke. */
  rejected: CorrectedStroke[];
  /** Correction id -> whether it found its detected stroke. */
  attached: Map<string, boolean>;
}

/** For each correction, the detected stroke it attaches to (by position in `strokes`), by the rule above. */
export function attach(strokes: readonly Pick<StrokeRow, 'deviceId' | 'tMs'>[], corrections: readonly CorrectionRow[]): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const taken = new Set<number>();
  const newestFirst = [...corrections].sort((a, b) => b.madeAt.getTime() - a.madeAt.getTime() || (a.correctionId < b.correctionId ? 1 : -1));
  for (const c of newestFirst) {
    let best: number | null = null;
    strokes.forEach((s, i) => {
      if (s.deviceId !== c.deviceId || taken.has(i)) return;
      const d = Math.abs(s.tMs - c.tMs);
      if (d <= ATTACH_TOLERANCE_MS && (best === null || d < Math.abs(strokes[best]!.tMs - c.tMs))) best = i;
    });
    if (best !== null) taken.add(best);
    out.set(c.correctionId, best);
  }
  return out;
}

const addedMeasures = (c: CorrectionRow) => {
  const m = (c.stroke ?? {}) as { peak_dps?: number; speed_kmh?: number; peak_g?: number; saturated?: boolean };
  return { peakDps: m.peak_dps ?? 0, speedKmh: m.speed_kmh ?? 0, peakG: m.peak_g ?? 0, saturated: m.saturated ?? false };
};

export function overlay(detected: readonly StrokeRow[], corrections: readonly CorrectionRow[]): Overlay {
  const where = attach(detected, corrections);
  const byStroke = new Map<number, CorrectionRow>();
  const loose: CorrectionRow[] = [];
  const attached = new Map<string, boolean>();
  for (const c of corrections) {
    const i = where.get(c.correctionId) ?? null;
    attached.set(c.correctionId, i !== null);
    if (i !== null) byStroke.set(i, c);
    else loose.push(c);
  }
  const strokes: CorrectedStroke[] = [];
  const rejected: CorrectedStroke[] = [];
  detected.forEach((s, i) => {
    const c = byStroke.get(i) ?? null;
    const out: CorrectedStroke = {
      deviceId: s.deviceId, tMs: s.tMs, modelType: s.type, type: c ? c.type : s.type, confidence: s.confidence,
      peakDps: s.peakDps, speedKmh: s.speedKmh, peakG: s.peakG, saturated: s.saturated, correction: c,
    };
    (c?.type === NOT_A_STROKE ? rejected : strokes).push(out);
  });
  for (const c of loose) {
    if (c.type === NOT_A_STROKE) continue;
    strokes.push({ deviceId: c.deviceId, tMs: c.tMs, modelType: null, type: c.type, confidence: 1, ...addedMeasures(c), correction: c });
  }
  const order = (a: CorrectedStroke, b: CorrectedStroke) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.tMs - b.tMs);
  strokes.sort(order);
  rejected.sort(order);
  return { strokes, rejected, attached };
}

/** Per board, strokes numbered 0.. in time order, as the session lists them. */
export function indexed(strokes: readonly CorrectedStroke[]): (CorrectedStroke & { index: number })[] {
  const next = new Map<string, number>();
  return strokes.map((s) => {
    const index = next.get(s.deviceId) ?? 0;
    next.set(s.deviceId, index + 1);
    return { ...s, index };
  });
}

interface StoredSummary {
  duration_s?: number;
  boards?: Record<string, { duration_s?: number } & Record<string, unknown>>;
  [k: string]: unknown;
}

/**
 * The session summary with the corrected strokes counted: totals and each
 * board's counts, speeds and types; everything else a board's summary holds
 * (rate, samples, incomplete) as the analysis stored it. `corrections` says
 * how many of the strokes a coach set.
 */
export function correctedSummary(summary: unknown, strokes: readonly CorrectedStroke[], rejected: number): unknown {
  const corrected = strokes.filter((k) => k.correction).length + rejected;
  if (!summary || typeof summary !== 'object') return summary;
  // Never corrected, the analysis's own summary stands byte for byte.
  if (corrected === 0 && !('corrected' in summary)) return summary;
  const { corrected: _was, ...s } = summary as StoredSummary;
  const count = (list: readonly CorrectedStroke[], durationS: number) =>
    summaryJson(summariseStrokes(durationS, list.map((k) => ({ speedKmh: k.speedKmh, type: (OUTCOMES as readonly string[]).includes(k.type) ? (k.type as StrokeOutcome) : 'unknown' }))));
  const boards: Record<string, unknown> = {};
  for (const [id, b] of Object.entries(s.boards ?? {})) boards[id] = { ...b, ...count(strokes.filter((k) => k.deviceId === id), b.duration_s ?? 0) };
  const out: Record<string, unknown> = { ...s, ...count(strokes, s.duration_s ?? 0), boards };
  if (corrected > 0) out.corrected = corrected;
  return out;
}
