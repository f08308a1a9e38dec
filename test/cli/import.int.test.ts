/**
 * `courtside import --from mysql://...`: the room server's own schema made in MariaDB and
 * filled, imported into SQLite and into MariaDB; the rows checked through the store and with
 * the room server's own monitoring SQL on the imported MariaDB (its column names kept).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { courtside } from '../../main/cli/courtside.js';
import { openStore } from '../../main/gateway/store/index.js';
import { parseMysqlUrl } from '../../main/gateway/store/mysql.js';
import { captureIO } from '../support/cli.js';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';

const SCHEMA = readFileSync(new URL('../fixtures/room-server-schema.sql', import.meta.url), 'utf8');

async function connect(url: string): Promise<mysql.Connection> {
  const t = parseMysqlUrl(url);
  const c = await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database, multipleStatements: true, timezone: 'Z' });
  await c.query("SET time_zone = '+00:00'");
  return c;
}

describe('courtside import from a room server database', () => {
  let source: FreshMysql;
  let target: FreshMysql;
  const dir = mkdtempSync(join(tmpdir(), 'courtside-import-'));
  before(async () => {
    source = await freshMysqlUrl();
    target = await freshMysqlUrl();
    const c = await connect(source.url);
    await c.query(SCHEMA);
    await c.query("INSERT INTO rooms (room_id, created_at) VALUES ('K7M2QX', '2024-01-20 12:00:00'), ('AB12CD', '2024-01-20 13:00:00')");
    await c.query("INSERT INTO devices VALUES ('phone-1', '2024-01-20 12:30:00', 'K7M2QX'), ('board-7', '2024-01-20 12:31:00', 'K7M2QX')");
    await c.query("INSERT INTO connections (device_id, room_id, client_ip, connected_at, disconnected_at) VALUES ('phone-1', 'K7M2QX', '192.168.4.20', '2024-01-20 12:30:00', '2024-01-20 12:40:00'), ('board-7', 'K7M2QX', '192.168.4.21', '2024-01-20 12:31:00', NULL)");
    const msgs: unknown[][] = [];
    for (let i = 0; i < 1203; i++) msgs.push(['K7M2QX', 'phone-1', i % 3 === 0 ? 'board-7' : null, i % 3 === 0 ? 'direct' : 'broadcast', `msg ${i} ✓`, new Date(Date.UTC(2024, 0, 20, 12, 0, 0) + i * 1000)]);
    await c.query('INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, message_content, sent_at) VALUES ?', [msgs]);
    await c.query("INSERT INTO room_queries (device_id, room_id, queried_at) VALUES ('phone-1', 'K7M2QX', '2024-01-20 12:35:00')");
    await c.end();
  });
  after(async () => {
    await source.drop();
    await target.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('into SQLite: every row, times and text as they were', async () => {
    const db = join(dir, 'c.sqlite');
    const io = captureIO();
    assert.equal(await courtside(['import', '--from', source.url, '--db', db], io.io), 0, io.stderr());
    assert.match(io.stdout(), /2 rooms, 2 devices, 2 connections, 1203 messages, 1 room queries/);
    const store = await openStore(db);
    try {
      assert.deepEqual((await store.listRooms()).map((r) => [r.roomId, r.createdAt.toISOString()]), [['K7M2QX', '2024-01-20T12:00:00.000Z'], ['AB12CD', '2024-01-20T13:00:00.000Z']]);
      const dev = await store.getDevice('board-7');
      assert.deepEqual([dev?.lastRoomId, dev?.lastConnectedAt?.toISOString()], ['K7M2QX', '2024-01-20T12:31:00.000Z']);
      const msgs = await store.listMessages({ roomId: 'K7M2QX', limit: 2000 });
      assert.equal(msgs.length, 1203);
      const m3 = msgs.find((m) => m.content === 'msg 3 ✓')!;
      assert.deepEqual([m3.messageType, m3.toDeviceId, m3.sentAt.toISOString()], ['direct', 'board-7', '2024-01-20T12:00:03.000Z']);
      assert.equal(await store.countRoomQueries('K7M2QX'), 1);
      const conns = await store.listConnections({ deviceId: 'phone-1' });
      assert.equal(conns[0]?.disconnectedAt?.toISOString(), '2024-01-20T12:40:00.000Z');
    } finally {
      await store.close();
    }
  });

  test("into MariaDB: the room server's monitoring SQL runs unchanged on the imported tables", async () => {
    const io = captureIO();
    assert.equal(await courtside(['import', '--from', source.url, '--db', target.url], io.io), 0, io.stderr());
    const c = await connect(target.url);
    try {
      const [byType] = await c.query('SELECT message_type, COUNT(*) as count FROM messages GROUP BY message_type ORDER BY message_type');
      assert.deepEqual((byType as { message_type: string; count: number }[]).map((r) => [r.message_type, Number(r.count)]), [['broadcast', 802], ['direct', 401]]);
      const [content] = await c.query("SELECT message_content FROM messages WHERE from_device_id = 'phone-1' ORDER BY id LIMIT 1");
      assert.equal((content as { message_content: string }[])[0]?.message_content, 'msg 0 ✓');
      const [conns] = await c.query('SELECT device_id, room_id, connected_at FROM connections WHERE disconnected_at IS NULL');
      assert.deepEqual(conns, []);
      const [rooms] = await c.query('SELECT room_id, created_at FROM rooms ORDER BY room_id');
      assert.deepEqual((rooms as { room_id: string }[]).map((r) => r.room_id), ['AB12CD', 'K7M2QX']);
    } finally {
      await c.end();
    }
  });

  test('bad flags: one line, exit 2; an unreachable source: exit 1', async () => {
    const a = captureIO();
    assert.equal(await courtside(['import'], a.io), 2);
    assert.match(a.stderr(), /--from is required/);
    const b = captureIO();
    assert.equal(await courtside(['import', '--from', '/tmp/x.sqlite'], b.io), 2);
    assert.match(b.stderr(), /--from must be a mysql:\/\/ URL/);
    const c = captureIO();
    assert.equal(await courtside(['import', '--from', 'mysql://nobody:x@127.0.0.1:1/none', '--db', join(dir, 'd.sqlite')], c.io), 1);
    assert.match(c.stderr(), /cannot open the room server's database/);
  });
});
