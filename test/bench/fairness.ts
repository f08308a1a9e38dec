/**
 * Fairness between connections: one well-behaved board's heartbeat round
 * trip while 0, 1 and 4 other boards flood the gateway with ~80 KB
 * `batch_sensor_data` frames as fast as their sockets drain. Each flooder
 * connects from its own loopback alias (127.0.0.2, 127.0.0.3, ...), because
 * 127.0.0.1 is exempt from the per-address limits this is meant to exercise.
 *
 *   node --import tsx test/bench/fairness.ts [--seconds 8]
 *
 * Starts `courtside serve` as a child process (MariaDB not needed: an
 * in-memory store) and prints one JSON document: per phase the heartbeat
 * RTT median, p99, max and count, the flooders' frames sent and answered,
 * and the p50/p99 ratios against the phase without flooders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const { values: a } = parseArgs({ strict: true, options: { seconds: { type: 'string', default: '8' } } });
const phaseSeconds = Number(a.seconds);
if (!(phaseSeconds > 0 && phaseSeconds <= 120)) {
  process.stderr.write(`fairness: --seconds must be in (0, 120], got '${a.seconds}'\n`);
  process.exit(2);
}
const FLOODERS = [0, 1, 4];
const HEARTBEAT_MS = 20;
/** Keep at most this much queued in the client's socket: "as fast as it drains". */
const MAX_BUFFERED = 1 << 20;
const SAMPLES = 2000;

// Bounded whatever the gateway does: the phases, the start-up and some slack.
setTimeout(() => {
  process.stderr.write('fairness: overall timeout\n');
  process.exit(1);
}, FLOODERS.length * (phaseSeconds + 5) * 1000 + 60_000).unref();

