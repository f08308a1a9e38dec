/**
 * Reads racket IMU recordings from CSV, in either of two layouts told apart
 * by the header:
 *
 * - `dataset`: the badminton-imu reference recordings,
 *   `Date,Time,Accel_X (g),…,Gyro_Z (°/s),Mag_X (G),…,Timestamp (s)`.
 *   The degree sign is one Latin-1 byte, and despite the "(s)" the Timestamp
 *   holds ms since start (checked against the Time column when present).
 * - `courtside`: the gateway's own export, `device,time,ax,ay,az,gx,gy,gz`
 *   with time in ms; one file may interleave several devices.
 */
import { readFile } from 'node:fs/promises';
import type { ImuSample } from './types.js';

export type RecordingFormat = 'dataset' | 'courtside';

export interface DeviceRecording {
  /** Device id from the `device` column; null for layouts without one. */
  device: string | null;
  /** Sorted by time. */
  samples: ImuSample[];
}

export interface ParsedRecording {
  format: RecordingFormat;
  recordings: DeviceRecording[];
  /** Data rows dropped because a field was missing or not a number. */
  skippedRows: number;
}

export class RecordingFormatError extends Error {
  override name = 'RecordingFormatError';
}

const AXES = ['ax', 'ay', 'az', 'gx', 'gy', 'gz'] as const;

/** Header cell to a bare lowercase name: units, the degree byte and spaces go. */
function normalise(cell: string): string {
  return cell
    .replace(/\(.*?\)/g, '')
    .replace(/[^\x20-\x7e]/g, '')
    .trim()
    .toLowerCase();
}

interface Layout {
  format: RecordingFormat;
  time: number;
  axes: number[];
  device: number;
  clock: number;
}

/** Text from the file in a one-line message: printable ASCII, and not the whole of a long line. */
function shown(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 80 ? `${printable.slice(0, 80)}…` : printable;
}

function detectLayout(header: string[]): Layout {
  const names = header.map(normalise);
  const at = (name: string) => names.indexOf(name);
  if (AXES.every((a) => at(a) >= 0) && at('time') >= 0) {
    return { format: 'courtside', time: at('time'), axes: AXES.map(at), device: at('device'), clock: -1 };
  }
  const dataset = ['accel_x', 'accel_y', 'accel_z', 'gyro_x', 'gyro_y', 'gyro_z'];
  if (dataset.every((a) => at(a) >= 0) && at('timestamp') >= 0) {
    return { format: 'dataset', time: at('timestamp'), axes: dataset.map(at), device: -1, clock: at('time') };
  }
  throw new RecordingFormatError(
    `unrecognised CSV header "${shown(header.join(','))}": expected ` +
      '"device,time,ax,ay,az,gx,gy,gz" or the badminton-imu layout (Accel_X…Gyro_Z, Timestamp)',
  );
}

/** "13:09:12.597" to ms since midnight, NaN otherwise. */
function clockMs(cell: string | undefined): number {
  const m = /^(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec((cell ?? '').trim());
  if (!m) return NaN;
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
}

function medianStep(values: number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < values.length; i++) {
    const d = values[i]! - values[i - 1]!;
    if (d > 0 && Number.isFinite(d)) steps.push(d);
  }
  steps.sort((a, b) => a - b);
  return steps.length ? steps[steps.length >> 1]! : NaN;
}

/**
 * Parses a recording. Bytes are decoded as Latin-1, which cannot fail and
 * leaves every ASCII field intact whether the file was Latin-1 or UTF-8.
 */
export function parseRecording(input: string | Uint8Array): ParsedRecording {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  // A zip's first bytes: most likely the export of a session, whose samples are a file inside it.
  if (text.startsWith('PK\u0003\u0004')) throw new RecordingFormatError('a zip file, not a CSV: unzip it and pass its samples.csv');
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n|\r/);
  let h = 0;
  while (h < lines.length && lines[h]!.trim() === '') h++;
  if (h === lines.length) throw new RecordingFormatError('empty CSV: no header line');
  const layout = detectLayout(lines[h]!.split(','));

  const byDevice = new Map<string | null, ImuSample[]>();
  const clocks: number[] = [];
  const stamps: number[] = [];
  let skippedRows = 0;
  for (let i = h + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const t = Number(cells[layout.time]);
    const v = layout.axes.map((c) => Number(cells[c]));
    if (!Number.isFinite(t) || (cells[layout.time] ?? '').trim() === '' || v.some((x) => !Number.isFinite(x))) {
      skippedRows++;
      continue;
    }
    const device = layout.device >= 0 ? (cells[layout.device] ?? '').trim() : null;
    let list = byDevice.get(device);
    if (!list) byDevice.set(device, (list = []));
    list.push({ t, ax: v[0]!, ay: v[1]!, az: v[2]!, gx: v[3]!, gy: v[4]!, gz: v[5]! });
    if (layout.clock >= 0) {
      clocks.push(clockMs(cells[layout.clock]));
      stamps.push(t);
    }
  }

  // The dataset's header claims seconds; trust the wall clock over the label.
  if (layout.format === 'dataset' && clocks.length > 1) {
    const ratio = medianStep(clocks) / medianStep(stamps);
    if (ratio > 100) for (const list of byDevice.values()) for (const s of list) s.t *= 1000;
  }

  const recordings: DeviceRecording[] = [];
  for (const [device, samples] of byDevice) {
    samples.sort((a, b) => a.t - b.t);
    recordings.push({ device, samples });
  }
  return { format: layout.format, recordings, skippedRows };
}

export async function readRecordingFile(path: string): Promise<ParsedRecording> {
  return parseRecording(await readFile(path));
}

/** Courtside export layout, the inverse of parseRecording for that format. */
export function formatCourtsideCsv(device: string, samples: readonly ImuSample[]): string {
  const rows = samples.map((s) => [device, s.t, s.ax, s.ay, s.az, s.gx, s.gy, s.gz].join(','));
  return ['device,time,ax,ay,az,gx,gy,gz', ...rows].join('\n') + '\n';
}
