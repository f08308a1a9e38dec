/**
 * The process that owns the SQLite connection. better-sqlite3 is synchronous:
 * a COMMIT waiting for a slow or frozen disk blocks whatever runs it, so that
 * is this child process and never the gateway's event loop.
 *
 * A process, not a worker thread: WAL mode maps the `-shm` index into memory,
 * and a thread faulting on that mapping while the file system is frozen holds
 * the process's memory-map lock, which every other thread of the process then
 * needs for its next allocation: the gateway's event loop stopped with it.
 * A child has its own address space, so only it waits.
 *
 * Each message from the gateway is the statements of one of its event-loop
 * turns, run in order in one transaction (group commit); the reply comes after
 * the COMMIT, so a write's promise resolves only once it is durable.
 */
import Database from 'better-sqlite3';
import { SCHEMA_MIGRATIONS_DDL, pendingMigrations } from './migrations.js';
import { INSERT_CHUNK_SQL, forEachPackedChunk } from './sqlite-chunks.js';

export type WorkerOp =
  | { kind: 'run'; sql: string; params: unknown[] }
  | { kind: 'all'; sql: string; params: unknown[] }
  /** Sample chunks packed by sqlite-chunks.ts, inserted all or none; the value is how many were new. */
  | { kind: 'chunks'; data: Uint8Array }
  | { kind: 'migrate' }
  | { kind: 'close' };

export interface WorkerError {
  message: string;
  code?: string;
  name: string;
  /** Set for migration failures, so the gateway can name the step. */
  migration?: { version: number; name: string };
}

export type WorkerResult = { ok: true; value: unknown } | { ok: false; error: WorkerError };

export interface WorkerInit {
  file: string;
  busyTimeoutMs: number;
}

function toError(err: unknown, migration?: { version: number; name: string }): WorkerError {
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | null;
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    name: typeof e?.name === 'string' ? e.name : 'Error',
    migration,
  };
}

/** Blobs arrive as Uint8Array (structured clone); better-sqlite3 binds Buffers. */
function bind(params: unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

/** The gateway's end of the IPC channel, as this process sees it. */
interface Port {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: { batch: number; ops: WorkerOp[] }) => void): void;
  close(): void;
}

