/**
 * Fan-out benchmark: boards stream IMU samples, one operator subscribes to
 * them, and three servers relay the same traffic one after the other in the
 * same run: a bare `ws` relay (the floor), a Socket.IO room (what a Node user
 * would pick) and Courtside itself. Each server and the load generator run in
 * their own processes so the server's CPU can be read from /proc alone.
 *
 *   npm run bench -- [--boards 50] [--rate 100] [--seconds 15] [--warmup 1]
 *                    [--modes sample,batch] [--batch-size 10] [--only bare,bare-ack,bare-store,socketio,courtside,courtside-rec]
 *                    [--operators 1] [--ack per-frame|cumulative] [--cpu-prof DIR]
 *
 * courtside-rec is Courtside with a session recording every board (SQLite, its
 * writer process's CPU counted as the server's); bare-store, the bare relay
 * writing every frame's bytes to SQLite too, is the floor it is measured against. --operators N: N subscribers,
 * each of which must get every sample (`lost` counts what any of them missed).
 * --ack cumulative: Courtside's boards opt into cumulative acks (data_acks).
 *
 * Prints one JSON document on stdout; progress goes to stderr. Exit 0 when
 * every run finished, 1 when one failed (its entry then has `error`), 2 on a
 * bad flag.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChildSet, flagFailer, here, stopChild, tail, type Spawned } from './proc.js';

/** What the load generator speaks to a server as (load.ts --target). */
type LoadAs = 'bare' | 'socketio' | 'courtside' | 'courtside-rec';
/** A server of the run: its script under servers/, its arguments, and how the load generator talks to it. */
interface Subject {
  script: string;
  args: (cfg: { boards: number }, dir: string) => string[];
  loadAs: LoadAs;
}
/**
 * Every server the run can measure, in the default order:
 * - bare: the bare relay; bare-ack: it also answers every board frame with a fixed text frame,
 *   the floor for per-frame acks; bare-store: it also writes every frame's bytes to SQLite, recording's floor;
 * - courtside-rec: Courtside with a session recording every board (durable storage, acks once on disk);
 * - courtside_tls: every socket wss://.
 */
const SUBJECTS = {
  bare: { script: 'bare-relay.ts', args: () => [], loadAs: 'bare' },
  'bare-ack': { script: 'bare-relay.ts', args: () => ['--ack'], loadAs: 'bare' },
  'bare-store': { script: 'bare-relay.ts', args: (_, dir) => ['--store', join(dir, 'frames.sqlite')], loadAs: 'bare' },
  socketio: { script: 'socketio-room.ts', args: () => [], loadAs: 'socketio' },
  courtside: { script: 'courtside.ts', args: () => [], loadAs: 'courtside' },
  'courtside-rec': { script: 'courtside.ts', args: (cfg) => ['--record', String(cfg.boards)], loadAs: 'courtside-rec' },
  courtside_tls: { script: 'courtside.ts', args: () => ['--tls'], loadAs: 'courtside' },
} satisfies Record<string, Subject>;
type Target = keyof typeof SUBJECTS;
const TARGETS = Object.keys(SUBJECTS) as Target[];

const children = new ChildSet();
const fail: (msg: string) => never = flagFailer('bench');

