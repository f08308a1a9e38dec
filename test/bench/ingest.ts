/**
 * Durable ingest benchmark: how many samples per second the real gateway
 * (`courtside serve`, its own process) stores and acks, into SQLite and into
 * MariaDB, for JSON `batch_sensor_data` and for the binary frame, one after
 * the other in the same run. Boards live in a separate load process
 * (ingest-load.ts); only acks with `stored: true` count.
 *
 *   node --import tsx test/bench/ingest.ts [--backends sqlite,mysql] [--modes json,binary]
 *        [--boards 40] [--samples-per-frame 100] [--window 16] [--seconds 10] [--warmup 1]
 *        [--loaders 1] [--acks per-frame|cumulative|both] [--deflate] [--cpu-prof DIR]
 *
 * MariaDB runs use a fresh database on COURTSIDE_TEST_MYSQL_URL's server
 * (see .ci/start-mariadb.sh). With --cpu-prof each gateway, its SQLite writer
 * process and each loader write a V8 CPU profile into DIR. --acks both runs
 * each backend and mode once per ack style (boards on `?ack=cumulative` get
 * data_acks frames); --deflate has the loaders offer permessage-deflate, which
 * boards do not. Prints one JSON document; exit 1 if a run failed, 2 on a bad
 * flag.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freshMysqlUrl } from '../support/mysql.js';
import { treeCpuSeconds, treeRssKb } from './proc.js';

async function api(port: number, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

type Backend = 'sqlite' | 'mysql';
type Mode = 'json' | 'binary';
const TARGETS: Record<Backend, number> = { sqlite: 200_000, mysql: 100_000 };
/** Binary frames carry no JSON to parse: the goal for them on SQLite (WAL, synchronous FULL) is higher. */
const BINARY_TARGETS: Partial<Record<Backend, number>> = { sqlite: 1_000_000 };
const here = resolve(fileURLToPath(import.meta.url), '..');
const root = resolve(here, '../..');
const TOKEN = 'ingest-bench-operator-token';

const children = new Set<ChildProcess>();
const killAll = () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); };
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { killAll(); process.exit(130); });

function fail(msg: string): never {
  process.stderr.write(`ingest-bench: ${msg}\n`);
  process.exit(2);
}

