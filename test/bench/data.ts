/**
 * Stored-data benchmark: what an operator waits for once sessions exist.
 * Builds a SQLite store holding an hour of ten boards at 200 Hz (7.2 M
 * samples, 72,000 chunks of real swing data), 500 more sessions and 2,000
 * known boards, then times, each in its own process:
 * - the export of the hour as a zip (samples/s, CPU, peak RSS: streamed means
 *   bounded memory; test/sessions/fixtures/export-child.ts);
 * - the stroke analysis of the hour (analysis-child.ts);
 * - `list_sessions` of 500 sessions and the operator device list of 2,000
 *   boards through `courtside serve`'s HTTP API (median of 5 after one warm-up).
 *
 *   node --import tsx test/bench/data.ts [--seconds 3600] [--boards 10] [--sessions 500] [--devices 2000] [--cpu-prof DIR]
 *
 * --cpu-prof writes a V8 CPU profile of each timed process (export, analysis,
 * gateway) into DIR, for finding where the time goes. --code DIR builds and
 * times another checkout's store, export, analysis and gateway (an older
 * commit, say) with this benchmark: before and after in the same conditions.
 * On a shared machine wall times follow the load; the CPU each step costs
 * (cpu_s, and cpu_ms_per_request of the gateway and its SQLite process) does
 * much less.
 *
 * One JSON document on stdout; exit 1 if a step failed, 2 on a bad flag.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { sampleRow } from '../../main/simulator/frames.js';
import { createImuSource } from '../../main/simulator/swing.js';
import type { SampleChunk } from '../../main/gateway/store/types.js';

const here = resolve(fileURLToPath(import.meta.url), '..');
const run = promisify(execFile);
const TOKEN = 'data-bench-operator-token';
const RATE = 200;
const PER_CHUNK = 100;

function fail(msg: string): never {
  process.stderr.write(`data-bench: ${msg}\n`);
  process.exit(2);
}
let v;
try {
  ({ values: v } = parseArgs({
    strict: true,
    options: {
      seconds: { type: 'string', default: '3600' }, boards: { type: 'string', default: '10' },
      sessions: { type: 'string', default: '500' }, devices: { type: 'string', default: '2000' },
      'cpu-prof': { type: 'string' }, code: { type: 'string' },
    },
  }));
} catch (e) {
  fail((e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!);
}
const num = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
};
const SECONDS = num('seconds', v.seconds, 1, 36_000);
const BOARDS = num('boards', v.boards, 1, 64);
const SESSIONS = num('sessions', v.sessions, 0, 10_000);
const DEVICES = num('devices', v.devices, 0, 100_000);
const HOUR_ID = 's-bench-hour';
/** The checkout whose code is timed. */
const root = v.code ? resolve(v.code) : resolve(here, '../..');
/**
 * Node flags of each timed child process. The directory in the same argument: the SQLite
 * writer process inherits execArgv, and a separate DIR there was read as its script.
 */
const NODE_FLAGS = v['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(v['cpu-prof'])}`] : [];

async function build(db: string): Promise<number> {
  // The timed checkout's own store and packing: its schema is the one its gateway expects.
  const { openSqliteStore } = (await import(join(root, 'main/gateway/store/sqlite.ts'))) as typeof import('../../main/gateway/store/sqlite.js');
  const { packSamples } = (await import(join(root, 'main/gateway/sessions/ingest.ts'))) as typeof import('../../main/gateway/sessions/ingest.js');
  const store = await openSqliteStore(db);
  const t0 = Date.UTC(2025, 0, 1);
  const boards = Array.from({ length: BOARDS }, (_, i) => `racket-${i + 1}`);
  await store.createSession({
    sessionId: HOUR_ID, state: 'uploading', boards, playerId: 'p1', court: '1', roomId: null, notes: 'data bench',
    sampleRateHz: RATE, createdAt: new Date(t0), startedAt: new Date(t0), stoppedAt: new Date(t0 + SECONDS * 1000),
    completedAt: null, failureReason: null, summary: null,
  });
  // A few seconds of real swings per board, reused round-robin: realistic values and CSV widths.
  const pool = boards.map((_, b) => {
    const src = createImuSource({ rateHz: RATE, seed: b + 1, strokesPerMinute: 20 });
    return Array.from({ length: 40 }, () => packSamples(Array.from({ length: PER_CHUNK }, () => sampleRow(src.next()))));
  });
  const perBoard = Math.floor((SECONDS * RATE) / PER_CHUNK);
  const receivedAt = new Date(t0);
  let batch: SampleChunk[] = [];
  for (let b = 0; b < BOARDS; b++) {
    for (let seq = 0; seq < perBoard; seq++) {
      batch.push({ sessionId: HOUR_ID, deviceId: boards[b]!, seq, startMs: t0 + (seq * PER_CHUNK * 1000) / RATE, rateHz: RATE, count: PER_CHUNK, data: pool[b]![seq % 40]!, receivedAt });
      if (batch.length === 4000) { await store.insertChunks(batch); batch = []; }
    }
  }
  await store.insertChunks(batch);
  // Completed as the gateway completes a session: after its chunks, through updateSession.
  await store.updateSession(HOUR_ID, { state: 'complete', completedAt: new Date(t0 + SECONDS * 1000), summary: { count: 0 } });
  for (let i = 0; i < SESSIONS; i++) {
    const at = new Date(t0 + i * 60_000);
    await store.createSession({
      sessionId: `s-bench-${String(i).padStart(4, '0')}`, state: i % 3 === 0 ? 'complete' : 'created', boards: [`racket-${(i % 50) + 1}`, `racket-${((i + 1) % 50) + 1}`],
      playerId: `player-${i % 40}`, court: String(i % 8), roomId: null, notes: `practice ${i}`, sampleRateHz: RATE, createdAt: at,
      startedAt: null, stoppedAt: null, completedAt: null, failureReason: null, summary: null,
    });
  }
  for (let i = 0; i < DEVICES; i++) await store.upsertDevice({ deviceId: `board-${String(i).padStart(5, '0')}`, kind: 'board', lastConnectedAt: new Date(t0 + i * 1000) });
  await store.close();
  return BOARDS * perBoard * PER_CHUNK;
}

/** CPU time (ms, 10 ms ticks) of a process and its children (the gateway's SQLite process). */
function cpuMs(pid: number): number {
  const one = (p: number): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 (utime, stime), counted from after the command name.
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return 0;
    }
  };
  let kids: number[] = [];
  try {
    kids = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    kids = [];
  }
  return one(pid) + kids.reduce((n, k) => n + one(k), 0);
}

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