function start(port: Port, init: WorkerInit): void {
  let db: Database.Database;
  try {
    db = new Database(init.file);
    db.pragma(`busy_timeout = ${init.busyTimeoutMs}`);
    // A new file only (an existing one keeps its size). A sample chunk's row is about 2.5 KB: one
    // to a 4 KiB page wasted a third of every page the WAL writes and fsyncs; 8 KiB pages take three.
    db.pragma('page_size = 8192');
    // journal_mode reads the file header: a non-database file fails here, not later. Turning a new
    // file to WAL takes an exclusive lock that SQLite answers with SQLITE_BUSY at once, not through
    // the busy handler, when another process opens the same new file at that moment: retry it here
    // (a blocking wait is fine in this process) until the busy timeout.
    const deadline = Date.now() + init.busyTimeoutMs;
    for (;;) {
      try {
        db.pragma('journal_mode = WAL');
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
    db.pragma('synchronous = FULL');
    // insertChunks' savepoint keeps the first image of every page it changes (a board's index page
    // each, about 100 pages a commit at 50 boards): past 64 KiB that went to a temp file created and
    // deleted for each commit. It never needs to outlive the process, so it stays in memory.
    db.pragma('temp_store = MEMORY');
    // After a checkpoint the WAL file shrinks back to this, so a burst does not leave it large.
    db.pragma(`journal_size_limit = ${32 * 1024 * 1024}`);
  } catch (err) {
    port.postMessage({ ready: false, error: toError(err) });
    return;
  }
  // Compiled once per distinct SQL text; the store's SQL is a small fixed set.
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };

  // All or none: a chunk failing takes the others of its call back out, so a retry of the call
  // finds none of them stored (duplicates are ignored either way, but the count stays true). The
  // first write of its transaction (the usual case: a batch of chunks alone) rolls the transaction
  // back; after other writes a savepoint does it, which copies every page it changes first.
  const insertChunks = (data: Uint8Array): number => {
    const insert = prepare(INSERT_CHUNK_SQL);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let inserted = 0;
    const first = !db.inTransaction;
    db.exec(first ? 'BEGIN IMMEDIATE' : 'SAVEPOINT chunks');
    try {
      forEachPackedChunk(buf, (params) => {
        inserted += insert.run(...params).changes;
      });
    } catch (err) {
      if (first) {
        if (db.inTransaction) db.exec('ROLLBACK');
      } else {
        db.exec('ROLLBACK TO chunks');
        db.exec('RELEASE chunks');
      }
      throw err;
    }
    if (!first) db.exec('RELEASE chunks');
    return inserted;
  };

  const migrate = (): void => {
    // IMMEDIATE takes the write lock before reading the applied versions, so two
    // processes starting together cannot both apply a migration; the second waits.
    db.exec('BEGIN IMMEDIATE');
    let step: { version: number; name: string } | undefined;
    try {
      db.exec(SCHEMA_MIGRATIONS_DDL.sqlite);
      const applied = db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[];
      const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const m of pendingMigrations(applied)) {
        step = { version: m.version, name: m.name };
        for (const ddl of m.sqlite) db.exec(ddl);
        record.run(m.version, m.name, Date.now());
        step = undefined;
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { migrationStep: step });
    }
  };

  port.on('message', (msg: { batch: number; ops: WorkerOp[] }) => {
    const results: WorkerResult[] = [];
    const writes: number[] = [];
    let closing = false;
    for (const op of msg.ops) {
      try {
        if (op.kind === 'run') {
          if (!db.inTransaction) db.exec('BEGIN IMMEDIATE');
          const r = prepare(op.sql).run(...bind(op.params));
          writes.push(results.length);
          results.push({ ok: true, value: { changes: r.changes, lastId: Number(r.lastInsertRowid) } });
        } else if (op.kind === 'chunks') {
          writes.push(results.length);
          results.push({ ok: true, value: insertChunks(op.data) });
        } else if (op.kind === 'all') {
          results.push({ ok: true, value: prepare(op.sql).all(...bind(op.params)) });
        } else if (op.kind === 'migrate') {
          if (db.inTransaction) db.exec('COMMIT');
          migrate();
          results.push({ ok: true, value: null });
        } else {
          closing = true;
          results.push({ ok: true, value: null });
        }
      } catch (err) {
        // A failed statement (a duplicate key) is undone on its own; the batch goes on.
        const step = (err as { migrationStep?: { version: number; name: string } }).migrationStep;
        results.push({ ok: false, error: toError(err, step) });
      }
    }
    if (db.inTransaction) {
      try {
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        const e = toError(err);
        for (const i of writes) results[i] = { ok: false, error: e };
      }
    }
    if (closing) {
      statements.clear();
      db.close();
    }
    port.postMessage({ batch: msg.batch, results });
    if (closing) port.close();
  });
  port.postMessage({ ready: true });
}

// Started by the gateway with an IPC channel (sqlite.ts) and its settings as the one argument.
// When the gateway goes, however it goes (kill -9 included), the channel closes and this process
// ends: an open transaction is rolled back by SQLite, and nothing in it was acknowledged.
// Ctrl-C in a terminal and a service manager's stop signal reach the whole process group: this
// process waits for the gateway to finish its last writes and close the channel instead of dying
// under them.
if (process.send) {
  process.on('disconnect', () => process.exit(0));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  start(
    {
      postMessage: (m) => process.send!(m),
      on: (event, listener) => process.on(event, listener as (m: unknown) => void),
      close: () => process.disconnect(),
    },
    JSON.parse(process.argv[2] ?? '{}') as WorkerInit,
  );
}
