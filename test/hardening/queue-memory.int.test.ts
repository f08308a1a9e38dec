/**
 * A device coming back to a long queue gets it a page at a time: the audit's
 * reconnect to 1500 queued messages of 200 KB (300 MB) took `courtside
 * serve` from 74 to 438 MB of RSS because the whole queue was loaded at once.
 * Here the queue is written straight into the database (caps off), `serve`
 * runs as its own process, and its peak RSS (VmHWM, from the kernel) is read
 * before and after the device has received every message, on SQLite and on
 * MariaDB.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { openStore } from '../../main/gateway/store/index.js';
import { startCli } from '../support/cli.js';
import { freshMysqlUrl } from '../support/mysql.js';
import { OPERATOR_TOKEN, type Backend } from '../support/gateway.js';

const MIB = 1024 * 1024;
const QUEUED = 1500;
const CONTENT = 'q'.repeat(200_000);
const ROOM = 'MEMRM1';

function kib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

for (const backend of ['sqlite', 'mysql'] as Backend[]) {
  describe(`a reconnect to a long queue (${backend})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'courtside-qmem-'));
    let drop: (() => Promise<void>) | undefined;
    after(async () => {
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`${QUEUED} queued messages of 200 KB arrive in order, with serve's peak RSS bounded`, async () => {
      let db = join(dir, 'courtside.sqlite');
      if (backend === 'mysql') {
        const m = await freshMysqlUrl();
        db = m.url;
        drop = m.drop;
      }
      const store = await openStore(db);
      await store.createRoom(ROOM, new Date());
      const at = new Date();
      for (let i = 0; i < QUEUED; i++) {
        await store.insertMessage({ roomId: ROOM, fromDeviceId: 'sender', toDeviceId: 'ghost-mem', messageType: 'direct', content: `${i}:${CONTENT}`, sentAt: at, status: 'queued' });
      }
      await store.close();

      const { proc, match } = await startCli(
        ['serve', '--host', '127.0.0.1', '--port', '0', '--db', db, '--data-dir', dir, '--operator-token', OPERATOR_TOKEN, '--log-level', 'warn',
          '--max-queued-per-target', '0', '--max-queued-bytes-per-target', '0', '--max-stored-per-room', '0', '--max-stored-bytes-per-room', '0'],
        /listening on 127\.0\.0\.1:(\d+)/,
        { COURTSIDE_DISCOVERY: 'off' },
      );
      try {
        const port = Number(match[1]);
        const pid = proc.pid!;
        // Settle: the start-up peak is what "before" is.
        await new Promise((r) => setTimeout(r, 500));
        const rssBefore = kib(pid, 'VmRSS');
        const peakBefore = kib(pid, 'VmHWM');

        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        let got = 0;
        let inOrder = true;
        const t0 = Date.now();
        await new Promise<void>((resolve, reject) => {
          ws.on('message', (d) => {
            const s = d.toString();
            if (!s.startsWith('{"type":"message"')) return;
            // The content's own index: every message once, oldest first.
            if (!s.includes(`"content":"${got}:`)) inOrder = false;
            if (++got === QUEUED) resolve();
          });
          ws.once('open', () => ws.send(JSON.stringify({ device_id: 'ghost-mem', identity: 'mobile_user', room_id: ROOM })));
          ws.once('error', reject);
          setTimeout(() => reject(new Error(`only ${got} of ${QUEUED} within 120 s`)), 120_000).unref();
        });
        const peakAfter = kib(pid, 'VmHWM');
        ws.close();
        const grew = peakAfter - peakBefore;
        console.log(`[${backend}] reconnect to ${QUEUED} x 200 KB (${((QUEUED * CONTENT.length) / MIB).toFixed(0)} MiB): RSS ${(rssBefore / MIB).toFixed(0)} MiB before, peak ${(peakBefore / MIB).toFixed(0)} -> ${(peakAfter / MIB).toFixed(0)} MiB (+${(grew / MIB).toFixed(0)}), ${Date.now() - t0} ms`);
        assert.equal(got, QUEUED);
        assert.ok(inOrder, 'messages out of order');
        // Loading the queue at once grew the peak by 891 MiB (SQLite) and 361 MiB (MariaDB): all of
        // it, and copies. A page is 3 MiB; what remains is garbage the collector has not taken yet,
        // and it does not grow with the queue (3000 messages: +135 and +104 MiB).
        assert.ok(grew < 192 * MIB, `peak RSS grew by ${(grew / MIB).toFixed(0)} MiB`);
      } finally {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    });
  });
}
