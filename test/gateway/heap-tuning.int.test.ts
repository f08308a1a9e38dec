/**
 * tuneHeapForStreaming (what `courtside serve` and the desktop app call
 * before the gateway starts) against V8 itself: the probe provokes the
 * pretenuring decision that made every sample batch an old-generation object
 * at 50 streaming boards, and the old generation's growth shows whether V8
 * took it. The untuned run is the control: it shows the probe does provoke
 * the decision, so the tuned run's small growth means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('../fixtures/pretenure-probe.ts', import.meta.url));

function oldGrowth(mode: 'tuned' | 'default'): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', probe, mode], { encoding: 'utf8', timeout: 30_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { oldGrowthBytes: number; last: number };
  assert.equal(r.last, 99_999);
  return r.oldGrowthBytes;
}

test('untuned, V8 makes a site whose objects a collection found alive straight in the old generation (the control)', () => {
  // 100,000 objects of about 80 bytes: most of 8 MB lands in the old generation.
  assert.ok(oldGrowth('default') > 2 * 1024 * 1024);
});

test('tuned, the same objects are made young and the old generation stays as it was', () => {
  assert.ok(oldGrowth('tuned') < 256 * 1024);
});
