/**
 * The store contract, what bounds the messages tables: usage of a target's
 * queue and of a room (bytes are UTF-8 bytes, as the sender's frame carried
 * them), a queue read a page at a time, and retention by age. Retention
 * deletes globally, so its rows are dated around 2000, long before any other
 * part's rows.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Store } from '../../main/gateway/store/types.js';
import type { ContractContext } from './contract-context.js';

const Y2000 = Date.UTC(2000, 0, 1);
const old = (ms: number) => new Date(Y2000 + ms);

export function quotasContract(c: ContractContext): void {
  const { uid, msg } = c;
  let s: Store;
  before(() => { s = c.store(); });

  describe('message quotas and retention', () => {
    test('messageUsage counts a target\'s queued messages and a room\'s every message, in UTF-8 bytes', async () => {
      const [room, other, target] = [uid('qroom'), uid('qroom'), uid('qdev')];
      assert.deepEqual(await s.messageUsage({ queuedFor: target, roomId: room }), { target: { count: 0, bytes: 0 }, room: { count: 0, bytes: 0 } });
      await s.insertMessage(msg({ roomId: room, fromDeviceId: 'a', toDeviceId: target, messageType: 'direct', status: 'queued', content: 'héllo' }));
      await s.insertMessage(msg({ roomId: other, fromDeviceId: 'a', toDeviceId: target, messageType: 'direct', status: 'queued', content: '🏸' }));
      const sent = await s.insertMessage(msg({ roomId: room, fromDeviceId: 'a', toDeviceId: target, messageType: 'direct', status: 'queued', content: 'abc' }));
      await s.insertMessage(msg({ roomId: room, fromDeviceId: 'a', content: 'x'.repeat(1000) }));
      await s.markMessageDelivered(sent, old(0));
      const u = await s.messageUsage({ queuedFor: target, roomId: room });
      // 'héllo' is 6 bytes, the shuttlecock 4; the delivered 'abc' left the queue but not the room.
      assert.deepEqual(u.target, { count: 2, bytes: 10 });
      assert.deepEqual(u.room, { count: 3, bytes: 6 + 3 + 1000 });
      assert.deepEqual(await s.messageUsage({ roomId: other }), { room: { count: 1, bytes: 4 } });
      assert.deepEqual(await s.messageUsage({}), {});
    });

    test('queuedMessagesPage walks one room\'s queue in id order, a page at a time; roomId null is the no-room queue', async () => {
      const [room, other, target] = [uid('proom'), uid('proom'), uid('pdev')];
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(await s.insertMessage(msg({ roomId: room, fromDeviceId: i % 2 ? 'odd' : 'even', toDeviceId: target, messageType: 'direct', status: 'queued', content: `m${i}` })));
        await s.insertMessage(msg({ roomId: other, fromDeviceId: 'x', toDeviceId: target, messageType: 'direct', status: 'queued', content: `o${i}` }));
      }
      const noRoom = await s.insertMessage(msg({ roomId: null, fromDeviceId: 'gateway', toDeviceId: target, messageType: 'direct', status: 'queued', content: 'n' }));
      await s.insertMessage(msg({ roomId: null, fromDeviceId: 'someone', toDeviceId: target, messageType: 'direct', status: 'queued', content: 'n2' }));
      await s.markMessageDelivered(ids[1]!, old(0));
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await s.queuedMessagesPage(target, { roomId: room, afterId: after, limit: 3 });
        assert.ok(page.length <= 3);
        seen.push(...page.map((m) => m.id));
        if (page.length < 3) break;
        after = page.at(-1)!.id;
      }
      assert.deepEqual(seen, ids.filter((_, i) => i !== 1));
      assert.ok((await s.queuedMessagesPage(target, { roomId: room, afterId: 0, limit: 10 })).every((m) => m.roomId === room && m.status === 'queued'));
      const odd = await s.queuedMessagesPage(target, { roomId: room, fromDeviceId: 'odd', afterId: 0, limit: 10 });
      assert.deepEqual(odd.map((m) => m.content), ['m3', 'm5']);
      const mine = await s.queuedMessagesPage(target, { roomId: null, fromDeviceId: 'gateway', afterId: 0, limit: 10 });
      assert.deepEqual(mine.map((m) => m.id), [noRoom]);
      await assert.rejects(s.queuedMessagesPage(target, { roomId: room, afterId: 0, limit: 0 }), RangeError);
    });

    test('pruneOlderThan deletes messages (queued too), room queries and closed connections before the cutoff, in batches; open connections stay', async () => {
      const [room, dev] = [uid('oldroom'), uid('olddev')];
      const cutoff = old(1000);
      // More than one delete batch (1000) of old messages.
      for (let i = 0; i < 1203; i++) {
        await s.insertMessage(msg({ roomId: room, fromDeviceId: dev, toDeviceId: i % 3 ? null : dev, messageType: i % 3 ? 'broadcast' : 'direct', status: i % 3 ? 'sent' : 'queued', content: `old${i}`, sentAt: old(i % 999) }));
      }
      const kept = await s.insertMessage(msg({ roomId: room, fromDeviceId: dev, content: 'at the cutoff', sentAt: cutoff }));
      await s.insertRoomQuery({ deviceId: dev, roomId: room, queriedAt: old(5) });
      await s.insertRoomQuery({ deviceId: dev, roomId: room, queriedAt: old(2000) });
      const closed = await s.openConnection({ deviceId: dev, kind: 'client', roomId: room, clientIp: '10.0.0.9', connectedAt: old(0) });
      await s.closeConnection(closed, old(10));
      const open = await s.openConnection({ deviceId: dev, kind: 'client', roomId: room, clientIp: '10.0.0.9', connectedAt: old(0) });
      const late = await s.openConnection({ deviceId: dev, kind: 'client', roomId: room, clientIp: '10.0.0.9', connectedAt: old(0) });
      await s.closeConnection(late, old(5000));

      assert.equal((await s.listMessages({ roomId: room })).length, 1204);
      const n = await s.pruneOlderThan(cutoff);
      // Global counts: the database is shared with the other parts (whose rows are all far younger).
      assert.ok(n.messages >= 1203 && n.roomQueries >= 1 && n.connections >= 1, JSON.stringify(n));
      assert.deepEqual((await s.listMessages({ roomId: room })).map((m) => m.id), [kept]);
      assert.equal(await s.countRoomQueries(room), 1);
      assert.deepEqual((await s.listConnections({ deviceId: dev })).map((x) => x.id).sort((a, b) => a - b), [open, late].sort((a, b) => a - b));
      assert.deepEqual(await s.messageUsage({ queuedFor: dev }), { target: { count: 0, bytes: 0 } });
      assert.deepEqual(await s.pruneOlderThan(cutoff), { messages: 0, roomQueries: 0, connections: 0 });
    });
  });
}