function flags() {
  let v;
  try {
    ({ values: v } = parseArgs({
      strict: true,
      options: {
        boards: { type: 'string', default: '50' }, rate: { type: 'string', default: '100' },
        seconds: { type: 'string', default: '15' }, warmup: { type: 'string', default: '1' },
        modes: { type: 'string', default: 'sample,batch' }, 'batch-size': { type: 'string', default: '10' },
        only: { type: 'string', default: TARGETS.join(',') }, 'drain-ms': { type: 'string', default: '3000' },
        operators: { type: 'string', default: '1' }, 'cpu-prof': { type: 'string' }, ack: { type: 'string', default: 'per-frame' },
      },
    }));
  } catch (e) {
    fail((e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!);
  }
  const pos = (name: string, raw: string, integer: boolean, max: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) fail(`--${name} must be a positive ${integer ? 'integer' : 'number'} up to ${max}, got '${raw}'`);
    return n;
  };
  const modes = v.modes.split(',');
  for (const m of modes) if (m !== 'sample' && m !== 'batch') fail(`--modes takes sample and/or batch, got '${m}'`);
  const only = v.only.split(',') as Target[];
  for (const t of only) if (!TARGETS.includes(t)) fail(`--only takes ${TARGETS.join(', ')}, got '${t}'`);
  return {
    boards: pos('boards', v.boards, true, 1000),
    rate: pos('rate', v.rate, false, 2000),
    seconds: pos('seconds', v.seconds, false, 600),
    warmup: v.warmup === '0' ? 0 : pos('warmup', v.warmup, false, 60),
    modes: modes as ('sample' | 'batch')[],
    batchSize: pos('batch-size', v['batch-size'], true, 2000),
    only,
    drainMs: pos('drain-ms', v['drain-ms'], true, 60_000),
    operators: pos('operators', v.operators, true, 20),
    ack: v.ack === 'per-frame' || v.ack === 'cumulative' ? v.ack : fail(`--ack takes per-frame or cumulative, got '${v.ack}'`),
    cpuProf: v['cpu-prof'] ? resolve(v['cpu-prof']) : null,
  };
}

function spawnTs(script: string, args: string[], nodeArgs: string[] = []): Spawned {
  return children.spawn([...nodeArgs, '--import', 'tsx', script, ...args]);
}

