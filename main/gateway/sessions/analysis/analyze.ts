/**
 * Session analysis: detect strokes, measure and classify each one, summarise.
 */
import { detectStrokes, estimateRateHz, median, type StrokePeak } from './detect.js';
import { mirrorFeatures, strokeFeatures } from './features.js';
import { loadDefaultModel, predict, type StrokeModel } from './classify.js';
import { adaptedPredict, compileProfile, type PlayerProfile } from './profile.js';
import { asColumns, type Samples } from './columns.js';
import {
  OUTCOMES,
  resolveOptions,
  type AnalysisOptions,
  type AnalysisResult,
  type ImuSample,
  type SessionSummary,
  type Stroke,
  type StrokeOutcome,
} from './types.js';

export interface AnalyzeExtras {
  /** Classifier to use instead of the shipped stroke-model.json. */
  model?: StrokeModel;
  /** The player's corrected strokes (profile.ts); without it, or empty, the general model alone. */
  profile?: PlayerProfile;
}

/** Samples must be sorted by time (parseRecording, the simulator and boardColumns ensure it). */
export function analyzeSamples(
  given: Samples,
  opts: AnalysisOptions = {},
  extras: AnalyzeExtras = {},
): AnalysisResult {
  const samples = asColumns(given);
  const o = resolveOptions(opts);
  const rateHz = o.rateHz ?? estimateRateHz(samples);
  const peaks = detectStrokes(samples, o, rateHz);
  const model = peaks.length ? (extras.model ?? loadDefaultModel()) : undefined;
  const rows = peaks.map((p) => strokeFeatures(samples, p.sample));
  const mirrored = model ? isMirrorImage(model, rows) : false;
  const seen = mirrored ? rows.map(mirrorFeatures) : rows;
  const profile = model && extras.profile ? compileProfile(model, extras.profile) : null;
  const strokes: Stroke[] = peaks.map((p, index) => {
    const { type, confidence } = adaptedPredict(model!, profile, seen[index]!);
    return {
      index,
      tMs: p.tMs,
      peakDps: p.peakDps,
      speedKmh: p.speedKmh,
      peakG: p.peakG,
      saturated: p.saturated,
      type,
      confidence,
    };
  });
  return { strokes, summary: summarise(samples, strokes), rateHz, mirrored, features: seen };
}

/**
 * How much closer (mean ln of the distance to the best class) the mirror
 * image of a session's strokes must lie to what the model knows before the
 * session is read as mirrored. Measured on the reference recordings: as
 * recorded −0.32 … −0.59, mirrored +0.60 … +1.52, so 0.5 leaves a wide gap.
 */
const MIRROR_MARGIN = 0.5;

/**
 * Whether the session was swung as the mirror image of the training player
 * (a left-handed player): decided once per session from all its strokes,
 * because a player does not change hands between strokes.
 */
export function isMirrorImage(model: StrokeModel, rows: readonly number[][]): boolean {
  if (!model.known || rows.length === 0) return false;
  const spread = (flip: boolean) =>
    rows.reduce((s, x) => s + Math.log(Math.max(1e-9, predict(model, flip ? mirrorFeatures(x) : x).distance)), 0) / rows.length;
  return spread(true) < spread(false) - MIRROR_MARGIN;
}

export function summarise(given: Samples, strokes: readonly Stroke[]): SessionSummary {
  const { t, length } = asColumns(given);
  const durationS = length > 1 ? (t[length - 1]! - t[0]!) / 1000 : 0;
  return summariseStrokes(durationS, strokes);
}

/** The summary of strokes over a known duration (several boards of one session share it). */
export function summariseStrokes(durationS: number, strokes: readonly Pick<Stroke, 'speedKmh' | 'type'>[]): SessionSummary {
  const speeds = strokes.map((s) => s.speedKmh);
  const countsByType = Object.fromEntries(OUTCOMES.map((t) => [t, 0])) as Record<StrokeOutcome, number>;
  for (const s of strokes) countsByType[s.type]++;
  return {
    count: strokes.length,
    durationS,
    strokesPerMinute: durationS > 0 ? strokes.length / (durationS / 60) : 0,
    maxSpeedKmh: speeds.length ? Math.max(...speeds) : 0,
    medianSpeedKmh: speeds.length ? median(speeds) : 0,
    countsByType,
  };
}

/**
 * Detected peaks with their feature rows, for training and evaluation: the
 * same detection and features the analysis applies, without a model.
 */
export function strokeFeatureRows(
  given: Samples,
  opts: AnalysisOptions = {},
): { peak: StrokePeak; features: number[] }[] {
  const samples = asColumns(given);
  const o = resolveOptions(opts);
  const peaks = detectStrokes(samples, o, o.rateHz ?? estimateRateHz(samples));
  return peaks.map((peak) => ({ peak, features: strokeFeatures(samples, peak.sample) }));
}
