/**
 * Rooms with chosen names (`create: true`), rooms limited to listed devices or to holders of a
 * room token, the offline queue as PROTOCOL.md describes it (delivered on the target's next
 * identity in any room, priority order), and the room server's WARN lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../main/gateway/log.js';
import { roomClient, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('named and restricted rooms, the offline queue, WARN lines', () => {
  let gw: TestGateway;
  const lines: string[] = [];
  before(async () => {
    gw = await startTestGateway({ logger: createLogger('info', (l) => lines.push(l)) });
  });
  after(() => gw.stop());

  const identify = async (identity: Record<string, unknown>) => {
    const c = await TestClient.connect(gw.url + '/');
    c.send(identity);
    await c.next('connection');
    return c;
  };

  test('create: true makes COURT7 if missing (created_new), joins it if there (joined_existing); without create: room_not_found', async () => {
    const lost = await identify({ device_id: 'nr-0', identity: 'u', room_id: 'COURT7' });
    assert.deepEqual(await lost.next('room'), { type: 'room', room_id: 'COURT7', status: 'room_not_found' });
    assert.equal((await lost.next('error')).code, 'ROOM_NOT_FOUND');
    await lost.close();
    assert.ok(lines.some((l) => / WARN  room not found room_id=COURT7 device_id=nr-0$/.test(l)), lines.join('\n'));

    const a = await identify({ device_id: 'nr-a', identity: 'u', room_id: 'court7', create: true });
    assert.deepEqual(await a.next('room'), { type: 'room', room_id: 'COURT7', status: 'created_new' });
    assert.equal(await gw.store.roomExists('COURT7'), true);
    const b = await identify({ device_id: 'nr-b', identity: 'u', room_id: 'COURT7', create: true });
    assert.deepEqual(await b.next('room'), { type: 'room', room_id: 'COURT7', status: 'joined_existing' });
    a.send({ type: 'message', content: 'hi' });
    assert.equal((await b.next('message')).content, 'hi');
    // A name that cannot be a room: BAD_FRAME, and the socket may try again.
    const bad = await identify({ device_id: 'nr-c', identity: 'u', room_id: 'court 7!', create: true });
    const e = await bad.next('error');
    assert.equal(e.code, 'BAD_FRAME');
    assert.match(String(e.message), /cannot be created/);
    bad.send({ device_id: 'nr-c', identity: 'u', room_id: 'COURT7' });
    assert.equal((await bad.next('room')).status, 'joined_existing');
    await Promise.all([a.close(), b.close(), bad.close()]);
  });

  test('a room for listed devices: others get ROOM_FORBIDDEN and may try again; a room token admits its holders', async () => {
    const owner = await identify({ device_id: 'ac-owner', identity: 'coach', room_id: 'PRIVATE1', create: true, allowed_device_ids: ['ac-ok'] });
    assert.equal((await owner.next('room')).status, 'created_new');
    const ok = await identify({ device_id: 'ac-ok', identity: 'u', room_id: 'PRIVATE1' });
    assert.equal((await ok.next('room')).status, 'joined_existing');
    const other = await identify({ device_id: 'ac-other', identity: 'u', room_id: 'PRIVATE1' });
    const e = await other.next('error');
    assert.equal(e.code, 'ROOM_FORBIDDEN');
    assert.match(String(e.message), /room PRIVATE1 admits only its listed devices; 'ac-other' is not listed/);
    assert.equal(gw.core.rooms.membersOf('PRIVATE1').length, 2);
    // Even with create: the room exists, and create does not open it.
    other.send({ device_id: 'ac-other', identity: 'u', room_id: 'PRIVATE1', create: true });
    assert.equal((await other.next('error')).code, 'ROOM_FORBIDDEN');
    other.send({ device_id: 'ac-other', identity: 'u' });
    assert.equal((await other.next('room')).status, 'created_new');

    const t = await identify({ device_id: 'tk-owner', identity: 'coach', room_id: 'TOKENED', create: true, room_token: 'court-seven-secret' });
    assert.equal((await t.next('room')).status, 'created_new');
    const without = await identify({ device_id: 'tk-1', identity: 'u', room_id: 'TOKENED' });
    assert.match(String((await without.next('error')).message), /holders of its room_token; 'tk-1' is not listed and presented no valid room_token/);
    without.send({ device_id: 'tk-1', identity: 'u', room_id: 'TOKENED', room_token: 'wrong-token-value' });
    assert.equal((await without.next('error')).code, 'ROOM_FORBIDDEN');
    without.send({ device_id: 'tk-1', identity: 'u', room_id: 'TOKENED', room_token: 'court-seven-secret' });
    assert.equal((await without.next('room')).status, 'joined_existing');
    // The token is kept only as a hash.
    const access = await gw.store.getRoomAccess('TOKENED');
    assert.match(String(access?.tokenHash), /^[0-9a-f]{64}$/);
    await Promise.all([owner.close(), ok.close(), other.close(), t.close(), without.close()]);
  });

  test("target not found: the error, and a WARN line like the room server's", async () => {
    const { c, room } = await roomClient(gw, { device_id: 'w-a', identity: 'u' });
    c.send({ type: 'message', content: 'x', target_device_id: 'w-ghost' });
    assert.equal((await c.next('error')).code, 'TARGET_NOT_FOUND');
    assert.ok(lines.some((l) => l.includes(` WARN  target device not found room_id=${room.room_id} target_device_id=w-ghost from_device_id=w-a`)), lines.join('\n'));
    await c.close();
  });

  test('queued messages: delivered on the next identity in any room, high priority first, then in the order sent', async () => {
    const s1 = await roomClient(gw, { device_id: 'pq-s1', identity: 'u' });
    const s2 = await roomClient(gw, { device_id: 'pq-s2', identity: 'u' });
    const send = async (c: TestClient, content: string, priority?: string) => {
      c.send({ type: 'message', content, target_device_id: 'pq-t', queue: true, ...(priority ? { priority } : {}) });
      await c.next('queued');
    };
    await send(s1.c, 'n1');
    await send(s2.c, 'l1', 'low');
    await send(s1.c, 'h1', 'high');
    await send(s2.c, 'n2', 'normal');
    await send(s2.c, 'h2', 'high');
    const bad = await s1.c.ask({ type: 'message', content: 'x', target_device_id: 'pq-t', queue: true, priority: 'asap' }, 'error');
    assert.equal(bad.code, 'BAD_FRAME');
    // The target comes back in a third room.
    const t = await roomClient(gw, { device_id: 'pq-t', identity: 'u' });
    const got: { content: unknown; room_id: unknown }[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await t.c.next('message');
      got.push({ content: m.content, room_id: m.room_id });
    }
    assert.deepEqual(got.map((g) => g.content), ['h1', 'h2', 'n1', 'n2', 'l1']);
    assert.deepEqual(got.map((g) => g.room_id), [s1.room.room_id, s2.room.room_id, s1.room.room_id, s2.room.room_id, s2.room.room_id]);
    assert.equal((await s1.c.next('delivered')).target_device_id, 'pq-t');
    await Promise.all([s1.c.close(), s2.c.close(), t.c.close()]);
  });
});
