/**
 * Idle-board benchmark: N boards that only send heartbeats, held by one
 * server: a bare `ws` server that answers each frame unparsed (the floor) and
 * `courtside serve` (its `--max-connections` raised to fit). Reports the
 * server's resident memory per board (whole process tree, after the sockets
 * opened minus before), whether every heartbeat was answered within the
 * heartbeat interval, and, for Courtside, how long the operator device list
 * of all those boards takes. Boards live in --loaders separate processes.
 *
 *   node --import tsx test/bench/idle.ts [--boards 10000] [--loaders 2] [--interval-ms 15000]
 *        [--rounds 2] [--only bare,courtside] [--semi-space-mb 1]
 *
 * Both servers (every node process of each, Courtside's SQLite writer too)
 * run with the same V8 young generation: `--max-semi-space-size` of
 * --semi-space-mb (NODE_OPTIONS, which child processes inherit). V8 otherwise
 * grows the young generation on demand, from 1 MB a semi-space up to 16: a
 * server whose start-up already grew it (Courtside) pays nothing for it
 * during the fleet's connect burst, while the bare server grows it there in
 * some runs and not in others, 26 MB more or less of RSS (2.6 KB a board at
 * 10,000) by chance. Held at the start-up size, the young generation is a
 * fixed cost touched before the baseline in both, and what grows with the
 * fleet is what every board keeps: old space, sockets, native buffers. It
 * costs some extra scavenges (CPU), no memory. `--semi-space-mb 0`: V8's
 * default growth, the measurement as it was before.
 *
 * Each reading is also taken settled: every node process of both servers
 * runs with the inspector on (NODE_OPTIONS, 127.0.0.1, a port of its own), and
 * before the baseline and again after the last round the bench asks each
 * process for a full garbage collection through it (HeapProfiler.collectGarbage,
 * the same call for both; Courtside's SQLite writer is one of its processes),
 * then reads RSS (six collections, the median of the last three readings:
 * see settledRssKb). Read
 * unsettled, a reading counts whatever garbage the last major GC left, and
 * the baseline's free pages that the boards then fill: in one run 0.6 KB a
 * board less than the next.
 *
 * Even settled, a baseline holds free memory of its own start-up (pages of the
 * heap not quite empty, the allocator's free lists) that the first boards then
 * take: 0.8 KB a board between runs of one server, more in the one whose
 * start-up did more (Courtside's baseline was 177 MB in one run, 231 in
 * another). So the boards connect in two waves, the first half of the loaders
 * and then the rest, with a settled reading between: `rss_per_board_kb` is
 * the second wave's boards over what they added, each board's own cost once
 * the start-up's leftovers are used up. The first wave's heartbeat rounds are
 * under way at that reading, so the second wave's figure also carries some of
 * the first wave's history: a server that keeps state per heartbeat
 * (Courtside) is counted a little more, never less. `rss_per_board_kb_from_baseline`
 * is the whole fleet over the settled baseline, `rss_per_board_kb_unsettled`
 * the same without any collection (readings just before the settled ones).
 * Beside them, for where the memory is: `rss_main_per_board_kb` (the server's
 * own process; Courtside's SQLite writer is the rest of its tree) and the V8
 * heaps of all its processes through the same inspectors (Runtime.getHeapUsage),
 * `heap_used_per_board_kb` live and `heap_total_per_board_kb` held from the
 * system; RSS beyond the heap held is native (sockets, buffers, the allocator). The device list of Courtside is timed after the
 * readings, so its transient memory (10,000 boards described at once) is not
 * counted as the idle boards'. Before the baseline, both servers see the
 * same 50 boards connect, heartbeat and leave: the code of connecting and
 * answering is compiled then, a fixed cost, not the fleet's (the boards'
 * reuse of what those 50 left is 0.5% of the fleet).
 *
 * One JSON document on stdout; exit 1 if a run failed, 2 on a bad flag.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ChildSet, flagFailer, here, root, stopChild, tail, treeRssKb, waitForOutput, type Spawned } from './proc.js';

type Target = 'bare' | 'courtside';
const TOKEN = 'idle-bench-operator-token';

const children = new ChildSet();
const fail: (msg: string) => never = flagFailer('idle-bench');

function flags() {
  let v;
  try {
    ({ values: v } = parseArgs({
      strict: true,
      options: {
        boards: { type: 'string', default: '10000' }, loaders: { type: 'string', default: '2' },
        'interval-ms': { type: 'string', default: '15000' }, rounds: { type: 'string', default: '2' },
        only: { type: 'string', default: 'bare,courtside' }, 'semi-space-mb': { type: 'string', default: '1' },
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
  const only = v.only.split(',') as Target[];
  for (const t of only) if (t !== 'bare' && t !== 'courtside') fail(`--only takes bare, courtside, got '${t}'`);
  return {
    boards: num('boards', v.boards, 1, 50_000),
    loaders: num('loaders', v.loaders, 1, 16),
    intervalMs: num('interval-ms', v['interval-ms'], 100, 120_000),
    rounds: num('rounds', v.rounds, 1, 20),
    semiSpaceMb: num('semi-space-mb', v['semi-space-mb'], 0, 64),
    only,
  };
}
type Cfg = ReturnType<typeof flags>;

/** The same for both servers: see the header. */
function serverEnv(cfg: Cfg): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, COURTSIDE_DISCOVERY: 'off' };
  const young = cfg.semiSpaceMb > 0 ? ` --max-semi-space-size=${cfg.semiSpaceMb}` : '';
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''}${young} --inspect=127.0.0.1:0`.trim();
  return env;
}

async function startServer(cfg: Cfg, target: Target, dir: string) {
  if (target === 'bare') {
    const p = children.spawn(['--import', 'tsx', join(here, 'servers/bare-relay.ts'), '--ack'], serverEnv(cfg));
    const m = await waitForOutput(p, /^READY (\d+)$/m, 30_000, 'bare READY');
    return { ...p, port: Number(m[1]) };
  }
  const p = children.spawn(['--import', 'tsx', join(root, 'main/cli.ts'), 'serve', '--host', '127.0.0.1', '--port', '0',
    '--db', join(dir, 'idle.sqlite'), '--data-dir', dir, '--operator-token', TOKEN, '--log-level', 'warn', '--no-mdns', '--udp-probe-port', '0',
    '--max-connections', String(cfg.boards + 100)], serverEnv(cfg));
  const m = await waitForOutput(p, /listening on 127\.0\.0\.1:(\d+)/, 30_000, 'gateway listening');
  return { ...p, port: Number(m[1]) };
}

/** The inspectors of the server's processes (each prints its address on the stderr they share; whole lines only). */
function inspectorUrls(p: Spawned): string[] {
  return [...p.err.join('').matchAll(/Debugger listening on (ws:\/\/[\d.]+:\d+\/[0-9a-f-]{36})\r?\n/g)].map((m) => m[1]!);
}

/** One inspector call in each process of the server; the results in the same order. */
async function inspect(urls: string[], method: string): Promise<Record<string, unknown>[]> {
  return Promise.all(urls.map(async (url) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const result = await new Promise<Record<string, unknown>>((ok, ko) => {
      ws.once('error', ko);
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method })));
      ws.on('message', (d) => {
        const r = JSON.parse(d.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
        if (r.id !== 1) return;
        if (r.error) ko(new Error(`${method}: ${r.error.message}`));
        else ok(r.result ?? {});
      });
    });
    ws.close();
    return result;
  }));
}

/** A settled reading: the tree's RSS, the main process's, and the V8 heaps of all (used, and held from the system). */
interface Reading { kb: number; mainKb: number; heapUsedKb: number; heapTotalKb: number; processes: number }

/**
 * RSS of the server's process tree, settled: a full collection in every process, six times a
 * second apart, the median of the readings after the last three. Pages freed by one collection
 * go back to the system some collections later (a few MB three or four in, in both servers),
 * so one collection alone leaves the baseline high by chance.
 */
async function settledRssKb(p: Spawned): Promise<Reading> {
  const urls = inspectorUrls(p);
  if (urls.length === 0) throw new Error(`no inspector address from the server: ${tail(p.err)}`);
  const kb: number[] = [];
  const mainKb: number[] = [];
  for (let i = 0; i < 6; i++) {
    await inspect(urls, 'HeapProfiler.collectGarbage');
    await new Promise((r) => setTimeout(r, 1000));
    if (i >= 3) {
      kb.push(treeRssKb(p.child.pid!));
      mainKb.push(rssKb(p.child.pid!));
    }
  }
  const heaps = (await inspect(urls, 'Runtime.getHeapUsage')) as { usedSize: number; totalSize: number }[];
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
  return {
    kb: mid(kb), mainKb: mid(mainKb), processes: urls.length,
    heapUsedKb: heaps.reduce((n, h) => n + h.usedSize, 0) / 1024, heapTotalKb: heaps.reduce((n, h) => n + h.totalSize, 0) / 1024,
  };
}

/** One process's resident kB. */
function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** 50 boards connected, heard twice and gone again, before the baseline (see the header). */
async function warmUp(cfg: Cfg, target: Target, port: number): Promise<void> {
  const warm = children.spawn(['--import', 'tsx', join(here, 'idle-load.ts'), '--target', target, '--port', String(port),
    '--boards', '50', '--offset', String(cfg.boards + 1000), '--interval-ms', '1000', '--rounds', '2']);
  await waitForOutput(warm, /^(\{.*\})$/m, 120_000, 'warm-up result');
  warm.child.stdin!.end();
  await stopChild(warm.child, 10_000);
}

async function deviceListMs(port: number): Promise<{ ms: number[]; devices: number }> {
  const ms: number[] = [];
  let devices = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/devices`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { devices?: unknown[] };
    ms.push(Math.round((performance.now() - t) * 10) / 10);
    devices = body.devices?.length ?? 0;
  }
  return { ms, devices };
}

