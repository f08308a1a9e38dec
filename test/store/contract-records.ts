/** The store contract, records: rooms, devices, connections, messages and room queries. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { MessageInsert, Store } from '../../main/gateway/store/types.js';
import { at, type ContractContext } from './contract-context.js';

export function recordsContract(c: ContractContext): void {
  const { uid, msg } = c;
  let s: Store;
  before(() => { s = c.store(); });

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

    test('closeDanglingConnections with a scope closes its own rows, unowned ones and those of gateways not live', async () => {
      await s.closeDanglingConnections(at(0)); // leftovers of earlier tests
      const dev = uid('dev');
      const open = (gatewayId?: string) => s.openConnection({ deviceId: dev, kind: 'board', roomId: null, clientIp: '127.0.0.1', connectedAt: at(1), ...(gatewayId ? { gatewayId } : {}) });
      const mine = await open('gw-a');
      const other = await open('gw-b');
      const dead = await open('gw-c');
      const legacy = await open();
      assert.equal(await s.closeDanglingConnections(at(5), { own: 'gw-a' }), 2);
      const byId = async () => new Map((await s.listConnections({ deviceId: dev })).map((c) => [c.id, c]));
      let rows = await byId();
      assert.equal(rows.get(mine)!.disconnectedAt?.getTime(), at(5).getTime());
      assert.equal(rows.get(legacy)!.disconnectedAt?.getTime(), at(5).getTime());
      assert.equal(rows.get(other)!.disconnectedAt, null);
      assert.equal(rows.get(other)!.gatewayId, 'gw-b');
      assert.equal(rows.get(legacy)!.gatewayId, undefined);
      // With Redis: gw-b's heartbeat key is alive, gw-c's expired.
      assert.equal(await s.closeDanglingConnections(at(6), { own: 'gw-a', live: ['gw-a', 'gw-b'] }), 1);
      rows = await byId();
      assert.equal(rows.get(dead)!.disconnectedAt?.getTime(), at(6).getTime());
      assert.equal(rows.get(other)!.disconnectedAt, null);
      assert.equal(await s.closeDanglingConnections(at(7), { own: 'gw-a', live: ['gw-a'] }), 1);
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
}
