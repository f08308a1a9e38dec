/**
 * `npm run bench:compare` as a process, on documents written here: the committed
 * baseline against itself passes; a run whose fan-out CPU ratio doubled, or that lost
 * samples, fails with the metric named; bad usage exits 2 with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const baseline = join(root, 'bench/baseline.json');
const dir = mkdtempSync(join(tmpdir(), 'courtside-bench-compare-'));

function compare(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) =>
    execFile(process.execPath, ['--import', 'tsx', join(root, 'test/bench/compare.ts'), ...args], { cwd: root }, (err, stdout, stderr) =>
      ok({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

type Doc = { fanout: { workloads: { mode: string; ratios: { courtside_over_bare: { server_cpu: number } } }[] }; fanout_200: { workloads: { mode: string; servers: { courtside: { lost: number } } }[] } };

test('the baseline against itself: every metric ok, exit 0', async () => {
  const r = await compare(baseline);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\n0 of \d+ metrics worse than 1\.5x the baseline\n$/);
  assert.doesNotMatch(r.stdout, /WORSE/);
});

test('a doubled CPU ratio and lost samples are named as worse, exit 1', async () => {
  // The committed baseline's shape, with no loss in it, as the reference here.
  const base = JSON.parse(readFileSync(baseline, 'utf8')) as Doc;
  for (const w of base.fanout_200.workloads) w.servers.courtside.lost = 0;
  const baseFile = join(dir, 'base.json');
  writeFileSync(baseFile, JSON.stringify(base));
  const doc = JSON.parse(JSON.stringify(base)) as Doc;
  const sample = doc.fanout.workloads.find((w) => w.mode === 'batch')!;
  const before = sample.ratios.courtside_over_bare.server_cpu;
  sample.ratios.courtside_over_bare.server_cpu = before * 2;
  doc.fanout_200.workloads.find((w) => w.mode === 'batch')!.servers.courtside.lost = 7;
  const file = join(dir, 'worse.json');
  writeFileSync(file, JSON.stringify(doc));
  const r = await compare(file, '--baseline', baseFile);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^WORSE {2}fanout\.workloads\.\[mode=batch\]\.ratios\.courtside_over_bare\.server_cpu: baseline [\d.]+, run [\d.]+, 2x$/m);
  assert.match(r.stdout, /^WORSE {2}fanout_200\.workloads\.\[mode=batch\]\.servers\.courtside\.lost: baseline 0, run 7$/m);
  assert.match(r.stdout, /\n2 of \d+ metrics worse/);
});

test('bad usage: one line, exit 2', async () => {
  const none = await compare();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^bench-compare: usage: compare\.ts RUN\.json/);
  const bad = await compare(baseline, '--max-regression', '0.5');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, "bench-compare: --max-regression must be a number > 1, got '0.5'\n");
});