function flags() {
  let v;
  try {
    ({ values: v } = parseArgs({
      strict: true,
      options: {
        backends: { type: 'string', default: 'sqlite,mysql' }, modes: { type: 'string', default: 'json,binary' },
        // 40: a loader paces each board under the gateway's 500 frames/s, so 20 boards of 100
        // samples could never send 1 M samples/s, whatever the gateway did.
        boards: { type: 'string', default: '40' }, 'samples-per-frame': { type: 'string', default: '100' },
        window: { type: 'string', default: '16' }, seconds: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '1' }, 'cpu-prof': { type: 'string' }, loaders: { type: 'string', default: '1' },
        acks: { type: 'string', default: 'per-frame' }, deflate: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    fail((e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!);
  }
  const num = (name: string, raw: string, min: number, max: number, integer = true): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${raw}'`);
    return n;
  };
  const list = <T extends string>(name: string, raw: string, allowed: readonly T[]): T[] => {
    const items = raw.split(',');
    for (const x of items) if (!(allowed as readonly string[]).includes(x)) fail(`--${name} takes ${allowed.join(', ')}, got '${x}'`);
    return items as T[];
  };
  return {
    backends: list('backends', v.backends, ['sqlite', 'mysql'] as const),
    modes: list('modes', v.modes, ['json', 'binary'] as const),
    boards: num('boards', v.boards, 1, 500),
    samplesPerFrame: num('samples-per-frame', v['samples-per-frame'], 1, 2000),
    window: num('window', v.window, 1, 1000),
    seconds: num('seconds', v.seconds, 0.1, 600, false),
    warmup: num('warmup', v.warmup, 0, 60, false),
    cpuProf: v['cpu-prof'] ? resolve(v['cpu-prof']) : null,
    loaders: num('loaders', v.loaders, 1, 32),
    acks: v.acks === 'both' ? (['per-frame', 'cumulative'] as const) : list('acks', v.acks, ['per-frame', 'cumulative'] as const),
    deflate: v.deflate,
  };
}
type Cfg = ReturnType<typeof flags>;
type Ack = Cfg['acks'][number];

function spawnNode(args: string[]): { child: ChildProcess; out: string[]; err: string[] } {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => err.push(d.toString()));
  return { child, out, err };
}

const tail = (chunks: string[]) => chunks.join('').trim().split('\n').slice(-4).join(' | ').slice(-600);

async function startGateway(cfg: Cfg, db: string, dataDir: string) {
  // The gateway passes --cpu-prof on to its SQLite writer process.
    const prof = cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cfg.cpuProf}`] : [];
  const g = spawnNode([...prof, '--import', 'tsx', join(root, 'main/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0',
    '--db', db, '--data-dir', dataDir, '--operator-token', TOKEN, '--log-level', 'warn']);
  const port = await new Promise<number>((ok, ko) => {
    const t = setTimeout(() => ko(new Error(`gateway not listening within 30 s: ${tail(g.err)}`)), 30_000);
    g.child.stdout!.on('data', () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(g.out.join(''));
      if (m) { clearTimeout(t); ok(Number(m[1])); }
    });
    g.child.once('exit', (code) => { clearTimeout(t); ko(new Error(`gateway exited (${code}): ${tail(g.err)}`)); });
  });
  return { ...g, port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM'); // a clean exit writes the CPU profile
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

async function runOne(cfg: Cfg, backend: Backend, mode: Mode, ack: Ack): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-ingest-bench-'));
  let mysql: Awaited<ReturnType<typeof freshMysqlUrl>> | undefined;
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    if (backend === 'mysql') mysql = await freshMysqlUrl();
    gw = await startGateway(cfg, mysql ? mysql.url : join(dataDir, 'bench.sqlite'), dataDir);
    const session = await api(gw.port, 'POST', '/api/sessions', { boards: Array.from({ length: cfg.boards }, (_, i) => `bench-${i + 1}`), sample_rate_hz: 200 });
    const sessionId = (session.session as { session_id: string }).session_id;
    await api(gw.port, 'POST', `/api/sessions/${sessionId}/start`);
    const per = Math.ceil(cfg.boards / cfg.loaders);
    const prof = cfg.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cfg.cpuProf}`] : [];
    const loads: ReturnType<typeof spawnNode>[] = [];
    for (let l = 0; l * per < cfg.boards; l++) {
      loads.push(spawnNode([...prof, '--import', 'tsx', join(here, 'ingest-load.ts'), '--port', String(gw.port), '--pid', String(gw.child.pid),
        '--token', TOKEN, '--mode', mode, '--boards', String(Math.min(per, cfg.boards - l * per)), '--offset', String(l * per), '--session', sessionId, '--wait-go',
        '--samples-per-frame', String(cfg.samplesPerFrame), '--window', String(cfg.window), '--seconds', String(cfg.seconds), '--warmup', String(cfg.warmup),
        '--ack', ack, ...(cfg.deflate ? ['--deflate'] : [])]));
    }
    const exits = loads.map((load) => new Promise<number | null>((ok) => load.child.once('exit', (c) => ok(c))));
    await Promise.all(loads.map((load) => new Promise<void>((ok, ko) => {
      const check = () => { if (load.out.join('').includes('CONNECTED\n')) { load.child.stdout!.off('data', check); ok(); } };
      load.child.stdout!.on('data', check);
      load.child.once('exit', (c) => ko(new Error(`load process exited (${c}) before connecting: ${tail(load.err)}`)));
    })));
    for (const load of loads) load.child.stdin!.write('go\n');
    await new Promise((r) => setTimeout(r, cfg.warmup * 1000));
    const cpu0 = treeCpuSeconds(gw.child.pid!);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, cfg.seconds * 1000));
    const cpu1 = treeCpuSeconds(gw.child.pid!);
    const wall = (performance.now() - w0) / 1000;
    const codes = await Promise.all(exits);
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) throw new Error(`gateway died during the run: ${tail(gw.err)}`);
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) throw new Error(`load process failed (${codes[bad]}): ${tail(loads[bad]!.err)}; gateway: ${tail(gw.err)}`);
    const parts = loads.map((load) => {
      const lines = load.out.join('').trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as Record<string, number | string | null>;
    });
    const got = (await api(gw.port, 'GET', `/api/sessions/${sessionId}`)).session as { progress: { samples: number }[] };
    const sum = (k: string) => parts.reduce((n, p) => n + Number(p[k] ?? 0), 0);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    const r = {
      mode, ack, deflate: cfg.deflate, boards: cfg.boards, loaders: loads.length, samples_per_frame: cfg.samplesPerFrame, window: cfg.window, seconds: r1(wall), warmup_s: cfg.warmup,
      samples_per_s: sum('samples_per_s'), frames_per_s: sum('frames_per_s'),
      frames_sent: sum('frames_sent'), acked_frames: sum('acked_frames'), acked_samples: sum('acked_samples'),
      stored_samples: got.progress.reduce((n, p) => n + p.samples, 0), in_flight_left: sum('in_flight_left'),
      not_stored_acks: sum('not_stored_acks'), error_frames: sum('error_frames'), first_error: parts.find((p) => p.first_error)?.first_error ?? null,
      gateway_cpu_pct: r1(((cpu1 - cpu0) / wall) * 100),
      gateway_peak_rss_mb: Math.round(treeRssKb(gw.child.pid!, 'VmHWM') / 102.4) / 10,
      loader_cpu_pct: parts.map((p) => p.loader_cpu_pct),
    };
    const target = (mode === 'binary' ? BINARY_TARGETS[backend] : undefined) ?? TARGETS[backend];
    return { backend, ...r, target_samples_per_s: target, target_met: r.samples_per_s >= target };
  } catch (e) {
    return { backend, mode, ack, error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (gw) await stop(gw.child);
    await mysql?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const cfg = flags();
  const load0 = loadavg()[0]!;
  const runs: Record<string, unknown>[] = [];
  for (const backend of cfg.backends) {
    for (const mode of cfg.modes) {
      for (const ack of cfg.acks) {
        const name = `${backend} x ${mode}${cfg.acks.length > 1 || ack !== 'per-frame' ? ` (${ack} acks)` : ''}`;
        process.stderr.write(`ingest-bench: ${name} (${cfg.boards} boards, ${cfg.samplesPerFrame} samples/frame, ${cfg.seconds} s)...\n`);
        const r = await runOne(cfg, backend, mode, ack);
        if (r.error) process.stderr.write(`ingest-bench: ${name} failed: ${String(r.error)}\n`);
        runs.push(r);
      }
    }
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(JSON.stringify({
    bench: 'durable ingest: boards -> courtside serve -> store, counted at data_ack stored:true',
    node: process.version,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? null,
    // Other work on the machine shows up here first: two cores are shared by gateway, loader and database.
    loadavg_1m: { before: r2(load0), after: r2(loadavg()[0]!) },
    config: { boards: cfg.boards, loaders: cfg.loaders, acks: cfg.acks, deflate: cfg.deflate, samples_per_frame: cfg.samplesPerFrame, window: cfg.window, seconds: cfg.seconds, warmup_s: cfg.warmup },
    targets: TARGETS,
    binary_targets: BINARY_TARGETS,
    runs,
  }, null, 2) + '\n');
  return runs.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => { killAll(); process.exit(code); },
  (e: unknown) => { process.stderr.write(`ingest-bench: ${e instanceof Error ? e.stack : String(e)}\n`); killAll(); process.exit(1); },
);
