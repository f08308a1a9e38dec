/**
 * A rollout outlives a gateway restart: it is kept in the data folder, and
 * a board that was rebooting into the new image when the gateway stopped is
 * judged by the version it reconnects with to the new gateway.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { buildAppImage } from '../support/app-image.js';
import { VirtualBoard } from '../../main/simulator/board.js';
import type { Rollout } from '../../firmware-protocol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'courtside-ota-restart-'));
const opts = { dataDir: dir, db: join(dir, 'courtside.sqlite') };
let gw: TestGateway | null = null;
let board: VirtualBoard | null = null;
after(async () => {
  await board?.stop();
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a rollout survives a restart; the board that was rebooting succeeds on the new gateway', async () => {
  gw = await startTestGateway(opts);
  board = new VirtualBoard({ url: gw.url, deviceCode: 'r-1', ota: { rebootMs: 400 }, reconnectMinMs: 50, reconnectMaxMs: 200, heartbeatIntervalMs: 60_000 });
  await board.start();
  await waitFor(() => gw!.core.boards.find('r-1')?.status?.firmware === '1.2.0', { what: 'status' });
  const up = await gw.http('/api/firmware', { method: 'POST', body: buildAppImage({ version: '2.0.0' }) });
  const fw = ((await up.json()) as { firmware: { firmware_id: string } }).firmware;
  const res = await gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: fw.firmware_id, devices: ['r-1'] }) });
  const id = ((await res.json()) as { rollout: Rollout }).rollout.rollout_id;
  const get = async () => ((await (await gw!.http(`/api/ota/rollouts/${id}`)).json()) as { rollout: Rollout }).rollout;
  await waitFor(async () => (await get()).devices[0]!.phase === 'rebooting', { what: 'rebooting' });
  const port = gw.port;
  await gw.close();
  gw = await startTestGateway({ ...opts, port });
  const done = await waitFor(async () => {
    const r = await get();
    return r.state === 'complete' ? r : null;
  }, { timeoutMs: 10_000, what: 'complete after the restart' });
  assert.deepEqual([done.devices[0]!.state, done.devices[0]!.version], ['succeeded', '2.0.0']);
  assert.equal(board.firmware, '2.0.0');
});