async function startServer(cfg: Cfg, target: Target, dir: string): Promise<{ child: Spawned['child']; port: number; stderr: string[]; fingerprint: string | null }> {
  const subject: Subject = SUBJECTS[target];
  const prof = cfg.cpuProf && target.startsWith('courtside') ? ['--cpu-prof', `--cpu-prof-dir=${cfg.cpuProf}`] : [];
  const { child, err: stderr } = spawnTs(resolve(here, 'servers', subject.script), subject.args(cfg, dir), prof);
  let fingerprint: string | null = null;
  const port = await new Promise<number>((ok, ko) => {
    let out = '';
    const t = setTimeout(() => ko(new Error(`no READY within 30 s; stderr: ${tail(stderr)}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      fingerprint = /^FINGERPRINT ([0-9a-f]{64})$/m.exec(out)?.[1] ?? fingerprint;
      const m = /^READY (\d+)$/m.exec(out);
      if (m) { clearTimeout(t); ok(Number(m[1])); }
    });
    child.once('exit', (code, sig) => { clearTimeout(t); ko(new Error(`server exited (${code ?? sig}) before READY; stderr: ${tail(stderr)}`)); });
  });
  return { child, port, stderr, fingerprint };
}

type Cfg = ReturnType<typeof flags>;
type Result = Record<string, unknown>;

async function runOne(cfg: Cfg, target: Target, mode: 'sample' | 'batch'): Promise<Result> {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'courtside-bench-'));
  try {
    server = await startServer(cfg, target, dir);
    const srv = server;
    const { child: loader, out, err } = spawnTs(resolve(here, 'load.ts'), [
      '--target', SUBJECTS[target].loadAs, '--port', String(srv.port), '--pid', String(srv.child.pid),
      ...(srv.fingerprint ? ['--fingerprint', srv.fingerprint] : []),
      '--boards', String(cfg.boards), '--rate', String(cfg.rate), '--seconds', String(cfg.seconds),
      '--warmup', String(cfg.warmup), '--mode', mode, '--batch-size', String(cfg.batchSize), '--drain-ms', String(cfg.drainMs),
      '--operators', String(cfg.operators), '--ack', cfg.ack,
    ]);
    const limit = (cfg.warmup + cfg.seconds) * 1000 + cfg.drainMs + 60_000;
    const code = await new Promise<number | null>((ok) => {
      const t = setTimeout(() => { loader.kill('SIGKILL'); }, limit);
      loader.once('exit', (c) => { clearTimeout(t); ok(c); });
    });
    if (srv.child.exitCode !== null || srv.child.signalCode !== null) throw new Error(`server died during the run; stderr: ${tail(srv.stderr)}`);
    if (code !== 0) throw new Error(`load generator failed (${code}): ${tail(err)}; server stderr: ${tail(srv.stderr)}`);
    const lines = out.join('').trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Result;
  } catch (e) {
    return { target, mode, error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (server) await stopChild(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(a: Result | undefined, b: Result | undefined) {
  if (!a || !b || a.error || b.error) return null;
  const la = a.latency_ms as Record<string, number>;
  const lb = b.latency_ms as Record<string, number>;
  const q = (x: number, y: number): number | null => (y > 0 ? Math.round((x / y) * 100) / 100 : null);
  return {
    server_cpu: q(a.server_cpu_s as number, b.server_cpu_s as number),
    p50: q(la.p50!, lb.p50!),
    p99: q(la.p99!, lb.p99!),
  };
}

async function main(): Promise<number> {
  const cfg = flags();
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg()[0]!;
  const workloads = [];
  let failed = false;
  for (const mode of cfg.modes) {
    const perFrame = mode === 'batch' ? cfg.batchSize : 1;
    const servers: Partial<Record<Target, Result>> = {};
    for (const target of cfg.only) {
      process.stderr.write(`bench: ${mode} x ${target} (${cfg.boards} boards x ${cfg.rate} Hz x ${cfg.seconds} s, ${cfg.operators} operator(s))...\n`);
      const r = await runOne(cfg, target, mode);
      if (r.error) { failed = true; process.stderr.write(`bench: ${target} failed: ${String(r.error)}\n`); }
      servers[target] = r;
    }
    workloads.push({
      name: `${cfg.boards} boards x ${cfg.rate} Hz x ${cfg.seconds} s, ${mode === 'sample' ? 'one sensor_data per sample' : `batch_sensor_data of ${perFrame}`}, ${cfg.operators} operator(s)`,
      mode, boards: cfg.boards, operators: cfg.operators, rate_hz: cfg.rate, seconds: cfg.seconds, samples_per_frame: perFrame,
      servers,
      ratios: {
        courtside_over_bare: ratio(servers.courtside, servers.bare),
        // Against a relay that answers every frame too: what Courtside costs beyond the acks' writes.
        courtside_over_bare_ack: ratio(servers.courtside, servers['bare-ack']),
        courtside_over_socketio: ratio(servers.courtside, servers.socketio),
        courtside_rec_over_bare: ratio(servers['courtside-rec'], servers.bare),
        // Recording against a relay that stores too: what Courtside's durable path costs beyond storing at all.
        courtside_rec_over_bare_store: ratio(servers['courtside-rec'], servers['bare-store']),
        // What TLS costs: the same gateway, every socket wss:// (the operator's too) against ws://.
        wss_over_ws: ratio(servers.courtside_tls, servers.courtside),
      },
    });
  }
  const doc = {
    bench: `sensor fan-out: boards -> server -> ${cfg.operators} operator subscriber(s)`,
    node: process.version,
    cpus: cpus().length,
    started_at: startedAt,
    // Other work on the machine inflates latency tails far more than any server difference: check these first.
    loadavg_1m: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
    notes: [
      'latency: receive time minus the time the sample\'s frame was sent, per sample, both read in the load process',
      'server_cpu_s: utime+stime of the server process over the measured window (warm-up excluded); server_cpu_pct is of one core',
      'send_lag_ms, loader_loop_delay_ms: how late the load generator sent against its fixed schedule and how blocked its event loop was; large values mean the generator or the machine, not the server, was the bottleneck',
    ],
    config: { warmup_s: cfg.warmup, drain_ms: cfg.drainMs, batch_size: cfg.batchSize, only: cfg.only, operators: cfg.operators, ack: cfg.ack },
    workloads,
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  return failed ? 1 : 0;
}

main().then(
  (code) => { children.killAll(); process.exit(code); },
  (e: unknown) => { process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`); children.killAll(); process.exit(1); },
);
