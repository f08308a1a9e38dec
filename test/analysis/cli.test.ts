/**
 * `courtside analyze` through analyzeCommand, with captured output.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { analyzeCommand } from '../../main/gateway/sessions/analysis/cli.js';
import { formatCourtsideCsv } from '../../main/gateway/sessions/analysis/csv.js';
import { createSwingSession } from '../../main/simulator/swing.js';
import { SKIP_NO_DATASET, datasetFile } from './helpers.js';
import { captureIO } from '../support/cli.js';

async function run(argv: string[]) {
  const c = captureIO();
  const code = await analyzeCommand(argv, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

interface JsonOut {
  format: string;
  skipped_rows: number;
  recordings: { device: string | null; rate_hz: number; strokes: { type: string; speed_kmh: number; t_ms: number }[]; summary: { count: number; counts_by_type: Record<string, number> } }[];
}

describe('courtside analyze', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-analyze-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--json on a dataset recording parses and counts 30 smashes', { skip: SKIP_NO_DATASET }, async () => {
    const r = await run([datasetFile('smash'), '--json']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.equal(out.format, 'dataset');
    assert.equal(out.recordings.length, 1);
    const rec = out.recordings[0]!;
    assert.ok(Math.abs(rec.summary.count - 30) <= 1, `${rec.summary.count}`);
    assert.ok(rec.summary.counts_by_type.smash! >= rec.summary.count - 1);
    assert.equal(rec.strokes.length, rec.summary.count);
  });

  test('--json is snake_case with the unit in every measured name, like the wire', { skip: SKIP_NO_DATASET }, async () => {
    const r = await run([datasetFile('drive'), '--json']);
    const out = JSON.parse(r.stdout) as JsonOut & Record<string, unknown>;
    const keys = new Set<string>();
    const walk = (v: unknown, counts: boolean): void => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, false));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
        if (!counts) keys.add(k);
        walk(x, k === 'counts_by_type');
      }
    };
    walk(out, false);
    for (const k of keys) assert.match(k, /^[a-z][a-z0-9_]*$/, `key ${k}`);
    const stroke = out.recordings[0]!.strokes[0]!;
    assert.deepEqual(Object.keys(stroke), ['index', 't_ms', 'type', 'confidence', 'peak_dps', 'speed_kmh', 'peak_g', 'saturated']);
    assert.deepEqual(Object.keys(out.recordings[0]!.summary.counts_by_type), ['clear', 'drive', 'lift', 'smash', 'unknown']);
    assert.equal(out.skipped_rows, 0);
    // The text table names the same quantity the same way.
    const text = (await run([datasetFile('drive')])).stdout;
    assert.match(text, /speed km\/h/);
    assert.match(text, /speed max \d+\.\d km\/h, median/);
    assert.doesNotMatch(text, /head km\/h|swing/);
  });

  test('--lever-arm scales the speeds', { skip: SKIP_NO_DATASET }, async () => {
    const a = JSON.parse((await run([datasetFile('lift'), '--json'])).stdout) as JsonOut;
    const b = JSON.parse((await run(['--json', '--lever-arm', '0.3', datasetFile('lift')])).stdout) as JsonOut;
    const c = JSON.parse((await run(['--json', '--lever-arm=0.3', datasetFile('lift')])).stdout) as JsonOut;
    const speed = (o: JsonOut) => o.recordings[0]!.strokes[0]!.speed_kmh;
    assert.ok(Math.abs(speed(a) / speed(b) - 2) < 0.01);
    assert.equal(speed(b), speed(c));
  });

  test('human table by default', { skip: SKIP_NO_DATASET }, async () => {
    const r = await run([datasetFile('clear')]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /dataset layout/);
    assert.match(r.stdout, /^ +1 +\d+\.\d +clear /m);
    assert.match(r.stdout, /^30 strokes/m);
  });

  test('courtside export with two devices is analysed per device', async () => {
    const a = createSwingSession({ rateHz: 200, durationS: 12, seed: 1, strokesPerMinute: 30 });
    const b = createSwingSession({ rateHz: 200, durationS: 12, seed: 2, strokesPerMinute: 20 });
    const file = join(dir, 'two.csv');
    writeFileSync(file, formatCourtsideCsv('left', a.samples) + formatCourtsideCsv('right', b.samples).split('\n').slice(1).join('\n'));
    const r = await run([file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.equal(out.format, 'courtside');
    assert.deepEqual(out.recordings.map((x) => x.device), ['left', 'right']);
    assert.equal(out.recordings[0]!.summary.count, a.truth.length);
    assert.equal(out.recordings[1]!.summary.count, b.truth.length);
    assert.ok(Math.abs(out.recordings[0]!.rate_hz - 200) < 2);
    const text = await run([file]);
    assert.match(text.stdout, /device left, (199|200)\.\d Hz/);
  });

  test('--help prints usage and succeeds', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: courtside analyze <recording\.csv> \[--json\] \[--lever-arm M\]/);
  });

  for (const [name, argv, pattern] of [
    ['unknown flag', ['x.csv', '--bogus'], /unknown option --bogus/],
    ['mistyped flag', ['x.csv', '--jsno'], /unknown option --jsno \(did you mean --json\?\)/],
    ['missing file argument', ['--json'], /missing <recording\.csv>/],
    ['two files', ['a.csv', 'b.csv'], /one recording at a time/],
    ['value on a switch', ['x.csv', '--json=yes'], /--json takes no value/],
    ['bad lever arm', ['x.csv', '--lever-arm', 'far'], /--lever-arm/],
    ['lever arm without value', ['x.csv', '--lever-arm'], /--lever-arm/],
    ['unreadable file', ['/nonexistent/rec.csv'], /cannot read \/nonexistent\/rec\.csv: no such file/],
  ] as const) {
    test(`${name}: one line on stderr, exit 2`, async () => {
      const r = await run([...argv]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /^courtside analyze: [^\n]+\n$/);
    });
  }

  test('a file that is not a recording: one line, exit 2', async () => {
    const file = join(dir, 'notes.csv');
    writeFileSync(file, 'name,score\nana,21\n');
    const r = await run([file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^courtside analyze: .*unrecognised CSV header[^\n]*\n$/);
    const dirArg = await run([dir]);
    assert.equal(dirArg.code, 2);
    assert.match(dirArg.stderr, /is a directory/);
    // A long unknown header is shown cut short, not whole.
    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, `${Array.from({ length: 60 }, (_, i) => `column_${i}`).join(',')}\n1\n`);
    const w = await run([wide]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /^courtside analyze: [^\n]*unrecognised CSV header "column_0,column_1,[^"\n]{50,80}…"[^\n]*\n$/);
  });

  test('a zip (a session export, made here by Python zipfile): one line that says to pass its samples.csv, exit 2', async () => {
    const zip = join(dir, 'export.zip');
    await promisify(execFile)('python3', ['-c', 'import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z: z.writestr("samples.csv", "device,time,ax,ay,az,gx,gy,gz\\n")', zip]);
    const r = await run([zip]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^courtside analyze: [^\n]*a zip file, not a CSV: unzip it and pass its samples\.csv\n$/);
  });
});
