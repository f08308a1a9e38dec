/**
 * The Store methods written once over a tiny driver interface, so SQLite and
 * MySQL run the same statements (only upserts and time encoding differ) and
 * cannot drift apart in behaviour. Each backend file supplies the driver:
 * connection, locking for migrations, and its dialect bits.
 */
import { StoreError } from './errors.js';
import { sessionMethods } from './sessions-sql.js';
import { messageMethods } from './messages-sql.js';
import { correctionMethods } from './corrections-sql.js';
import type {
  CommandRow, ConnectionRow, DeviceKind, DeviceRow, DeviceStatusRow, DeviceTokenRow, MessageRow, RoomRow, SampleChunk, Store,
} from './types.js';

export type SqlValue = string | number | Date | Buffer | null;
export type SqlRow = Record<string, unknown>;

export interface SqlDriver {
  readonly kind: Store['kind'];
  readonly description: string;
  run(sql: string, params: readonly SqlValue[]): Promise<{ changes: number; lastId: number }>;
  all(sql: string, params: readonly SqlValue[]): Promise<SqlRow[]>;
  /** The driver's own way to store sample chunks (Store.insertChunks), if it has a faster one than INSERTs. */
  insertChunks?(chunks: SampleChunk[]): Promise<number>;
  migrate(): Promise<void>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
  /** A valid Date as the driver binds it (ms number for SQLite, Date for MySQL). */
  time(d: Date): SqlValue;
  /** A stored time back to a Date. */
  date(v: unknown): Date;
  isDuplicateKey(err: unknown): boolean;
  /** Wraps driver errors worth an operator-facing code; returns others as is. */
  mapError(err: unknown): unknown;
  readonly sql: {
    /** Params: id, kind, identity, lastConnectedAt, lastRoomId, then 1/0 "was given" flags for the last three. */
    upsertDevice: string;
    /** Params: deviceId, status, updatedAt. */
    saveStatus: string;
    /** Column giving insertion order of commands. */
    commandSeq: string;
    /** `INSERT OR IGNORE` (SQLite) or `INSERT IGNORE` (MySQL). */
    insertIgnore: string;
    /** Params: sessionId, deviceId, finalSeq, reportedAt; replaces an earlier report. */
    upsertFinalSeq: string;
  };
}

/** Observers of the store's statements (tests count the queries a call makes). */
export interface StoreHooks {
  /** Called with each statement's SQL as it is sent, migrations aside. */
  onQuery?: (sql: string) => void;
}

const ROOM = 'room_id, created_at';
const DEVICE = 'device_id, kind, identity, last_connected_at, last_room_id';
const CONNECTION = 'id, device_id, kind, room_id, client_ip, connected_at, disconnected_at, gateway_id';
const MESSAGE = 'id, room_id, from_device_id, to_device_id, message_type, message_content, sent_at, status, delivered_at, content_json, priority, ack_requested, expires_at';
const COMMAND = 'command_id, device_id, command, params, created_at, state, attempts, last_sent_at, acked_at, result, timeout_ms, max_retries, priority, failed_at';
const STATUS = 'device_id, status, updated_at';
const TOKEN = 'device_id, token_hash, label, created_at, revoked_at';

export function checkDate(d: Date, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new TypeError(`${what} must be a valid Date`);
  return d;
}

/** JSON column encoding: undefined <-> SQL NULL, everything else as JSON text (so null stays null). */
export function toJson(v: unknown): string | null {
  return v === undefined ? null : (JSON.stringify(v) ?? null);
}
export function fromJson(v: unknown): unknown {
  return v === null || v === undefined ? undefined : JSON.parse(String(v));
}

export function limitClause(limit: number | undefined): string {
  if (limit === undefined) return '';
  // Inlined rather than bound: MySQL rejects some bound LIMIT types in prepared statements.
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return ` LIMIT ${limit}`;
}

