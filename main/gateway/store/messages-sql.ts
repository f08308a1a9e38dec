/**
 * What bounds the messages tables: usage of a target's queue and of a room
 * (summed from the indexes that carry content_bytes, never from the
 * contents), a queue read a page at a time, and retention by age. Sessions,
 * sample chunks and strokes are never touched here: recorded sessions are
 * kept until an operator deletes them.
 */
import type { SqlDriver, SqlRow, SqlValue } from './sql-store.js';
import type { ExpiredMessage, MessageRow, MessageUsage, PruneCounts, RoomActivity, Store } from './types.js';

interface Helpers {
  driver: SqlDriver;
  op<T>(fn: () => Promise<T>): Promise<T>;
  time(d: Date, what: string): SqlValue;
  message(r: SqlRow): MessageRow;
  columns: string;
  limitClause(limit: number | undefined): string;
}

/** Newest messages read to find the last active rooms. */
const ROOM_ACTIVITY_WINDOW = 5000;

/** Rows deleted per statement: a retention pass never holds a long write lock. */
const PRUNE_BATCH = 1000;

type MessageMethods = Pick<Store, 'messageUsage' | 'queuedMessagesPage' | 'pruneOlderThan' | 'expireMessages' | 'markMessageExpired' | 'listRoomActivity'>;

