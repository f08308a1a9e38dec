/**
 * Strokes found while a session records, so a coach sees the count and the
 * last swing's speed per board before the stop. Each board keeps the last
 * few seconds of its samples (thinned to 200 Hz); every so often the same analysis the session
 * gets after the stop runs over them, and a stroke is taken once it lies far
 * enough from both ends of that window for its whole swing to be in it. The
 * analysis after the stop, on every sample, stays the record: the live
 * figures are what it will most likely say, not a second truth.
 */
import type { LiveStroke } from '../../../firmware-protocol/index.js';
import type { IncomingBatch } from '../samples.js';
import { analyzeSamples } from './analysis/analyze.js';
import type { SampleColumns } from './analysis/columns.js';
import { hypot3 } from './analysis/hypot3.js';

/** Samples kept per board, ms of its clock: a stroke with a second either side, and room to wait for the next analysis. */
const WINDOW_MS = 4000;
/**
 * Highest rate analysed live: faster boards are thinned to it, which bounds the cost per board
 * (about 1 ms per analysis on one core) and leaves a swing's peak (tens of ms wide) intact.
 */
const LIVE_RATE_HZ = 200;
/** A stroke this close to either end of the window waits: its swing (±800 ms) is not all there yet. */
const SETTLE_MS = 1000;
/** New samples between two analyses of a board, ms. */
const EVERY_MS = 400;
/** Two live strokes closer than this are one (the analysis's own refractory period is longer). */
const SAME_MS = 300;

/**
 * A board's window as columns (what the analysis reads) kept in arrays reused from frame to
 * frame: an object per sample and a copy into columns for each analysis were most of what
 * recording 50 boards cost the gateway here. [start, end) holds the samples, oldest first.
 */
interface BoardWindow {
  cols: Float64Array[];
  start: number;
  end: number;
  /** End of the samples when the board was last analysed. */
  analysedTo: number;
  /** Time of the newest stroke taken. */
  lastT: number;
  count: number;
  /** Samples seen, for thinning a fast board by its place in the stream. */
  seen: number;
}

/** Time, the six axes in SampleColumns' order, then the gyroscope magnitude. */
const T = 0;
const COLUMNS = 8;

/** Room for `more` samples after `end`: the window moved to the front, or into larger arrays. */
function makeRoom(w: BoardWindow, more: number): void {
  const n = w.end - w.start;
  const cap = w.cols[T]!.length;
  if (w.end + more <= cap) return;
  const size = n + more <= cap / 2 ? cap : Math.max(256, 2 * (n + more));
  w.cols = w.cols.map((c) => {
    const to = size === cap ? c : new Float64Array(size);
    to.set(c.subarray(w.start, w.end));
    return to;
  });
  w.start = 0;
  w.end = n;
}

function view(w: BoardWindow): SampleColumns {
  const [t, ax, ay, az, gx, gy, gz, gyro] = w.cols.map((c) => c.subarray(w.start, w.end)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  return { length: w.end - w.start, t, ax, ay, az, gx, gy, gz, gyro };
}

export type StrokeSink = (sessionId: string, deviceId: string, stroke: LiveStroke, count: number) => void;

export class LiveStrokes {
  private readonly windows = new Map<string, BoardWindow>();

  constructor(private readonly found: StrokeSink) {}

  /** A frame stored for a recording session. Frames older than the window's end (a resend) are left out. */
  push(sessionId: string, b: IncomingBatch): void {
    if (b.samples.length === 0 || !(b.rateHz > 0)) return;
    const key = `${sessionId}\u0000${b.deviceId}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { cols: Array.from({ length: COLUMNS }, () => new Float64Array(0)), start: 0, end: 0, analysedTo: -Infinity, lastT: -Infinity, count: 0, seen: 0 };
      this.windows.set(key, w);
    }
    const end = w.end > w.start ? w.cols[T]![w.end - 1]! : -Infinity;
    if (b.startMs <= end) return;
    const step = 1000 / b.rateHz;
    const every = Math.max(1, Math.round(b.rateHz / LIVE_RATE_HZ));
    makeRoom(w, Math.ceil(b.samples.length / every));
    const [t, ax, ay, az, gx, gy, gz, gyro] = w.cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < b.samples.length; i++) {
      if (w.seen++ % every !== 0) continue;
      const r = b.samples[i]!;
      const k = w.end++;
      t[k] = b.startMs + i * step;
      ax[k] = r[0] ?? 0; ay[k] = r[1] ?? 0; az[k] = r[2] ?? 0;
      gx[k] = r[3] ?? 0; gy[k] = r[4] ?? 0; gz[k] = r[5] ?? 0;
      // Computed once here, not at each of the ~10 analyses that see this sample.
      gyro[k] = hypot3(gx[k]!, gy[k]!, gz[k]!);
    }
    if (w.end === w.start) return;
    const last = t[w.end - 1]!;
    while (w.start < w.end && t[w.start]! < last - WINDOW_MS) w.start++;
    if (w.analysedTo === -Infinity) w.analysedTo = t[w.start]!;
    if (last - w.analysedTo < EVERY_MS) return;
    w.analysedTo = last;
    this.analyse(sessionId, b.deviceId, w);
  }

  private analyse(sessionId: string, deviceId: string, w: BoardWindow): void {
    const first = w.cols[T]![w.start]!;
    const last = w.cols[T]![w.end - 1]!;
    for (const s of analyzeSamples(view(w)).strokes) {
      if (s.tMs < first + SETTLE_MS || s.tMs > last - SETTLE_MS || s.tMs <= w.lastT + SAME_MS) continue;
      w.lastT = s.tMs;
      w.count++;
      this.found(sessionId, deviceId, { t_ms: s.tMs, type: s.type, speed_kmh: Math.round(s.speedKmh * 10) / 10, peak_dps: Math.round(s.peakDps * 10) / 10 }, w.count);
    }
  }

  /** The session stopped recording: its windows go. */
  forget(sessionId: string): void {
    for (const key of this.windows.keys()) if (key.startsWith(`${sessionId}\u0000`)) this.windows.delete(key);
  }
}
