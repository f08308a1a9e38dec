/**
 * SQLite backend (better-sqlite3), its one connection owned by a worker
 * thread (sqlite-worker.ts). better-sqlite3 is synchronous, and a COMMIT on a
 * slow or frozen disk would otherwise stop the whole event loop: sockets,
 * `/api/health`, everything. Here only the store's promises wait; callers
 * bound what they queue (the ingest writer pauses boards).
 *
 * Group commit: the statements of one event-loop turn go to the worker as one
 * transaction, and while that one commits the next turns' statements gather
 * into the next, so a slow disk makes batches larger instead of queues longer.
 * Each write's promise resolves only after its COMMIT.
 *
 * Durability: WAL with synchronous=FULL, so a write the gateway has been told
 * succeeded survives power loss, not only a process crash (NORMAL in WAL mode
 * can lose the last commits on power loss).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { StoreError, errorText } from './errors.js';
import { createSqlStore, type SqlRow, type SqlValue, type StoreHooks } from './sql-store.js';
import type { Store } from './types.js';
import type { WorkerError, WorkerInit, WorkerOp, WorkerResult } from './sqlite-worker.js';

/** How long a write waits for another process holding the lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** The worker's error as the driver's callers expect it (`code` is what isDuplicateKey reads). */
function fromWorker(e: WorkerError): Error {
  return Object.assign(new Error(e.message), { name: e.name, code: e.code, migration: e.migration });
}

/**
 * The worker beside this file: built, the .js; from source (tests, run through
 * tsx), the .ts, with tsx registered in the worker first (a worker thread does
 * not inherit the parent's loader in Node 20).
 */
function startWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData: init });
  const entry = new URL('./sqlite-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: init });
}

/** A statement on its way to the worker and the promise waiting for it. */
interface Pending {
  op: WorkerOp;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Observers of the write path (health: is a write late?). */
export interface SqliteDriverStats {
  /** Statements sent to the worker or waiting to be, not yet answered. */
  readonly pending: number;
  /** Since when the oldest unanswered batch has been with the worker (ms since epoch), or null. */
  readonly busySince: number | null;
}

export async function openSqliteStore(path: string, hooks: StoreHooks = {}): Promise<Store> {
  const memory = isMemory(path);
  const file = memory ? ':memory:' : resolve(path);
  const description = memory ? 'sqlite::memory:' : `sqlite:${file}`;
  const openFailed = (err: unknown) => new StoreError('STORE_OPEN_FAILED', `cannot open SQLite database at ${file}: ${errorText(err)}`, { cause: err });

  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw openFailed(err);
  }
  const init: WorkerInit = { file, busyTimeoutMs: BUSY_TIMEOUT_MS };
  const worker = startWorker(init);
  let dead: Error | null = null;
  let onDead: (err: Error) => void = () => {};
  await new Promise<void>((ready, fail) => {
    const first = (m: { ready?: boolean; error?: WorkerError }) => {
      if (m.ready === undefined) return;
      worker.off('message', first);
      if (m.ready) ready();
      else fail(openFailed(fromWorker(m.error!)));
    };
    worker.on('message', first);
    worker.once('error', (err) => fail(openFailed(err)));
  });
  // The gateway's exit must not wait for an idle worker; a batch out keeps it referenced.
  worker.unref();
  worker.on('error', (err) => {
    dead = err;
    onDead(err);
  });
  worker.on('exit', () => {
    dead ??= new Error('SQLite worker exited');
    onDead(dead);
  });

  // Statements of the current turn (`gathering`), and the batch with the worker (`sent`).
  let gathering: Pending[] = [];
  let sent: Pending[] | null = null;
  let batchNo = 0;
  let busySince: number | null = null;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    if (sent !== null || gathering.length === 0) return;
    sent = gathering;
    gathering = [];
    busySince = Date.now();
    worker.ref();
    worker.postMessage({ batch: ++batchNo, ops: sent.map((p) => p.op) });
  };
  worker.on('message', (m: { batch?: number; results?: WorkerResult[] }) => {
    if (m.batch === undefined || sent === null) return;
    const done = sent;
    sent = null;
    busySince = null;
    m.results!.forEach((r, i) => (r.ok ? done[i]!.resolve(r.value) : done[i]!.reject(fromWorker(r.error))));
    if (gathering.length > 0) flush();
    else worker.unref();
  });
  onDead = (err) => {
    for (const p of [...(sent ?? []), ...gathering]) p.reject(err);
    sent = null;
    gathering = [];
    busySince = null;
  };

  const send = <T>(op: WorkerOp): Promise<T> => {
    if (dead) return Promise.reject(dead);
    return new Promise<T>((res, rej) => {
      gathering.push({ op, resolve: res as (v: unknown) => void, reject: rej });
      if (!scheduled && sent === null) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
  // Whatever was queued goes now (migrations and close must not wait for a turn).
  const now = <T>(op: WorkerOp): Promise<T> => {
    const p = send<T>(op);
    flush();
    return p;
  };

  const stats: SqliteDriverStats = {
    get pending() {
      return gathering.length + (sent?.length ?? 0);
    },
    get busySince() {
      return busySince;
    },
  };

  const store = createSqlStore({
    kind: 'sqlite',
    description,
    run(sql: string, params: readonly SqlValue[]) {
      return send<{ changes: number; lastId: number }>({ kind: 'run', sql, params: [...params] });
    },
    all(sql: string, params: readonly SqlValue[]) {
      return send<SqlRow[]>({ kind: 'all', sql, params: [...params] });
    },
    async migrate() {
      try {
        await now({ kind: 'migrate' });
      } catch (err) {
        const e = err as { migration?: { version: number; name: string }; code?: string; message: string };
        // A StoreError raised in the worker (a schema newer than this gateway) keeps its code.
        if (e.code === 'STORE_SCHEMA_TOO_NEW') throw new StoreError(e.code, e.message, { cause: err });
        const step = e.migration;
        throw new StoreError('STORE_MIGRATION_FAILED', step
          ? `SQLite migration ${step.version} (${step.name}) failed on ${file}: ${errorText(err)}`
          : `cannot migrate SQLite database at ${file}: ${errorText(err)}`, { cause: err });
      }
    },
    async schemaVersion() {
      const rows = await send<SqlRow[]>({ kind: 'all', sql: 'SELECT MAX(version) AS v FROM schema_migrations', params: [] });
      return Number(rows[0]?.v ?? 0);
    },
    async close() {
      if (dead) return;
      await now({ kind: 'close' }).catch(() => {});
      await worker.terminate();
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
  writeStats.set(store, stats);

  try {
    await store.migrate();
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return store;
}

const writeStats = new WeakMap<Store, SqliteDriverStats>();

/** The write path of a SQLite store opened here (null for other stores). */
export function sqliteWriteStats(store: Store): SqliteDriverStats | null {
  return writeStats.get(store) ?? null;
}
