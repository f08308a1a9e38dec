/**
 * get_device_history (a board's statuses, events, commands and sessions, each a bounded page)
 * and get_rooms' empty_rooms (a room nobody is in stays listed with its messages until
 * retention deletes them). The truth is what the test's own board and room client sent, on a
 * manual clock, not the gateway's tables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { RETENTION_INTERVAL_MS } from '../../main/gateway/rooms.js';
import { eventually, OPERATOR_TOKEN, roomClient, startTestGateway, TestClient, type Frame, type TestGateway } from '../support/gateway.js';

type History = {
  statuses: { at: string; source: string; values: Record<string, unknown> }[];
  events: { at: string; event: string; ip?: string | null; code?: string }[];
  commands: { command_id: string; command: string; state: string; result: unknown; created_at: string }[];
  sessions: { session_id: string; boards: string[]; created_at: string }[];
  more: Record<'statuses' | 'events' | 'commands' | 'sessions', boolean>;
};

describe('a board\'s history and rooms nobody is in', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let op: TestClient;
  const DAY = 86_400_000;
  before(async () => {
    clock = new ManualClock(Date.now());
    gw = await startTestGateway({ clock, commandResendMs: 10_000, heartbeatIntervalMs: 0, retentionDays: 2 });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const history = async (fields: Record<string, unknown>) => (await op.ask({ type: 'get_device_history', id: 'h', ...fields }, (f) => f.id === 'h')) as Frame & History;
  const board = async (code: string) => {
    const b = await TestClient.connect(`${gw.url}/ws/esp32/${code}/`);
    await b.next('connection_established');
    return b;
  };

  test('statuses and heartbeats as the board sent them, newest first, paged without loss', async () => {
    const b = await board('hist-1');
    const sent: { source: string; values: Record<string, unknown> }[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      if (i % 2 === 0) {
        const status = { state: 'idle', battery: 90 - i, rssi: -50 - i, firmware: '1.2.0' };
        await b.ask({ type: 'status_update', status }, 'status_ack');
        sent.push({ source: 'status_update', values: status });
      } else {
        await b.ask({ type: 'heartbeat', battery: 90 - i, rssi: -50 - i }, 'heartbeat_ack');
        sent.push({ source: 'heartbeat', values: { battery: 90 - i, rssi: -50 - i } });
      }
    }
    const pages: History['statuses'][] = [];
    let before: string | undefined;
    for (;;) {
      const h = await history({ device_id: 'hist-1', limit: 3, only: 'statuses', ...(before ? { before } : {}) });
      pages.push(h.statuses);
      assert.equal(h.commands.length + h.events.length + h.sessions.length, 0, 'only statuses asked for');
      if (!h.more.statuses) break;
      before = h.statuses.at(-1)!.at;
    }
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    const all = pages.flat();
    assert.deepEqual(all.map(({ source, values }) => ({ source, values })), [...sent].reverse());
    // Each at the time the gateway heard it (the manual clock), newest first.
    const start = clock.now() - 7000;
    assert.deepEqual(all.map((s) => Date.parse(s.at) - start), [7000, 6000, 5000, 4000, 3000, 2000, 1000]);
    await b.close();
  });

  test('entries in the same millisecond are all reached by paging one at a time', async () => {
    const b = await board('hist-tie');
    await b.ask({ type: 'heartbeat', battery: 50, rssi: -60 }, 'heartbeat_ack');
    await b.ask({ type: 'heartbeat', battery: 49, rssi: -61 }, 'heartbeat_ack');
    await b.ask({ type: 'status_update', status: { state: 'idle', battery: 48 } }, 'status_ack');
    const seen: unknown[] = [];
    let before: string | undefined;
    for (let i = 0; i < 5; i++) {
      const h = await history({ device_id: 'hist-tie', limit: 1, only: 'statuses', ...(before ? { before } : {}) });
      seen.push(...h.statuses.map((s) => s.values.battery));
      if (!h.more.statuses) break;
      before = h.statuses[0]!.at;
    }
    assert.deepEqual(seen, [48, 49, 50]);
    await b.close();
  });

  test('events: connects and disconnects at their times, and a refused frame with its code', async () => {
    const t0 = clock.now();
    const b = await board('hist-2');
    clock.advance(2000);
    b.send({ type: 'heartbeat', battery: 'full' });
    const err = await b.next('error');
    clock.advance(3000);
    await b.close();
    await eventually(async () => (await gw.store.listConnections({ deviceId: 'hist-2' }))[0]?.disconnectedAt);
    const h = await history({ device_id: 'hist-2' });
    assert.deepEqual(h.events.map((e) => [e.event, Date.parse(e.at) - t0, e.code ?? null]), [
      ['disconnected', 5000, null],
      ['error', 2000, err.code],
      ['connected', 0, null],
    ]);
    assert.equal(h.events[2]!.ip, '127.0.0.1');
  });

  test('commands with the board\'s answers, and only the sessions that board was in', async () => {
    const b = await board('hist-3');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      clock.advance(1000);
      const q = await op.ask({ type: 'send_command', id: `c${n}`, device_id: 'hist-3', command: 'status' }, (f) => f.id === `c${n}`);
      const cmd = await b.next('command');
      assert.equal(cmd.command_id, q.command_id);
      b.send({ type: 'command_ack', command_id: cmd.command_id, ok: true, result: { n } });
      ids.push(String(q.command_id));
    }
    await eventually(async () => (await gw.store.getCommand(ids[2]!))?.state === 'acked');
    const first = await history({ device_id: 'hist-3', limit: 2, only: 'commands' });
    assert.deepEqual(first.commands.map((c) => [c.command_id, c.state, c.result]), [[ids[2], 'acked', { ok: true, result: { n: 3 } }], [ids[1], 'acked', { ok: true, result: { n: 2 } }]]);
    assert.equal(first.more.commands, true);
    const second = await history({ device_id: 'hist-3', limit: 2, only: 'commands', before: first.commands[1]!.created_at });
    assert.deepEqual(second.commands.map((c) => c.command_id), [ids[0]]);
    assert.equal(second.more.commands, false);

    // hist-30 contains hist-3: a substring match would list its session too.
    const made = (id: string, boards: string[], at: number) => gw.store.createSession({ sessionId: id, state: 'complete', boards, playerId: null, court: null, roomId: null, notes: null, sampleRateHz: 100, createdAt: new Date(at), startedAt: null, stoppedAt: null, completedAt: null, failureReason: null, summary: null });
    await made('s-h3-a', ['hist-3'], clock.now() - 5000);
    await made('s-h3-b', ['hist-30', 'hist-3'], clock.now() - 4000);
    await made('s-h30', ['hist-30'], clock.now() - 3000);
    const h = await history({ device_id: 'hist-3', only: 'sessions' });
    assert.deepEqual(h.sessions.map((s) => s.session_id), ['s-h3-b', 's-h3-a']);
    await b.close();
  });

  test('over HTTP too; bad requests get catalogued errors and nothing else breaks', async () => {
    const ok = await gw.http('/api/devices/hist-3/history?limit=1&only=commands');
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as History;
    assert.equal(body.commands.length, 1);
    assert.equal(body.more.commands, true);

    const tooMany = await op.ask({ type: 'get_device_history', id: 'b1', device_id: 'hist-3', limit: 500 }, (f) => f.id === 'b1');
    assert.deepEqual([tooMany.type, tooMany.code, tooMany.message], ['error', 'BAD_FRAME', 'limit must be at most 200']);
    const badOnly = await op.ask({ type: 'get_device_history', id: 'b2', device_id: 'hist-3', only: 'logs' }, (f) => f.id === 'b2');
    assert.equal(badOnly.code, 'BAD_FRAME');
    const notTime = await op.ask({ type: 'get_device_history', id: 'b3', device_id: 'hist-3', before: '2024-99-99T99:99' }, (f) => f.id === 'b3');
    assert.deepEqual([notTime.code, notTime.message], ['BAD_REQUEST', 'before is not a time: 2024-99-99T99:99']);
    const unknown = await op.ask({ type: 'get_device_history', id: 'b4', device_id: 'never-seen' }, (f) => f.id === 'b4');
    assert.deepEqual([unknown.code, unknown.message], ['NOT_FOUND', 'device never-seen not found']);

    const http404 = await gw.http('/api/devices/never-seen/history');
    assert.equal(http404.status, 404);
    assert.equal(((await http404.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    const http400 = await gw.http('/api/devices/hist-3/history?limit=abc');
    assert.equal(http400.status, 400);
    // The socket still answers.
    assert.equal((await op.ask({ type: 'get_device', id: 'd', device_id: 'hist-3' }, (f) => f.id === 'd')).type, 'device');
  });

  test('a room everyone left stays listed with its messages until retention deletes them', async () => {
    const a = await roomClient(gw, { device_id: 'hr-a', identity: 'mobile_user' });
    const roomId = String(a.room.room_id);
    a.c.send({ type: 'message', content: 'left for the day', timestamp: new Date(clock.now()).toISOString() });
    await eventually(async () => (await gw.store.listMessages({ roomId })).length === 1);
    const live = await op.ask({ type: 'get_rooms', id: 'r1' }, (f) => f.id === 'r1');
    assert.ok((live.rooms as { room_id: string }[]).some((r) => r.room_id === roomId));
    assert.ok(!(live.empty_rooms as { room_id: string }[]).some((r) => r.room_id === roomId), 'a room with a member is not empty');
    await a.c.close();
    await eventually(() => gw.core.rooms.activeRooms().every((r) => r.roomId !== roomId));

    const empty = await op.ask({ type: 'get_rooms', id: 'r2' }, (f) => f.id === 'r2');
    assert.ok(!(empty.rooms as { room_id: string }[]).some((r) => r.room_id === roomId));
    const row = (empty.empty_rooms as { room_id: string; messages: number; last_message_at: string }[]).find((r) => r.room_id === roomId);
    assert.ok(row, JSON.stringify(empty.empty_rooms));
    assert.equal(row.messages, 1);
    const msgs = await op.ask({ type: 'get_messages', id: 'm', room_id: roomId }, (f) => f.id === 'm');
    assert.deepEqual((msgs.messages as { content: unknown }[]).map((m) => m.content), ['left for the day']);

    // Past the retention (2 days) the hourly pass deletes the message, and the room leaves the list.
    clock.advance(2 * DAY + RETENTION_INTERVAL_MS);
    await eventually(async () => (await gw.store.listMessages({ roomId })).length === 0);
    const gone = await op.ask({ type: 'get_rooms', id: 'r3' }, (f) => f.id === 'r3');
    assert.ok(!(gone.empty_rooms as { room_id: string }[]).some((r) => r.room_id === roomId));
  });
});
