import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from './bench-run.js';

type Server = { delivered: number; expected: number; error?: string; latency_ms: { p50: number; p99: number }; server_cpu_s: number; frames_sent: number };
type Doc = { workloads: { mode: string; servers: Record<string, Server>; ratios: Record<string, unknown> }[] };

test('bench: a bad flag is one line on stderr and exit 2', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', 'many']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^bench: --boards must be a positive integer up to 1000, got 'many'\n$/);
});

test('bench: 2 boards x 20 Hz x 2 s through the bare relay and socket.io delivers every sample', { timeout: 150_000 }, async () => {
  const r = await runBench(['--boards', '2', '--rate', '20', '--seconds', '2', '--only', 'bare,socketio']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.deepEqual(doc.workloads.map((w) => w.mode), ['sample', 'batch']);
  for (const w of doc.workloads) {
    for (const name of ['bare', 'socketio']) {
      const s = w.servers[name]!;
      assert.equal(s.error, undefined, s.error);
      assert.equal(s.expected, 80);
      assert.equal(s.delivered, s.expected, `${w.mode}/${name}`);
      assert.equal(s.frames_sent, w.mode === 'sample' ? 2 * 60 : 2 * 6);
      assert.ok(s.latency_ms.p50 >= 0 && s.latency_ms.p99 >= s.latency_ms.p50);
      assert.ok(s.server_cpu_s >= 0);
    }
    assert.equal(w.ratios.courtside_over_bare, null);
  }
});
