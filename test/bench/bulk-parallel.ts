/**
 * Bulk provisioning time for N pty board peers on a hub: every port at once
 * against one port at a time. Run: node --import tsx test/bench/bulk-parallel.ts [N]
 */
import { join } from 'node:path';
import { BulkQueue, type BulkRow } from '../../main/gateway/usb/bulk.js';
import { openTokenStore } from '../../main/gateway/usb/cli/common.js';
import { listPorts } from '../../main/gateway/usb/ports.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir, until } from '../usb/fixtures.js';

const N = Number(process.argv[2] ?? 6);

async function run(parallel: number): Promise<number> {
  const dir = tempDir();
  const { store, tokens } = await openTokenStore({ db: join(dir, 'courtside.sqlite') });
  const fw = firmware({ appSize: 0x60000 });
  const peers: BoardPeer[] = [];
  for (let n = 1; n <= N; n++) peers.push(await startBoardPeer({ dir, name: `hub-${n}`, mac: `24:0a:c4:00:02:${String(n).padStart(2, '0')}` }));
  const rows: BulkRow[] = [];
  const queue = new BulkQueue({
    firmware: { images: [{ address: 0, data: fw.merged, name: 'merged.bin' }], chip: null },
    idTemplate: 'court-{n:2}',
    config: { wifi_ssid: 'Hall', wifi_pass: 'shuttle-cock', gw_host: '192.168.4.2', gw_port: 8765 },
    listPorts: () => listPorts({ extra: [join(dir, 'hub-*')], lister: async () => [] }),
    mintToken: (id) => tokens.mint(id, 'bulk'),
    revokeToken: (id) => tokens.revoke(id),
    takenIds: () => tokens.taken(),
    connect: { baud: 921600, connectAttempts: 2 },
    pollMs: 20,
    parallel,
    onBoard: (r) => rows.push(r),
  });
  const t0 = performance.now();
  queue.start();
  await until(() => rows.length === N, 120000, 'all boards');
  const ms = performance.now() - t0;
  await queue.stop();
  if (rows.some((r) => r.result !== 'ok')) throw new Error('a board failed: ' + JSON.stringify(rows));
  for (const p of peers) await p.stop();
  await store.close();
  return ms;
}

const serial = await run(1);
const parallel = await run(8);
console.log(`${N} boards, 0x60000-byte app: one port at a time ${serial.toFixed(0)} ms, all ports at once ${parallel.toFixed(0)} ms (x${(serial / parallel).toFixed(2)})`);
