/**
 * The fan-out benchmark (test/bench/run.ts) run tiny, for `npm run bench:check`:
 * it must reject a bad flag, finish, print one JSON document, and deliver
 * every sample through the bare relay and Socket.IO. The figures are not
 * asserted: at this size they are noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from '../support/cli.js';

interface BenchRun { code: number | null; stdout: string; stderr: string }

function runBench(args: string[], timeoutMs = 120_000): Promise<BenchRun> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(t); ok({ code, stdout, stderr }); });
  });
}

type Server = { delivered: number; expected: number; error?: string; latency_ms: { p50: number; p99: number }; server_cpu_s: number; frames_sent: number };
type Doc = { workloads: { mode: string; servers: Record<string, Server>; ratios: Record<string, unknown> }[] };

test('bench: a bad flag is one line on stderr and exit 2', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', 'many']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^bench: --boards must be a positive integer up to 1000, got 'many'\n$/);
});

test('bench: 2 boards x 20 Hz x 2 s through the bare relay (also acking, and storing) and socket.io delivers every sample', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', '2', '--rate', '20', '--seconds', '2', '--only', 'bare,bare-ack,bare-store,socketio']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.deepEqual(doc.workloads.map((w) => w.mode), ['sample', 'batch']);
  for (const w of doc.workloads) {
    for (const name of ['bare', 'bare-ack', 'bare-store', 'socketio']) {
      const s = w.servers[name]!;
      assert.equal(s.error, undefined, s.error);
      assert.equal(s.expected, 80);
      assert.equal(s.delivered, s.expected, `${w.mode}/${name}`);
      assert.equal(s.frames_sent, w.mode === 'sample' ? 2 * 60 : 2 * 6);
      assert.ok(s.latency_ms.p50 >= 0 && s.latency_ms.p99 >= s.latency_ms.p50);
      assert.ok(s.server_cpu_s >= 0);
    }
    assert.equal(w.ratios.courtside_over_bare, null);
    assert.equal(w.ratios.courtside_over_bare_ack, null);
    assert.equal(w.ratios.courtside_rec_over_bare_store, null);
  }
});

test('bench: the courtside variant delivers every sample (2 boards x 20 Hz x 2 s)', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', '2', '--rate', '20', '--seconds', '2', '--only', 'courtside']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { workloads: { mode: string; servers: Record<string, Record<string, unknown>> }[] };
  for (const w of doc.workloads) {
    const c = w.servers.courtside!;
    assert.equal(c.error, undefined, String(c.error));
    assert.equal(c.delivered, c.expected, w.mode);
    assert.equal(c.acks, c.frames_sent, 'every frame acked');
    assert.equal(c.error_frames, 0, String(c.first_error));
  }
});

test('bench: over wss:// (courtside_tls) every sample is delivered and acked, and the ratio to ws:// is reported', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', '2', '--rate', '20', '--seconds', '2', '--modes', 'batch', '--only', 'courtside,courtside_tls']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { workloads: { servers: Record<string, Record<string, unknown>>; ratios: { wss_over_ws: Record<string, number> | null } }[] };
  for (const w of doc.workloads) {
    const c = w.servers.courtside_tls!;
    assert.equal(c.error, undefined, String(c.error));
    assert.equal(c.tls, true);
    assert.equal(w.servers.courtside!.tls, false);
    assert.equal(c.delivered, c.expected);
    assert.equal(c.acks, c.frames_sent, 'every frame acked');
    assert.ok('wss_over_ws' in w.ratios, 'the ratio is reported');
    // At this size a server's CPU can read 0 s (10 ms ticks), and then there is no ratio to take.
    if ((w.servers.courtside!.server_cpu_s as number) > 0 && (c.server_cpu_s as number) > 0) {
      assert.ok(w.ratios.wss_over_ws && w.ratios.wss_over_ws.server_cpu > 0, JSON.stringify(w.ratios));
    }
  }
});
