/**
 * Sessions, sample chunks and strokes, over the same driver as the rest of
 * the store. Samples are a row per received batch, not a row per sample: an
 * hour of ten boards at 200 Hz is 7.2 million samples but about 72,000 rows.
 */
import type { SqlDriver, SqlRow, SqlValue } from './sql-store.js';
import type { ChunkStats, SampleChunk, SessionPatch, SessionRow, SessionState, SessionSummary, Store, StrokeRow } from './types.js';

interface Helpers {
  driver: SqlDriver;
  op<T>(fn: () => Promise<T>): Promise<T>;
  time(d: Date, what: string): SqlValue;
  dateOrNull(v: unknown): Date | null;
  toJson(v: unknown): string | null;
  fromJson(v: unknown): unknown;
  limitClause(limit: number | undefined): string;
}

const SESSION =
  'session_id, state, boards, player_id, court, room_id, notes, sample_rate_hz, created_at, started_at, stopped_at, completed_at, failure_reason, summary, board_players';
const CHUNK = 'session_id, device_id, seq, start_ms, rate_hz, count, data, received_at';
const STROKE = 'session_id, device_id, idx, t_ms, peak_dps, speed_kmh, peak_g, saturated, type, confidence';

/** Column for each patchable field; the order of SessionPatch keys does not matter. */
const PATCH_COLUMNS: Record<keyof SessionPatch, string> = {
  state: 'state',
  playerId: 'player_id',
  court: 'court',
  roomId: 'room_id',
  notes: 'notes',
  sampleRateHz: 'sample_rate_hz',
  startedAt: 'started_at',
  stoppedAt: 'stopped_at',
  completedAt: 'completed_at',
  failureReason: 'failure_reason',
  summary: 'summary',
  boardPlayers: 'board_players',
};

/** MySQL caps a statement's placeholders at 65,535; 8 per chunk row leaves a wide margin. */
const MAX_ROWS_PER_INSERT = 500;
/** Session ids per IN (...) list: a whole page of the session list (at most 500) in one statement. */
const MAX_IDS_PER_IN = 500;

type ListOptions = Parameters<Store['listSessions']>[0];

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function asBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError('sample chunk data is not binary');
}

type SessionMethods = Pick<
  Store,
  | 'createSession'
  | 'updateSession'
  | 'claimSession'
  | 'getSession'
  | 'listSessions'
  | 'listSessionSummaries'
  | 'openSessions'
  | 'insertChunks'
  | 'chunkSeqs'
  | 'chunkStats'
  | 'readChunks'
  | 'setFinalSeq'
  | 'finalSeqs'
  | 'saveStrokes'
  | 'deleteSession'
  | 'listStrokes'
>;