function startServe(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'main/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--db', ':memory:', '--data-dir', dataDir, '--log-level', 'error'],
      { cwd: root, env: { ...process.env, COURTSIDE_DISCOVERY: 'off' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const t = setTimeout(() => fail(new Error(`serve did not start within 30 s: ${out.slice(-500)}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        ok({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`serve exited (${code}): ${out.slice(-500)}`)));
  });
}

/** Resolves on `connection_established`: listening from the start, since it can arrive in the same read as the upgrade. */
function open(url: string, localAddress?: string): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    ws.once('message', () => ok(ws));
    ws.once('error', fail);
    ws.once('unexpected-response', (_q, r) => fail(new Error(`HTTP ${r.statusCode} for ${url}`)));
  });
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

/** One ~80 KB frame's samples, built once: the gateway's work, not the client's, is measured. */
const samples = Array.from({ length: SAMPLES }, (_, i) => [+(0.0137 * (i % 97)).toFixed(4), -0.5123, 0.9871, 12.25, -3.5, +(0.125 * (i % 13)).toFixed(3)]);
const samplesJson = JSON.stringify(samples);

interface Flooder {
  sent: number;
  acked: number;
  errors: Record<string, number>;
  closed: number | null;
  stop(): Promise<void>;
}

async function flooder(base: string, n: number): Promise<Flooder> {
  const ws = await open(`${base}/ws/esp32/flood-${n}/`, `127.0.0.${n + 2}`);
  const f: Flooder = { sent: 0, acked: 0, errors: {}, closed: null, stop: async () => undefined };
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { type?: string; code?: string };
    if (m.type === 'data_ack') f.acked++;
    else if (m.type === 'error') f.errors[m.code ?? '?'] = (f.errors[m.code ?? '?'] ?? 0) + 1;
  });
  ws.on('close', (code) => (f.closed = code));
  ws.on('error', () => undefined);
  let running = true;
  let seq = 0;
  const loop = (async () => {
    while (running && ws.readyState === WebSocket.OPEN) {
      if (ws.bufferedAmount >= MAX_BUFFERED) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const frame = `{"type":"batch_sensor_data","seq":${seq++},"start_ms":${Date.now()},"rate_hz":200,"samples":${samplesJson}}`;
      await new Promise<void>((r) => ws.send(frame, () => r()));
      f.sent++;
    }
  })();
  f.stop = async () => {
    running = false;
    await loop;
    // Only a close by the gateway counts; ours below is not a finding.
    ws.removeAllListeners('close');
    ws.terminate();
  };
  return f;
}

async function phase(base: string, good: WebSocket, nFlooders: number): Promise<Record<string, unknown>> {
  const flooders = await Promise.all(Array.from({ length: nFlooders }, (_, i) => flooder(base, i)));
  const rtts: number[] = [];
  let lost = 0;
  const pending: number[] = [];
  const onMsg = (d: WebSocket.RawData): void => {
    const m = JSON.parse(d.toString()) as { type?: string };
    if (m.type !== 'heartbeat_ack') return;
    const t0 = pending.shift();
    if (t0 !== undefined) rtts.push(performance.now() - t0);
  };
  good.on('message', onMsg);
  const end = Date.now() + phaseSeconds * 1000;
  const timer = setInterval(() => {
    if (good.readyState !== WebSocket.OPEN) return;
    pending.push(performance.now());
    good.send('{"type":"heartbeat"}');
  }, HEARTBEAT_MS);
  await new Promise((r) => setTimeout(r, end - Date.now()));
  clearInterval(timer);
  // Acks still on their way: give them a second, then count the rest as unanswered.
  const waitUntil = Date.now() + 1000;
  while (pending.length > 0 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 10));
  lost = pending.length;
  good.off('message', onMsg);
  await Promise.all(flooders.map((f) => f.stop()));
  const s = rtts.sort((x, y) => x - y);
  return {
    flooders: nFlooders,
    heartbeat_rtt_ms: { p50: r3(quantile(s, 0.5)), p99: r3(quantile(s, 0.99)), max: r3(s.at(-1) ?? null), count: s.length, unanswered: lost },
    flood: {
      frames_sent: flooders.reduce((t, f) => t + f.sent, 0),
      frames_acked: flooders.reduce((t, f) => t + f.acked, 0),
      errors: flooders.reduce<Record<string, number>>((t, f) => {
        for (const [k, v] of Object.entries(f.errors)) t[k] = (t[k] ?? 0) + v;
        return t;
      }, {}),
      per_flooder: flooders.map((f) => ({ sent: f.sent, acked: f.acked, closed_by_gateway: f.closed })),
    },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'courtside-fair-'));
let child: ChildProcess | undefined;
let code = 0;
try {
  const s = await startServe(dataDir);
  child = s.child;
  const base = `ws://127.0.0.1:${s.port}`;
  const good = await open(`${base}/ws/esp32/good-1/`);
  const phases: Record<string, unknown>[] = [];
  for (const n of FLOODERS) {
    process.stderr.write(`fairness: ${n} flooder(s), ${phaseSeconds} s\n`);
    phases.push(await phase(base, good, n));
    await new Promise((r) => setTimeout(r, 500)); // let the gateway drain between phases
  }
  good.terminate();
  const rtt = (p: Record<string, unknown>) => p.heartbeat_rtt_ms as { p50: number | null; p99: number | null };
  const b = rtt(phases[0]!);
  const ratio = (x: number | null, y: number | null) => (x === null || y === null || y === 0 ? null : Math.round((x / y) * 100) / 100);
  process.stdout.write(
    JSON.stringify(
      {
        phase_seconds: phaseSeconds,
        heartbeat_interval_ms: HEARTBEAT_MS,
        flood_frame_bytes: `{"type":"batch_sensor_data","seq":0,"start_ms":${Date.now()},"rate_hz":200,"samples":${samplesJson}}`.length,
        phases,
        ratios_vs_no_flood: phases.slice(1).map((p) => ({ flooders: p.flooders, p50: ratio(rtt(p).p50, b.p50), p99: ratio(rtt(p).p99, b.p99) })),
      },
      null,
      2,
    ) + '\n',
  );
} catch (err) {
  process.stderr.write(`fairness: ${err instanceof Error ? err.message : String(err)}\n`);
  code = 1;
} finally {
  child?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