async function timeApi(db: string, dir: string): Promise<Record<string, unknown>> {
  const g = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', join(root, 'main/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0', '--db', db, '--data-dir', dir,
    '--operator-token', TOKEN, '--log-level', 'warn', '--no-mdns', '--udp-probe-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COURTSIDE_DISCOVERY: 'off' } });
  children.add(g);
  try {
    const port = await new Promise<number>((ok, ko) => {
      let out = '';
      const t = setTimeout(() => ko(new Error('gateway not listening within 60 s')), 60_000);
      g.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) { clearTimeout(t); ok(Number(m[1])); }
      });
      g.once('exit', (c) => { clearTimeout(t); ko(new Error(`gateway exited (${c})`)); });
    });
    const time = async (path: string, key: string) => {
      const ms: number[] = [];
      let n = 0;
      let cpu0 = 0;
      for (let i = 0; i < 6; i++) {
        if (i === 1) cpu0 = cpuMs(g.pid!);
        const t = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = (await res.json()) as Record<string, unknown[]>;
        if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
        if (i > 0) ms.push(Math.round((performance.now() - t) * 10) / 10);
        n = body[key]?.length ?? 0;
      }
      const cpu = (cpuMs(g.pid!) - cpu0) / ms.length;
      const sorted = [...ms].sort((a, b) => a - b);
      return { median_ms: sorted[Math.floor(sorted.length / 2)], runs_ms: ms, cpu_ms_per_request: Math.round(cpu * 10) / 10, items: n };
    };
    return { list_sessions_500: await time('/api/sessions?limit=500', 'sessions'), device_list: await time('/api/devices', 'devices') };
  } finally {
    g.kill('SIGTERM');
    await new Promise((r) => g.once('exit', r));
  }
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-data-bench-'));
  const load0 = loadavg()[0]!;
  const out: Record<string, unknown> = {};
  let failed = false;
  try {
    const db = join(dir, 'data.sqlite');
    process.stderr.write(`data-bench: building ${BOARDS} boards x ${SECONDS} s x ${RATE} Hz, ${SESSIONS} sessions, ${DEVICES} boards...\n`);
    const t0 = performance.now();
    const samples = await build(db);
    out.build_s = Math.round((performance.now() - t0) / 100) / 10;
    out.samples = samples;
    const step = async (name: string, f: () => Promise<Record<string, unknown>>) => {
      process.stderr.write(`data-bench: ${name}...\n`);
      try { out[name] = await f(); } catch (e) { failed = true; out[name] = { error: e instanceof Error ? e.message : String(e) }; }
    };
    await step('export', async () => {
      const { stdout } = await run(process.execPath, [...NODE_FLAGS, '--import', 'tsx', join(root, 'test/sessions/fixtures/export-child.ts'), db, HOUR_ID, join(dir, 'hour.zip')], { cwd: root, timeout: 600_000 });
      const r = JSON.parse(stdout.trim()) as { baseline_mb: number; peak_mb: number; ms: number; cpu_s: number; bytes: number };
      rmSync(join(dir, 'hour.zip'), { force: true });
      return { ...r, samples_per_s: Math.round(samples / (r.ms / 1000)), samples_per_cpu_s: Math.round(samples / r.cpu_s), target_samples_per_s: 1_000_000 };
    });
    await step('analysis', async () => {
      const { stdout } = await run(process.execPath, [...NODE_FLAGS, '--import', 'tsx', join(root, 'test/bench/analysis-child.ts'), db, HOUR_ID], { cwd: root, timeout: 600_000 });
      return { ...(JSON.parse(stdout.trim()) as Record<string, unknown>), target_ms: 5000 };
    });
    await step('api', () => timeApi(db, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(JSON.stringify({
    bench: 'stored data: export and analysis of an hour of ten boards, list_sessions and the device list',
    node: process.version, cpus: cpus().length, code: root, loadavg_1m: { before: r2(load0), after: r2(loadavg()[0]!) },
    config: { seconds: SECONDS, boards: BOARDS, rate_hz: RATE, sessions: SESSIONS, devices: DEVICES },
    notes: ['ms are wall time on a possibly shared machine; cpu_s counts every thread of the process (zlib runs on the libuv pool)'],
    ...out,
  }, null, 2) + '\n');
  return failed ? 1 : 0;
}

main().then((c) => process.exit(c), (e: unknown) => { process.stderr.write(`data-bench: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
