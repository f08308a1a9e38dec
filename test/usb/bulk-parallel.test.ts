/**
 * Bulk mode on a hub: four pty board peers present at once, one with a stuck
 * flash bit. Every port gets its own job at the same time; the failing one is
 * reported and the other three are provisioned with their own ids and
 * tokens (checked in the NVS the peers hold and in a real SQLite store).
 * Then the same four boards one at a time (`parallel: 1`), for the time the
 * parallel run saves.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashToken } from '../../main/gateway/auth.js';
import { parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import type { BoardPeer } from '../support/rom-peer/index.js';
import { until } from './fixtures.js';
import { startHub } from './hub.js';

const hubs: Awaited<ReturnType<typeof startHub>>[] = [];
after(async () => {
  for (const h of hubs) await h.stop();
});

const nvsOf = (b: BoardPeer) => Object.fromEntries(parseNvsPartition(b.flash.subarray(0x9000, 0xf000)).entries.map((e) => [e.key, e.value]));

async function run(parallel: number, failing: number | null) {
  const provisioned: string[] = [];
  let active = 0;
  let most = 0;
  const progressPorts = new Set<string>();
  const hub = await startHub({
    boards: 4,
    appSize: 0x30000,
    parallel,
    failing,
    hooks: {
      onProvisioned: async (id) => void provisioned.push(id),
      onStart: () => (most = Math.max(most, ++active)),
      onProgress: (port) => progressPorts.add(port),
      onBoard: () => active--,
    },
  });
  hubs.push(hub);
  const { rows, boards, store, queue } = hub;
  const t0 = performance.now();
  queue.start();
  try {
    await until(() => rows.length === 4, 60000, 'four boards done');
    const ms = performance.now() - t0;
    // A board's row is recorded before its job lets go of the port (closing it): nothing may stay active after.
    await until(() => queue.status().active.length === 0, 10000, 'every job let go of its port');
    return { rows, boards, store, ms, most, progressPorts, provisioned, status: queue.status() };
  } finally {
    await queue.stop();
  }
}

describe('bulk mode on several ports at once', () => {
  test('four boards in parallel, one failing: the others are provisioned, ids unique, per-port progress', async () => {
    const r = await run(8, 2);
    assert.equal(r.most, 4, 'the four ports were written at the same time');
    assert.equal(r.progressPorts.size, 4, 'progress from every port');
    const byPort = new Map(r.rows.map((row) => [row.port, row]));
    const failed = byPort.get(r.boards[1]!.path)!;
    assert.deepEqual([failed.result, failed.error_code, failed.device_id], ['failed', 'VERIFY_FAILED', null]);
    const ok = r.rows.filter((row) => row.result === 'ok');
    assert.equal(ok.length, 3);
    const ids = ok.map((row) => row.device_id!).sort();
    assert.equal(new Set(ids).size, 3, 'every board its own id');
    for (const id of ids) assert.match(id, /^court-0[1-4]$/);
    assert.deepEqual([...r.provisioned].sort(), ids);
    for (const b of [r.boards[0]!, r.boards[2]!, r.boards[3]!]) {
      const cfg = nvsOf(b);
      const row = byPort.get(b.path)!;
      assert.equal(cfg.device_id, row.device_id, b.path);
      assert.equal(cfg.wifi_ssid, 'Hall');
      assert.equal(await r.store.checkDeviceToken(String(cfg.device_id), hashToken(String(cfg.device_token))), true, `${b.path}: token`);
    }
    const live = (await r.store.listDeviceTokens()).filter((t) => t.revokedAt === null).map((t) => t.deviceId).sort();
    assert.deepEqual(live, ids, 'no token outlives the failed write');
    assert.equal(r.status.active.length, 0);
    console.log(`# parallel: 4 boards in ${r.ms.toFixed(0)} ms`);
  });

  test('the same four boards one at a time (parallel: 1) give the same result', async () => {
    const r = await run(1, null);
    assert.equal(r.most, 1);
    // One after another in the order the ports were found: the ids in order, no gaps.
    assert.deepEqual(r.rows.map((row) => row.device_id).sort(), ['court-01', 'court-02', 'court-03', 'court-04']);
    assert.equal(r.rows.filter((row) => row.result === 'ok').length, 4);
    console.log(`# one port at a time: 4 boards in ${r.ms.toFixed(0)} ms`);
  });
});
