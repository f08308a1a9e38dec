/**
 * The SQLite driver paces batches that carry sample chunks only (fewer commits under a stream of
 * frames). What that must not change: a write's promise resolves only once its row is committed
 * (read back through a connection of its own, not the store's), nothing is lost or stored twice,
 * statements commit in the order they were issued, and close() writes what was still waiting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import type { SampleChunk } from '../../main/gateway/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'courtside-sqlite-pacing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function chunk(deviceId: string, seq: number): SampleChunk {
  const data = Buffer.alloc(5 * 24);
  for (let i = 0; i < data.length; i++) data[i] = (seq * 7 + i + deviceId.length) & 0xff;
  return { sessionId: 's-pace', deviceId, seq, startMs: seq * 50, rateHz: 100, count: 5, data, receivedAt: new Date(1_700_000_000_000 + seq) };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stream of frames from many boards: each acked only once committed, all there once, in order with other statements', async () => {
  const file = join(dir, 'stream.sqlite');
  const store = await openSqliteStore(file);
  const reader = new Database(file, { readonly: true });
  const stored = reader.prepare('SELECT data FROM sample_chunks WHERE session_id = ? AND device_id = ? AND seq = ?');
  const roomSeen = reader.prepare('SELECT COUNT(*) FROM rooms WHERE room_id = ?').pluck();
  try {
    const boards = Array.from({ length: 12 }, (_, i) => `b-${i}`);
    const acks: Promise<void>[] = [];
    const notYet: string[] = [];
    const rooms: Promise<void>[] = [];
    for (let round = 0; round < 30; round++) {
      for (const b of boards) {
        const c = chunk(b, round);
        acks.push(store.insertChunks([c]).then((n) => {
          assert.equal(n, 1);
          // Resolved: committed, so another connection reads it, bytes and all.
          const row = stored.get(c.sessionId, c.deviceId, c.seq) as { data: Buffer } | undefined;
          if (!row || !row.data.equals(c.data)) notYet.push(`${b}/${round}`);
        }));
      }
      if (round % 7 === 3) {
        // Not a sample: goes without waiting for the pace, and takes the chunks issued before it along.
        const before = boards.map((b) => chunk(b, round));
        const room = `r-${round}`;
        rooms.push(store.createRoom(room, new Date(round)).then((made) => {
          assert.equal(made, true);
          assert.equal(roomSeen.get(room), 1);
          for (const c of before) assert.ok(stored.get(c.sessionId, c.deviceId, c.seq), `${c.deviceId}/${c.seq} issued before room ${room} but not committed with it`);
        }));
      }
      await tick(round % 3 === 0 ? 0 : 3);
    }
    await Promise.all([...acks, ...rooms]);
    assert.deepEqual(notYet, []);
    const total = reader.prepare('SELECT COUNT(*) FROM sample_chunks WHERE session_id = ?').pluck().get('s-pace');
    assert.equal(total, boards.length * 30);
    // A resend of the whole stream adds nothing.
    const again = await Promise.all(boards.flatMap((b) => Array.from({ length: 30 }, (_, r) => store.insertChunks([chunk(b, r)]))));
    assert.equal(again.reduce((a, n) => a + n, 0), 0);
    assert.deepEqual((await store.chunkStats('s-pace')).map((s) => [s.deviceId, s.frames, s.samples, s.maxSeq]), [...boards].sort().map((b) => [b, 30, 150, 29]));
  } finally {
    reader.close();
    await store.close();
  }
});

test('close() commits the chunks still waiting for their turn and resolves them', async () => {
  const file = join(dir, 'close.sqlite');
  const store = await openSqliteStore(file);
  // The first batch goes at once; those behind it wait for the pace when close() comes.
  const first = store.insertChunks([chunk('c-1', 0)]);
  await tick(0);
  const waiting = [1, 2, 3].map((seq) => store.insertChunks([chunk('c-1', seq)]));
  await first;
  await store.close();
  assert.deepEqual(await Promise.all(waiting), [1, 1, 1]);
  const raw = new Database(file, { readonly: true });
  try {
    assert.deepEqual(raw.prepare('SELECT seq FROM sample_chunks ORDER BY seq').pluck().all(), [0, 1, 2, 3]);
  } finally {
    raw.close();
  }
});

test("a chunk failing in the writer takes its call's other chunks back out, and nothing else of the batch", async () => {
  const file = join(dir, 'all-or-none.sqlite');
  const store = await openSqliteStore(file);
  const raw = new Database(file);
  try {
    // Another connection makes one seq fail inside the writer (SQLite's own refusal, not the driver's checks).
    raw.exec(`CREATE TRIGGER refuse_seq_3 BEFORE INSERT ON sample_chunks WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'seq 3 refused'); END`);
    const seqs = () => raw.prepare('SELECT device_id, seq FROM sample_chunks ORDER BY device_id, seq').all().map((r) => { const x = r as { device_id: string; seq: number }; return `${x.device_id}/${x.seq}`; });
    // Alone in its transaction.
    await assert.rejects(store.insertChunks([0, 1, 2, 3, 4].map((s) => chunk('a', s))), /seq 3 refused/);
    assert.deepEqual(seqs(), []);
    // After another write of the same batch, and before one: those stay, the chunks go.
    const room = store.createRoom('kept-before', new Date(1));
    const bad = store.insertChunks([5, 4, 3].map((s) => chunk('b', s)));
    const good = store.insertChunks([chunk('b', 0)]);
    const room2 = store.createRoom('kept-after', new Date(2));
    assert.equal(await room, true);
    await assert.rejects(bad, /seq 3 refused/);
    assert.equal(await good, 1);
    assert.equal(await room2, true);
    assert.deepEqual(seqs(), ['b/0']);
    assert.equal(raw.prepare("SELECT COUNT(*) FROM rooms WHERE room_id IN ('kept-before', 'kept-after')").pluck().get(), 2);
    // The first chunk op of a later batch fails: the writes after it in that batch still commit.
    const bad2 = store.insertChunks([chunk('c', 3)]);
    const after2 = store.insertChunks([chunk('c', 1)]);
    await assert.rejects(bad2, /seq 3 refused/);
    assert.equal(await after2, 1);
    assert.deepEqual(seqs(), ['b/0', 'c/1']);
  } finally {
    raw.close();
    await store.close();
  }
});