const perBoard = (kb: number, boards: number): number => Math.round((kb / boards) * 100) / 100;

async function runOne(cfg: Cfg, target: Target): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-idle-bench-'));
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const loaders: Spawned[] = [];
  try {
    server = await startServer(cfg, target, dir);
    await warmUp(cfg, target, server.port);
    // Settled after start-up (migrations, module loading) before the baseline.
    await new Promise((r) => setTimeout(r, 2000));
    const rssBeforeUnsettled = treeRssKb(server.child.pid!);
    const base = await settledRssKb(server);
    const rssBefore = base.kb;
    const per = Math.ceil(cfg.boards / cfg.loaders);
    // Two waves of loaders (the first half of them, then the rest), a settled reading between.
    const firstWave = Math.max(1, Math.floor(cfg.loaders / 2));
    let connectMs = 0;
    let half: (Reading & { boards: number }) | null = null;
    for (const [from, to] of [[0, firstWave], [firstWave, cfg.loaders]] as const) {
      const t0 = performance.now();
      const wave: Spawned[] = [];
      for (let l = from; l < to; l++) {
        const n = Math.min(per, cfg.boards - l * per);
        if (n <= 0) break;
        wave.push(children.spawn(['--import', 'tsx', join(here, 'idle-load.ts'), '--target', target, '--port', String(server.port),
          '--boards', String(n), '--offset', String(l * per), '--interval-ms', String(cfg.intervalMs), '--rounds', String(cfg.rounds)]));
      }
      loaders.push(...wave);
      await Promise.all(wave.map((p) => waitForOutput(p, /^CONNECTED \d+$/m, 300_000, 'loader CONNECTED')));
      connectMs += performance.now() - t0;
      if (from === 0 && firstWave < cfg.loaders) half = { boards: Math.min(cfg.boards, firstWave * per), ...(await settledRssKb(server)) };
    }
    const connectS = connectMs / 1000;
    const results = (await Promise.all(loaders.map((p) => waitForOutput(p, /^(\{.*\})$/m, cfg.intervalMs * cfg.rounds + 120_000, 'loader result'))))
      .map((m) => JSON.parse(m[1]!) as { boards: number; heartbeats_sent: number; answered: number; unanswered: number; late: number; unexpected_closes: number; reply_ms: { p50: number; p99: number; max: number } });
    const rssAfterUnsettled = treeRssKb(server.child.pid!);
    const end = await settledRssKb(server);
    const rssAfter = end.kb;
    // The second wave's boards (or, with one loader, the whole fleet) over what they added.
    const from = half ?? base;
    const marginal = (k: 'kb' | 'mainKb' | 'heapUsedKb' | 'heapTotalKb') => perBoard(end[k] - from[k], cfg.boards - (half?.boards ?? 0));
    const list = target === 'courtside' ? await deviceListMs(server.port) : null;
    if (server.child.exitCode !== null) throw new Error(`server died: ${tail(server.err)}`);
    const sum = (k: 'heartbeats_sent' | 'answered' | 'unanswered' | 'late' | 'unexpected_closes') => results.reduce((n, r) => n + r[k], 0);
    return {
      target, boards: cfg.boards, loaders: loaders.length, processes_settled: base.processes, connect_s: Math.round(connectS * 10) / 10,
      rss_before_mb: Math.round(rssBefore / 102.4) / 10, rss_after_mb: Math.round(rssAfter / 102.4) / 10,
      rss_half_mb: half === null ? null : Math.round(half.kb / 102.4) / 10,
      // The second wave's boards over what it added (see the header); with one loader, the whole fleet's.
      rss_per_board_kb: marginal('kb'),
      // Where it is: the main process (Courtside's SQLite writer is the rest), and the V8 heaps (used; held).
      rss_main_per_board_kb: marginal('mainKb'), heap_used_per_board_kb: marginal('heapUsedKb'), heap_total_per_board_kb: marginal('heapTotalKb'),
      rss_per_board_kb_from_baseline: perBoard(rssAfter - rssBefore, cfg.boards),
      rss_per_board_kb_unsettled: perBoard(rssAfterUnsettled - rssBeforeUnsettled, cfg.boards),
      heartbeats_sent: sum('heartbeats_sent'), answered: sum('answered'), unanswered: sum('unanswered'),
      late: sum('late'), unexpected_closes: sum('unexpected_closes'),
      all_answered_within_interval: sum('unanswered') === 0 && sum('late') === 0 && sum('answered') === sum('heartbeats_sent'),
      reply_ms_max: Math.max(...results.map((r) => r.reply_ms.max ?? 0)),
      reply_ms_p99_worst_loader: Math.max(...results.map((r) => r.reply_ms.p99 ?? 0)),
      ...(list ? { device_list_ms: list.ms, device_list_devices: list.devices } : {}),
    };
  } catch (e) {
    return { target, error: e instanceof Error ? e.message : String(e) };
  } finally {
    for (const l of loaders) { l.child.stdin!.end(); }
    await Promise.all(loaders.map((l) => stopChild(l.child, 10_000)));
    if (server) await stopChild(server.child, 10_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const cfg = flags();
  const load0 = loadavg()[0]!;
  const servers: Record<string, Record<string, unknown>> = {};
  for (const t of cfg.only) {
    process.stderr.write(`idle-bench: ${t} (${cfg.boards} boards, ${cfg.loaders} loaders, heartbeat every ${cfg.intervalMs} ms x ${cfg.rounds})...\n`);
    servers[t] = await runOne(cfg, t);
    if (servers[t]!.error) process.stderr.write(`idle-bench: ${t} failed: ${String(servers[t]!.error)}\n`);
  }
  const c = servers.courtside;
  const b = servers.bare;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(JSON.stringify({
    bench: 'idle boards: heartbeats only, resident memory per board and reply within the interval',
    node: process.version, cpus: cpus().length,
    loadavg_1m: { before: r2(load0), after: r2(loadavg()[0]!) },
    config: cfg,
    servers,
    ratios: { courtside_over_bare_rss_per_board: c && b && !c.error && !b.error ? r2((c.rss_per_board_kb as number) / (b.rss_per_board_kb as number)) : null },
  }, null, 2) + '\n');
  return Object.values(servers).some((s) => s.error) ? 1 : 0;
}

main().then(
  (code) => { children.killAll(); process.exit(code); },
  (e: unknown) => { process.stderr.write(`idle-bench: ${e instanceof Error ? e.stack : String(e)}\n`); children.killAll(); process.exit(1); },
);
