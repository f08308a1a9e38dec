/**
 * One ordered list of schema migrations shared by both backends. Each has the
 * DDL for SQLite and for MySQL/MariaDB; the backends apply the pending ones
 * under their own lock (BEGIN IMMEDIATE / GET_LOCK) and record them in
 * `schema_migrations`.
 *
 * Never edit a migration that has shipped: append a new one.
 *
 * SQLite: times are INTEGER milliseconds since the epoch (UTC).
 * MySQL: times are DATETIME(3) holding UTC (the pool uses timezone 'Z');
 *   DATETIME rather than TIMESTAMP so the server's time_zone never shifts
 *   them and years past 2038 work.
 *   MySQL DDL commits implicitly, so a migration cut short by a crash is
 *   re-run from its first statement: every MySQL statement must be
 *   re-runnable (CREATE TABLE IF NOT EXISTS with its indexes inline).
 *   `{COLLATE}` is replaced by a binary NO PAD collation chosen at run time
 *   (utf8mb4_0900_bin on MySQL 8, utf8mb4_nopad_bin on MariaDB) so ids compare
 *   exactly as in SQLite: case-sensitive and with trailing spaces significant.
 *   JSON goes in MEDIUMTEXT, not the JSON type, so it comes back byte-for-byte
 *   (MySQL's JSON type reorders keys) and mysql2 does not pre-parse it.
 */
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  sqlite: readonly string[];
  mysql: readonly string[];
}

