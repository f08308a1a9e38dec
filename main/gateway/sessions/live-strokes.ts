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
import type { ImuSample } from './analysis/types.js';

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

interface BoardWindow {
  samples: ImuSample[];
  /** End of the samples when the board was last analysed. */
  analysedTo: number;
  /** Time of the newest stroke taken. */
  lastT: number;
  count: number;
  /** Samples seen, for thinning a fast board by its place in the stream. */
  seen: number;
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
    if (!w) this.windows.set(key, (w = { samples: [], analysedTo: -Infinity, lastT: -Infinity, count: 0, seen: 0 }));
    const end = w.samples.at(-1)?.t ?? -Infinity;
    if (b.startMs <= end) return;
    const step = 1000 / b.rateHz;
    const every = Math.max(1, Math.round(b.rateHz / LIVE_RATE_HZ));
    for (let i = 0; i < b.samples.length; i++) {
      if (w.seen++ % every !== 0) continue;
      const r = b.samples[i]!;
      w.samples.push({ t: b.startMs + i * step, ax: r[0] ?? 0, ay: r[1] ?? 0, az: r[2] ?? 0, gx: r[3] ?? 0, gy: r[4] ?? 0, gz: r[5] ?? 0 });
    }
    if (w.samples.length === 0) return;
    const last = w.samples.at(-1)!.t;
    let drop = 0;
    while (drop < w.samples.length && w.samples[drop]!.t < last - WINDOW_MS) drop++;
    if (drop) w.samples.splice(0, drop);
    if (w.analysedTo === -Infinity) w.analysedTo = w.samples[0]!.t;
    if (last - w.analysedTo < EVERY_MS) return;
    w.analysedTo = last;
    this.analyse(sessionId, b.deviceId, w);
  }

  private analyse(sessionId: string, deviceId: string, w: BoardWindow): void {
    const first = w.samples[0]!.t;
    const last = w.samples.at(-1)!.t;
    for (const s of analyzeSamples(w.samples).strokes) {
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
