/**
 * The durable-ingest benchmark (test/bench/ingest.ts) run tiny, for
 * `npm run bench:check` (the same guarantee with a fixed amount of data is in
 * npm test: test/sessions/ingest-closed-loop.test.ts): it must
 * finish, print one JSON document, and its counts must agree with each other
 * and with what the gateway stored. The figures themselves are not asserted:
 * a shared CI machine makes them noise at this size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

function bench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/bench/ingest.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGTERM'); // the bench kills its gateways and loaders on SIGTERM
      reject(new Error(`ingest bench did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Run {
  backend: string; mode: string; error?: string; samples_per_s: number; frames_per_s: number; samples_per_frame: number;
  frames_sent: number; acked_frames: number; acked_samples: number; stored_samples: number; in_flight_left: number;
  not_stored_acks: number; error_frames: number; target_samples_per_s: number; target_met: boolean; gateway_cpu_pct: number;
}

test('ingest bench: a bad flag is one line on stderr and exit 2', { timeout: 30_000 }, async () => {
  const r = await bench(['--backends', 'sqlite,postgres'], 25_000);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "ingest-bench: --backends takes sqlite, mysql, got 'postgres'\n");
});

test('ingest bench: one second per run into SQLite and MariaDB, JSON and binary, every ack stored', { timeout: 150_000 }, async () => {
  const r = await bench(['--seconds', '1', '--warmup', '0.3', '--boards', '2', '--samples-per-frame', '20', '--window', '4'], 140_000);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { runs: Run[]; targets: Record<string, number>; config: { samples_per_frame: number } };
  assert.deepEqual(doc.targets, { sqlite: 200_000, mysql: 100_000 });
  assert.deepEqual(doc.runs.map((x) => `${x.backend}/${x.mode}`), ['sqlite/json', 'sqlite/binary', 'mysql/json', 'mysql/binary']);
  for (const x of doc.runs) {
    const name = `${x.backend}/${x.mode}`;
    assert.equal(x.error, undefined, `${name}: ${x.error}`);
    assert.equal(x.samples_per_frame, 20);
    assert.ok(x.samples_per_s > 0 && x.frames_per_s > 0, `${name}: nothing acked in the window`);
    assert.ok(Math.abs(x.samples_per_s - x.frames_per_s * 20) <= 20, `${name}: samples/s and frames/s disagree`);
    // Closed loop, drained: every frame sent was acked as stored, and the store holds exactly those.
    assert.equal(x.in_flight_left, 0, `${name}: frames never acked`);
    assert.equal(x.acked_frames, x.frames_sent, name);
    assert.equal(x.acked_samples, x.acked_frames * 20, name);
    assert.equal(x.stored_samples, x.acked_samples, `${name}: stored vs acked samples`);
    assert.equal(x.not_stored_acks, 0, name);
    assert.equal(x.error_frames, 0, name);
    assert.equal(x.target_met, x.samples_per_s >= x.target_samples_per_s, name);
    assert.ok(x.gateway_cpu_pct > 0, `${name}: gateway CPU read from /proc`);
  }
});
