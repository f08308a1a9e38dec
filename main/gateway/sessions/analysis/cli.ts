/**
 * `courtside analyze <recording.csv> [--json] [--lever-arm M]`
 *
 * Prints a table of strokes and a summary (or JSON with --json) for a racket
 * IMU recording in either CSV layout csv.ts reads; a file interleaving several
 * devices is analysed per device. Usage errors and unreadable files print one
 * line on stderr and return 2, so scripts can tell them from a crash (1).
 */
import { basename, resolve } from 'node:path';
import { HELP_OPTION, numberFlag, parse, runCommand, UsageError } from '../../../cli/args.js';
import type { CommandIO } from '../../../cli/io.js';
import { analyzeSamples } from './analyze.js';
import { RecordingFormatError, readRecordingFile, type ParsedRecording } from './csv.js';
import { DEFAULT_OPTIONS, OUTCOMES, type AnalysisOptions, type AnalysisResult } from './types.js';
import { strokeJson, summaryJson } from './wire.js';

const USAGE = `usage: courtside analyze <recording.csv> [--json] [--lever-arm M]

Detects badminton strokes in a racket IMU recording and classifies them
(clear, drive, lift, smash, or unknown when a stroke is unlike any the model
was trained on). Speed is the racket-head speed: peak angular speed x lever arm.

  <recording.csv>   "device,time,ax,ay,az,gx,gy,gz" (time in ms, accel in g,
                    gyro in dps) or the badminton-imu dataset layout
  --json            machine-readable output
  --lever-arm M     wrist to string-bed centre in metres, for racket-head
                    speed (default ${DEFAULT_OPTIONS.leverArmM})
  -h, --help        this text
`;

interface Parsed {
  help: boolean;
  json: boolean;
  file?: string;
  options: AnalysisOptions;
}

function parseAnalyzeArgs(argv: string[]): Parsed {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, 'lever-arm': { type: 'string' }, ...HELP_OPTION }, true);
  if (positionals.length > 1) throw new UsageError(`one recording at a time (got ${positionals[0]} and ${positionals[1]})`);
  const leverArmM = numberFlag('lever-arm', values['lever-arm'], { above: 0, max: 3 });
  return {
    help: values.help ?? false,
    json: values.json ?? false,
    file: positionals[0],
    options: leverArmM === undefined ? {} : { leverArmM },
  };
}

/** argv: the arguments after `analyze`. Resolves to the exit code. */
export function analyzeCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, () => analyze(parseAnalyzeArgs(argv), io), { prefix: 'courtside analyze', seeHelp: true });
}

async function analyze(args: Parsed, io: CommandIO): Promise<number> {
  const fail = (msg: string) => {
    io.stderr.write(`courtside analyze: ${msg.replace(/\s+/g, ' ').trim()}\n`);
    return 2;
  };
  if (args.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (args.file === undefined) throw new UsageError('missing <recording.csv>');

  let parsed: ParsedRecording;
  try {
    parsed = await readRecordingFile(resolve(io.cwd, args.file));
  } catch (err) {
    if (err instanceof RecordingFormatError) return fail(`${args.file}: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    return fail(`cannot read ${args.file}: ${why}`);
  }
  const usable = parsed.recordings.filter((r) => r.samples.length > 0);
  if (usable.length === 0) return fail(`${args.file}: no samples`);

  const results = usable.map((r) => ({
    device: r.device,
    startT: r.samples[0]!.t,
    ...analyzeSamples(r.samples, args.options),
  }));
  if (args.json) {
    // snake_case with units in the names, like the wire and the export.
    const recordings = results.map((r) => ({
      device: r.device,
      rate_hz: r.rateHz,
      start_t_ms: r.startT,
      mirrored: r.mirrored,
      strokes: r.strokes.map(strokeJson),
      summary: summaryJson(r.summary),
    }));
    io.stdout.write(
      JSON.stringify(
        { file: args.file, format: parsed.format, skipped_rows: parsed.skippedRows, recordings },
        // Float noise past a thousandth of a unit is not information.
        (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(3)) : v),
        2,
      ) + '\n',
    );
  } else {
    io.stdout.write(renderText(basename(args.file), parsed, results));
  }
  return 0;
}

function renderText(
  name: string,
  parsed: ParsedRecording,
  results: (AnalysisResult & { device: string | null; startT: number })[],
): string {
  const lines: string[] = [];
  const skipped = parsed.skippedRows ? `, ${parsed.skippedRows} bad rows skipped` : '';
  lines.push(`${name}: ${parsed.format} layout${skipped}`);
  for (const r of results) {
    const s = r.summary;
    lines.push('');
    const hand = r.mirrored ? ', mirror image (left-handed?)' : '';
    lines.push(`${r.device !== null ? `device ${r.device}, ` : ''}${r.rateHz.toFixed(1)} Hz, ${s.durationS.toFixed(1)} s${hand}`);
    if (r.strokes.length) {
      lines.push('    #   time s  type     conf  peak dps  speed km/h  peak g');
      for (const k of r.strokes) {
        lines.push(
          [
            String(k.index + 1).padStart(5),
            ((k.tMs - r.startT) / 1000).toFixed(1).padStart(8),
            ' ' + k.type.padEnd(8),
            k.confidence.toFixed(2).padStart(5),
            k.peakDps.toFixed(0).padStart(9),
            k.speedKmh.toFixed(1).padStart(11),
            k.peakG.toFixed(1).padStart(7),
            k.saturated ? '  saturated' : '',
          ].join(' ').trimEnd(),
        );
      }
    }
    lines.push(
      `${s.count} strokes (${s.strokesPerMinute.toFixed(1)}/min); ` +
        `speed max ${s.maxSpeedKmh.toFixed(1)} km/h, median ${s.medianSpeedKmh.toFixed(1)} km/h`,
    );
    lines.push(OUTCOMES.map((t) => `${t} ${s.countsByType[t]}`).join(', '));
    const sat = r.strokes.filter((k) => k.saturated).length;
    if (sat) lines.push(`${sat} stroke(s) hit the sensor's full scale: their speeds are lower bounds`);
  }
  return lines.join('\n') + '\n';
}
