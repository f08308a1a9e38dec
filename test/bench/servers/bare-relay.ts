/**
 * Bench floor: a bare `ws` server that hands every board frame, unchanged and
 * unparsed, to each subscriber (`/sub`). No validation, storage or acks: the
 * least work any relay can do. With `--ack` (the idle-board bench) it also
 * answers every frame with a fixed heartbeat_ack, unparsed.
 *
 * With `--store FILE` it is the floor for a relay that keeps what it relays
 * (the peer of Courtside recording a session): every frame's bytes, unparsed,
 * also go into a SQLite table in FILE (WAL, synchronous FULL, as Courtside's
 * store), one transaction per turn of the event loop for all the frames that
 * turn brought. No chunking, no index beyond the row id, no acks.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import Database from 'better-sqlite3';
import type { AddressInfo } from 'node:net';

const ack = process.argv.includes('--ack');
const ACK = '{"type":"heartbeat_ack","server_time":0}';
const storeFlag = process.argv.indexOf('--store');
const storeAt = storeFlag < 0 ? undefined : process.argv[storeFlag + 1];
if (storeFlag >= 0 && storeAt === undefined) throw new Error('--store takes a file');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const subscribers = new Set<WebSocket>();

/** One transaction inserting the given frames, in the file at `file`. */
function openStore(file: string): (frames: Buffer[]) => void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS frames (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO frames (body) VALUES (?)');
  return db.transaction((frames: Buffer[]) => { for (const f of frames) insert.run(f); });
}
const store = storeAt === undefined ? null : openStore(storeAt);
/** The frames of this turn, written in one transaction at its end. */
let pending: Buffer[] = [];
const flush = (): void => {
  const frames = pending;
  pending = [];
  store?.(frames);
};

wss.on('connection', (ws, req) => {
  if (req.url?.startsWith('/sub')) {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
    return;
  }
  ws.on('message', (data, isBinary) => {
    if (ack) ws.send(ACK);
    for (const s of subscribers) s.send(data as Buffer, { binary: isBinary });
    if (store) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(data as Buffer);
    }
  });
});

wss.on('listening', () => {
  process.stdout.write(`READY ${(wss.address() as AddressInfo).port}\n`);
});

// The harness may die without killing us; a closed stdin is the sign.
const stop = (): void => { wss.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
