/**
 * The one behavioural contract of Store, run against every backend. `open`
 * must open the same database each time it is called (tests reopen it).
 * The database is shared by all tests of a run, so each test uses its own ids
 * and measures global counts as deltas. Schema and close are here; the
 * records (contract-records.ts) and the commands and state
 * (contract-commands.ts) are parts registered in between.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../main/gateway/store/errors.js';
import { LATEST_SCHEMA_VERSION } from '../../main/gateway/store/migrations.js';
import type { MessageInsert, Store } from '../../main/gateway/store/types.js';
import { commandsContract } from './contract-commands.js';
import { at } from './contract-context.js';
import { recordsContract } from './contract-records.js';
import { quotasContract } from './contract-quotas.js';
import { deliveryContract } from './contract-delivery.js';
import { historyContract } from './contract-history.js';

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let s: Store;
    before(async () => { s = await open(); });
    after(async () => { await s?.close(); });

    let seq = 0;
    const uid = (tag: string) => `${tag}-${++seq}-${randomBytes(3).toString('hex')}`;
    const msg = (m: Partial<MessageInsert> & Pick<MessageInsert, 'fromDeviceId'>): MessageInsert => ({
      roomId: null, toDeviceId: null, messageType: 'broadcast', content: 'hello', sentAt: at(0), status: 'sent', priority: 1, ackRequested: false, expiresAt: null, ...m,
    });

    describe('schema', () => {
      test('schemaVersion() is the latest migration', async () => {
        assert.ok(LATEST_SCHEMA_VERSION >= 1);
        assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
      });

      test('migrate() is idempotent and keeps data', async () => {
        const room = uid('room');
        assert.equal(await s.createRoom(room, at(1)), true);
        await s.migrate();
        await s.migrate();
        assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
        assert.equal(await s.roomExists(room), true);
      });

      test('data survives close and reopen', async () => {
        const room = uid('room');
        const first = await open();
        await first.createRoom(room, at(2));
        const id = await first.insertMessage(msg({ roomId: room, fromDeviceId: 'dev', content: 'kept' }));
        await first.close();
        const second = await open();
        try {
          assert.equal(await second.roomExists(room), true);
          const [row] = await second.listMessages({ roomId: room });
          assert.equal(row?.id, id);
          assert.equal(row?.content, 'kept');
        } finally {
          await second.close();
        }
      });
    });

    recordsContract({ store: () => s, open, uid, msg });
    commandsContract({ store: () => s, open, uid, msg });
    quotasContract({ store: () => s, open, uid, msg });
    deliveryContract({ store: () => s, open, uid, msg });
    historyContract({ store: () => s, open, uid, msg });

    describe('close', () => {
      test('close() then any call rejects with STORE_CLOSED; close() again is fine', async () => {
        const own = await open();
        await own.close();
        const closed = (e: unknown) => e instanceof StoreError && e.code === 'STORE_CLOSED';
        await assert.rejects(own.createRoom(uid('room'), at(0)), closed);
        await assert.rejects(own.listRooms(), closed);
        await assert.rejects(own.insertMessage(msg({ fromDeviceId: 'x' })), closed);
        await assert.rejects(own.migrate(), closed);
        await assert.rejects(own.schemaVersion(), closed);
        await own.close();
      });

      test('close() lets calls already started finish', async () => {
        const room = uid('room');
        const own = await open();
        const pending = own.insertMessage(msg({ roomId: room, fromDeviceId: 'x', content: 'in flight' }));
        const closing = own.close();
        const id = await pending;
        await closing;
        assert.deepEqual((await s.listMessages({ roomId: room })).map((m) => [m.id, m.content]), [[id, 'in flight']]);
      });
    });
  });
}