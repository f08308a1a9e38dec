/**
 * Strokes and summaries as JSON: snake_case with the unit in every name, the
 * names the wire (get_session, analysis_complete_notification), strokes.csv,
 * summary.json and `courtside analyze --json` all share. One quantity, one
 * name: `speed_kmh` is the racket-head speed, `peak_dps` the peak angular
 * speed, `t_ms` the stroke's instant.
 */
import type { SessionSummary, Stroke, StrokeOutcome } from './types.js';

export interface WireSummary {
  count: number;
  duration_s: number;
  strokes_per_minute: number;
  max_speed_kmh: number;
  median_speed_kmh: number;
  /** Every outcome, `unknown` included. */
  counts_by_type: Record<string, number>;
}

export interface WireStroke {
  index: number;
  t_ms: number;
  type: StrokeOutcome;
  confidence: number;
  peak_dps: number;
  speed_kmh: number;
  peak_g: number;
  saturated: boolean;
}

export function summaryJson(s: SessionSummary): WireSummary {
  return {
    count: s.count,
    duration_s: s.durationS,
    strokes_per_minute: s.strokesPerMinute,
    max_speed_kmh: s.maxSpeedKmh,
    median_speed_kmh: s.medianSpeedKmh,
    counts_by_type: { ...s.countsByType },
  };
}

export function strokeJson(s: Stroke): WireStroke {
  return {
    index: s.index,
    t_ms: s.tMs,
    type: s.type,
    confidence: s.confidence,
    peak_dps: s.peakDps,
    speed_kmh: s.speedKmh,
    peak_g: s.peakG,
    saturated: s.saturated,
  };
}
