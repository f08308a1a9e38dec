/**
 * SQLite backend (better-sqlite3). One connection per process; better-sqlite3
 * is synchronous, so each call completes before its promise is returned and
 * there is nothing to pool.
 *
 * Durability: WAL with synchronous=FULL, so a write the gateway has been told
 * succeeded survives power loss, not only a process crash (NORMAL in WAL mode
 * can lose the last commits on power loss).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, errorText } from './errors.js';
import { SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations.js';
import { createSqlStore, type SqlRow, type SqlValue, type StoreHooks } from './sql-store.js';
import type { Store } from './types.js';

/** How long a write waits for another process holding the lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

export async function openSqliteStore(path: string, hooks: StoreHooks = {}): Promise<Store> {
  const memory = isMemory(path);
  const file = memory ? ':memory:' : resolve(path);
  const description = memory ? 'sqlite::memory:' : `sqlite:${file}`;

  let db: Database.Database;
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // journal_mode reads the file header: a non-database file fails here, not later.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  } catch (err) {
    throw new StoreError('STORE_OPEN_FAILED', `cannot open SQLite database at ${file}: ${errorText(err)}`, { cause: err });
  }

  // Statements are compiled once per distinct SQL text; the store's SQL is a
  // small fixed set (list filters give a handful of variants), so this stays bounded.
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };

  function migrate(): void {
    // IMMEDIATE takes the write lock before reading the applied versions, so
    // two processes starting together cannot both decide to apply the same
    // migration; the second waits (busy_timeout), then finds nothing to do.
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
      const applied = db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[];
      const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const m of pendingMigrations(applied)) {
        try {
          for (const ddl of m.sqlite) db.exec(ddl);
        } catch (err) {
          throw new StoreError('STORE_MIGRATION_FAILED',
            `SQLite migration ${m.version} (${m.name}) failed on ${file}: ${errorText(err)}`, { cause: err });
        }
        record.run(m.version, m.name, Date.now());
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (err instanceof StoreError) throw err;
      throw new StoreError('STORE_MIGRATION_FAILED', `cannot migrate SQLite database at ${file}: ${errorText(err)}`, { cause: err });
    }
  }

  // Group commit: with synchronous=FULL every COMMIT waits for the disk (~1 ms
  // here), which would block the event loop once per room message. Instead the
  // first write of an event-loop turn opens a transaction, every write of that
  // turn runs inside it, and one COMMIT after the turn makes them all durable
  // together; each write's promise resolves only after that COMMIT. Every
  // store method is one statement, so batching them changes no method's meaning.
  let batch: { resolve: () => void; reject: (err: unknown) => void }[] | null = null;
  const commit = (): void => {
    const waiting = batch;
    batch = null;
    if (!waiting) return;
    try {
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const w of waiting) w.reject(err);
      return;
    }
    for (const w of waiting) w.resolve();
  };
  const write = <T>(fn: () => T): Promise<T> => {
    if (!batch) {
      db.exec('BEGIN IMMEDIATE');
      batch = [];
      setImmediate(commit);
    }
    let result: T;
    try {
      result = fn();
    } catch (err) {
      // A failed statement (a duplicate key) is undone on its own; the batch goes on.
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => batch!.push({ resolve: () => resolve(result), reject }));
  };

  const store = createSqlStore({
    kind: 'sqlite',
    description,
    run(sql: string, params: readonly SqlValue[]) {
      return write(() => {
        const r = prepare(sql).run(...params);
        return { changes: r.changes, lastId: Number(r.lastInsertRowid) };
      });
    },
    async all(sql: string, params: readonly SqlValue[]) {
      return prepare(sql).all(...params) as SqlRow[];
    },
    async migrate() {
      commit();
      migrate();
    },
    async schemaVersion() {
      const v = prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
      return v.v ?? 0;
    },
    async close() {
      commit();
      statements.clear();
      db.close();
    },
    time: (d) => d.getTime(),
    date: (v) => new Date(Number(v)),
    isDuplicateKey: (err) => {
      const code = (err as { code?: unknown } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
    },
    // SQLite has no connection to lose; its errors are bugs or disk trouble and stay raw.
    mapError: (err) => err,
    sql: {
      upsertDevice: `INSERT INTO devices (device_id, kind, identity, last_connected_at, last_room_id)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (device_id) DO UPDATE SET
          kind = excluded.kind,
          identity = CASE WHEN ? THEN excluded.identity ELSE devices.identity END,
          last_connected_at = CASE WHEN ? THEN excluded.last_connected_at ELSE devices.last_connected_at END,
          last_room_id = CASE WHEN ? THEN excluded.last_room_id ELSE devices.last_room_id END`,
      saveStatus: `INSERT INTO device_status (device_id, status, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (device_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
      commandSeq: 'rowid',
      insertIgnore: 'INSERT OR IGNORE',
      upsertFinalSeq: `INSERT INTO session_boards (session_id, device_id, final_seq, reported_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (session_id, device_id) DO UPDATE SET final_seq = excluded.final_seq, reported_at = excluded.reported_at`,
    },
  }, hooks);

  try {
    await store.migrate();
  } catch (err) {
    db.close();
    throw err;
  }
  return store;
}
