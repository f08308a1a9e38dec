/**
 * Bulk provisioning time for N pty board peers on a hub: every port at once
 * against one port at a time. Run: node --import tsx test/bench/bulk-parallel.ts [N]
 */
import { startHub } from '../usb/hub.js';
import { until } from '../usb/fixtures.js';

const N = Number(process.argv[2] ?? 6);

async function run(parallel: number): Promise<number> {
  const hub = await startHub({ boards: N, appSize: 0x60000, parallel, macGroup: 2, pollMs: 20 });
  const t0 = performance.now();
  hub.queue.start();
  await until(() => hub.rows.length === N, 120000, 'all boards');
  const ms = performance.now() - t0;
  const rows = [...hub.rows];
  await hub.stop();
  if (rows.some((r) => r.result !== 'ok')) throw new Error('a board failed: ' + JSON.stringify(rows));
  return ms;
}

const serial = await run(1);
const parallel = await run(8);
console.log(`${N} boards, 0x60000-byte app: one port at a time ${serial.toFixed(0)} ms, all ports at once ${parallel.toFixed(0)} ms (x${(serial / parallel).toFixed(2)})`);
