/**
 * Types of the badminton stroke analysis: 6-axis racket IMU samples in,
 * detected and classified strokes plus a session summary out.
 *
 * Every duration is in milliseconds of recording time, never in samples, so
 * the same options work for the 10 Hz reference recordings and for boards
 * streaming at 100-1000 Hz.
 */

/** One 6-axis IMU reading from the racket board. */
export interface ImuSample {
  /** Time in ms (any origin; only differences matter). */
  t: number;
  /** Accelerometer, g. */
  ax: number;
  ay: number;
  az: number;
  /** Gyroscope, degrees/s. */
  gx: number;
  gy: number;
  gz: number;
}

export const STROKE_TYPES = ['clear', 'drive', 'lift', 'smash'] as const;
export type StrokeType = (typeof STROKE_TYPES)[number];
/**
 * What a stroke can be reported as: one of the types, or `unknown` when its
 * features lie outside what the classifier was trained on.
 */
export const OUTCOMES = [...STROKE_TYPES, 'unknown'] as const;
export type StrokeOutcome = (typeof OUTCOMES)[number];

export interface Stroke {
  /** 0-based position of the stroke in the session. */
  index: number;
  /** Time of the angular-speed peak, ms, in the recording's own time base. */
  tMs: number;
  /** Highest gyroscope magnitude in the stroke, degrees/s (raw, unsmoothed). */
  peakDps: number;
  /** peak angular speed (rad/s) x lever arm, in km/h. */
  speedKmh: number;
  /** Highest accelerometer magnitude around the peak, g. */
  peakG: number;
  /**
   * An axis reached the sensor's full scale near the peak: speeds and
   * accelerations of this stroke are then lower bounds, not measurements.
   */
  saturated: boolean;
  /** One of the four types, or `unknown` when the stroke is unlike anything the model was trained on. */
  type: StrokeOutcome;
  /** Classifier probability of the most likely type, 0..1 (for `unknown` too). */
  confidence: number;
}

export interface SessionSummary {
  count: number;
  /** Span from first to last sample, seconds. */
  durationS: number;
  /** count / duration in minutes (0 for an empty recording). */
  strokesPerMinute: number;
  /** Fastest racket-head speed, km/h (0 without strokes). */
  maxSpeedKmh: number;
  medianSpeedKmh: number;
  /** Every outcome, `unknown` included, zeros too. */
  countsByType: Record<StrokeOutcome, number>;
}

export interface AnalysisResult {
  strokes: Stroke[];
  summary: SessionSummary;
  /** Sample rate the detector used (estimated unless given), Hz. */
  rateHz: number;
  /**
   * The strokes were classified as the mirror image of the session: they
   * looked like the training player's swings mirrored (a left-handed player).
   */
  mirrored: boolean;
  /**
   * Per stroke, the features as the classifier saw them (mirrored when
   * `mirrored`): what a coach's correction of that stroke adds to the
   * player's profile.
   */
  features: number[][];
}

export interface AnalysisOptions {
  /**
   * Distance from the rotation centre (wrist) to the centre of the string
   * bed, metres. Default 0.6: a 665 mm racket held at the grip end puts the
   * string-bed centre about 0.56 m from the butt, and the wrist joint sits a
   * few cm behind the butt. Angular velocity is the same everywhere on the
   * rigid racket, so where the board is mounted does not matter; only this
   * arm does. Shoulder and elbow rotation are ignored, so real head speeds
   * are higher than this estimate.
   */
  leverArmM?: number;
  /** Gyroscope full scale, degrees/s. Default 2000 (typical ±2000 dps range). */
  gyroFullScaleDps?: number;
  /** Accelerometer full scale, g. Default 16. */
  accelFullScaleG?: number;
  /**
   * Fraction of full scale at which an axis counts as saturated. Default
   * 0.98: sensors clip a few LSB short of the nominal range.
   */
  saturationFraction?: number;
  /**
   * Smallest gyroscope magnitude a stroke must peak at, degrees/s. Default
   * 250: the slowest drives in the reference data peak near 340 dps, while
   * idle handling between strokes stays under about 200.
   */
  thresholdDps?: number;
  /**
   * Magnitude below which the racket counts as quiet, degrees/s. Default 90.
   * Motion above it with no quiet gap (see quietGapMs) is one burst.
   */
  releaseDps?: number;
  /**
   * A burst ends only after the magnitude stays below releaseDps for longer
   * than this, ms. Default 200: the backswing-to-forward-swing reversal and
   * the wobble of a drive dip below releaseDps for about 100 ms.
   */
  quietGapMs?: number;
  /**
   * Two peaks closer than this are one stroke whatever lies between them, ms.
   * Default 400: a player cannot hit twice in under ~0.7 s (the shuttle has
   * to cross the net and come back), so this only drops echo peaks.
   */
  refractoryMs?: number;
  /**
   * Two peaks within the same burst and closer than this are one stroke, ms.
   * Default 1000: a drive's swing and follow-through produce peaks up to
   * ~0.6 s apart, yet a continuous rally without rest still splits at 1 s.
   */
  mergeMs?: number;
  /**
   * Moving-average window applied to the gyroscope magnitude before peak
   * finding, ms. Default 50; at 10 Hz this rounds to no smoothing at all.
   */
  smoothMs?: number;
  /**
   * Half-width of the window around the peak searched for peak acceleration
   * and saturation, ms. Default 300.
   */
  strokeWindowMs?: number;
  /** Sample rate, Hz. Default: estimated from the median sample interval. */
  rateHz?: number;
}

export type ResolvedOptions = Required<Omit<AnalysisOptions, 'rateHz'>> & { rateHz?: number };

export const DEFAULT_OPTIONS: Readonly<Required<Omit<AnalysisOptions, 'rateHz'>>> = Object.freeze({
  leverArmM: 0.6,
  gyroFullScaleDps: 2000,
  accelFullScaleG: 16,
  saturationFraction: 0.98,
  thresholdDps: 250,
  releaseDps: 90,
  quietGapMs: 200,
  refractoryMs: 400,
  mergeMs: 1000,
  smoothMs: 50,
  strokeWindowMs: 300,
});

export function resolveOptions(opts: AnalysisOptions = {}): ResolvedOptions {
  const out: ResolvedOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(opts)) {
    // undefined must not erase a default (callers spread partial CLI options).
    if (v !== undefined) (out as unknown as Record<string, number>)[k] = v as number;
  }
  return out;
}