export const SCHEMA_MIGRATIONS_DDL = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`,
  mysql: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT NOT NULL,
    name VARCHAR(255) NOT NULL,
    applied_at DATETIME(3) NOT NULL,
    PRIMARY KEY (version)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={COLLATE}`,
} as const;

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={COLLATE}';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sqlite: [
      `CREATE TABLE rooms (
        room_id TEXT PRIMARY KEY NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      // kind has no CHECK: DeviceKind may grow, and SQLite cannot alter a CHECK
      // without rebuilding the table. The gateway validates it.
      `CREATE TABLE devices (
        device_id TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        identity TEXT,
        last_connected_at INTEGER,
        last_room_id TEXT
      )`,
      // INTEGER PRIMARY KEY (no AUTOINCREMENT) is the rowid itself: the
      // cheapest insert SQLite has, and rows are never deleted by the gateway.
      `CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        room_id TEXT,
        client_ip TEXT NOT NULL,
        connected_at INTEGER NOT NULL,
        disconnected_at INTEGER
      )`,
      `CREATE INDEX connections_disconnected ON connections (disconnected_at)`,
      `CREATE INDEX connections_device ON connections (device_id, connected_at)`,
      `CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        room_id TEXT,
        from_device_id TEXT NOT NULL,
        to_device_id TEXT,
        message_type TEXT NOT NULL CHECK (message_type IN ('broadcast', 'direct')),
        content TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sent', 'queued', 'delivered')),
        delivered_at INTEGER
      )`,
      `CREATE INDEX messages_room_time ON messages (room_id, sent_at)`,
      `CREATE INDEX messages_to_status ON messages (to_device_id, status)`,
      `CREATE INDEX messages_from_time ON messages (from_device_id, sent_at)`,
      `CREATE TABLE room_queries (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        queried_at INTEGER NOT NULL
      )`,
      `CREATE INDEX room_queries_room ON room_queries (room_id)`,
      // The implicit rowid orders commands created in the same millisecond.
      `CREATE TABLE commands (
        command_id TEXT PRIMARY KEY NOT NULL,
        device_id TEXT NOT NULL,
        command TEXT NOT NULL,
        params TEXT,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'acked', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_sent_at INTEGER,
        acked_at INTEGER,
        result TEXT
      )`,
      `CREATE INDEX commands_device_state ON commands (device_id, state)`,
      `CREATE TABLE device_status (
        device_id TEXT PRIMARY KEY NOT NULL,
        status TEXT,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE TABLE device_tokens (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        label TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      )`,
      `CREATE INDEX device_tokens_device_hash ON device_tokens (device_id, token_hash)`,
    ],
    mysql: [
      `CREATE TABLE IF NOT EXISTS rooms (
        room_id VARCHAR(255) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (room_id)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS devices (
        device_id VARCHAR(255) NOT NULL,
        kind VARCHAR(32) NOT NULL,
        identity VARCHAR(255) NULL,
        last_connected_at DATETIME(3) NULL,
        last_room_id VARCHAR(255) NULL,
        PRIMARY KEY (device_id)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS connections (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        device_id VARCHAR(255) NOT NULL,
        kind VARCHAR(32) NOT NULL,
        room_id VARCHAR(255) NULL,
        client_ip VARCHAR(64) NOT NULL,
        connected_at DATETIME(3) NOT NULL,
        disconnected_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY connections_disconnected (disconnected_at),
        KEY connections_device (device_id, connected_at)
      ) ${MYSQL_TABLE}`,
      // MEDIUMTEXT: TEXT stops at 64 KiB and an SDP offer plus candidates can
      // get close; SQLite has no such limit and the backends must agree.
      `CREATE TABLE IF NOT EXISTS messages (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        room_id VARCHAR(255) NULL,
        from_device_id VARCHAR(255) NOT NULL,
        to_device_id VARCHAR(255) NULL,
        message_type ENUM('broadcast', 'direct') NOT NULL,
        content MEDIUMTEXT NOT NULL,
        sent_at DATETIME(3) NOT NULL,
        status ENUM('sent', 'queued', 'delivered') NOT NULL,
        delivered_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY messages_room_time (room_id, sent_at),
        KEY messages_to_status (to_device_id, status),
        KEY messages_from_time (from_device_id, sent_at)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS room_queries (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        device_id VARCHAR(255) NOT NULL,
        room_id VARCHAR(255) NOT NULL,
        queried_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY room_queries_room (room_id)
      ) ${MYSQL_TABLE}`,
      // seq stands in for SQLite's rowid: insertion order for commands created
      // in the same millisecond.
      `CREATE TABLE IF NOT EXISTS commands (
        command_id VARCHAR(255) NOT NULL,
        seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        device_id VARCHAR(255) NOT NULL,
        command VARCHAR(255) NOT NULL,
        params MEDIUMTEXT NULL,
        created_at DATETIME(3) NOT NULL,
        state ENUM('queued', 'sent', 'acked', 'failed') NOT NULL DEFAULT 'queued',
        attempts INT UNSIGNED NOT NULL DEFAULT 0,
        last_sent_at DATETIME(3) NULL,
        acked_at DATETIME(3) NULL,
        result MEDIUMTEXT NULL,
        PRIMARY KEY (command_id),
        UNIQUE KEY commands_seq (seq),
        KEY commands_device_state (device_id, state)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS device_status (
        device_id VARCHAR(255) NOT NULL,
        status MEDIUMTEXT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (device_id)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS device_tokens (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        device_id VARCHAR(255) NOT NULL,
        token_hash VARCHAR(128) NOT NULL,
        label VARCHAR(255) NULL,
        created_at DATETIME(3) NOT NULL,
        revoked_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY device_tokens_device_hash (device_id, token_hash)
      ) ${MYSQL_TABLE}`,
    ],
  },
  {
    version: 2,
    name: 'sessions, sample chunks, strokes; typed message content',
    sqlite: [
      `ALTER TABLE messages ADD COLUMN content_json INTEGER NOT NULL DEFAULT 0`,
      `CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY NOT NULL,
        state TEXT NOT NULL,
        boards TEXT NOT NULL,
        player_id TEXT,
        court TEXT,
        room_id TEXT,
        notes TEXT,
        sample_rate_hz INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        stopped_at INTEGER,
        completed_at INTEGER,
        failure_reason TEXT,
        summary TEXT
      )`,
      `CREATE INDEX sessions_created ON sessions (created_at)`,
      `CREATE INDEX sessions_state ON sessions (state)`,
      // The primary key is the duplicate filter: a resent batch is ignored, not stored twice.
      `CREATE TABLE sample_chunks (
        session_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        start_ms REAL NOT NULL,
        rate_hz REAL NOT NULL,
        count INTEGER NOT NULL,
        data BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, device_id, seq)
      )`,
      `CREATE TABLE session_boards (
        session_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        final_seq INTEGER NOT NULL,
        reported_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, device_id)
      )`,
      `CREATE TABLE strokes (
        session_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        t_ms REAL NOT NULL,
        peak_dps REAL NOT NULL,
        speed_kmh REAL NOT NULL,
        peak_g REAL NOT NULL,
        saturated INTEGER NOT NULL,
        type TEXT NOT NULL,
        confidence REAL NOT NULL,
        PRIMARY KEY (session_id, device_id, idx)
      )`,
    ],
    // Each statement re-runnable (see the header): the ALTER's duplicate-column
    // error (1060) is tolerated by the MySQL backend.
    mysql: [
      `ALTER TABLE messages ADD COLUMN content_json TINYINT NOT NULL DEFAULT 0`,
      `CREATE TABLE IF NOT EXISTS sessions (
        session_id VARCHAR(64) NOT NULL,
        state VARCHAR(16) NOT NULL,
        boards MEDIUMTEXT NOT NULL,
        player_id VARCHAR(255) NULL,
        court VARCHAR(255) NULL,
        room_id VARCHAR(32) NULL,
        notes MEDIUMTEXT NULL,
        sample_rate_hz INT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        started_at DATETIME(3) NULL,
        stopped_at DATETIME(3) NULL,
        completed_at DATETIME(3) NULL,
        failure_reason TEXT NULL,
        summary MEDIUMTEXT NULL,
        PRIMARY KEY (session_id),
        KEY sessions_created (created_at),
        KEY sessions_state (state)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS sample_chunks (
        session_id VARCHAR(64) NOT NULL,
        device_id VARCHAR(255) NOT NULL,
        seq BIGINT NOT NULL,
        start_ms DOUBLE NOT NULL,
        rate_hz DOUBLE NOT NULL,
        count INT NOT NULL,
        data MEDIUMBLOB NOT NULL,
        received_at DATETIME(3) NOT NULL,
        PRIMARY KEY (session_id, device_id, seq)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS session_boards (
        session_id VARCHAR(64) NOT NULL,
        device_id VARCHAR(255) NOT NULL,
        final_seq BIGINT NOT NULL,
        reported_at DATETIME(3) NOT NULL,
        PRIMARY KEY (session_id, device_id)
      ) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS strokes (
        session_id VARCHAR(64) NOT NULL,
        device_id VARCHAR(255) NOT NULL,
        idx INT NOT NULL,
        t_ms DOUBLE NOT NULL,
        peak_dps DOUBLE NOT NULL,
        speed_kmh DOUBLE NOT NULL,
        peak_g DOUBLE NOT NULL,
        saturated TINYINT NOT NULL,
        type VARCHAR(16) NOT NULL,
        confidence DOUBLE NOT NULL,
        PRIMARY KEY (session_id, device_id, idx)
      ) ${MYSQL_TABLE}`,
    ],
  },
  {
    version: 3,
    name: 'message sizes for quotas; time indexes for retention',
    // content_bytes sits in the indexes so a target's queue and a room's log are summed from
    // the index alone, never by reading the contents. Retention deletes by time.
    sqlite: [
      `ALTER TABLE messages ADD COLUMN content_bytes INTEGER NOT NULL DEFAULT 0`,
      `UPDATE messages SET content_bytes = LENGTH(CAST(content AS BLOB))`,
      `CREATE INDEX messages_to_status_bytes ON messages (to_device_id, status, content_bytes)`,
      `CREATE INDEX messages_room_bytes ON messages (room_id, content_bytes)`,
      `CREATE INDEX messages_sent ON messages (sent_at)`,
      `CREATE INDEX room_queries_time ON room_queries (queried_at)`,
    ],
    mysql: [
      `ALTER TABLE messages ADD COLUMN content_bytes INT UNSIGNED NOT NULL DEFAULT 0`,
      `UPDATE messages SET content_bytes = LENGTH(content)`,
      `CREATE INDEX messages_to_status_bytes ON messages (to_device_id, status, content_bytes)`,
      `CREATE INDEX messages_room_bytes ON messages (room_id, content_bytes)`,
      `CREATE INDEX messages_sent ON messages (sent_at)`,
      `CREATE INDEX room_queries_time ON room_queries (queried_at)`,
    ],
  },
  {
    version: 4,
    name: 'the gateway holding each connection',
    // Several gateways share one database: start-up cleanup closes only its own rows
    // (and those of gateways that stopped), never the open sockets of a running one.
    sqlite: [
      `ALTER TABLE connections ADD COLUMN gateway_id TEXT`,
      `CREATE INDEX connections_gateway_open ON connections (gateway_id, disconnected_at)`,
    ],
    mysql: [
      `ALTER TABLE connections ADD COLUMN gateway_id VARCHAR(64) NULL`,
      `CREATE INDEX connections_gateway_open ON connections (gateway_id, disconnected_at)`,
    ],
  },
  {
    version: 5,
    name: 'stroke corrections by coaches',
    // A correction names its stroke by board and time, never by the stroke's
    // row: analysis rewrites the strokes table, the corrections stay and
    // re-attach (sessions/corrections.ts). player_id is the session's at the
    // time, so a player's profile is one indexed read.
    sqlite: [
      `CREATE TABLE stroke_corrections (
        correction_id TEXT PRIMARY KEY NOT NULL,
        session_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        player_id TEXT,
        t_ms REAL NOT NULL,
        type TEXT NOT NULL,
        original_type TEXT,
        features TEXT,
        stroke TEXT,
        made_by TEXT NOT NULL,
        made_at INTEGER NOT NULL
      )`,
      `CREATE INDEX stroke_corrections_session ON stroke_corrections (session_id, device_id, t_ms)`,
      `CREATE INDEX stroke_corrections_player ON stroke_corrections (player_id, made_at)`,
    ],
    mysql: [
      `CREATE TABLE IF NOT EXISTS stroke_corrections (
        correction_id VARCHAR(64) NOT NULL,
        session_id VARCHAR(64) NOT NULL,
        device_id VARCHAR(255) NOT NULL,
        player_id VARCHAR(255) NULL,
        t_ms DOUBLE NOT NULL,
        type VARCHAR(16) NOT NULL,
        original_type VARCHAR(16) NULL,
        features MEDIUMTEXT NULL,
        stroke MEDIUMTEXT NULL,
        made_by VARCHAR(255) NOT NULL,
        made_at DATETIME(3) NOT NULL,
        PRIMARY KEY (correction_id),
        KEY stroke_corrections_session (session_id, device_id, t_ms),
        KEY stroke_corrections_player (player_id, made_at)
      ) ${MYSQL_TABLE}`,
    ],
  },
  {
    version: 6,
    name: 'board tags',
    // One row per board, the tags as a JSON array: a board's tags are set as a whole.
    sqlite: [`CREATE TABLE device_tags (device_id TEXT PRIMARY KEY NOT NULL, tags TEXT NOT NULL)`],
    mysql: [`CREATE TABLE device_tags (device_id VARCHAR(128) NOT NULL, tags TEXT NOT NULL, PRIMARY KEY (device_id)) ${MYSQL_TABLE}`],
  },
  {
    version: 7,
    name: "the room server's column names; command timeouts, retries and priorities; message priorities, acks and expiry (status expired); named and restricted rooms",
    // message_content is the room server's name for the column: its users' monitoring SQL keeps
    // working. Priorities are 0 high, 1 normal, 2 low, so ascending order is delivery order.
    sqlite: [
      // SQLite cannot change a CHECK in place: the table is rebuilt with the new status allowed.
      `CREATE TABLE messages_v7 (
        id INTEGER PRIMARY KEY,
        room_id TEXT,
        from_device_id TEXT NOT NULL,
        to_device_id TEXT,
        message_type TEXT NOT NULL CHECK (message_type IN ('broadcast', 'direct')),
        message_content TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sent', 'queued', 'delivered', 'expired')),
        delivered_at INTEGER,
        content_json INTEGER NOT NULL DEFAULT 0,
        content_bytes INTEGER NOT NULL DEFAULT 0,
        priority INTEGER NOT NULL DEFAULT 1,
        ack_requested INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER
      )`,
      `INSERT INTO messages_v7 (id, room_id, from_device_id, to_device_id, message_type, message_content, sent_at, status, delivered_at, content_json, content_bytes)
        SELECT id, room_id, from_device_id, to_device_id, message_type, content, sent_at, status, delivered_at, content_json, content_bytes FROM messages`,
      `DROP TABLE messages`,
      `ALTER TABLE messages_v7 RENAME TO messages`,
      `CREATE INDEX messages_room_time ON messages (room_id, sent_at)`,
      `CREATE INDEX messages_to_status ON messages (to_device_id, status)`,
      `CREATE INDEX messages_from_time ON messages (from_device_id, sent_at)`,
      `CREATE INDEX messages_to_status_bytes ON messages (to_device_id, status, content_bytes)`,
      `CREATE INDEX messages_room_bytes ON messages (room_id, content_bytes)`,
      `CREATE INDEX messages_sent ON messages (sent_at)`,
      `CREATE INDEX messages_to_status_priority ON messages (to_device_id, status, priority, id)`,
      `CREATE INDEX messages_status_expires ON messages (status, expires_at)`,
      `ALTER TABLE commands ADD COLUMN timeout_ms INTEGER`,
      `ALTER TABLE commands ADD COLUMN max_retries INTEGER`,
      `ALTER TABLE commands ADD COLUMN priority INTEGER NOT NULL DEFAULT 1`,
      `ALTER TABLE commands ADD COLUMN failed_at INTEGER`,
      `ALTER TABLE rooms ADD COLUMN allowed_device_ids TEXT`,
      `ALTER TABLE rooms ADD COLUMN token_hash TEXT`,
    ],
    mysql: [
      `ALTER TABLE messages CHANGE COLUMN content message_content MEDIUMTEXT NOT NULL`,
      `ALTER TABLE messages ADD COLUMN priority TINYINT UNSIGNED NOT NULL DEFAULT 1`,
      `ALTER TABLE messages ADD COLUMN ack_requested TINYINT NOT NULL DEFAULT 0`,
      `ALTER TABLE messages ADD COLUMN expires_at DATETIME(3) NULL`,
      `ALTER TABLE messages MODIFY COLUMN status ENUM('sent', 'queued', 'delivered', 'expired') NOT NULL`,
      `CREATE INDEX messages_to_status_priority ON messages (to_device_id, status, priority, id)`,
      `CREATE INDEX messages_status_expires ON messages (status, expires_at)`,
      `ALTER TABLE commands ADD COLUMN timeout_ms INT UNSIGNED NULL`,
      `ALTER TABLE commands ADD COLUMN max_retries INT UNSIGNED NULL`,
      `ALTER TABLE commands ADD COLUMN priority TINYINT UNSIGNED NOT NULL DEFAULT 1`,
      `ALTER TABLE commands ADD COLUMN failed_at DATETIME(3) NULL`,
      `ALTER TABLE rooms ADD COLUMN allowed_device_ids MEDIUMTEXT NULL`,
      `ALTER TABLE rooms ADD COLUMN token_hash VARCHAR(64) NULL`,
    ],
  },
  {
    version: 8,
    name: "a board's commands by time; rooms by creation",
    // A board's page lists its commands newest first a page at a time: without this index a board
    // with years of commands had all of them sorted for each page. The rooms list finds the
    // newest rooms without reading every room ever made.
    sqlite: [`CREATE INDEX commands_device_time ON commands (device_id, created_at)`, `CREATE INDEX rooms_created ON rooms (created_at)`],
    mysql: [`CREATE INDEX commands_device_time ON commands (device_id, created_at, seq)`, `CREATE INDEX rooms_created ON rooms (created_at)`],
  },
  {
    version: 9,
    name: 'chunk counts of closed sessions kept, for the session list',
    // Filled when a session becomes complete or failed (its chunks no longer change), so listing
    // a page of closed sessions reads a row per board instead of summing every chunk of each.
    // stats_frozen = 1 says the rows are there (a session without chunks has none).
    sqlite: [
      `CREATE TABLE session_board_stats (
        session_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        frames INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        max_seq INTEGER,
        PRIMARY KEY (session_id, device_id)
      )`,
      `ALTER TABLE sessions ADD COLUMN stats_frozen INTEGER NOT NULL DEFAULT 0`,
      `INSERT INTO session_board_stats (session_id, device_id, frames, samples, max_seq)
        SELECT c.session_id, c.device_id, COUNT(*), SUM(c.count), MAX(c.seq) FROM sample_chunks c
        WHERE c.session_id IN (SELECT session_id FROM sessions WHERE state IN ('complete', 'failed')) GROUP BY c.session_id, c.device_id`,
      `UPDATE sessions SET stats_frozen = 1 WHERE state IN ('complete', 'failed')`,
    ],
    mysql: [
      `CREATE TABLE IF NOT EXISTS session_board_stats (
        session_id VARCHAR(64) NOT NULL,
        device_id VARCHAR(255) NOT NULL,
        frames BIGINT NOT NULL,
        samples BIGINT NOT NULL,
        max_seq BIGINT NULL,
        PRIMARY KEY (session_id, device_id)
      ) ${MYSQL_TABLE}`,
      `ALTER TABLE sessions ADD COLUMN stats_frozen TINYINT NOT NULL DEFAULT 0`,
      `INSERT INTO session_board_stats (session_id, device_id, frames, samples, max_seq)
        SELECT c.session_id, c.device_id, COUNT(*), SUM(c.count), MAX(c.seq) FROM sample_chunks c
        WHERE c.session_id IN (SELECT session_id FROM sessions WHERE state IN ('complete', 'failed')) GROUP BY c.session_id, c.device_id`,
      `UPDATE sessions SET stats_frozen = 1 WHERE state IN ('complete', 'failed')`,
    ],
  },
  {
    version: 10,
    name: 'which player holds each board of a session',
    // A JSON object board -> player: set and cleared as a whole with the session's other facts.
    sqlite: [`ALTER TABLE sessions ADD COLUMN board_players TEXT`],
    mysql: [`ALTER TABLE sessions ADD COLUMN board_players MEDIUMTEXT NULL`],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * The migrations still to apply given the versions already recorded, in
 * order. Refuses a database that a newer gateway has migrated: running old
 * code on a newer schema is how data gets silently mangled.
 */
export function pendingMigrations(applied: Iterable<number>): Migration[] {
  const done = new Set(applied);
  const newest = Math.max(0, ...done);
  if (newest > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_SCHEMA_TOO_NEW',
      `database schema is at version ${newest} but this gateway knows up to ${LATEST_SCHEMA_VERSION}: upgrade the gateway`,
    );
  }
  return [...MIGRATIONS].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
}
