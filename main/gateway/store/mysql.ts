/**
 * MySQL / MariaDB backend (mysql2/promise pool). Statements go through
 * `execute`, so each pooled connection prepares a statement once and reuses it.
 */
import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { StoreError, errorText } from './errors.js';
import { SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations.js';
import { createSqlStore, type SqlRow, type SqlValue, type StoreHooks } from './sql-store.js';
import type { Store } from './types.js';

export interface MysqlTarget {
  scheme: 'mysql' | 'mariadb';
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

const CONNECTION_LIMIT = 8;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a starting gateway waits for another one that is migrating the same database. */
const MIGRATION_LOCK_WAIT_S = 60;

/** Parses `mysql://user:pass@host:port/db` (or `mariadb://`); throws STORE_BAD_URL. */
export function parseMysqlUrl(url: string): MysqlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError('STORE_BAD_URL', `not a valid MySQL URL: ${maskUrlPassword(url)}`);
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'mysql' && scheme !== 'mariadb') {
    throw new StoreError('STORE_BAD_URL', `unsupported URL scheme '${scheme}:' (expected mysql:// or mariadb://)`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new StoreError('STORE_BAD_URL', `MySQL URL has no host: ${maskUrlPassword(url)}`);
  const port = u.port ? Number(u.port) : 3306;
  let database: string;
  let user: string;
  let password: string;
  try {
    database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    throw new StoreError('STORE_BAD_URL', `MySQL URL has bad %-escapes: ${maskUrlPassword(url)}`);
  }
  if (!database || database.includes('/')) {
    throw new StoreError('STORE_BAD_URL', `MySQL URL needs a database name, as in mysql://user:pass@host:3306/courtside (got ${maskUrlPassword(url)})`);
  }
  if (!user) throw new StoreError('STORE_BAD_URL', `MySQL URL has no user name: ${maskUrlPassword(url)}`);
  if (u.search || u.hash) {
    throw new StoreError('STORE_BAD_URL', `MySQL URL options (${u.search || u.hash}) are not supported: ${maskUrlPassword(url)}`);
  }
  return { scheme, host, port, user, password, database };
}

/** Replaces the password of a URL-ish string, even one too broken to parse. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

export function describeMysqlTarget(t: MysqlTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.scheme}://${encodeURIComponent(t.user)}${t.password ? ':***' : ''}@${host}:${t.port}/${t.database}`;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
]);
const ACCESS_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_HOST_NOT_PRIVILEGED', 'ER_NOT_SUPPORTED_AUTH_MODE']);

function mapMysqlError(err: unknown, t: MysqlTarget): unknown {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const where = `${t.host}:${t.port}`;
  if (NETWORK_CODES.has(code)) {
    // Node's connect errors can be AggregateErrors with an empty message
    // (happy eyeballs on "localhost"); the code alone reads well.
    const detail = code.startsWith('E') && !code.startsWith('ER_') ? `connect ${code}` : errorText(err);
    return new StoreError('STORE_CONNECT_FAILED', `cannot reach MySQL at ${where}: ${detail}`, { cause: err });
  }
  if (ACCESS_CODES.has(code)) {
    return new StoreError('STORE_ACCESS_DENIED', `MySQL at ${where} refused database '${t.database}': ${errorText(err)}`, { cause: err });
  }
  return err;
}

function migrationLockName(database: string): string {
  // Lock names are server-wide and at most 64 characters.
  const name = `courtside_migrate:${database}`;
  return name.length <= 64 ? name : `courtside_migrate:${createHash('sha1').update(database).digest('hex')}`;
}

type Queryable = Pick<mysql.Connection, 'query'>;

/** A binary NO PAD collation, so ids compare like SQLite's: case and trailing spaces matter. */
async function pickCollation(conn: Queryable): Promise<string> {
  const [rows] = await conn.query(
    "SELECT COLLATION_NAME AS c FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')",
  );
  const names = (rows as SqlRow[]).map((r) => String(r.c));
  return names.find((n) => n === 'utf8mb4_0900_bin') ?? names[0] ?? 'utf8mb4_bin';
}

function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export async function openMysqlStore(url: string, hooks: StoreHooks = {}): Promise<Store> {
  const target = parseMysqlUrl(url);
  const description = describeMysqlTarget(target);
  const base: mysql.PoolOptions = {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
  const mapError = (err: unknown) => mapMysqlError(err, target);

  const pool = mysql.createPool({ ...base, database: target.database, connectionLimit: CONNECTION_LIMIT, enableKeepAlive: true });
  // Strict mode everywhere: a server configured lax would otherwise truncate
  // an over-long id and make it collide with another.
  pool.pool.on('connection', (conn) => {
    conn.query("SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')", () => undefined);
  });

  try {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ER_BAD_DB_ERROR') throw err;
      await createDatabase(base, target);
      await pool.query('SELECT 1');
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw mapError(err);
  }

  async function migrate(): Promise<void> {
    const lock = migrationLockName(target.database);
    const conn = await pool.getConnection();
    let healthy = true;
    try {
      // MySQL DDL is not transactional, so a transaction would not stop two
      // gateways from interleaving migrations; a named lock does.
      const [got] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [lock, MIGRATION_LOCK_WAIT_S]);
      if (Number((got as SqlRow[])[0]?.got) !== 1) {
        throw new StoreError('STORE_MIGRATION_FAILED',
          `waited ${MIGRATION_LOCK_WAIT_S} s for the migration lock on ${description}; is another gateway stuck migrating it?`);
      }
      try {
        const collate = await pickCollation(conn);
        const ddl = (s: string) => s.replaceAll('{COLLATE}', collate);
        await conn.query(ddl(SCHEMA_MIGRATIONS_DDL.mysql));
        const [rows] = await conn.query('SELECT version FROM schema_migrations');
        for (const m of pendingMigrations((rows as SqlRow[]).map((r) => Number(r.version)))) {
          try {
            for (const s of m.mysql) {
              try {
                await conn.query(ddl(s));
              } catch (err) {
                // ALTER ... ADD COLUMN has no IF NOT EXISTS on MySQL 8: a column or index already
                // there (a migration re-run after a crash) is what the statement wanted, and so is
                // a renamed column whose old name is gone.
                const errno = (err as { errno?: number }).errno;
                const renamedAlready = errno === 1054 && /CHANGE COLUMN/.test(s);
                if (errno !== 1060 && errno !== 1061 && !renamedAlready) throw err;
              }
            }
            await conn.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date()]);
          } catch (err) {
            const mapped = mapError(err);
            if (mapped instanceof StoreError) throw mapped;
            throw new StoreError('STORE_MIGRATION_FAILED',
              `MySQL migration ${m.version} (${m.name}) failed on ${description}: ${errorText(err)}`, { cause: err });
          }
        }
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => { healthy = false; });
      }
    } catch (err) {
      healthy = false;
      throw err;
    } finally {
      // A connection that failed mid-migration may hold odd session state: drop it.
      if (healthy) conn.release();
      else conn.destroy();
    }
  }

  const store = createSqlStore({
    kind: 'mysql',
    description,
    async run(sql: string, params: readonly SqlValue[]) {
      const [r] = await pool.execute(sql, params as SqlValue[]);
      const h = r as mysql.ResultSetHeader;
      return { changes: Number(h.affectedRows), lastId: Number(h.insertId) };
    },
    async all(sql: string, params: readonly SqlValue[]) {
      const [rows] = await pool.execute(sql, params as SqlValue[]);
      return rows as SqlRow[];
    },
    migrate,
    async schemaVersion() {
      const [rows] = await pool.query('SELECT MAX(version) AS v FROM schema_migrations');
      return Number((rows as SqlRow[])[0]?.v ?? 0);
    },
    async close() {
      await pool.end();
    },
    time: (d) => d,
    date: (v) => (v instanceof Date ? v : new Date(String(v))),
    isDuplicateKey: (err) => (err as { code?: unknown } | null)?.code === 'ER_DUP_ENTRY',
    mapError,
    sql: {
      // VALUES() rather than the 8.0.19 row alias: MariaDB has no row alias.
      upsertDevice: `INSERT INTO devices (device_id, kind, identity, last_connected_at, last_room_id)
        VALUES (?, ?, ?, ?, ?)
        ON DUPLICATE KEY UPDATE
          kind = VALUES(kind),
          identity = IF(?, VALUES(identity), identity),
          last_connected_at = IF(?, VALUES(last_connected_at), last_connected_at),
          last_room_id = IF(?, VALUES(last_room_id), last_room_id)`,
      saveStatus: `INSERT INTO device_status (device_id, status, updated_at) VALUES (?, ?, ?)
        ON DUPLICATE KEY UPDATE status = VALUES(status), updated_at = VALUES(updated_at)`,
      commandSeq: 'seq',
      insertIgnore: 'INSERT IGNORE',
      upsertFinalSeq: `INSERT INTO session_boards (session_id, device_id, final_seq, reported_at) VALUES (?, ?, ?, ?)
        ON DUPLICATE KEY UPDATE final_seq = VALUES(final_seq), reported_at = VALUES(reported_at)`,
    },
  }, hooks);

  try {
    await store.migrate();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return store;
}

/** Creates the database when the user may; otherwise says so plainly. */
async function createDatabase(base: mysql.ConnectionOptions, t: MysqlTarget): Promise<void> {
  const conn = await mysql.createConnection(base);
  try {
    const collate = await pickCollation(conn);
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteId(t.database)} CHARACTER SET utf8mb4 COLLATE ${collate}`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR') {
      throw new StoreError('STORE_ACCESS_DENIED',
        `database '${t.database}' does not exist on ${t.host}:${t.port} and user '${t.user}' may not create it: create it or grant CREATE`,
        { cause: err });
    }
    throw err;
  } finally {
    await conn.end().catch(() => undefined);
  }
}