function str(v: unknown): string {
  return String(v);
}
function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function createSqlStore(given: SqlDriver, hooks: StoreHooks = {}): Store {
  const { onQuery } = hooks;
  const driver: SqlDriver = !onQuery ? given : {
    ...given,
    run: (q, p) => (onQuery(q), given.run(q, p)),
    all: (q, p) => (onQuery(q), given.all(q, p)),
  };
  const { sql } = driver;
  const time = (d: Date, what: string): SqlValue => driver.time(checkDate(d, what));
  const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : driver.date(v));

  const room = (r: SqlRow): RoomRow => ({ roomId: str(r.room_id), createdAt: driver.date(r.created_at) });
  const device = (r: SqlRow): DeviceRow => ({
    deviceId: str(r.device_id),
    kind: str(r.kind) as DeviceKind,
    identity: strOrNull(r.identity),
    lastConnectedAt: dateOrNull(r.last_connected_at),
    lastRoomId: strOrNull(r.last_room_id),
  });
  const connection = (r: SqlRow): ConnectionRow => ({
    id: Number(r.id),
    deviceId: str(r.device_id),
    kind: str(r.kind) as DeviceKind,
    roomId: strOrNull(r.room_id),
    clientIp: str(r.client_ip),
    connectedAt: driver.date(r.connected_at),
    disconnectedAt: dateOrNull(r.disconnected_at),
    // Absent, as in ConnectionOpen, when the row was opened without one.
    ...(r.gateway_id === null || r.gateway_id === undefined ? {} : { gatewayId: str(r.gateway_id) }),
  });
  const message = (r: SqlRow): MessageRow => ({
    id: Number(r.id),
    roomId: strOrNull(r.room_id),
    fromDeviceId: str(r.from_device_id),
    toDeviceId: strOrNull(r.to_device_id),
    messageType: str(r.message_type) as MessageRow['messageType'],
    content: str(r.message_content),
    sentAt: driver.date(r.sent_at),
    status: str(r.status) as MessageRow['status'],
    deliveredAt: dateOrNull(r.delivered_at),
    contentJson: Number(r.content_json) === 1,
    priority: Number(r.priority ?? 1),
    ackRequested: Number(r.ack_requested ?? 0) === 1,
    expiresAt: dateOrNull(r.expires_at),
  });
  const command = (r: SqlRow): CommandRow => ({
    commandId: str(r.command_id),
    deviceId: str(r.device_id),
    command: str(r.command),
    params: fromJson(r.params),
    createdAt: driver.date(r.created_at),
    state: str(r.state) as CommandRow['state'],
    attempts: Number(r.attempts),
    lastSentAt: dateOrNull(r.last_sent_at),
    ackedAt: dateOrNull(r.acked_at),
    result: fromJson(r.result),
    timeoutMs: r.timeout_ms === null || r.timeout_ms === undefined ? null : Number(r.timeout_ms),
    maxRetries: r.max_retries === null || r.max_retries === undefined ? null : Number(r.max_retries),
    priority: Number(r.priority ?? 1),
    failedAt: dateOrNull(r.failed_at),
  });
  const status = (r: SqlRow): DeviceStatusRow => ({
    deviceId: str(r.device_id),
    status: fromJson(r.status),
    updatedAt: driver.date(r.updated_at),
  });
  const token = (r: SqlRow): DeviceTokenRow => ({
    deviceId: str(r.device_id),
    tokenHash: str(r.token_hash),
    label: strOrNull(r.label),
    createdAt: driver.date(r.created_at),
    revokedAt: dateOrNull(r.revoked_at),
  });

  let closing: Promise<void> | undefined;
  // Calls already accepted finish before close() tears the connection down.
  const inflight = new Set<Promise<unknown>>();

  function op<T>(fn: () => Promise<T>): Promise<T> {
    if (closing) return Promise.reject(new StoreError('STORE_CLOSED', `store ${driver.description} is closed`));
    const p = fn().catch((err: unknown) => {
      throw driver.mapError(err);
    });
    const settled = p.then(() => undefined, () => undefined);
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
    return p;
  }

  const run = (q: string, params: readonly SqlValue[]) => driver.run(q, params);
  const all = (q: string, params: readonly SqlValue[]) => driver.all(q, params);

  return {
    kind: driver.kind,
    description: driver.description,

    migrate: () => op(() => driver.migrate()),
    schemaVersion: () => op(() => driver.schemaVersion()),
    close() {
      closing ??= (async () => {
        await Promise.all(inflight);
        await driver.close();
      })();
      return closing;
    },

    createRoom: (roomId, createdAt, access) => op(async () => {
      try {
        await run(`INSERT INTO rooms (${ROOM}, allowed_device_ids, token_hash) VALUES (?, ?, ?, ?)`,
          [roomId, time(createdAt, 'createdAt'), access?.allowedDeviceIds ? JSON.stringify(access.allowedDeviceIds) : null, access?.tokenHash ?? null]);
        return true;
      } catch (err) {
        if (driver.isDuplicateKey(err)) return false;
        throw err;
      }
    }),
    getRoomAccess: (roomId) => op(async () => {
      const r = (await all('SELECT allowed_device_ids, token_hash FROM rooms WHERE room_id = ?', [roomId]))[0];
      if (!r) return undefined;
      const ids = r.allowed_device_ids === null || r.allowed_device_ids === undefined ? null : (JSON.parse(str(r.allowed_device_ids)) as string[]);
      return { allowedDeviceIds: ids, tokenHash: strOrNull(r.token_hash) };
    }),
    roomExists: (roomId) => op(async () => (await all('SELECT 1 AS x FROM rooms WHERE room_id = ?', [roomId])).length > 0),
    listRooms: () => op(async () => (await all(`SELECT ${ROOM} FROM rooms ORDER BY created_at, room_id`, [])).map(room)),

    getDevice: (deviceId) => op(async () => {
      const rows = await all(`SELECT ${DEVICE} FROM devices WHERE device_id = ?`, [deviceId]);
      return rows[0] ? device(rows[0]) : undefined;
    }),
    upsertDevice: (d) => op(async () => {
      await run(sql.upsertDevice, [
        d.deviceId, d.kind, d.identity ?? null,
        d.lastConnectedAt === undefined ? null : time(d.lastConnectedAt, 'lastConnectedAt'),
        d.lastRoomId ?? null,
        d.identity === undefined ? 0 : 1, d.lastConnectedAt === undefined ? 0 : 1, d.lastRoomId === undefined ? 0 : 1,
      ]);
    }),
    listDevices: (kind) => op(async () => {
      const rows = kind === undefined
        ? await all(`SELECT ${DEVICE} FROM devices ORDER BY device_id`, [])
        : await all(`SELECT ${DEVICE} FROM devices WHERE kind = ? ORDER BY device_id`, [kind]);
      return rows.map(device);
    }),

    openConnection: (c) => op(async () => {
      const r = await run(
        'INSERT INTO connections (device_id, kind, room_id, client_ip, connected_at, gateway_id) VALUES (?, ?, ?, ?, ?, ?)',
        [c.deviceId, c.kind, c.roomId, c.clientIp, time(c.connectedAt, 'connectedAt'), c.gatewayId ?? null],
      );
      return r.lastId;
    }),
    closeConnection: (id, at) => op(async () => {
      await run('UPDATE connections SET disconnected_at = ? WHERE id = ? AND disconnected_at IS NULL', [time(at, 'at'), id]);
    }),
    closeDanglingConnections: (at, scope) => op(async () => {
      if (scope === undefined) return (await run('UPDATE connections SET disconnected_at = ? WHERE disconnected_at IS NULL', [time(at, 'at')])).changes;
      const params: SqlValue[] = [time(at, 'at'), scope.own];
      let others = '';
      if (scope.live !== undefined) {
        const live = scope.live.filter((g) => g !== scope.own);
        others = live.length === 0 ? ' OR gateway_id IS NOT NULL' : ` OR gateway_id NOT IN (${live.map(() => '?').join(', ')})`;
        params.push(...live);
      }
      const q = `UPDATE connections SET disconnected_at = ? WHERE disconnected_at IS NULL AND (gateway_id = ? OR gateway_id IS NULL${others})`;
      return (await run(q, params)).changes;
    }),
    listConnections: (opts = {}) => op(async () => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (opts.open === true) where.push('disconnected_at IS NULL');
      if (opts.open === false) where.push('disconnected_at IS NOT NULL');
      if (opts.deviceId !== undefined) { where.push('device_id = ?'); params.push(opts.deviceId); }
      if (opts.before !== undefined) { where.push('connected_at < ?'); params.push(time(opts.before, 'before')); }
      const q = `SELECT ${CONNECTION} FROM connections${where.length ? ' WHERE ' + where.join(' AND ') : ''}`
        + ` ORDER BY connected_at DESC, id DESC${limitClause(opts.limit)}`;
      return (await all(q, params)).map(connection);
    }),

    insertMessage: (m) => op(async () => {
      const r = await run(
        'INSERT INTO messages (room_id, from_device_id, to_device_id, message_type, message_content, sent_at, status, content_json, content_bytes, priority, ack_requested, expires_at)'
          + ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [m.roomId, m.fromDeviceId, m.toDeviceId, m.messageType, m.content, time(m.sentAt, 'sentAt'), m.status, m.contentJson ? 1 : 0, Buffer.byteLength(m.content), m.priority ?? 1,
          m.ackRequested ? 1 : 0, m.expiresAt ? time(m.expiresAt, 'expiresAt') : null],
      );
      return r.lastId;
    }),
    listMessages: (opts = {}) => op(async () => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (opts.roomId !== undefined) { where.push('room_id = ?'); params.push(opts.roomId); }
      if (opts.deviceId !== undefined) {
        where.push('(from_device_id = ? OR to_device_id = ?)');
        params.push(opts.deviceId, opts.deviceId);
      }
      const q = `SELECT ${MESSAGE} FROM messages${where.length ? ' WHERE ' + where.join(' AND ') : ''}`
        + ` ORDER BY sent_at DESC, id DESC${limitClause(opts.limit)}`;
      return (await all(q, params)).map(message);
    }),
    // Insertion order (id), not sent_at: the queue replays in the order the
    // gateway accepted the messages, and the (to_device_id, status) index
    // already yields that order.
    queuedMessagesFor: (toDeviceId) => op(async () =>
      (await all(`SELECT ${MESSAGE} FROM messages WHERE to_device_id = ? AND status = 'queued' ORDER BY priority, id`, [toDeviceId]))
        .map(message)),
    // Only a queued message becomes delivered: a repeat keeps the first
    // delivery time, and a directly sent message stays 'sent'.
    markMessageDelivered: (id, at) => op(async () => {
      await run("UPDATE messages SET status = 'delivered', delivered_at = ? WHERE id = ? AND status = 'queued'", [time(at, 'at'), id]);
    }),

    insertRoomQuery: (q) => op(async () => {
      await run('INSERT INTO room_queries (device_id, room_id, queried_at) VALUES (?, ?, ?)',
        [q.deviceId, q.roomId, time(q.queriedAt, 'queriedAt')]);
    }),
    countRoomQueries: (roomId) => op(async () => {
      const rows = roomId === undefined
        ? await all('SELECT COUNT(*) AS n FROM room_queries', [])
        : await all('SELECT COUNT(*) AS n FROM room_queries WHERE room_id = ?', [roomId]);
      return Number(rows[0]?.n ?? 0);
    }),

    enqueueCommand: (c) => op(async () => {
      await run('INSERT INTO commands (command_id, device_id, command, params, created_at, timeout_ms, max_retries, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [c.commandId, c.deviceId, c.command, toJson(c.params), time(c.createdAt, 'createdAt'), c.timeoutMs ?? null, c.maxRetries ?? null, c.priority ?? 1]);
    }),
    getCommand: (commandId) => op(async () => {
      const rows = await all(`SELECT ${COMMAND} FROM commands WHERE command_id = ?`, [commandId]);
      return rows[0] ? command(rows[0]) : undefined;
    }),
    pendingCommands: (deviceId) => op(async () =>
      (await all(
        `SELECT ${COMMAND} FROM commands WHERE device_id = ? AND state IN ('queued', 'sent')`
          + ` ORDER BY priority, created_at, ${sql.commandSeq}`,
        [deviceId],
      )).map(command)),
    // A late re-send of an acked or failed command must not reopen it.
    markCommandSent: (commandId, at) => op(async () => {
      await run(
        "UPDATE commands SET state = 'sent', attempts = attempts + 1, last_sent_at = ? WHERE command_id = ? AND state IN ('queued', 'sent')",
        [time(at, 'at'), commandId],
      );
    }),
    ackCommand: (commandId, at, result) => op(async () =>
      (await run(
        "UPDATE commands SET state = 'acked', acked_at = ?, result = ? WHERE command_id = ? AND state <> 'acked'",
        [time(at, 'at'), toJson(result), commandId],
      )).changes === 1),
    failCommand: (commandId, at) => op(async () =>
      (await run(
        "UPDATE commands SET state = 'failed', failed_at = ? WHERE command_id = ? AND state IN ('queued', 'sent')",
        [time(at, 'at'), commandId],
      )).changes === 1),
    listCommands: (opts = {}) => op(async () => {
      const base = `SELECT ${COMMAND} FROM commands`;
      const order = ` ORDER BY created_at DESC, ${sql.commandSeq} DESC${limitClause(opts.limit)}`;
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (opts.deviceId !== undefined) { where.push('device_id = ?'); params.push(opts.deviceId); }
      if (opts.before !== undefined) { where.push('created_at < ?'); params.push(time(opts.before, 'before')); }
      const rows = await all(base + (where.length ? ' WHERE ' + where.join(' AND ') : '') + order, params);
      return rows.map(command);
    }),

    saveDeviceStatus: (deviceId, value, at) => op(async () => {
      await run(sql.saveStatus, [deviceId, toJson(value), time(at, 'at')]);
    }),
    getDeviceStatus: (deviceId) => op(async () => {
      const rows = await all(`SELECT ${STATUS} FROM device_status WHERE device_id = ?`, [deviceId]);
      return rows[0] ? status(rows[0]) : undefined;
    }),
    listDeviceStatuses: () => op(async () =>
      (await all(`SELECT ${STATUS} FROM device_status ORDER BY device_id`, [])).map(status)),

    setDeviceTags: (deviceId, tags) => op(async () => {
      const json = JSON.stringify([...tags]);
      const r = await run('UPDATE device_tags SET tags = ? WHERE device_id = ?', [json, deviceId]);
      if (r.changes === 0) await run(`${sql.insertIgnore} INTO device_tags (device_id, tags) VALUES (?, ?)`, [deviceId, json]);
    }),
    listDeviceTags: () => op(async () =>
      (await all('SELECT device_id, tags FROM device_tags ORDER BY device_id', [])).flatMap((r) => {
        const tags = JSON.parse(String(r.tags)) as string[];
        return [...tags].sort().map((tag) => ({ deviceId: String(r.device_id), tag }));
      })),

    saveDeviceToken: (t) => op(async () => {
      await run('INSERT INTO device_tokens (device_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)',
        [t.deviceId, t.tokenHash, t.label, time(t.createdAt, 'createdAt')]);
    }),
    checkDeviceToken: (deviceId, tokenHash) => op(async () =>
      (await all(
        'SELECT 1 AS x FROM device_tokens WHERE device_id = ? AND token_hash = ? AND revoked_at IS NULL LIMIT 1',
        [deviceId, tokenHash],
      )).length > 0),
    listDeviceTokens: () => op(async () =>
      (await all(`SELECT ${TOKEN} FROM device_tokens ORDER BY created_at, id`, [])).map(token)),
    revokeDeviceTokens: (deviceId, at) => op(async () =>
      (await run('UPDATE device_tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL', [time(at, 'at'), deviceId]))
        .changes),

    ...messageMethods({ driver, op, time, message, columns: MESSAGE, limitClause }),
    ...sessionMethods({ driver, op, time, dateOrNull, toJson, fromJson, limitClause }),
    ...correctionMethods({ driver, op, time, toJson, fromJson }),
  };
}
