/** The store contract, commands and state: the command queue, device status, device tokens, value round trips. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { CommandRow, Store } from '../../main/gateway/store/types.js';
import { at, type ContractContext } from './contract-context.js';

/** JSON values that tend to break storage: nesting, unicode, escapes, key order, number edges. */
const JSON_SAMPLES: unknown[] = [
  { b: 1, a: [1, 2, { c: null, d: [true, false] }], nested: { deep: { deeper: { deepest: 'yes' } } } },
  { text: 'caf\u00e9 \u{1F3C0}\u{1F3C6} \u4e2d\u6587 \u05e2\u05d1\u05e8\u05d9\u05ea e\u0301', quote: 'say "hi" \\ back\\slash\nline\ttab' },
  [0, -1.5, 1e-7, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 123456789.125],
  'plain string',
  42,
  true,
  null,
  {},
  [],
];

export function commandsContract(c: ContractContext): void {
  const { uid, msg } = c;
  let s: Store;
  before(() => { s = c.store(); });

  describe('commands', () => {
    const fresh = (over: Partial<CommandRow> = {}): CommandRow => ({
      commandId: uid('cmd'), deviceId: 'board-1', command: 'reboot', params: { delayMs: 5 }, createdAt: at(0),
      state: 'queued', attempts: 0, lastSentAt: null, ackedAt: null, result: undefined, timeoutMs: null, maxRetries: null, priority: 1, failedAt: null, ...over,
    });
    const enqueue = (c: CommandRow) =>
      s.enqueueCommand({ commandId: c.commandId, deviceId: c.deviceId, command: c.command, params: c.params, createdAt: c.createdAt });

    test('enqueueCommand stores a queued command; getCommand of an unknown id is undefined', async () => {
      const c = fresh({ params: { led: { r: 255, g: 0, b: 10 }, name: 'Sal\u00f3n \u{1F3C0}' } });
      await enqueue(c);
      assert.deepEqual(await s.getCommand(c.commandId), c);
      assert.equal(await s.getCommand(uid('missing')), undefined);
    });

    test('enqueueCommand rejects a duplicate id and keeps the original', async () => {
      const c = fresh();
      await enqueue(c);
      await assert.rejects(enqueue({ ...c, command: 'other' }));
      assert.equal((await s.getCommand(c.commandId))?.command, 'reboot');
    });

    test('lifecycle queued -> sent -> acked counts attempts', async () => {
      const c = fresh();
      await enqueue(c);
      await s.markCommandSent(c.commandId, at(10));
      assert.deepEqual(await s.getCommand(c.commandId), { ...c, state: 'sent', attempts: 1, lastSentAt: at(10) });
      await s.markCommandSent(c.commandId, at(20));
      assert.deepEqual(await s.getCommand(c.commandId), { ...c, state: 'sent', attempts: 2, lastSentAt: at(20) });
      assert.equal(await s.ackCommand(c.commandId, at(30), { ok: true, uptime: 12.5 }), true);
      assert.deepEqual(await s.getCommand(c.commandId),
        { ...c, state: 'acked', attempts: 2, lastSentAt: at(20), ackedAt: at(30), result: { ok: true, uptime: 12.5 } });
    });

    test('ackCommand is false on a second ack and on an unknown id', async () => {
      const c = fresh();
      await enqueue(c);
      assert.equal(await s.ackCommand(c.commandId, at(1), 'first'), true);
      assert.equal(await s.ackCommand(c.commandId, at(2), 'second'), false);
      assert.equal(await s.ackCommand(uid('missing'), at(3), null), false);
      const row = await s.getCommand(c.commandId);
      assert.deepEqual([row?.ackedAt, row?.result], [at(1), 'first']);
    });

    test('markCommandSent after the ack changes nothing', async () => {
      const c = fresh();
      await enqueue(c);
      await s.markCommandSent(c.commandId, at(1));
      await s.ackCommand(c.commandId, at(2), undefined);
      await s.markCommandSent(c.commandId, at(3));
      const row = await s.getCommand(c.commandId);
      assert.deepEqual([row?.state, row?.attempts, row?.lastSentAt], ['acked', 1, at(1)]);
    });

    test('pendingCommands lists queued and sent, oldest first, insertion order within a millisecond', async () => {
      const dev = uid('board');
      // Ids sort the opposite way to insertion, so ordering by id would fail.
      const late = fresh({ commandId: `${dev}-z1`, deviceId: dev, createdAt: at(500) });
      const sameA = fresh({ commandId: `${dev}-z2`, deviceId: dev, createdAt: at(100) });
      const sameB = fresh({ commandId: `${dev}-a3`, deviceId: dev, createdAt: at(100) });
      const acked = fresh({ commandId: `${dev}-a0`, deviceId: dev, createdAt: at(0) });
      for (const c of [late, sameA, sameB, acked]) await enqueue(c);
      await enqueue(fresh({ deviceId: `${dev}-other` }));
      await s.markCommandSent(sameB.commandId, at(600));
      await s.ackCommand(acked.commandId, at(700), null);
      const pending = await s.pendingCommands(dev);
      assert.deepEqual(pending.map((c) => [c.commandId, c.state]), [
        [sameA.commandId, 'queued'], [sameB.commandId, 'sent'], [late.commandId, 'queued'],
      ]);
    });

    test('listCommands is newest first, filters by device and honours limit', async () => {
      const dev = uid('board');
      const a = fresh({ deviceId: dev, createdAt: at(1) });
      const b = fresh({ deviceId: dev, createdAt: at(3) });
      const c = fresh({ deviceId: dev, createdAt: at(2) });
      for (const x of [a, b, c]) await enqueue(x);
      await s.ackCommand(c.commandId, at(9), 1);
      assert.deepEqual((await s.listCommands({ deviceId: dev })).map((x) => x.commandId), [b.commandId, c.commandId, a.commandId]);
      assert.deepEqual((await s.listCommands({ deviceId: dev, limit: 1 })).map((x) => x.commandId), [b.commandId]);
      assert.ok((await s.listCommands()).some((x) => x.commandId === a.commandId));
    });
  });

  describe('device status', () => {
    test('saveDeviceStatus keeps the latest value per device; unknown is undefined', async () => {
      const dev = uid('board');
      assert.equal(await s.getDeviceStatus(dev), undefined);
      await s.saveDeviceStatus(dev, { battery: 81, wifi: { rssi: -60 } }, at(1));
      await s.saveDeviceStatus(dev, { battery: 80 }, at(2));
      assert.deepEqual(await s.getDeviceStatus(dev), { deviceId: dev, status: { battery: 80 }, updatedAt: at(2) });
    });

    test('listDeviceStatuses lists every device once, sorted by id', async () => {
      const p = uid('st');
      await s.saveDeviceStatus(`${p}-b`, 'B', at(1));
      await s.saveDeviceStatus(`${p}-a`, 'A', at(1));
      await s.saveDeviceStatus(`${p}-b`, 'B2', at(2));
      const ours = (await s.listDeviceStatuses()).filter((r) => r.deviceId.startsWith(p));
      assert.deepEqual(ours, [
        { deviceId: `${p}-a`, status: 'A', updatedAt: at(1) },
        { deviceId: `${p}-b`, status: 'B2', updatedAt: at(2) },
      ]);
    });

    test('setDeviceTags replaces a board\'s tags; listDeviceTags gives (board, tag) pairs sorted', async () => {
      const p = uid('tg');
      await s.setDeviceTags(`${p}-b`, ['court-2', 'juniors']);
      await s.setDeviceTags(`${p}-a`, ['court-1']);
      await s.setDeviceTags(`${p}-b`, ['court-1', 'court-2']);
      await s.setDeviceTags(`${p}-c`, ['x']);
      await s.setDeviceTags(`${p}-c`, []);
      const ours = (await s.listDeviceTags()).filter((r) => r.deviceId.startsWith(p));
      assert.deepEqual(ours, [
        { deviceId: `${p}-a`, tag: 'court-1' },
        { deviceId: `${p}-b`, tag: 'court-1' },
        { deviceId: `${p}-b`, tag: 'court-2' },
      ]);
      // Setting the same tags again is no change and no error (MySQL reports 0 rows changed).
      await s.setDeviceTags(`${p}-a`, ['court-1']);
      assert.equal((await s.listDeviceTags()).filter((r) => r.deviceId === `${p}-a`).length, 1);
    });
  });

  describe('device tokens', () => {
    const hash = (c: string) => c.repeat(64);

    test('checkDeviceToken is true only for the saved hash of that device', async () => {
      const dev = uid('board');
      await s.saveDeviceToken({ deviceId: dev, tokenHash: hash('a'), label: 'bench', createdAt: at(1) });
      assert.equal(await s.checkDeviceToken(dev, hash('a')), true);
      assert.equal(await s.checkDeviceToken(dev, hash('b')), false);
      assert.equal(await s.checkDeviceToken(`${dev}-other`, hash('a')), false);
      assert.equal(await s.checkDeviceToken(dev, hash('A')), false);
    });

    test('revokeDeviceTokens revokes every token of the device and counts them', async () => {
      const dev = uid('board');
      const other = uid('board');
      await s.saveDeviceToken({ deviceId: dev, tokenHash: hash('1'), label: null, createdAt: at(1) });
      await s.saveDeviceToken({ deviceId: dev, tokenHash: hash('2'), label: 'spare', createdAt: at(2) });
      await s.saveDeviceToken({ deviceId: other, tokenHash: hash('3'), label: null, createdAt: at(3) });
      assert.equal(await s.revokeDeviceTokens(dev, at(10)), 2);
      assert.equal(await s.checkDeviceToken(dev, hash('1')), false);
      assert.equal(await s.checkDeviceToken(dev, hash('2')), false);
      assert.equal(await s.checkDeviceToken(other, hash('3')), true);
      assert.equal(await s.revokeDeviceTokens(dev, at(20)), 0);
    });

    test('listDeviceTokens shows label, createdAt and revokedAt', async () => {
      const dev = uid('board');
      await s.saveDeviceToken({ deviceId: dev, tokenHash: hash('c'), label: 'first', createdAt: at(1) });
      await s.revokeDeviceTokens(dev, at(5));
      await s.saveDeviceToken({ deviceId: dev, tokenHash: hash('d'), label: null, createdAt: at(6) });
      const ours = (await s.listDeviceTokens()).filter((t) => t.deviceId === dev);
      assert.deepEqual(ours, [
        { deviceId: dev, tokenHash: hash('c'), label: 'first', createdAt: at(1), revokedAt: at(5) },
        { deviceId: dev, tokenHash: hash('d'), label: null, createdAt: at(6), revokedAt: null },
      ]);
    });
  });

  describe('values', () => {
    test('JSON values round-trip exactly (nesting, unicode, escapes, key order)', async () => {
      for (const [i, value] of JSON_SAMPLES.entries()) {
        const dev = uid(`json${i}`);
        const cmd = uid('cmd');
        await s.saveDeviceStatus(dev, value, at(i));
        await s.enqueueCommand({ commandId: cmd, deviceId: dev, command: 'c', params: value, createdAt: at(i) });
        await s.ackCommand(cmd, at(i), value);
        const st = await s.getDeviceStatus(dev);
        const c = await s.getCommand(cmd);
        for (const back of [st?.status, c?.params, c?.result]) {
          assert.deepEqual(back, value);
          assert.equal(JSON.stringify(back), JSON.stringify(value)); // key order too
        }
      }
    });

    test('undefined JSON comes back undefined and null comes back null', async () => {
      const cmd = uid('cmd');
      await s.enqueueCommand({ commandId: cmd, deviceId: 'd', command: 'c', params: undefined, createdAt: at(0) });
      await s.ackCommand(cmd, at(1), null);
      const row = await s.getCommand(cmd);
      assert.equal(row?.params, undefined);
      assert.equal(row?.result, null);
    });

    test('Dates keep millisecond precision across years and DST changes', async () => {
      const dates = [
        '1999-12-31T23:59:59.001Z', '2025-03-30T01:59:59.999Z', '2025-10-26T00:30:00.500Z',
        '2038-01-19T03:14:08.123Z', '2100-12-31T23:59:59.999Z',
      ].map((iso) => new Date(iso));
      for (const d of dates) {
        const room = uid('room');
        const dev = uid('dev');
        await s.createRoom(room, d);
        await s.upsertDevice({ deviceId: dev, kind: 'client', lastConnectedAt: d });
        await s.insertMessage(msg({ roomId: room, fromDeviceId: dev, sentAt: d }));
        assert.equal((await s.listRooms()).find((r) => r.roomId === room)?.createdAt.toISOString(), d.toISOString());
        assert.equal((await s.getDevice(dev))?.lastConnectedAt?.toISOString(), d.toISOString());
        assert.equal((await s.listMessages({ roomId: room }))[0]?.sentAt.toISOString(), d.toISOString());
      }
    });

    test('an invalid Date rejects with TypeError and writes nothing', async () => {
      const room = uid('room');
      await assert.rejects(s.createRoom(room, new Date(Number.NaN)), TypeError);
      assert.equal(await s.roomExists(room), false);
    });
  });
}
