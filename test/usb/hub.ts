/**
 * A USB hub of pty board peers and the bulk queue that provisions them, as the bulk tests and
 * the bulk benchmark both use it: the same firmware, the same config and a real SQLite token
 * store in a fresh folder.
 */
import { join } from 'node:path';
import { BulkQueue, type BulkOptions, type BulkRow } from '../../main/gateway/usb/bulk.js';
import { openTokenStore } from '../../main/gateway/usb/cli/common.js';
import { listPorts } from '../../main/gateway/usb/ports.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir } from './fixtures.js';

export interface HubOptions {
  /** How many boards are plugged in. */
  boards: number;
  /** Size of the app image flashed to each. */
  appSize: number;
  /** Ports written at once (BulkQueue's `parallel`). */
  parallel: number;
  /** 1-based index of a board whose flash corrupts writes; none by default. */
  failing?: number | null;
  /** The third byte pair of the peers' MACs, so two hubs in one run differ. */
  macGroup?: number;
  pollMs?: number;
  /** Further queue hooks (onStart, onProgress, onProvisioned); `onBoard` is the hub's own. */
  hooks?: Partial<Pick<BulkOptions, 'onStart' | 'onProgress' | 'onProvisioned' | 'onBoard'>>;
}

export async function startHub(o: HubOptions) {
  const dir = tempDir();
  const { store, tokens } = await openTokenStore({ db: join(dir, 'courtside.sqlite') });
  const fw = firmware({ appSize: o.appSize });
  const group = String(o.macGroup ?? 1).padStart(2, '0');
  const boards: BoardPeer[] = [];
  for (let n = 1; n <= o.boards; n++) {
    boards.push(
      await startBoardPeer({ dir, name: `hub-${n}`, mac: `24:0a:c4:00:${group}:${String(n).padStart(2, '0')}`, faults: n === o.failing ? { corruptWrites: true } : undefined }),
    );
  }
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
    pollMs: o.pollMs ?? 50,
    parallel: o.parallel,
    ...o.hooks,
    onBoard: (r) => {
      rows.push(r);
      o.hooks?.onBoard?.(r);
    },
  });
  return {
    dir,
    store,
    boards,
    rows,
    queue,
    async stop() {
      await queue.stop();
      for (const b of boards) await b.stop();
      await store.close();
    },
  };
}
