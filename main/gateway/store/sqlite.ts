/**
 * SQLite backend (better-sqlite3), its one connection owned by a child
 * process (sqlite-process.ts, which says why not a thread). better-sqlite3 is
 * synchronous, and a COMMIT on a slow or frozen disk would otherwise stop the
 * whole event loop: sockets, `/api/health`, everything. Here only the store's
 * promises wait; callers bound what they queue (the ingest writer pauses
 * boards).
 *
 * Group commit: the statements of one event-loop turn go to the writer process as one
 * transaction, and while that one commits the next turns' statements gather
 * into the next, so a slow disk makes batches larger instead of queues longer.
 * A batch of sample chunks alone is paced (CHUNK_COMMIT_GAP_MS): a fast disk
 * no longer means a commit for every two frames. Each write's promise resolves
 * only after its COMMIT.
 *
 * Durability: WAL with synchronous=FULL, so a write the gateway has been told
 * succeeded survives power loss, not only a process crash (NORMAL in WAL mode
 * can lose the last commits on power loss).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { StoreError, errorText } from './errors.js';
import { createSqlStore, type SqlRow, type SqlValue, type StoreHooks } from './sql-store.js';
import type { Store } from './types.js';
import type { WorkerError, WorkerInit, WorkerOp, WorkerResult } from './sqlite-process.js';
import { INSERT_CHUNK_SQL, packChunks, packedBytes } from './sqlite-chunks.js';

/** How long a write waits for another process holding the lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;
/**
 * Roughly how much one batch (one transaction, one IPC message) carries. A transaction's pages
 * all sit in the WAL until it commits, so a backlog of large rows (a burst of 200 KB room
 * messages) would otherwise become one huge transaction and a WAL file that size.
 */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/**
 * The least time between two batches that carry sample chunks only. Sent as soon as the last
 * batch was back, a steady stream of frames on a disk that syncs in a fraction of a millisecond
 * became a commit for every two or three frames, and each commit costs the same whatever it holds:
 * an IPC round trip, BEGIN and COMMIT, an fsync, and every board's index page written to the WAL
 * again (50 boards at 100 frames/s wrote 100 MB/s of WAL for 1 MB/s of samples; 30 MB/s at 20 ms). A frame's ack
 * waits this much longer at most; any other statement takes the batch with it at once, and a
 * large batch (PACED_BELOW_BYTES) never waits.
 */
const CHUNK_COMMIT_GAP_MS = 20;
/**
 * A batch of chunks this large goes without waiting for the gap: its commit is already spread
 * over hundreds of frames, and holding it would only grow the ingest queue (past its high-water
 * mark the boards are paused) when many boards stream at once.
 */
const PACED_BELOW_BYTES = 64 * 1024;

function opBytes(op: WorkerOp): number {
  if (op.kind === 'chunks') return op.data.byteLength;
  if (op.kind !== 'run' && op.kind !== 'all') return 0;
  let n = op.sql.length;
  for (const p of op.params) n += typeof p === 'string' ? p.length : p instanceof Uint8Array ? p.byteLength : 8;
  return n;
}

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** The writer's error as the driver's callers expect it (`code` is what isDuplicateKey reads). */
function fromWorker(e: WorkerError): Error {
  return Object.assign(new Error(e.message), { name: e.name, code: e.code, migration: e.migration });
}

/**
 * The writer process beside this file: built, the .js; from source (tests, run
 * through tsx), the .ts with tsx's loader. Structured-clone serialisation
 * carries blobs as bytes. ELECTRON_RUN_AS_NODE: in the desktop app
 * `process.execPath` is Electron, which this makes a plain Node.
 */