export function messageMethods(h: Helpers): MessageMethods {
  const { driver, op, time, message, limitClause } = h;
  const all = (q: string, p: readonly SqlValue[]) => driver.all(q, p);
  const run = (q: string, p: readonly SqlValue[]) => driver.run(q, p);
  const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : driver.date(v));
  const pair = (r: SqlRow | undefined, n: string, b: string) => ({ count: Number(r?.[n] ?? 0), bytes: Number(r?.[b] ?? 0) });

  /** Deletes rows of `table` whose `column` is before `at`, a batch of ids at a time. */
  async function prune(table: string, column: string, at: SqlValue): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = (await all(`SELECT id FROM ${table} WHERE ${column} < ? ORDER BY ${column} LIMIT ${PRUNE_BATCH}`, [at])).map((r) => Number(r.id));
      if (ids.length === 0) return total;
      total += (await run(`DELETE FROM ${table} WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)).changes;
      if (ids.length < PRUNE_BATCH) return total;
    }
  }

  return {
    listRoomActivity: (opts) => op(async () => {
      const since = time(opts.since, 'since');
      const excluded = new Set(opts.exclude ?? []);
      // Past a few hundred ids the list is filtered here instead of sent as parameters.
      const skip = excluded.size <= 500 ? [...excluded] : [];
      const notIn = skip.length ? ` AND room_id NOT IN (${skip.map(() => '?').join(', ')})` : '';
      // The rooms of the newest messages (a bounded window of the sent_at index), last active
      // first: the top rooms by last message, never a read of every room ever made.
      const recent = await all(
        `SELECT room_id, MAX(sent_at) AS last_at FROM (SELECT room_id, sent_at FROM messages WHERE room_id IS NOT NULL AND sent_at >= ?${notIn}`
          + ` ORDER BY sent_at DESC LIMIT ${ROOM_ACTIVITY_WINDOW}) w GROUP BY room_id ORDER BY last_at DESC${limitClause(opts.limit)}`,
        [since, ...skip]);
      // And rooms made since, which may have no message at all.
      const made = await all(`SELECT room_id FROM rooms WHERE created_at >= ?${notIn} ORDER BY created_at DESC${limitClause(opts.limit)}`, [since, ...skip]);
      const ids = [...new Set([...recent, ...made].map((r) => String(r.room_id)))].filter((id) => !excluded.has(id));
      const rows = await Promise.all(ids.map(async (id) => {
        const r = (await all(
          'SELECT r.created_at, (SELECT MAX(sent_at) FROM messages WHERE room_id = ?) AS last_at, (SELECT COUNT(*) FROM messages WHERE room_id = ?) AS n FROM rooms r WHERE r.room_id = ?',
          [id, id, id]))[0];
        return r ? { roomId: id, createdAt: driver.date(r.created_at), lastMessageAt: dateOrNull(r.last_at), messages: Number(r.n) } : null;
      }));
      const key = (r: RoomActivity) => (r.lastMessageAt ?? r.createdAt).getTime();
      return rows.filter((r): r is RoomActivity => r !== null).sort((a, b) => key(b) - key(a) || a.roomId.localeCompare(b.roomId)).slice(0, opts.limit);
    }),
    messageUsage: (scope) => op(async () => {
      const parts: string[] = [];
      const params: SqlValue[] = [];
      if (scope.queuedFor !== undefined) {
        parts.push("(SELECT COUNT(*) FROM messages WHERE to_device_id = ? AND status = 'queued') AS tn",
          "(SELECT COALESCE(SUM(content_bytes), 0) FROM messages WHERE to_device_id = ? AND status = 'queued') AS tb");
        params.push(scope.queuedFor, scope.queuedFor);
      }
      if (scope.roomId !== undefined) {
        parts.push('(SELECT COUNT(*) FROM messages WHERE room_id = ?) AS rn',
          '(SELECT COALESCE(SUM(content_bytes), 0) FROM messages WHERE room_id = ?) AS rb');
        params.push(scope.roomId, scope.roomId);
      }
      if (parts.length === 0) return {};
      const r = (await all(`SELECT ${parts.join(', ')}`, params))[0];
      const u: MessageUsage = {};
      if (scope.queuedFor !== undefined) u.target = pair(r, 'tn', 'tb');
      if (scope.roomId !== undefined) u.room = pair(r, 'rn', 'rb');
      return u;
    }),
    // Walks the (to_device_id, status) index in id order from `afterId`: a page costs the same
    // however long the queue is, and only a page is ever in memory.
    queuedMessagesPage: (toDeviceId, o) => op(async () => {
      if (!Number.isSafeInteger(o.limit) || o.limit < 1) throw new RangeError(`limit must be a positive integer, got ${o.limit}`);
      const byPriority = o.afterPriority !== undefined;
      const where = ["to_device_id = ?", "status = 'queued'", byPriority ? '(priority > ? OR (priority = ? AND id > ?))' : 'id > ?'];
      const params: SqlValue[] = byPriority ? [toDeviceId, o.afterPriority!, o.afterPriority!, o.afterId] : [toDeviceId, o.afterId];
      if (o.anyRoom === true) where.push('room_id IS NOT NULL');
      else if (o.roomId === null) where.push('room_id IS NULL');
      else { where.push('room_id = ?'); params.push(o.roomId); }
      if (o.fromDeviceId !== undefined) { where.push('from_device_id = ?'); params.push(o.fromDeviceId); }
      if (o.liveAt !== undefined) { where.push('(expires_at IS NULL OR expires_at > ?)'); params.push(time(o.liveAt, 'liveAt')); }
      const order = byPriority ? 'priority, id' : 'id';
      return (await all(`SELECT ${h.columns} FROM messages WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${o.limit}`, params)).map(message);
    }),
    // Walks the (status, expires_at) index. Each row is claimed by its own conditional update,
    // so a gateway sharing the database that expired it first keeps it.
    expireMessages: (at, limit) => op(async () => {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
      const rows = await all(
        `SELECT id, room_id, from_device_id, to_device_id, content_bytes, ack_requested FROM messages WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, id LIMIT ${limit}`,
        [time(at, 'at')],
      );
      const out: ExpiredMessage[] = [];
      for (const r of rows) {
        if ((await run("UPDATE messages SET status = 'expired' WHERE id = ? AND status = 'queued'", [Number(r.id)])).changes !== 1) continue;
        out.push({ id: Number(r.id), roomId: r.room_id === null ? null : String(r.room_id), fromDeviceId: String(r.from_device_id), toDeviceId: String(r.to_device_id), bytes: Number(r.content_bytes), ackRequested: Number(r.ack_requested) === 1 });
      }
      return out;
    }),
    markMessageExpired: (id) => op(async () => (await run("UPDATE messages SET status = 'expired' WHERE id = ? AND status = 'queued'", [id])).changes === 1),
    pruneOlderThan: (before) => op(async (): Promise<PruneCounts> => {
      const at = time(before, 'before');
      return {
        messages: await prune('messages', 'sent_at', at),
        roomQueries: await prune('room_queries', 'queried_at', at),
        // Open connections (disconnected_at NULL) never compare as older.
        connections: await prune('connections', 'disconnected_at', at),
      };
    }),
  };
}
