/**
 * Bulk mode: three boards plugged in one after another, the second with a
 * stuck flash bit. The report says what happened to each; tokens exist (as
 * hashes, in a real SQLite store) only for the boards that work, and each
 * working board carries its own token in its NVS.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hashToken } from '../../main/gateway/auth.js';
import { BulkQueue, type BulkRow } from '../../main/gateway/usb/bulk.js';
import { openTokenStore } from '../../main/gateway/usb/cli/common.js';
import { parseNvsPartition } from '../../main/gateway/usb/nvs/index.js';
import { listPorts } from '../../main/gateway/usb/ports.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { firmware, tempDir, until } from './fixtures.js';

const peers: BoardPeer[] = [];
after(async () => {
  for (const p of peers) await p.stop();
});

function nvsOf(b: BoardPeer): Record<string, unknown> {
  const parsed = parseNvsPartition(b.flash.subarray(0x9000, 0xf000));
  return Object.fromEntries(parsed.entries.map((e) => [e.key, e.value]));
}

describe('bulk mode', () => {
  test('three boards in a row, one failing: report, ids and tokens are right, and the queue goes on', async () => {
    const dir = tempDir();
    const { store, tokens } = await openTokenStore({ db: join(dir, 'courtside.sqlite') });
    // racket-1 was provisioned in an earlier run: numbering skips it.
    await tokens.mint('racket-1', 'earlier run');
    const fw = firmware({ appSize: 0x20000 });
    const rows: BulkRow[] = [];
    let listed: string[] = [];
    const queue = new BulkQueue({
      firmware: { images: [{ address: 0, data: fw.merged, name: 'merged.bin' }], chip: null },
      idTemplate: 'racket-{n}',
      config: { wifi_ssid: 'Court-5', wifi_pass: 'shuttle-cock', gw_host: '192.168.4.2', gw_port: 8765, room_id: 'HALL01' },
      // The OS lister is skipped (no udevadm round trip every 50 ms); sysfs and the wildcard still run.
      listPorts: async () => {
        const ports = await listPorts({ extra: [join(dir, 'board-*')], lister: async () => [] });
        listed = ports.map((p) => p.path);
        return ports;
      },
      mintToken: (id) => tokens.mint(id, 'bulk'),
      revokeToken: (id) => tokens.revoke(id),
      takenIds: () => tokens.taken(),
      connect: { baud: 921600, connectAttempts: 2 },
      pollMs: 50,
      onBoard: (r) => rows.push(r),
    });
    queue.start();
    try {
      const plug = async (n: number, opts: Parameters<typeof startBoardPeer>[0] = {}) => {
        const b = await startBoardPeer({ dir, name: `board-${n}`, mac: `24:0a:c4:00:00:0${n}`, ...opts });
        peers.push(b);
        await until(() => rows.length === n, 20000, `board ${n} done`);
        return b;
      };
      const b1 = await plug(1);
      const b2 = await plug(2, { faults: { corruptWrites: true } });
      const b3 = await plug(3);

      assert.deepEqual(rows.map((r) => [r.port, r.mac, r.chip, r.device_id, r.result, r.error_code]), [
        [b1.path, '24:0a:c4:00:00:01', 'ESP32', 'racket-2', 'ok', null],
        [b2.path, '24:0a:c4:00:00:02', 'ESP32', null, 'failed', 'VERIFY_FAILED'],
        [b3.path, '24:0a:c4:00:00:03', 'ESP32', 'racket-3', 'ok', null],
      ]);
      const csv = queue.csv().trim().split('\r\n');
      assert.equal(csv[0], 'port,mac,chip,device_id,result,error_code,error,finished_at');
      assert.match(csv[1]!, new RegExp(`^${b1.path},24:0a:c4:00:00:01,ESP32,racket-2,ok,,,\\d{4}-`));
      assert.match(csv[2]!, /,24:0a:c4:00:00:02,ESP32,,failed,VERIFY_FAILED,"?the flash at 0x0 does not read back/);
      assert.match(csv[3]!, /,racket-3,ok,,,/);

      // Each working board has the firmware and its own configuration.
      for (const [b, id] of [[b1, 'racket-2'], [b3, 'racket-3']] as const) {
        assert.ok(b.flash.subarray(0x10000, 0x10000 + fw.app.length).equals(fw.app), `${id}: app`);
        const cfg = nvsOf(b);
        assert.equal(cfg.device_id, id);
        assert.equal(cfg.wifi_ssid, 'Court-5');
        assert.equal(cfg.room_id, 'HALL01');
        assert.equal(await store.checkDeviceToken(id, hashToken(String(cfg.device_token))), true, `${id}: token not admitted`);
      }
      // The failed board got racket-3's first token in its NVS before the check failed; it was revoked.
      const failedToken = String(nvsOf(b2).device_token);
      assert.equal(nvsOf(b2).device_id, 'racket-3');
      assert.equal(await store.checkDeviceToken('racket-3', hashToken(failedToken)), false);
      assert.equal(await store.checkDeviceToken('racket-2', hashToken(String(nvsOf(b3).device_token))), false, 'a token admits another id');
      const live = (await store.listDeviceTokens()).filter((t) => t.revokedAt === null).map((t) => t.deviceId).sort();
      assert.deepEqual(live, ['racket-1', 'racket-2', 'racket-3']);
      assert.equal((await store.listDeviceTokens()).filter((t) => t.deviceId === 'racket-3').length, 2);

      // A board that re-enumerates after its reset is not provisioned twice.
      const seen = b1.loader.seen.length;
      await b1.unplug();
      await until(() => !listed.includes(b1.path), 5000, 'unplug noticed');
      await new Promise((r) => setTimeout(r, 20));
      await b1.replug();
      await until(() => b1.loader.seen.length > seen && queue.current === null, 10000, 'replugged board looked at');
      assert.equal(rows.length, 3);
      assert.equal(queue.status().ok, 2);
      assert.equal(queue.status().next_id, 'racket-4');
    } finally {
      await queue.stop();
      await store.close();
    }
  });
});
