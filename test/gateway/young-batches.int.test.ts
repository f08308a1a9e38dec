/**
 * The objects that wait in bulk on the streaming path (a turn's batches for
 * their fan-out, a commit's chunks for it) against V8 itself: the probe
 * provokes the pretenuring decision that once made every sample batch an
 * old-generation object at 50 streaming boards (each then kept its young
 * samples alive through scavenges), and the old generation's growth shows
 * whether V8 took it. The object literal the board endpoint used is the
 * control: it shows the probe does provoke the decision, so a small growth
 * for the others means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('../fixtures/pretenure-probe.ts', import.meta.url));

function oldGrowth(mode: 'literal' | 'live-batch' | 'frame-chunk'): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', probe, mode], { encoding: 'utf8', timeout: 30_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { oldGrowthBytes: number; made: boolean };
  assert.equal(r.made, true);
  return r.oldGrowthBytes;
}

test('an object literal that a collection found alive in bulk is then made in the old generation (the control)', () => {
  // 50,000 objects with their samples, about 10 MB: most of it lands in the old generation.
  assert.ok(oldGrowth('literal') > 2 * 1024 * 1024);
});

test('batches waiting for the operator fan-out stay young', () => {
  assert.ok(oldGrowth('live-batch') < 256 * 1024);
});

test('chunks waiting for their commit stay young', () => {
  assert.ok(oldGrowth('frame-chunk') < 256 * 1024);
});
