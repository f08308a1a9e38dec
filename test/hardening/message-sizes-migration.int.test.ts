/**
 * Migration 3 on a database an earlier version wrote: the messages already
 * there get their size (UTF-8 bytes, what the quotas count), so a queue
 * filled before the upgrade still counts against its cap. SQLite and MariaDB.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, SCHEMA_MIGRATIONS_DDL } from '../../main/gateway/store/migrations.js';
import { openStore } from '../../main/gateway/store/index.js';
import { freshMysqlUrl } from '../support/mysql.js';

const CONTENT = 'sméš 🏸'; // 13 bytes of UTF-8, 7 characters
const BYTES = Buffer.byteLength(CONTENT);

describe('migration 3: sizes of the messages already stored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-mig3-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('SQLite', async () => {
    const file = join(dir, 'v2.sqlite');
    const db = new Database(file);
    db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
      for (const ddl of m.sqlite) db.exec(ddl);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
    const ins = db.prepare("INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, content, sent_at, status) VALUES ('R1', 'a', 'ghost', 'direct', ?, 0, 'queued')");
    ins.run(CONTENT);
    ins.run(CONTENT);
    db.close();
    const store = await openStore(file);
    try {
      // Migration 3 ran (and every later one): the latest version.
      assert.equal(await store.schemaVersion(), LATEST_SCHEMA_VERSION);
      assert.deepEqual(await store.messageUsage({ queuedFor: 'ghost', roomId: 'R1' }), { target: { count: 2, bytes: 2 * BYTES }, room: { count: 2, bytes: 2 * BYTES } });
    } finally {
      await store.close();
    }
  });

  test('MariaDB', async () => {
    const m = await freshMysqlUrl();
    try {
      const conn = await mysql.createConnection(m.url);
      const ddl = (s: string) => s.replaceAll('{COLLATE}', 'utf8mb4_nopad_bin');
      await conn.query(ddl(SCHEMA_MIGRATIONS_DDL.mysql));
      for (const mig of MIGRATIONS.filter((x) => x.version <= 2)) {
        for (const s of mig.mysql) await conn.query(ddl(s));
        await conn.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW(3))', [mig.version, mig.name]);
      }
      for (let i = 0; i < 2; i++) {
        await conn.query("INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, content, sent_at, status) VALUES ('R1', 'a', 'ghost', 'direct', ?, NOW(3), 'queued')", [CONTENT]);
      }
      await conn.end();
      const store = await openStore(m.url);
      try {
        assert.equal(await store.schemaVersion(), LATEST_SCHEMA_VERSION);
        assert.deepEqual(await store.messageUsage({ queuedFor: 'ghost', roomId: 'R1' }), { target: { count: 2, bytes: 2 * BYTES }, room: { count: 2, bytes: 2 * BYTES } });
      } finally {
        await store.close();
      }
    } finally {
      await m.drop();
    }
  });
});

describe("migration 7: the room server's column name, messages kept", () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-mig7-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('SQLite: content becomes message_content with every row; priorities default to normal', async () => {
    const file = join(dir, 'v6.sqlite');
    const db = new Database(file);
    db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) {
      for (const ddl of m.sqlite) db.exec(ddl);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
    db.prepare("INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, content, sent_at, status, content_bytes) VALUES ('R1', 'a', 'ghost', 'direct', ?, 0, 'queued', ?)").run(CONTENT, BYTES);
    db.close();
    const store = await openStore(file);
    try {
      const [m] = await store.queuedMessagesFor('ghost');
      assert.deepEqual([m?.content, m?.priority], [CONTENT, 1]);
    } finally {
      await store.close();
    }
    const raw = new Database(file, { readonly: true });
    assert.deepEqual(raw.prepare('SELECT message_content FROM messages').all(), [{ message_content: CONTENT }]);
    assert.ok(!(raw.prepare('PRAGMA table_info(messages)').all() as { name: string }[]).some((c) => c.name === 'content'));
    raw.close();
  });

  test('MariaDB: renamed with its rows, and a re-run after a crash mid-migration finishes', async () => {
    const m = await freshMysqlUrl();
    try {
      const conn = await mysql.createConnection(m.url);
      const ddl = (s: string) => s.replaceAll('{COLLATE}', 'utf8mb4_nopad_bin');
      await conn.query(ddl(SCHEMA_MIGRATIONS_DDL.mysql));
      for (const mig of MIGRATIONS.filter((x) => x.version <= 6)) {
        for (const s of mig.mysql) await conn.query(ddl(s));
        await conn.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW(3))', [mig.version, mig.name]);
      }
      await conn.query("INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, content, sent_at, status) VALUES ('R1', 'a', 'ghost', 'direct', ?, NOW(3), 'queued')", [CONTENT]);
      // A crash after the first statements of migration 7: they ran, its row was never written.
      const m7 = MIGRATIONS.find((x) => x.version === 7)!;
      for (const s of m7.mysql.slice(0, 2)) await conn.query(ddl(s));
      await conn.end();
      const store = await openStore(m.url);
      try {
        assert.equal(await store.schemaVersion(), LATEST_SCHEMA_VERSION);
        assert.equal((await store.queuedMessagesFor('ghost'))[0]?.content, CONTENT);
      } finally {
        await store.close();
      }
      const c2 = await mysql.createConnection(m.url);
      const [rows] = await c2.query('SELECT message_content FROM messages');
      assert.deepEqual(rows, [{ message_content: CONTENT }]);
      await c2.end();
    } finally {
      await m.drop();
    }
  });
});
