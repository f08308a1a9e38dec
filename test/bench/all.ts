/**
 * `npm run bench`: every benchmark in one run, one JSON document on stdout:
 * - fanout: 50 boards x 100 frames/s of 5 samples against a bare ws relay and Socket.IO, Courtside
 *   live-only and recording every board (courtside-rec), per-frame acks;
 * - fanout_cumulative: the same boards on cumulative acks, with recording's floor beside them too
 *   (bare-store: the bare relay writing every frame's bytes to SQLite);
 * - fanout_200: 200 boards x 100 frames/s, 2 operators (p99, lost);
 * - idle: 10,000 heartbeating boards, RSS per board against a bare ws server;
 * - ingest: durable ingest into SQLite and MariaDB, several loader processes;
 * - data: export and analysis of an hour of ten boards, list_sessions, device list;
 * - ui_live: the Live view in headless Chromium; fairness between connections;
 * - fleet: one gateway against two joined by Redis (fleet.ts);
 * - tls_reconnect: 200 boards reconnecting at once over WSS and WS (tls.ts; the
 *   fan-out over WSS is run.ts's courtside_tls target).
 * `--only a,b` runs some parts (names above); `--ui-minutes` (default 10)
 * shortens ui_live. `--repeat N` (default 1) runs each part N times in turn and
 * reports, in the same shape, the median of every figure, with the min-max of
 * each figure that moved under `ranges.<part>` and every run under `runs.<part>`. Each part also runs alone (npm run bench:fanout,
 * bench:ingest, bench:idle, bench:data, bench:ui, bench:tls). `npm run bench:compare`
 * compares a saved run with bench/baseline.json.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { foldRuns } from './median.js';

const here = resolve(fileURLToPath(import.meta.url), '..');
const root = resolve(here, '../..');

const PARTS = ['fanout', 'fanout_cumulative', 'fanout_200', 'idle', 'ingest', 'data', 'ui_live', 'fairness', 'fleet', 'tls_reconnect'] as const;
type Part = (typeof PARTS)[number];
let uiMinutes = '10';
let repeat = 1;
let only: Part[] = [...PARTS];
try {
  const { values } = parseArgs({ options: { 'ui-minutes': { type: 'string' }, only: { type: 'string' }, repeat: { type: 'string' } }, strict: true });
  if (values['ui-minutes'] !== undefined) uiMinutes = values['ui-minutes'];
  if (values.repeat !== undefined) {
    repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 9) throw new Error(`--repeat takes a whole number from 1 to 9, got '${values.repeat}'`);
  }
  if (values.only !== undefined) {
    only = values.only.split(',') as Part[];
    for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only takes ${PARTS.join(', ')}, got '${p}'`);
  }
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  process.exit(2);
}
if (!(Number(uiMinutes) > 0)) {
  process.stderr.write(`bench: --ui-minutes must be a number > 0, got '${uiMinutes}'\n`);
  process.exit(2);
}

function run(script: string, args: string[] = []): Promise<{ code: number | null; json: unknown }> {
  return new Promise((ok) => {
    process.stderr.write(`bench: ${script} ${args.join(' ')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      let json: unknown = null;
      try {
        json = JSON.parse(out);
      } catch {
        json = { error: 'no JSON output', output: out.slice(-2000) };
      }
      ok({ code, json });
    });
  });
}

/** Each board sends 100 frames a second of 5 samples (500 Hz), 8 s measured: the floor's workload. */
const FRAMES_100HZ = ['--rate', '500', '--modes', 'batch', '--batch-size', '5', '--seconds', '8'];
const args: Record<Part, [string, string[]]> = {
  fanout: ['run.ts', FRAMES_100HZ],
  fanout_cumulative: ['run.ts', [...FRAMES_100HZ, '--only', 'bare,bare-store,courtside,courtside-rec', '--ack', 'cumulative']],
  fanout_200: ['run.ts', [...FRAMES_100HZ, '--boards', '200', '--operators', '2', '--only', 'bare,courtside,courtside-rec', '--ack', 'cumulative']],
  idle: ['idle.ts', []],
  ingest: ['ingest.ts', ['--loaders', '4']],
  data: ['data.ts', []],
  ui_live: ['ui-live.ts', ['--minutes', uiMinutes]],
  fairness: ['fairness.ts', []],
  fleet: ['fleet.ts', []],
  tls_reconnect: ['tls.ts', []],
};
const doc: Record<string, unknown> = {};
const ranges: Record<string, unknown> = {};
const runs: Record<string, unknown[]> = {};
let failed = false;
for (const p of only) {
  runs[p] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await run(args[p][0], args[p][1]);
    runs[p]!.push(r.json);
    if (r.code !== 0) failed = true;
  }
  if (repeat === 1) doc[p] = runs[p]![0];
  else {
    const folded = foldRuns(runs[p]!);
    doc[p] = folded.doc;
    ranges[p] = folded.ranges;
  }
}
if (repeat > 1) Object.assign(doc, { repeat, ranges, runs });
process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
process.exit(failed ? 1 : 0);