export function sessionMethods(h: Helpers): SessionMethods {
  const { driver, op, time, dateOrNull, toJson, fromJson, limitClause } = h;
  const run = (q: string, p: readonly SqlValue[]) => driver.run(q, p);
  const all = (q: string, p: readonly SqlValue[]) => driver.all(q, p);

  const session = (r: SqlRow): SessionRow => ({
    sessionId: String(r.session_id),
    state: String(r.state) as SessionState,
    boards: JSON.parse(String(r.boards)) as string[],
    playerId: strOrNull(r.player_id),
    court: strOrNull(r.court),
    roomId: strOrNull(r.room_id),
    notes: strOrNull(r.notes),
    sampleRateHz: Number(r.sample_rate_hz),
    createdAt: driver.date(r.created_at),
    startedAt: dateOrNull(r.started_at),
    stoppedAt: dateOrNull(r.stopped_at),
    completedAt: dateOrNull(r.completed_at),
    failureReason: strOrNull(r.failure_reason),
    summary: fromJson(r.summary) ?? null,
    boardPlayers: (fromJson(r.board_players) as Record<string, string> | null) ?? null,
  });
  const chunk = (r: SqlRow): SampleChunk => ({
    sessionId: String(r.session_id),
    deviceId: String(r.device_id),
    seq: Number(r.seq),
    startMs: Number(r.start_ms),
    rateHz: Number(r.rate_hz),
    count: Number(r.count),
    data: asBuffer(r.data),
    receivedAt: driver.date(r.received_at),
  });
  const stroke = (r: SqlRow): StrokeRow => ({
    sessionId: String(r.session_id),
    deviceId: String(r.device_id),
    idx: Number(r.idx),
    tMs: Number(r.t_ms),
    peakDps: Number(r.peak_dps),
    speedKmh: Number(r.speed_kmh),
    peakG: Number(r.peak_g),
    saturated: Number(r.saturated) === 1,
    type: String(r.type),
    confidence: Number(r.confidence),
  });

  const patchValue = (key: keyof SessionPatch, v: unknown): SqlValue => {
    if (key === 'summary' || key === 'boardPlayers') return toJson(v ?? null);
    if (v instanceof Date) return time(v, key);
    return (v ?? null) as SqlValue;
  };

  const listQuery = (opts: NonNullable<ListOptions>): [string, SqlValue[]] => {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (opts.state !== undefined) { where.push('state = ?'); params.push(opts.state); }
    if (opts.playerId !== undefined) { where.push('player_id = ?'); params.push(opts.playerId); }
    if (opts.search) {
      // LIKE with the wildcards in the pattern escaped, so "50%" finds "50%" and nothing else.
      // '!' as the escape: a backslash means different things in MySQL and SQLite string literals.
      const like = `%${opts.search.replace(/[!%_]/g, (c) => '!' + c)}%`;
      const cols = ['session_id', 'player_id', 'court', 'notes', 'boards', 'board_players'];
      where.push(`(${cols.map((c) => `${c} LIKE ? ESCAPE '!'`).join(' OR ')})`);
      params.push(...cols.map(() => like));
    }
    if (opts.deviceId !== undefined) {
      // Board ids are stored as a JSON array: the id with its quotes matches that board and no other.
      where.push(`boards LIKE ? ESCAPE '!'`);
      params.push(`%${JSON.stringify(opts.deviceId).replace(/[!%_]/g, (c) => '!' + c)}%`);
    }
    if (opts.before !== undefined) { where.push('created_at < ?'); params.push(time(opts.before, 'before')); }
    return [`SELECT ${SESSION} FROM sessions${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, session_id DESC${limitClause(opts.limit)}`, params];
  };

  /** Rows of `select` (which ends in `IN`) for every id, IN lists of MAX_IDS_PER_IN. */
  const allIn = async (select: (inList: string) => string, ids: readonly string[]): Promise<SqlRow[]> => {
    const out: SqlRow[] = [];
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_IN) {
      const part = ids.slice(i, i + MAX_IDS_PER_IN);
      out.push(...(await all(select(`(${part.map(() => '?').join(', ')})`), part)));
    }
    return out;
  };

  const chunkStats = (r: SqlRow): ChunkStats => ({
    deviceId: String(r.device_id),
    frames: Number(r.frames),
    samples: Number(r.samples ?? 0),
    maxSeq: r.max_seq === null || r.max_seq === undefined ? null : Number(r.max_seq),
  });

  const chunkParams = (c: SampleChunk): SqlValue[] => {
    if (!Number.isSafeInteger(c.seq) || c.seq < 0) throw new RangeError(`seq must be a non-negative integer, got ${c.seq}`);
    if (c.data.length !== c.count * 24) throw new RangeError(`chunk data must be ${c.count * 24} bytes for ${c.count} samples, got ${c.data.length}`);
    return [c.sessionId, c.deviceId, c.seq, c.startMs, c.rateHz, c.count, c.data, time(c.receivedAt, 'receivedAt')];
  };

  /**
   * A closed session's chunk counts per board kept in session_board_stats (its chunks no longer
   * change), then the flag that says they are: the list reads those rows instead of summing the
   * chunks. Stopped halfway, the flag is unset and the list sums the chunks as before.
   */
  const freezeStats = async (sessionId: string) => {
    await run('DELETE FROM session_board_stats WHERE session_id = ?', [sessionId]);
    await run(
      'INSERT INTO session_board_stats (session_id, device_id, frames, samples, max_seq) SELECT session_id, device_id, COUNT(*), SUM(count), MAX(seq) FROM sample_chunks WHERE session_id = ? GROUP BY session_id, device_id',
      [sessionId],
    );
    await run('UPDATE sessions SET stats_frozen = 1 WHERE session_id = ?', [sessionId]);
  };
  const closes = (patch: SessionPatch) => patch.state === 'complete' || patch.state === 'failed';

  return {
    createSession: (s) => op(async () => {
      await run(`INSERT INTO sessions (${SESSION}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        s.sessionId, s.state, JSON.stringify(s.boards), s.playerId, s.court, s.roomId, s.notes, s.sampleRateHz,
        time(s.createdAt, 'createdAt'),
        s.startedAt ? time(s.startedAt, 'startedAt') : null,
        s.stoppedAt ? time(s.stoppedAt, 'stoppedAt') : null,
        s.completedAt ? time(s.completedAt, 'completedAt') : null,
        s.failureReason, toJson(s.summary ?? null), toJson(s.boardPlayers ?? null),
      ]);
    }),
    updateSession: (sessionId, patch) => op(async () => {
      const keys = (Object.keys(patch) as (keyof SessionPatch)[]).filter((k) => k in PATCH_COLUMNS && patch[k] !== undefined);
      if (keys.length === 0) return;
      const r = await run(
        `UPDATE sessions SET ${keys.map((k) => `${PATCH_COLUMNS[k]} = ?`).join(', ')} WHERE session_id = ?`,
        [...keys.map((k) => patchValue(k, patch[k])), sessionId],
      );
      if (r.changes > 0 && closes(patch)) await freezeStats(sessionId);
    }),
    claimSession: (sessionId, from, patch) => op(async () => {
      const keys = (Object.keys(patch) as (keyof SessionPatch)[]).filter((k) => k in PATCH_COLUMNS && patch[k] !== undefined);
      if (keys.length === 0) return false;
      const r = await run(
        `UPDATE sessions SET ${keys.map((k) => `${PATCH_COLUMNS[k]} = ?`).join(', ')} WHERE session_id = ? AND state = ?`,
        [...keys.map((k) => patchValue(k, patch[k])), sessionId, from],
      );
      if (r.changes === 1 && closes(patch)) await freezeStats(sessionId);
      return r.changes === 1;
    }),
    getSession: (sessionId) => op(async () => {
      const rows = await all(`SELECT ${SESSION} FROM sessions WHERE session_id = ?`, [sessionId]);
      return rows[0] ? session(rows[0]) : undefined;
    }),
    listSessions: (opts = {}) => op(async () => (await all(...listQuery(opts))).map(session)),
    listSessionSummaries: (opts = {}) => op(async () => {
      const [q, p] = listQuery(opts);
      const found = await all(q.replace(`SELECT ${SESSION} FROM`, `SELECT ${SESSION}, stats_frozen FROM`), p);
      const rows = found.map(session);
      const frozen = new Set(found.filter((r) => Number(r.stats_frozen) === 1).map((r) => String(r.session_id)));
      const ids = rows.map((r) => r.sessionId);
      const summaries = new Map<string, SessionSummary>(rows.map((row) => [row.sessionId, { row, chunks: [], finals: [] }]));
      // Closed sessions read their kept counts (a row per board); only open ones sum their chunks.
      const statsOf = (list: readonly string[]) => {
        const kept = list.filter((id) => frozen.has(id));
        const open = list.filter((id) => !frozen.has(id));
        const marks = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;
        const parts = [
          ...(kept.length ? [`SELECT session_id, device_id, frames, samples, max_seq FROM session_board_stats WHERE session_id IN ${marks(kept.length)}`] : []),
          ...(open.length ? [`SELECT session_id, device_id, COUNT(*) AS frames, SUM(count) AS samples, MAX(seq) AS max_seq FROM sample_chunks WHERE session_id IN ${marks(open.length)} GROUP BY session_id, device_id`] : []),
        ];
        return all(`${parts.join(' UNION ALL ')} ORDER BY session_id, device_id`, [...kept, ...open]);
      };
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_IN) {
        for (const r of await statsOf(ids.slice(i, i + MAX_IDS_PER_IN))) summaries.get(String(r.session_id))?.chunks.push(chunkStats(r));
      }
      const finals = await allIn((list) =>
        `SELECT session_id, device_id, final_seq FROM session_boards WHERE session_id IN ${list} ORDER BY session_id, device_id`, ids);
      for (const r of finals) summaries.get(String(r.session_id))?.finals.push({ deviceId: String(r.device_id), finalSeq: Number(r.final_seq) });
      return [...summaries.values()];
    }),
    openSessions: () => op(async () =>
      (await all(`SELECT ${SESSION} FROM sessions WHERE state NOT IN ('complete', 'failed') ORDER BY created_at`, [])).map(session)),

    insertChunks: (chunks) => op(async () => {
      if (chunks.length === 0) return 0;
      if (driver.insertChunks) return driver.insertChunks(chunks);
      let inserted = 0;
      if (driver.kind === 'sqlite') {
        // One prepared statement per row: the SQLite driver batches the turn's writes into one commit.
        const pending = chunks.map((c) => run(`${driver.sql.insertIgnore} INTO sample_chunks (${CHUNK}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, chunkParams(c)));
        for (const r of await Promise.all(pending)) inserted += r.changes;
        return inserted;
      }
      for (let i = 0; i < chunks.length; i += MAX_ROWS_PER_INSERT) {
        const part = chunks.slice(i, i + MAX_ROWS_PER_INSERT);
        const r = await run(
          `${driver.sql.insertIgnore} INTO sample_chunks (${CHUNK}) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          part.flatMap(chunkParams),
        );
        inserted += r.changes;
      }
      return inserted;
    }),
    chunkSeqs: (sessionId, deviceId) => op(async () =>
      (await all('SELECT seq FROM sample_chunks WHERE session_id = ? AND device_id = ? ORDER BY seq', [sessionId, deviceId])).map((r) => Number(r.seq))),
    chunkStats: (sessionId) => op(async () =>
      (await all(
        'SELECT device_id, COUNT(*) AS frames, SUM(count) AS samples, MAX(seq) AS max_seq FROM sample_chunks WHERE session_id = ? GROUP BY device_id ORDER BY device_id',
        [sessionId],
      )).map(chunkStats)),
    readChunks(sessionId, opts = {}) {
      const pageSize = opts.pageSize ?? 200;
      return {
        async *[Symbol.asyncIterator]() {
          // Keyset paging on the primary key: each page is one indexed range scan, and
          // nothing holds a cursor open between pages (MySQL pools, SQLite writers).
          const page = (lastDevice: string, lastSeq: number) => {
            const p = opts.deviceId !== undefined
              ? op(() => all(`SELECT ${CHUNK} FROM sample_chunks WHERE session_id = ? AND device_id = ? AND seq > ? ORDER BY seq${limitClause(pageSize)}`, [sessionId, opts.deviceId!, lastSeq]))
              : op(() => all(
                `SELECT ${CHUNK} FROM sample_chunks WHERE session_id = ? AND (device_id > ? OR (device_id = ? AND seq > ?)) ORDER BY device_id, seq${limitClause(pageSize)}`,
                [sessionId, lastDevice, lastDevice, lastSeq],
              ));
            // A reader that stops early leaves the next page unread: its failure is nobody's.
            p.catch(() => undefined);
            return p;
          };
          let next = page(opts.deviceId ?? '', -1);
          for (;;) {
            const rows = await next;
            // The next page is read while this one is consumed (the SQLite reader is another process).
            if (rows.length === pageSize) {
              const last = rows[rows.length - 1]!;
              next = page(String(last.device_id), Number(last.seq));
            }
            for (const r of rows) yield chunk(r);
            if (rows.length < pageSize) return;
          }
        },
      };
    },
    setFinalSeq: (sessionId, deviceId, finalSeq, at) => op(async () => {
      await run(driver.sql.upsertFinalSeq, [sessionId, deviceId, finalSeq, time(at, 'at')]);
    }),
    finalSeqs: (sessionId) => op(async () =>
      (await all('SELECT device_id, final_seq FROM session_boards WHERE session_id = ? ORDER BY device_id', [sessionId]))
        .map((r) => ({ deviceId: String(r.device_id), finalSeq: Number(r.final_seq) }))),

    saveStrokes: (sessionId, strokes) => op(async () => {
      await run('DELETE FROM strokes WHERE session_id = ?', [sessionId]);
      for (let i = 0; i < strokes.length; i += MAX_ROWS_PER_INSERT) {
        const part = strokes.slice(i, i + MAX_ROWS_PER_INSERT);
        await run(
          `INSERT INTO strokes (${STROKE}) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
          part.flatMap((s) => [sessionId, s.deviceId, s.idx, s.tMs, s.peakDps, s.speedKmh, s.peakG, s.saturated ? 1 : 0, s.type, s.confidence]),
        );
      }
    }),
    listStrokes: (sessionId) => op(async () =>
      (await all(`SELECT ${STROKE} FROM strokes WHERE session_id = ? ORDER BY device_id, idx`, [sessionId])).map(stroke)),
    deleteSession: (sessionId) => op(async () => {
      // The session row last: a delete cut short leaves a session that can be deleted again, never orphans without one.
      for (const table of ['stroke_corrections', 'strokes', 'sample_chunks', 'session_boards', 'session_board_stats']) await run(`DELETE FROM ${table} WHERE session_id = ?`, [sessionId]);
      const before = await all('SELECT session_id FROM sessions WHERE session_id = ?', [sessionId]);
      await run('DELETE FROM sessions WHERE session_id = ?', [sessionId]);
      return before.length > 0;
    }),
  };
}
