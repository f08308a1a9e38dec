/**
 * The store contract, delivery guarantees: command timeouts, retries and failure, priority
 * order of pending commands and of a queue read a page at a time, acks and expiry of queued
 * messages, and who may join a room. Runs on both backends.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Store } from '../../main/gateway/store/types.js';
import { at, type ContractContext } from './contract-context.js';

export function deliveryContract(c: ContractContext): void {
  const { uid, msg } = c;
  let s: Store;
  before(() => { s = c.store(); });

  describe('delivery', () => {
    test('commands keep timeout_ms, max_retries and priority; failCommand ends a pending one once', async () => {
      const dev = uid('dev');
      const id = uid('cmd');
      await s.enqueueCommand({ commandId: id, deviceId: dev, command: 'reboot', params: {}, createdAt: at(0), timeoutMs: 2000, maxRetries: 3, priority: 0 });
      await s.markCommandSent(id, at(1));
      assert.equal(await s.failCommand(id, at(5)), true);
      const row = await s.getCommand(id);
      assert.deepEqual([row?.state, row?.timeoutMs, row?.maxRetries, row?.priority, row?.failedAt?.toISOString()], ['failed', 2000, 3, 0, at(5).toISOString()]);
      assert.equal(await s.failCommand(id, at(6)), false);
      assert.deepEqual(await s.pendingCommands(dev), []);
      // A late ack of a failed command is kept (the board did act); an acked one cannot fail.
      const acked = uid('cmd');
      await s.enqueueCommand({ commandId: acked, deviceId: dev, command: 'x', params: {}, createdAt: at(0) });
      await s.ackCommand(acked, at(2), { ok: true });
      assert.equal(await s.failCommand(acked, at(3)), false);
      assert.equal((await s.getCommand(acked))?.state, 'acked');
    });

    test('pendingCommands: high first, then normal, then low, oldest first within each', async () => {
      const dev = uid('dev');
      const rows: [string, number, number][] = [['l', 2, 0], ['n1', 1, 1], ['h1', 0, 2], ['n2', 1, 3], ['h2', 0, 3]];
      for (const [name, priority, t] of rows) await s.enqueueCommand({ commandId: uid(name), deviceId: dev, command: name, params: {}, createdAt: at(t), priority });
      assert.deepEqual((await s.pendingCommands(dev)).map((r) => r.command), ['h1', 'h2', 'n1', 'n2', 'l']);
    });

    test('queuedMessagesPage by priority pages through every room of a target, skipping the expired', async () => {
      const to = uid('to');
      const rooms = [uid('room'), uid('room')];
      const ids: Record<string, number> = {};
      const put = async (name: string, priority: number, room: string, expiresAt: Date | null = null) => {
        ids[name] = await s.insertMessage(msg({ roomId: room, fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', content: name, status: 'queued', priority, expiresAt, ackRequested: name.startsWith('a') }));
      };
      await put('n1', 1, rooms[0]!);
      await put('l1', 2, rooms[1]!);
      await put('h1', 0, rooms[1]!);
      await put('x1', 0, rooms[0]!, at(10));
      await put('a1', 1, rooms[1]!);
      await put('h2', 0, rooms[0]!);
      const seen: string[] = [];
      let after = 0;
      let afterPriority = 0;
      for (;;) {
        const page = await s.queuedMessagesPage(to, { roomId: rooms[0]!, anyRoom: true, afterId: after, afterPriority, liveAt: at(20), limit: 2 });
        for (const m of page) {
          seen.push(m.content);
          after = m.id;
          afterPriority = m.priority;
        }
        if (page.length < 2) break;
      }
      assert.deepEqual(seen, ['h1', 'h2', 'n1', 'a1', 'l1']);
      const a1 = (await s.queuedMessagesFor(to)).find((m) => m.id === ids.a1);
      assert.deepEqual([a1?.ackRequested, a1?.expiresAt], [true, null]);
      // Before its expiry the expired one is there, and one room alone is one room.
      const early = await s.queuedMessagesPage(to, { roomId: rooms[0]!, afterId: 0, afterPriority: 0, liveAt: at(5), limit: 10 });
      assert.deepEqual(early.map((m) => m.content), ['x1', 'h2', 'n1']);
    });

    test('expireMessages marks the queued messages due expired, once; they leave the queue and its usage', async () => {
      const to = uid('to');
      const room = uid('room');
      const put = (content: string, expiresAt: Date | null, status: 'queued' | 'delivered' = 'queued', ackRequested = false) =>
        s.insertMessage(msg({ roomId: room, fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', content, status, expiresAt, ackRequested }));
      const due = await put('due', at(10), 'queued', true);
      const later = await put('later', at(100));
      await put('never', null);
      await put('gone', at(5), 'delivered');
      assert.deepEqual((await s.messageUsage({ queuedFor: to })).target, { count: 3, bytes: 3 + 5 + 5 });
      // The store is shared by the contract's tests: only this target's rows are this test's.
      const mine = (rows: Awaited<ReturnType<Store['expireMessages']>>) => rows.filter((m) => m.toDeviceId === to);
      const first = mine(await s.expireMessages(at(10), 100));
      assert.deepEqual(first, [{ id: due, roomId: room, fromDeviceId: 'f', toDeviceId: to, bytes: 3, ackRequested: true }]);
      // Another gateway on the same database sweeping at the same time gets nothing twice.
      assert.deepEqual(mine(await s.expireMessages(at(10), 100)), []);
      const rows = await s.listMessages({ roomId: room });
      assert.deepEqual(rows.map((m) => [m.content, m.status]).sort(), [['due', 'expired'], ['gone', 'delivered'], ['later', 'queued'], ['never', 'queued']]);
      assert.deepEqual((await s.queuedMessagesFor(to)).map((m) => m.content).sort(), ['later', 'never']);
      assert.deepEqual((await s.messageUsage({ queuedFor: to })).target, { count: 2, bytes: 10 });
      // One at a time (an ack timer saw it): true once, false for a message no longer queued.
      assert.equal(await s.markMessageExpired(later), true);
      assert.equal(await s.markMessageExpired(later), false);
      assert.equal(await s.markMessageExpired(due), false);
      assert.deepEqual(mine(await s.expireMessages(at(1000), 100)), []);
      assert.deepEqual((await s.messageUsage({ queuedFor: to })).target, { count: 1, bytes: 5 });
    });

    test('expireMessages takes at most limit rows a call, earliest expiry first', async () => {
      const to = uid('to');
      const ids: number[] = [];
      // Before any other test's expiry, so the limit counts only these.
      for (const t of [-30, -50, -40]) ids.push(await s.insertMessage(msg({ roomId: uid('room'), fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', content: 'x', status: 'queued', expiresAt: at(t) })));
      assert.deepEqual((await s.expireMessages(at(-20), 2)).map((m) => m.id), [ids[1], ids[2]]);
      assert.deepEqual((await s.expireMessages(at(-20), 2)).map((m) => m.id), [ids[0]]);
      await assert.rejects(s.expireMessages(at(-20), 0), RangeError);
    });

    test('rooms keep who may join: listed devices and a token hash, or nobody listed (open)', async () => {
      const open = uid('room');
      const closed = uid('room');
      await s.createRoom(open, at(0));
      await s.createRoom(closed, at(0), { allowedDeviceIds: ['a', 'b'], tokenHash: 'f'.repeat(64) });
      assert.deepEqual(await s.getRoomAccess(open), { allowedDeviceIds: null, tokenHash: null });
      assert.deepEqual(await s.getRoomAccess(closed), { allowedDeviceIds: ['a', 'b'], tokenHash: 'f'.repeat(64) });
      assert.equal(await s.getRoomAccess(uid('none')), undefined);
    });
  });
}