function startWriter(init: WorkerInit): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './sqlite-process.ts' : './sqlite-process.js', import.meta.url);
  // A gateway run with --cpu-prof (the ingest benchmark) profiles its writer as well.
  const prof = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  return fork(entry, [JSON.stringify(init)], {
    serialization: 'advanced',
    execArgv: [...prof, ...(fromSource ? ['--import', import.meta.resolve('tsx')] : [])],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A statement on its way to the writer and the promise waiting for it. */
interface Pending {
  op: WorkerOp;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Observers of the write path (health: is a write late?). */
export interface SqliteDriverStats {
  /** Statements sent to the writer or waiting to be, not yet answered. */
  readonly pending: number;
  /** Since when the oldest unanswered batch has been with the writer (ms since epoch), or null. */
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
  const writer = startWriter(init);
  let dead: Error | null = null;
  let onDead: (err: Error) => void = () => {};
  await new Promise<void>((ready, fail) => {
    const first = (m: { ready?: boolean; error?: WorkerError }) => {
      if (m.ready === undefined) return;
      writer.off('message', first);
      if (m.ready) ready();
      else fail(openFailed(fromWorker(m.error!)));
    };
    writer.on('message', first);
    writer.once('error', (err) => fail(openFailed(err)));
    writer.once('exit', (code, sig) => fail(openFailed(new Error(`the SQLite writer process exited (${sig ?? code}) before opening the file`))));
  });
  // The gateway's exit must not wait for an idle writer; a batch out keeps it referenced.
  const hold = (on: boolean): void => {
    if (on) {
      writer.ref();
      writer.channel?.ref();
    } else {
      writer.unref();
      writer.channel?.unref();
    }
  };
  hold(false);
  writer.on('error', (err) => {
    dead = err;
    onDead(err);
  });
  writer.on('exit', (code, sig) => {
    dead ??= new Error(`the SQLite writer process exited (${sig ?? code})`);
    onDead(dead);
  });

  // Statements of the current turn (`gathering`), and the batch with the writer (`sent`).
  let gathering: Pending[] = [];
  let sent: Pending[] | null = null;
  let batchNo = 0;
  let busySince: number | null = null;
  let scheduled = false;
  // Of `gathering`: statements other than sample chunks (they do not wait), and the bytes.
  let urgent = 0;
  let gatheredBytes = 0;
  let lastSentAt = -Infinity;
  let pace: ReturnType<typeof setTimeout> | undefined;

  const flush = (): void => {
    scheduled = false;
    if (sent !== null || gathering.length === 0) return;
    const wait = lastSentAt + CHUNK_COMMIT_GAP_MS - performance.now();
    if (urgent === 0 && gatheredBytes < PACED_BELOW_BYTES && wait > 0) {
      if (pace === undefined) {
        pace = setTimeout(() => {
          pace = undefined;
          flush();
        }, Math.ceil(wait));
      }
      hold(true);
      return;
    }
    if (pace !== undefined) {
      clearTimeout(pace);
      pace = undefined;
    }
    let take = 0;
    let bytes = 0;
    while (take < gathering.length && (take === 0 || bytes < MAX_BATCH_BYTES)) bytes += opBytes(gathering[take++]!.op);
    sent = gathering.slice(0, take);
    gathering = gathering.slice(take);
    for (const p of sent) {
      gatheredBytes -= opBytes(p.op);
      if (p.op.kind !== 'chunks') urgent--;
    }
    lastSentAt = performance.now();
    busySince = Date.now();
    hold(true);
    writer.send({ batch: ++batchNo, ops: sent.map((p) => p.op) });
  };
  writer.on('message', (m: { batch?: number; results?: WorkerResult[] }) => {
    if (m.batch === undefined || sent === null) return;
    const done = sent;
    sent = null;
    busySince = null;
    m.results!.forEach((r, i) => (r.ok ? done[i]!.resolve(r.value) : done[i]!.reject(fromWorker(r.error))));
    if (gathering.length > 0) flush();
    else hold(false);
  });
  onDead = (err) => {
    for (const p of [...(sent ?? []), ...gathering]) p.reject(err);
    sent = null;
    gathering = [];
    urgent = 0;
    gatheredBytes = 0;
    busySince = null;
    if (pace !== undefined) clearTimeout(pace);
    pace = undefined;
  };

  const send = <T>(op: WorkerOp): Promise<T> => {
    if (dead) return Promise.reject(dead);
    return new Promise<T>((res, rej) => {
      gathering.push({ op, resolve: res as (v: unknown) => void, reject: rej });
      gatheredBytes += opBytes(op);
      if (op.kind !== 'chunks') urgent++;
      // A paced batch waits on its timer, unless this statement cannot wait or the batch grew large.
      if (!scheduled && sent === null && (pace === undefined || op.kind !== 'chunks' || gatheredBytes >= PACED_BELOW_BYTES)) {
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
    // One Buffer per batch part (sqlite-chunks.ts says why), each part under the batch cap.
    async insertChunks(chunks) {
      const parts: Promise<number>[] = [];
      for (let i = 0; i < chunks.length;) {
        let j = i;
        let bytes = 0;
        while (j < chunks.length && (j === i || bytes + packedBytes(chunks[j]!) <= MAX_BATCH_BYTES)) bytes += packedBytes(chunks[j++]!);
        hooks.onQuery?.(INSERT_CHUNK_SQL);
        parts.push(send<number>({ kind: 'chunks', data: packChunks(chunks.slice(i, j)) }));
        i = j;
      }
      let inserted = 0;
      for (const n of await Promise.all(parts)) inserted += n;
      return inserted;
    },
    async migrate() {
      try {
        await now({ kind: 'migrate' });
      } catch (err) {
        const e = err as { migration?: { version: number; name: string }; code?: string; message: string };
        // A StoreError raised in the writer (a schema newer than this gateway) keeps its code.
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
      await stopWriter(writer);
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
    await stopWriter(writer);
    throw err;
  }
  return store;
}

/** The writer ends by itself once its channel closes; one stuck in the kernel is killed after a while. */
async function stopWriter(writer: ChildProcess): Promise<void> {
  if (writer.exitCode !== null || writer.signalCode !== null) return;
  const exited = new Promise<void>((done) => writer.once('exit', () => done()));
  if (writer.connected) writer.disconnect();
  const timer = setTimeout(() => writer.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const writeStats = new WeakMap<Store, SqliteDriverStats>();

/** The write path of a SQLite store opened here (null for other stores). */
export function sqliteWriteStats(store: Store): SqliteDriverStats | null {
  return writeStats.get(store) ?? null;
}
