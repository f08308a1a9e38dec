/**
 * Test databases on the MySQL/MariaDB server named by COURTSIDE_TEST_MYSQL_URL:
 * the test run's private server (test/support/services.ts), or a server of
 * your own when the variable is set before the run. Each caller gets its own
 * randomly named database so runs and test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { parseMysqlUrl } from '../../main/gateway/store/mysql.js';

export const TEST_MYSQL_ENV = 'COURTSIDE_TEST_MYSQL_URL';

/** The server URL; throws (never skips) when it is not configured. */
export function testMysqlUrl(): string {
  const url = process.env[TEST_MYSQL_ENV];
  if (!url) {
    throw new Error(
      `${TEST_MYSQL_ENV} is not set, so the MySQL tests cannot run. Run them through the test runner ` +
        '(`npm test`, or `node --import tsx test/run.ts <files>`), which starts a private MariaDB, or set it to ' +
        'mysql://user:pass@host:3306/db for a user allowed to CREATE and DROP databases.',
    );
  }
  return url;
}

async function admin(): Promise<mysql.Connection> {
  const t = parseMysqlUrl(testMysqlUrl());
  return mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, connectTimeout: 10_000 });
}

export interface FreshMysql {
  /** URL of the new database, same server and credentials as COURTSIDE_TEST_MYSQL_URL. */
  url: string;
  database: string;
  /** Drops the database; safe to call twice. */
  drop(): Promise<void>;
}

/**
 * A new, empty database `courtside_test_<random>`. With `{ create: false }`
 * only the name is reserved, for tests of the store creating it itself.
 */
export async function freshMysqlUrl(opts: { create?: boolean } = {}): Promise<FreshMysql> {
  const base = new URL(testMysqlUrl());
  const database = `courtside_test_${randomBytes(6).toString('hex')}`;
  if (opts.create !== false) {
    const conn = await admin();
    try {
      await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
    } finally {
      await conn.end();
    }
  }
  base.pathname = '/' + database;
  return {
    url: base.toString(),
    database,
    async drop() {
      const conn = await admin();
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await conn.end();
      }
    },
  };
}
