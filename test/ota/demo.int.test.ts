/**
 * The `--demo` fleet does OTA as the protocol says: demo boards run 1.2.0,
 * take a rollout over HTTP, and the one told to roll back comes back on
 * 1.2.0 and is reported so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { buildAppImage } from '../support/app-image.js';
import { startDemoFleet } from '../../main/cli/demo.js';
import { parseOtaFailSpec } from '../../main/simulator/ota.js';
import type { Rollout } from '../../firmware-protocol/index.js';

let gw: TestGateway;
let stop: () => Promise<void>;
before(async () => {
  gw = await startTestGateway();
  const spec = parseOtaFailSpec('racket-3=rollback');
  assert.notEqual(typeof spec, 'string');
  stop = await startDemoFleet(gw, 4, spec as Exclude<typeof spec, string>);
});
after(async () => {
  await stop();
  await gw.stop();
});

test('demo boards run 1.2.0 until updated; a rollout updates them, the rollback board is reported', async () => {
  await waitFor(() => gw.core.boards.list().filter((d) => d.status?.firmware === '1.2.0').length === 4, { what: 'four demo boards on 1.2.0', timeoutMs: 10_000 });
  const up = await gw.http('/api/firmware', { method: 'POST', body: buildAppImage({ version: '1.3.0' }) });
  const fw = ((await up.json()) as { firmware: { firmware_id: string } }).firmware;
  const res = await gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: fw.firmware_id, devices: ['racket-1', 'racket-2', 'racket-3', 'racket-4'], canary_percent: 25, max_failures: 3 }) });
  const id = ((await res.json()) as { rollout: Rollout }).rollout.rollout_id;
  const done = await waitFor(async () => {
    const r = ((await (await gw.http(`/api/ota/rollouts/${id}`)).json()) as { rollout: Rollout }).rollout;
    return r.state === 'complete' ? r : null;
  }, { timeoutMs: 20_000, what: 'rollout complete' });
  assert.deepEqual(Object.fromEntries(done.devices.map((d) => [d.device_id, [d.state, d.version]])), {
    'racket-1': ['succeeded', '1.3.0'], 'racket-2': ['succeeded', '1.3.0'], 'racket-3': ['rolled_back', '1.2.0'], 'racket-4': ['succeeded', '1.3.0'],
  });
  const firmware = Object.fromEntries(gw.core.boards.list().map((d) => [d.device_id, d.status?.firmware]));
  assert.deepEqual(firmware, { 'racket-1': '1.3.0', 'racket-2': '1.3.0', 'racket-3': '1.2.0', 'racket-4': '1.3.0' });
});
