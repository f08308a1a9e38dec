/**
 * The board protocol's data frames, shared by VirtualBoard and the bench load
 * generator so both put exactly the same bytes on the wire.
 */

import type { ImuSample } from './swing.js';
import { mulberry32 } from '../gateway/sessions/analysis/prng.js';

export type { ImuSample };
export interface ImuSourceLike { next(): ImuSample }
/** [ax, ay, az, gx, gy, gz], the row layout of batch_sensor_data. */
export type SampleRow = [number, number, number, number, number, number];

const round = (v: number, places: number): number => {
  const f = 10 ** places;
  return Math.round(v * f) / f;
};

/** Rounds like the firmware's printf so frames have realistic sizes. */
export function sampleRow(s: ImuSample): SampleRow {
  return [round(s.ax, 4), round(s.ay, 4), round(s.az, 4), round(s.gx, 2), round(s.gy, 2), round(s.gz, 2)];
}

export function sensorDataFrame(seq: number, timestamp: number, row: SampleRow, sessionId: string | null): Record<string, unknown> {
  const [ax, ay, az, gx, gy, gz] = row;
  return sessionId === null
    ? { type: 'sensor_data', seq, timestamp, data: { ax, ay, az, gx, gy, gz } }
    : { type: 'sensor_data', seq, session_id: sessionId, timestamp, data: { ax, ay, az, gx, gy, gz } };
}

export function batchSensorDataFrame(seq: number, startMs: number, rateHz: number, rows: SampleRow[], sessionId: string | null): Record<string, unknown> {
  return sessionId === null
    ? { type: 'batch_sensor_data', seq, start_ms: startMs, rate_hz: rateHz, samples: rows }
    : { type: 'batch_sensor_data', seq, session_id: sessionId, start_ms: startMs, rate_hz: rateHz, samples: rows };
}

export function boardEndpoint(url: string, deviceCode: string, token?: string): string {
  const base = url.replace(/\/+$/, '');
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${base}/ws/esp32/${encodeURIComponent(deviceCode)}/${q}`;
}

/** Seeded, so two runs of a board jitter the same way. */
export const prng = mulberry32;

export function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

