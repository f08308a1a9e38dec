/**
 * What TLS costs when a whole fleet reconnects at once (a gateway restart, an
 * access point coming back): N boards open their sockets in the same instant,
 * over ws:// and then over wss:// (pinning the fingerprint, as boards do),
 * against the real gateway in its own process. Per round: the time until
 * every board has its connection_established, each board's own set-up time
 * (p50, p99), and the CPU the gateway and the boards' process spent.
 *
 *   npm run bench:tls -- [--boards 200] [--rounds 5]
 *
 * Prints one JSON document on stdout (ratios wss over ws); exit 1 if a run
 * failed, 2 on a bad flag. The fan-out over WSS against WS is in run.ts
 * (target courtside_tls).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { pinnedConnection } from '../../main/simulator/pinned-tls.js';
import { boardEndpoint } from '../../main/simulator/frames.js';

const here = resolve(fileURLToPath(import.meta.url), '..');
const root = resolve(here, '../..');

function flags(): { boards: number; rounds: number } {
  try {
    const { values } = parseArgs({ strict: true, options: { boards: { type: 'string', default: '200' }, rounds: { type: 'string', default: '5' } } });
    const boards = Number(values.boards);
    const rounds = Number(values.rounds);
    if (!Number.isInteger(boards) || boards < 1 || boards > 2000) throw new Error(`--boards must be an integer from 1 to 2000, got '${values.boards}'`);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`--rounds must be an integer from 1 to 100, got '${values.rounds}'`);
    return { boards, rounds };
  } catch (e) {
    process.stderr.write(`bench: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
    process.exit(2);
  }
}

const clkTck = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clkTck;
}

async function startServer(tls: boolean): Promise<{ child: ChildProcess; port: number; fingerprint: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, 'servers/courtside.ts'), ...(tls ? ['--tls'] : [])], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((ok, ko) => {
    const t = setTimeout(() => ko(new Error('no READY within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^READY (\d+)$/m.exec(out);
      if (m) { clearTimeout(t); ok(Number(m[1])); }
    });
    child.once('exit', (code) => ko(new Error(`server exited (${code}) before READY`)));
  });
  return { child, port, fingerprint: /^FINGERPRINT ([0-9a-f]{64})$/m.exec(out)?.[1] ?? null };
}

function connectBoard(url: string, fingerprint: string | null): Promise<{ ws: WebSocket; ms: number }> {
  const t0 = performance.now();
  return new Promise((ok, ko) => {
    const ws = new WebSocket(url, { handshakeTimeout: 30_000, ...(fingerprint ? { createConnection: pinnedConnection(fingerprint) as unknown as WebSocket.ClientOptions['createConnection'] } : {}) });
    ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type?: string }).type === 'connection_established') ok({ ws, ms: performance.now() - t0 });
    });
    ws.on('error', ko);
    ws.on('close', (code) => ko(new Error(`closed ${code} before connection_established`)));
  });
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function storm(tls: boolean, boards: number, rounds: number) {
  const server = await startServer(tls);
  const base = `${tls ? 'wss' : 'ws'}://127.0.0.1:${server.port}`;
  interface Round { all_connected_ms: number; setup_ms_p50: number; setup_ms_p99: number; server_cpu_s: number; boards_process_cpu_s: number }
  const results: Round[] = [];
  try {
    for (let round = 0; round < rounds + 1; round++) {
      const cpu0 = cpuOf(server.child.pid!);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      const links = await Promise.all(Array.from({ length: boards }, (_, i) => connectBoard(boardEndpoint(base, `storm-${i + 1}`), server.fingerprint)));
      const wall = performance.now() - t0;
      const serverCpu = cpuOf(server.child.pid!) - cpu0;
      const own = process.cpuUsage(own0);
      await Promise.all(links.map(({ ws }) => new Promise<void>((r) => { ws.once('close', () => r()); ws.close(1000); })));
      // The first round warms up (JIT, the store's first rows for these ids); it is not reported.
      if (round === 0) continue;
      const ms = links.map((l) => l.ms).sort((a, b) => a - b);
      results.push({ all_connected_ms: r2(wall), setup_ms_p50: r2(pct(ms, 50)), setup_ms_p99: r2(pct(ms, 99)), server_cpu_s: r2(serverCpu), boards_process_cpu_s: r2((own.user + own.system) / 1e6) });
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    server.child.kill('SIGTERM');
  }
  const median = (k: keyof Round) => {
    const v = results.map((r) => r[k]).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  return {
    scheme: tls ? 'wss' : 'ws',
    rounds: results,
    median: { all_connected_ms: median('all_connected_ms'), setup_ms_p50: median('setup_ms_p50'), setup_ms_p99: median('setup_ms_p99'), server_cpu_s: median('server_cpu_s'), boards_process_cpu_s: median('boards_process_cpu_s') },
  };
}

const cfg = flags();
const load0 = loadavg()[0]!;
try {
  process.stderr.write(`bench: ${cfg.boards} boards reconnecting at once over ws://, ${cfg.rounds} rounds...\n`);
  const ws = await storm(false, cfg.boards, cfg.rounds);
  process.stderr.write(`bench: ... and over wss://\n`);
  const wss = await storm(true, cfg.boards, cfg.rounds);
  const q = (a: number, b: number) => (b > 0 ? r2(a / b) : null);
  const ratios = Object.fromEntries(Object.keys(ws.median).map((k) => [k, q(wss.median[k as keyof typeof ws.median], ws.median[k as keyof typeof ws.median])]));
  process.stdout.write(JSON.stringify({
    bench: `reconnect storm: ${cfg.boards} boards open their sockets at once, ws:// against wss:// (fingerprint pinned)`,
    node: process.version, cpus: cpus().length,
    loadavg_1m: { before: r2(load0), after: r2(loadavg()[0]!) },
    notes: [
      'all_connected_ms: from the first connect to the last connection_established; setup_ms: one board\'s connect to its connection_established (TCP, TLS, upgrade, the gateway\'s board registration)',
      'server_cpu_s: utime+stime of the gateway process over the storm; boards_process_cpu_s: this process (all the boards), which does the client half of every handshake',
      'medians over the rounds; a first warm-up round is not counted. TLS 1.3, ECDSA P-256 certificate, no session resumption (each board is a new client)',
    ],
    ws, wss, wss_over_ws: ratios,
  }, null, 2) + '\n');
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
}
