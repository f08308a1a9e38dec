/** The store contract, what a board's page and the rooms list page through: connections, commands and sessions before a time, sessions of one board, room activity. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { SessionRow, Store } from '../../main/gateway/store/types.js';
import { at, type ContractContext } from './contract-context.js';

export function historyContract(c: ContractContext): void {
  const { uid, msg } = c;
  let s: Store;
  before(() => { s = c.store(); });

  describe('history pages', () => {
    test('listConnections and listCommands with `before` page back without overlap', async () => {
      const dev = uid('hist-board');
      for (let i = 0; i < 5; i++) {
        const id = await s.openConnection({ deviceId: dev, kind: 'board', roomId: null, clientIp: '10.0.0.1', connectedAt: at(1000 * i) });
        await s.closeConnection(id, at(1000 * i + 500));
        await s.enqueueCommand({ commandId: uid('hc'), deviceId: dev, command: `c${i}`, params: {}, createdAt: at(1000 * i) });
      }
      const first = await s.listConnections({ deviceId: dev, limit: 2 });
      assert.deepEqual(first.map((r) => r.connectedAt.getTime() - at(0).getTime()), [4000, 3000]);
      const next = await s.listConnections({ deviceId: dev, limit: 2, before: first[1]!.connectedAt });
      assert.deepEqual(next.map((r) => r.connectedAt.getTime() - at(0).getTime()), [2000, 1000]);
      const cmds = await s.listCommands({ deviceId: dev, limit: 10, before: at(2000) });
      assert.deepEqual(cmds.map((r) => r.command), ['c1', 'c0']);
    });

    test('listSessions with deviceId: that board exactly (not one whose id contains it), with before', async () => {
      const dev = uid('sb');
      const row = (id: string, boards: string[], t: number): SessionRow => ({ sessionId: id, state: 'complete', boards, playerId: null, court: null, roomId: null, notes: `about ${dev}`, sampleRateHz: 100, createdAt: at(t), startedAt: null, stoppedAt: null, completedAt: null, failureReason: null, summary: null });
      const [a, b, other] = [uid('sa'), uid('sb'), uid('so')];
      await s.createSession(row(a, [dev], 100));
      await s.createSession(row(b, [`${dev}0`, dev], 200));
      await s.createSession(row(other, [`${dev}0`, `x_${dev}`], 300));
      assert.deepEqual((await s.listSessions({ deviceId: dev })).map((r) => r.sessionId), [b, a]);
      assert.deepEqual((await s.listSessions({ deviceId: dev, before: at(200) })).map((r) => r.sessionId), [a]);
      // A `%` or `_` in an id is matched as itself.
      assert.deepEqual((await s.listSessions({ deviceId: 'x%' })).map((r) => r.sessionId), []);
      // The sessions contract counts every session of the shared database: these go again.
      for (const id of [a, b, other]) assert.equal(await s.deleteSession(id), true);
    });

    test('listRoomActivity: message count and last message, rooms with none only when new enough, last active first', async () => {
      const base = 50_000_000;
      const [busy, quiet, fresh, old] = [uid('ra'), uid('rb'), uid('rc'), uid('rd')];
      await s.createRoom(busy, at(base));
      await s.createRoom(quiet, at(base));
      await s.createRoom(fresh, at(base + 5000));
      await s.createRoom(old, at(base - 10_000));
      for (const t of [1000, 3000]) await s.insertMessage(msg({ fromDeviceId: 'p', roomId: busy, sentAt: at(base + t) }));
      await s.insertMessage(msg({ fromDeviceId: 'p', roomId: quiet, sentAt: at(base + 2000) }));
      const mine = new Set([busy, quiet, fresh, old]);
      const rows = (await s.listRoomActivity({ since: at(base - 1), limit: 1000 })).filter((r) => mine.has(r.roomId));
      assert.deepEqual(rows.map((r) => [r.roomId, r.messages, r.lastMessageAt?.getTime() ?? null]), [
        [fresh, 0, null],
        [busy, 2, at(base + 3000).getTime()],
        [quiet, 1, at(base + 2000).getTime()],
      ]);
      assert.equal(rows[0]!.createdAt.getTime(), at(base + 5000).getTime());
      const one = await s.listRoomActivity({ since: at(base - 1), limit: 1 });
      assert.equal(one.length, 1);
      // Rooms someone is in are left out, in SQL: the page is still full of the others.
      const without = (await s.listRoomActivity({ since: at(base - 1), limit: 1000, exclude: [fresh, busy] })).filter((r) => mine.has(r.roomId));
      assert.deepEqual(without.map((r) => r.roomId), [quiet]);
    });
  });
}
