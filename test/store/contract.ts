/**
 * The one behavioural contract of Store, run against every backend. `open`
 * must open the same database each time it is called (tests reopen it).
 * The database is shared by all tests of a run, so each test uses its own ids
 * and measures global counts as deltas.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../main/gateway/store/errors.js';
import { LATEST_SCHEMA_VERSION } from '../../main/gateway/store/migrations.js';
import type { CommandRow, MessageInsert, Store } from '../../main/gateway/store/types.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0, 0);
/** A fixed instant plus ms, so expected values are exact. */
const at = (ms: number) => new Date(T0 + ms);

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

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let s: Store;
    before(async () => { s = await open(); });
    after(async () => { await s?.close(); });

    let seq = 0;
    const uid = (tag: string) => `${tag}-${++seq}-${randomBytes(3).toString('hex')}`;
    const msg = (m: Partial<MessageInsert> & Pick<MessageInsert, 'fromDeviceId'>): MessageInsert => ({
      roomId: null, toDeviceId: null, messageType: 'broadcast', content: 'hello', sentAt: at(0), status: 'sent', ...m,
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

    describe('rooms', () => {
      test('createRoom returns true once and false on a duplicate, keeping the first row', async () => {
        const room = uid('room');
        assert.equal(await s.createRoom(room, at(10)), true);
        assert.equal(await s.createRoom(room, at(20)), false);
        const rows = (await s.listRooms()).filter((r) => r.roomId === room);
        assert.deepEqual(rows, [{ roomId: room, createdAt: at(10) }]);
      });

      test('roomExists is false for an unknown room and true after createRoom', async () => {
        const room = uid('room');
        assert.equal(await s.roomExists(room), false);
        await s.createRoom(room, at(0));
        assert.equal(await s.roomExists(room), true);
      });

      test('listRooms returns every room, oldest first', async () => {
        const before = (await s.listRooms()).length;
        const [a, b, c] = [uid('ra'), uid('rb'), uid('rc')];
        await s.createRoom(b, at(-2000));
        await s.createRoom(c, at(-1000));
        await s.createRoom(a, at(-3000));
        const all = await s.listRooms();
        assert.equal(all.length, before + 3);
        const ours = all.filter((r) => [a, b, c].includes(r.roomId));
        assert.deepEqual(ours, [
          { roomId: a, createdAt: at(-3000) },
          { roomId: b, createdAt: at(-2000) },
          { roomId: c, createdAt: at(-1000) },
        ]);
      });

      test('room ids compare exactly: case and trailing spaces matter', async () => {
        const base = uid('Court');
        assert.equal(await s.createRoom(`${base}-abc`, at(0)), true);
        assert.equal(await s.createRoom(`${base}-ABC`, at(0)), true);
        assert.equal(await s.createRoom(`${base}-abc `, at(0)), true);
        assert.equal(await s.roomExists(`${base}-Abc`), false);
      });
    });

    describe('devices', () => {
      test('getDevice returns undefined for an unknown device', async () => {
        assert.equal(await s.getDevice(uid('nobody')), undefined);
      });

      test('upsertDevice inserts all given fields', async () => {
        const id = uid('dev');
        await s.upsertDevice({ deviceId: id, kind: 'client', identity: 'mobile_user', lastConnectedAt: at(5), lastRoomId: 'r1' });
        assert.deepEqual(await s.getDevice(id),
          { deviceId: id, kind: 'client', identity: 'mobile_user', lastConnectedAt: at(5), lastRoomId: 'r1' });
      });

      test('upsertDevice with only required fields stores nulls', async () => {
        const id = uid('board');
        await s.upsertDevice({ deviceId: id, kind: 'board' });
        assert.deepEqual(await s.getDevice(id),
          { deviceId: id, kind: 'board', identity: null, lastConnectedAt: null, lastRoomId: null });
      });

      test('upsertDevice keeps stored fields that are given as undefined', async () => {
        const id = uid('dev');
        await s.upsertDevice({ deviceId: id, kind: 'client', identity: 'sensor_node', lastConnectedAt: at(1), lastRoomId: 'r1' });
        await s.upsertDevice({ deviceId: id, kind: 'signal', identity: undefined, lastRoomId: undefined });
        assert.deepEqual(await s.getDevice(id),
          { deviceId: id, kind: 'signal', identity: 'sensor_node', lastConnectedAt: at(1), lastRoomId: 'r1' });
        await s.upsertDevice({ deviceId: id, kind: 'signal', lastConnectedAt: at(9) });
        assert.deepEqual((await s.getDevice(id))?.lastConnectedAt, at(9));
        assert.equal((await s.getDevice(id))?.lastRoomId, 'r1');
      });

      test('upsertDevice with explicit null clears identity and lastRoomId', async () => {
        const id = uid('dev');
        await s.upsertDevice({ deviceId: id, kind: 'user', identity: 'mobile_user', lastConnectedAt: at(1), lastRoomId: 'r1' });
        await s.upsertDevice({ deviceId: id, kind: 'user', identity: null, lastRoomId: null });
        assert.deepEqual(await s.getDevice(id),
          { deviceId: id, kind: 'user', identity: null, lastConnectedAt: at(1), lastRoomId: null });
      });

      test('listDevices filters by kind and sorts by id', async () => {
        const p = uid('list');
        await s.upsertDevice({ deviceId: `${p}-b`, kind: 'operator' });
        await s.upsertDevice({ deviceId: `${p}-a`, kind: 'operator' });
        await s.upsertDevice({ deviceId: `${p}-c`, kind: 'board' });
        const operators = (await s.listDevices('operator')).map((d) => d.deviceId).filter((d) => d.startsWith(p));
        assert.deepEqual(operators, [`${p}-a`, `${p}-b`]);
        assert.ok((await s.listDevices('operator')).every((d) => d.kind === 'operator'));
        const all = (await s.listDevices()).map((d) => d.deviceId).filter((d) => d.startsWith(p));
        assert.deepEqual(all, [`${p}-a`, `${p}-b`, `${p}-c`]);
      });
    });

    describe('connections', () => {
      test('openConnection returns increasing ids and the row round-trips', async () => {
        const dev = uid('dev');
        const id1 = await s.openConnection({ deviceId: dev, kind: 'board', roomId: null, clientIp: '192.0.2.7', connectedAt: at(1) });
        const id2 = await s.openConnection({ deviceId: dev, kind: 'board', roomId: 'r9', clientIp: '::1', connectedAt: at(2) });
        assert.ok(Number.isInteger(id1) && id2 > id1, `ids ${id1}, ${id2}`);
        assert.deepEqual(await s.listConnections({ deviceId: dev }), [
          { id: id2, deviceId: dev, kind: 'board', roomId: 'r9', clientIp: '::1', connectedAt: at(2), disconnectedAt: null },
          { id: id1, deviceId: dev, kind: 'board', roomId: null, clientIp: '192.0.2.7', connectedAt: at(1), disconnectedAt: null },
        ]);
      });

      test('closeConnection sets disconnectedAt and the open filter follows it', async () => {
        const dev = uid('dev');
        const a = await s.openConnection({ deviceId: dev, kind: 'client', roomId: null, clientIp: '127.0.0.1', connectedAt: at(1) });
        const b = await s.openConnection({ deviceId: dev, kind: 'client', roomId: null, clientIp: '127.0.0.1', connectedAt: at(2) });
        await s.closeConnection(a, at(50));
        assert.deepEqual((await s.listConnections({ deviceId: dev, open: true })).map((c) => c.id), [b]);
        const closed = await s.listConnections({ deviceId: dev, open: false });
        assert.deepEqual(closed.map((c) => [c.id, c.disconnectedAt]), [[a, at(50)]]);
      });

      test('listConnections is newest first and honours limit', async () => {
        const dev = uid('dev');
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          ids.push(await s.openConnection({ deviceId: dev, kind: 'client', roomId: null, clientIp: '127.0.0.1', connectedAt: at(i) }));
        }
        assert.deepEqual((await s.listConnections({ deviceId: dev, limit: 2 })).map((c) => c.id), [ids[3], ids[2]]);
      });

      test('closeDanglingConnections closes only open connections and counts them', async () => {
        await s.closeDanglingConnections(at(0)); // leftovers of earlier tests
        const dev = uid('dev');
        const open = (ms: number) => s.openConnection({ deviceId: dev, kind: 'board', roomId: null, clientIp: '10.0.0.1', connectedAt: at(ms) });
        const a = await open(1);
        const b = await open(2);
        const c = await open(3);
        await s.closeConnection(b, at(10));
        assert.equal(await s.closeDanglingConnections(at(99)), 2);
        assert.equal(await s.closeDanglingConnections(at(100)), 0);
        const byId = new Map((await s.listConnections({ deviceId: dev })).map((r) => [r.id, r.disconnectedAt]));
        assert.deepEqual([byId.get(a), byId.get(b), byId.get(c)], [at(99), at(10), at(99)]);
        assert.deepEqual(await s.listConnections({ deviceId: dev, open: true }), []);
      });
    });

    describe('messages', () => {
      test('insertMessage round-trips broadcast and direct rows', async () => {
        const room = uid('room');
        const b = msg({ roomId: room, fromDeviceId: 'a', content: 'caf\u00e9 \u{1F3C0}', sentAt: at(1) });
        const d = msg({ roomId: null, fromDeviceId: 'a', toDeviceId: `${room}-b`, messageType: 'direct', content: '{"sdp":"v=0"}', sentAt: at(2), status: 'queued' });
        const idB = await s.insertMessage(b);
        const idD = await s.insertMessage(d);
        assert.ok(idD > idB);
        assert.deepEqual(await s.listMessages({ roomId: room }), [{ ...b, id: idB, deliveredAt: null, contentJson: false }]);
        assert.deepEqual(await s.listMessages({ deviceId: `${room}-b` }), [{ ...d, id: idD, deliveredAt: null, contentJson: false }]);
      });

      test('listMessages filters by room and by device (sender or recipient), newest first, with limit', async () => {
        const room = uid('room');
        const x = uid('x');
        const id1 = await s.insertMessage(msg({ roomId: room, fromDeviceId: x, sentAt: at(1) }));
        const id2 = await s.insertMessage(msg({ roomId: room, fromDeviceId: 'y', toDeviceId: x, messageType: 'direct', sentAt: at(3) }));
        const id3 = await s.insertMessage(msg({ roomId: room, fromDeviceId: 'y', sentAt: at(2) }));
        const id4 = await s.insertMessage(msg({ roomId: `${room}-other`, fromDeviceId: x, sentAt: at(4) }));
        assert.deepEqual((await s.listMessages({ roomId: room })).map((m) => m.id), [id2, id3, id1]);
        assert.deepEqual((await s.listMessages({ roomId: room, limit: 2 })).map((m) => m.id), [id2, id3]);
        assert.deepEqual((await s.listMessages({ deviceId: x })).map((m) => m.id), [id4, id2, id1]);
        assert.deepEqual((await s.listMessages({ deviceId: x, roomId: room })).map((m) => m.id), [id2, id1]);
        assert.equal((await s.listMessages({ limit: 3 })).length, 3);
      });

      test('queuedMessagesFor returns only queued messages to that device, oldest first', async () => {
        const to = uid('to');
        const q = (content: string, status: MessageInsert['status'], toDeviceId = to) =>
          s.insertMessage(msg({ fromDeviceId: 'from', toDeviceId, messageType: 'direct', content, status, sentAt: at(7) }));
        const first = await q('one', 'queued');
        await q('sent', 'sent');
        await q('elsewhere', 'queued', `${to}-other`);
        const second = await q('two', 'queued');
        const rows = await s.queuedMessagesFor(to);
        assert.deepEqual(rows.map((m) => [m.id, m.content, m.status]), [[first, 'one', 'queued'], [second, 'two', 'queued']]);
      });

      test('markMessageDelivered dequeues once and keeps the first delivery time', async () => {
        const to = uid('to');
        const id = await s.insertMessage(msg({ fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', status: 'queued' }));
        const other = await s.insertMessage(msg({ fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', status: 'queued' }));
        await s.markMessageDelivered(id, at(500));
        await s.markMessageDelivered(id, at(900));
        assert.deepEqual((await s.queuedMessagesFor(to)).map((m) => m.id), [other]);
        const row = (await s.listMessages({ deviceId: to })).find((m) => m.id === id);
        assert.equal(row?.status, 'delivered');
        assert.deepEqual(row?.deliveredAt, at(500));
      });

      test('markMessageDelivered leaves a message that was sent directly as sent', async () => {
        const to = uid('to');
        const id = await s.insertMessage(msg({ fromDeviceId: 'f', toDeviceId: to, messageType: 'direct', status: 'sent' }));
        await s.markMessageDelivered(id, at(5));
        const [row] = await s.listMessages({ deviceId: to });
        assert.deepEqual([row?.status, row?.deliveredAt], ['sent', null]);
      });

      test('content over 64 KiB round-trips unchanged', async () => {
        const room = uid('room');
        const content = '\u{1F3C0}\u00e9x'.repeat(30_000); // ~210 KB of UTF-8
        await s.insertMessage(msg({ roomId: room, fromDeviceId: 'big', content }));
        const [row] = await s.listMessages({ roomId: room });
        assert.equal(row?.content.length, content.length);
        assert.equal(row?.content, content);
      });
    });

    describe('room queries', () => {
      test('countRoomQueries counts per room and in total', async () => {
        const room = uid('room');
        const total = await s.countRoomQueries();
        assert.equal(await s.countRoomQueries(room), 0);
        await s.insertRoomQuery({ deviceId: 'd1', roomId: room, queriedAt: at(1) });
        await s.insertRoomQuery({ deviceId: 'd2', roomId: room, queriedAt: at(2) });
        await s.insertRoomQuery({ deviceId: 'd1', roomId: `${room}-x`, queriedAt: at(3) });
        assert.equal(await s.countRoomQueries(room), 2);
        assert.equal(await s.countRoomQueries(), total + 3);
      });
    });

    describe('commands', () => {
      const fresh = (over: Partial<CommandRow> = {}): CommandRow => ({
        commandId: uid('cmd'), deviceId: 'board-1', command: 'reboot', params: { delayMs: 5 }, createdAt: at(0),
        state: 'queued', attempts: 0, lastSentAt: null, ackedAt: null, result: undefined, ...over,
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
