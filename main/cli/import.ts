/**
 * `courtside import --from mysql://...`: copies a room server's database (rooms, devices,
 * connections, messages, room_queries, in its own column names) into Courtside's, so a site
 * keeps its history when it moves. Reads a page at a time; the source is only read.
 */
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { defaultDataDir } from '../gateway/options.js';
import { openStore } from '../gateway/store/index.js';
import { parseMysqlUrl } from '../gateway/store/mysql.js';
import type { Store } from '../gateway/store/types.js';
import { errorText } from '../gateway/errors.js';
import { HELP_OPTION, parse, runCommand, UsageError } from './args.js';
import { errorPrefix, type CommandIO } from './io.js';

export const IMPORT_HELP = `Usage: courtside import --from mysql://user:pass@host:port/db [options]

Copies a room server's database (tables rooms, devices, connections, messages,
room_queries) into Courtside's. Run it once, into a database no gateway is using;
rooms already there are kept, every other row is added.

Options:
  --from URL         the room server's MySQL/MariaDB database (required; only read)
  --db SPEC          Courtside's database: SQLite file path or mysql://user:pass@host:port/db
                     (default <data-dir>/courtside.sqlite)
  --data-dir DIR     data folder (default ${defaultDataDir()})
  -h, --help         this help
`;

type Row = Record<string, unknown>;
const PAGE = 1000;

const str = (v: unknown): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const date = (v: unknown): Date | null => (v instanceof Date && !Number.isNaN(v.getTime()) ? v : v === null || v === undefined ? null : new Date(String(v)));

export interface ImportCounts {
  rooms: number;
  devices: number;
  connections: number;
  messages: number;
  room_queries: number;
}

/** Copies every table; resolves to the rows copied per table. */
export async function importRoomServer(source: mysql.Connection, store: Store, now = new Date()): Promise<ImportCounts> {
  const counts: ImportCounts = { rooms: 0, devices: 0, connections: 0, messages: 0, room_queries: 0 };
  const pages = async function* (table: keyof ImportCounts, order: string): AsyncGenerator<Row> {
    for (let offset = 0; ; offset += PAGE) {
      const [rows] = await source.query(`SELECT * FROM \`${table}\` ORDER BY ${order} LIMIT ${PAGE} OFFSET ${offset}`);
      for (const r of rows as Row[]) yield r;
      if ((rows as Row[]).length < PAGE) return;
    }
  };
  const hasId = async (table: string) => {
    const [cols] = await source.query(`SHOW COLUMNS FROM \`${table}\` LIKE 'id'`);
    return (cols as Row[]).length > 0;
  };

  for await (const r of pages('rooms', 'room_id')) {
    if (await store.createRoom(str(r.room_id), date(r.created_at) ?? now)) counts.rooms++;
  }
  for await (const r of pages('devices', 'device_id')) {
    await store.upsertDevice({ deviceId: str(r.device_id), kind: 'client', identity: strOrNull(r.identity), lastConnectedAt: date(r.last_connected_at) ?? undefined, lastRoomId: strOrNull(r.last_room_id) });
    counts.devices++;
  }
  for await (const r of pages('connections', (await hasId('connections')) ? 'id' : 'connected_at')) {
    const id = await store.openConnection({ deviceId: str(r.device_id), kind: 'client', roomId: strOrNull(r.room_id), clientIp: str(r.client_ip) || 'unknown', connectedAt: date(r.connected_at) ?? now });
    // A connection the room server never closed (it stopped meanwhile) is closed at its start.
    await store.closeConnection(id, date(r.disconnected_at) ?? date(r.connected_at) ?? now);
    counts.connections++;
  }
  for await (const r of pages('messages', (await hasId('messages')) ? 'id' : 'sent_at')) {
    const type = str(r.message_type) === 'direct' ? 'direct' : 'broadcast';
    await store.insertMessage({
      roomId: strOrNull(r.room_id), fromDeviceId: str(r.from_device_id), toDeviceId: type === 'direct' ? strOrNull(r.to_device_id) : null,
      messageType: type, content: str(r.message_content), sentAt: date(r.sent_at) ?? now, status: 'sent',
    });
    counts.messages++;
  }
  for await (const r of pages('room_queries', (await hasId('room_queries')) ? 'id' : 'queried_at')) {
    await store.insertRoomQuery({ deviceId: str(r.device_id), roomId: str(r.room_id), queriedAt: date(r.queried_at) ?? now });
    counts.room_queries++;
  }
  return counts;
}

export function importCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, { from: { type: 'string' }, db: { type: 'string' }, 'data-dir': { type: 'string' }, ...HELP_OPTION });
    if (values.help) {
      io.stdout.write(IMPORT_HELP);
      return 0;
    }
    const from = values.from?.trim();
    if (!from) throw new UsageError('--from is required: the room server\'s database as mysql://user:pass@host:port/db');
    if (!/^(mysql|mariadb):\/\//i.test(from)) throw new UsageError(`--from must be a mysql:// URL, got '${from}'`);
    let target: ReturnType<typeof parseMysqlUrl>;
    try {
      target = parseMysqlUrl(from);
    } catch (err) {
      throw new UsageError(`--from: ${errorText(err)}`);
    }
    if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
    const dataDir = values['data-dir'] === undefined ? defaultDataDir(io.env) : resolve(io.cwd, values['data-dir']);
    const db = values.db === undefined ? join(dataDir, 'courtside.sqlite') : /^[a-z][a-z0-9+.-]*:\/\//i.test(values.db) ? values.db : resolve(io.cwd, values.db);

    let source: mysql.Connection;
    try {
      source = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, database: target.database, timezone: 'Z', connectTimeout: 10_000 });
      // The room server's TIMESTAMP columns are read in UTC, as Courtside keeps time.
      await source.query("SET time_zone = '+00:00'");
    } catch (err) {
      io.stderr.write(`${errorPrefix(io)} cannot open the room server's database: ${errorText(err)}\n`);
      return 1;
    }
    let store: Store | undefined;
    try {
      store = await openStore(db);
      const n = await importRoomServer(source, store);
      io.stdout.write(`imported into ${store.description}: ${n.rooms} rooms, ${n.devices} devices, ${n.connections} connections, ${n.messages} messages, ${n.room_queries} room queries\n`);
      return 0;
    } catch (err) {
      io.stderr.write(`${errorPrefix(io)} import failed: ${errorText(err)}\n`);
      return 1;
    } finally {
      await source.end().catch(() => {});
      await store?.close().catch(() => {});
    }
  });
}
