import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { StoreError } from '../../main/gateway/store/errors.js';
import { describeStoreSpec, openStore } from '../../main/gateway/store/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../main/gateway/store/migrations.js';
import { openMysqlStore, parseMysqlUrl } from '../../main/gateway/store/mysql.js';
import type { Store } from '../../main/gateway/store/types.js';
import { TEST_MYSQL_ENV, freshMysqlUrl, testMysqlUrl, type FreshMysql } from '../support/mysql.js';
import { storeContract } from './contract.js';
import { sessionsContract } from './contract-sessions.js';
import { correctionsContract } from './contract-corrections.js';

// A zone with an odd offset and DST: any local-time leak in the driver
// configuration shows up as shifted Dates.
process.env.TZ = 'Pacific/Chatham';

const isCode = (code: string) => (e: unknown) => e instanceof StoreError && e.code === code;

async function sql<T = mysql.RowDataPacket[]>(url: string, query: string, params: unknown[] = []): Promise<T> {
  const t = parseMysqlUrl(url);
  const conn = await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database });
  try {
    return (await conn.query(query, params))[0] as T;
  } finally {
    await conn.end();
  }
}

describe('MySQL spec handling (no server needed)', () => {
  test('describeStoreSpec masks the password and keeps the rest', () => {
    assert.equal(describeStoreSpec('mysql://gw:s3cret@db.lan:3307/courtside'), 'mysql://gw:***@db.lan:3307/courtside');
    assert.equal(describeStoreSpec('mariadb://gw:p%40ss@10.0.0.5/cs'), 'mariadb://gw:***@10.0.0.5:3306/cs');
    assert.equal(describeStoreSpec('mysql://gw@h/cs'), 'mysql://gw@h:3306/cs');
    assert.ok(!describeStoreSpec('mysql://gw:s3cret@h:3306/').includes('s3cret'));
  });

  test('parseMysqlUrl decodes credentials and defaults the port', () => {
    assert.deepEqual(parseMysqlUrl('mariadb://u%3Ax:p%40ss%2F@127.0.0.1/db'),
      { scheme: 'mariadb', host: '127.0.0.1', port: 3306, user: 'u:x', password: 'p@ss/', database: 'db' });
  });

  test('bad specs fail with STORE_BAD_URL and never echo the password', async () => {
    for (const spec of ['mysql://u:s3cret@h:3306', 'mysql://u:s3cret@h:3306/db?ssl=1', 'postgres://u:s3cret@h/db', '  ']) {
      await assert.rejects(openStore(spec), (e: unknown) => isCode('STORE_BAD_URL')(e) && !(e as Error).message.includes('s3cret'), spec);
    }
  });
});

if (!process.env[TEST_MYSQL_ENV]) {
  test('MySQL backend tests need a server', () => {
    testMysqlUrl(); // throws the explanation
  });
} else {
  describe('mysql backend', () => {
    let db: FreshMysql;
    before(async () => { db = await freshMysqlUrl(); });
    after(async () => { await db?.drop(); });

    storeContract('mysql', () => openMysqlStore(db.url));
    sessionsContract('mysql', () => openMysqlStore(db.url));
    correctionsContract('mysql', () => openMysqlStore(db.url));

    test('times are stored as UTC DATETIME(3)', async () => {
      const s = await openMysqlStore(db.url);
      try {
        await s.createRoom('utc-check', new Date('2025-07-01T23:45:06.789Z'));
      } finally {
        await s.close();
      }
      const rows = await sql(db.url, "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') AS t FROM rooms WHERE room_id = 'utc-check'");
      assert.equal(rows[0]?.t, '2025-07-01 23:45:06.789000');
    });

    test('tables are InnoDB, utf8mb4, binary collation', async () => {
      const rows = await sql(db.url,
        'SELECT TABLE_NAME AS name, ENGINE AS engine, TABLE_COLLATION AS coll FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
      assert.deepEqual(rows.map((r) => r.name).sort(), ['commands', 'connections', 'device_status', 'device_tags', 'device_tokens', 'devices', 'messages', 'room_queries', 'rooms', 'sample_chunks', 'schema_migrations', 'session_board_stats', 'session_boards', 'sessions', 'stroke_corrections', 'strokes']);
      for (const r of rows) {
        assert.equal(r.engine, 'InnoDB', r.name);
        assert.match(String(r.coll), /^utf8mb4_.*bin$/, r.name);
      }
    });

    test('openStore accepts mysql:// and mariadb://; description hides the password', async () => {
      for (const url of [db.url, db.url.replace(/^mysql:/, 'mariadb:')]) {
        const s = await openStore(url);
        try {
          assert.equal(s.kind, 'mysql');
          assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
          const t = parseMysqlUrl(url);
          // The test user's password may equal its name, so look for it where a password would sit.
          assert.ok(!s.description.includes(`:${t.password}@`), s.description);
          if (t.password) assert.ok(s.description.includes(':***@'), s.description);
          assert.ok(s.description.includes(`${t.host}:${t.port}/${db.database}`), s.description);
        } finally {
          await s.close();
        }
      }
    });

    test('gateways starting together on a new database migrate it once', async () => {
      const race = await freshMysqlUrl();
      const stores: Store[] = [];
      try {
        const results = await Promise.allSettled([1, 2, 3, 4].map(() => openMysqlStore(race.url)));
        for (const r of results) if (r.status === 'fulfilled') stores.push(r.value);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
        for (const s of stores) assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
        const rows = await sql(race.url, 'SELECT COUNT(*) AS n FROM schema_migrations');
        assert.equal(Number(rows[0]?.n), MIGRATIONS.length);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await race.drop();
      }
    });

    test('a missing database is created', async () => {
      const missing = await freshMysqlUrl({ create: false });
      try {
        const s = await openMysqlStore(missing.url);
        await s.close();
        const rows = await sql(missing.url, 'SELECT COUNT(*) AS n FROM schema_migrations');
        assert.equal(Number(rows[0]?.n), MIGRATIONS.length);
      } finally {
        await missing.drop();
      }
    });

    test('a database migrated by a newer gateway is refused with STORE_SCHEMA_TOO_NEW', async () => {
      const newer = await freshMysqlUrl();
      try {
        await (await openMysqlStore(newer.url)).close();
        await sql(newer.url, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW(3))', [LATEST_SCHEMA_VERSION + 1, 'future']);
        await assert.rejects(openMysqlStore(newer.url), isCode('STORE_SCHEMA_TOO_NEW'));
      } finally {
        await newer.drop();
      }
    });

    test('an unreachable server fails with STORE_CONNECT_FAILED naming host:port, not the password', async () => {
      await assert.rejects(openMysqlStore('mysql://courtside:s3cret@127.0.0.1:1/courtside'), (e: unknown) => {
        assert.ok(isCode('STORE_CONNECT_FAILED')(e), String(e));
        assert.match((e as Error).message, /^cannot reach MySQL at 127\.0\.0\.1:1: connect ECONNREFUSED/);
        assert.ok(!(e as Error).message.includes('s3cret'));
        return true;
      });
    });

    test('a wrong password fails with STORE_ACCESS_DENIED', async () => {
      const u = new URL(db.url);
      u.password = 'definitely-wrong';
      await assert.rejects(openMysqlStore(u.toString()), (e: unknown) => {
        assert.ok(isCode('STORE_ACCESS_DENIED')(e), String(e));
        assert.ok(!(e as Error).message.includes('definitely-wrong'));
        return true;
      });
    });
  });
}
