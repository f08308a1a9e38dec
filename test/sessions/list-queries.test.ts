/**
 * list_sessions costs a constant number of queries, whatever the number of
 * sessions, on both backends: counted at the store's driver (a hook sees
 * every statement) and, on MariaDB, by the server itself (`Questions`). The
 * page must be what one `get` per session gives, field by field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { ManualClock } from '../../main/shared/clock.js';
import { silentLogger } from '../../main/gateway/log.js';
import { IngestWriter } from '../../main/gateway/sessions/ingest.js';
import { SessionManager } from '../../main/gateway/sessions/manager.js';
import { openMysqlStore, parseMysqlUrl } from '../../main/gateway/store/mysql.js';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import type { StoreHooks } from '../../main/gateway/store/sql-store.js';
import type { SampleChunk, SessionRow, SessionState, Store } from '../../main/gateway/store/types.js';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';

const SESSIONS = 500;
const STATES: SessionState[] = ['complete', 'failed', 'created', 'uploading', 'analyzing', 'recording'];
const T0 = Date.UTC(2025, 0, 1);

/** What a closed session holds: every third board uploaded chunks, every fifth reported its last seq. */
function fixture(i: number): { row: SessionRow; chunks: SampleChunk[]; finals: { deviceId: string; finalSeq: number }[] } {
  const sessionId = `s-${String(i).padStart(4, '0')}`;
  const boards = i % 4 === 0 ? [`racket-${i}`, `racket-${i + 1}`] : [`racket-${i % 7}`];
  const at = new Date(T0 + i * 60_000);
  const row: SessionRow = {
    sessionId, state: STATES[i % STATES.length]!, boards, playerId: i % 2 ? `p${i % 9}` : null, court: i % 3 ? `court ${i % 4}` : null,
    roomId: null, notes: i % 10 === 0 ? `note ${i}` : null, sampleRateHz: 200, createdAt: at,
    startedAt: i % 6 === 2 ? null : at, stoppedAt: i % 2 ? at : null, completedAt: i % 6 === 0 ? at : null,
    failureReason: i % 6 === 1 ? 'stopped before it started' : null, summary: i % 6 === 0 ? { count: i, boards: {} } : null,
  };
  const chunks: SampleChunk[] = [];
  if (i % 3 === 0) {
    for (const [b, deviceId] of boards.entries()) {
      for (let seq = 0; seq < 2 + (i % 3) + b; seq++) {
        const count = 1 + ((seq + i) % 4);
        chunks.push({ sessionId, deviceId, seq, startMs: seq * 100, rateHz: 200, count, data: Buffer.alloc(count * 24), receivedAt: at });
      }
    }
  }
  const finals = i % 5 === 0 ? [{ deviceId: boards[0]!, finalSeq: 2 + (i % 3) }] : [];
  return { row, chunks, finals };
}

function backend(name: string, open: (hooks: StoreHooks) => Promise<Store>, questions?: () => Promise<number>): void {
  describe(`list_sessions on ${name}`, () => {
    const queries: string[] = [];
    let counting = false;
    let store: Store;
    let sessions: SessionManager;
    const expected = new Map<string, { samples: number[]; frames: number[]; finals: (number | null)[] }>();

    before(async () => {
      store = await open({ onQuery: (sql) => counting && queries.push(sql) });
      for (let i = 0; i < SESSIONS; i++) {
        const f = fixture(i);
        await store.createSession(f.row);
        if (f.chunks.length) await store.insertChunks(f.chunks);
        for (const x of f.finals) await store.setFinalSeq(f.row.sessionId, x.deviceId, x.finalSeq, f.row.createdAt);
        expected.set(f.row.sessionId, {
          samples: f.row.boards.map((b) => f.chunks.filter((c) => c.deviceId === b).reduce((n, c) => n + c.count, 0)),
          frames: f.row.boards.map((b) => f.chunks.filter((c) => c.deviceId === b).length),
          finals: f.row.boards.map((b) => f.finals.find((x) => x.deviceId === b)?.finalSeq ?? null),
        });
      }
      const clock = new ManualClock(T0 + SESSIONS * 60_000);
      const deps = { store, clock, log: silentLogger, operators: { publish() {}, notifyAll() {} } };
      // Only what listing and create() touch; the rest of the gateway is not part of this test.
      sessions = new SessionManager(deps as unknown as ConstructorParameters<typeof SessionManager>[0], new IngestWriter(store, clock, silentLogger));
      await sessions.create({ boards: ['racket-live'], playerId: 'p-live' }); // open: listed with its live progress
    });
    after(async () => {
      await sessions?.writer.close();
      await store?.close();
    });

    const counted = async <T>(fn: () => Promise<T>): Promise<{ value: T; n: number; sql: string[] }> => {
      queries.length = 0;
      counting = true;
      try {
        const value = await fn();
        return { value, n: queries.length, sql: [...queries] };
      } finally {
        counting = false;
      }
    };

    test(`a page of ${SESSIONS} sessions takes 3 queries and equals one get per session`, async () => {
      const page = await counted(() => sessions.list({ limit: SESSIONS }));
      assert.equal(page.value.length, SESSIONS);
      assert.equal(page.n, 3, `queries: ${page.sql.join(' | ')}`);
      console.log(`${name}: list_sessions of ${SESSIONS} sessions: ${page.n} queries`);

      const one = await counted(async () => {
        const out = [];
        for (const s of page.value) out.push(await sessions.get(s.session_id));
        return out;
      });
      assert.ok(one.n >= 3 * (SESSIONS - 1), `one get per session costs ${one.n} queries`);
      console.log(`${name}: the same page by one get per session: ${one.n} queries`);
      for (const [i, s] of page.value.entries()) {
        const g = one.value[i]!;
        assert.ok(g, `get ${s.session_id}`);
        assert.deepEqual(Object.keys(s), Object.keys(g), `${s.session_id}: same fields in the same order`);
        for (const k of Object.keys(g) as (keyof typeof g)[]) assert.deepEqual(s[k], g[k], `${s.session_id}.${k}`);
      }

      // Against what was written, not only against get: newest first, the live one on top.
      assert.equal(page.value[0]!.player_id, 'p-live');
      assert.deepEqual(page.value[0]!.progress.map((p) => [p.device_id, p.samples]), [['racket-live', 0]]);
      const stored = page.value.slice(1);
      assert.deepEqual(stored.map((s) => s.session_id), [...expected.keys()].reverse().slice(0, SESSIONS - 1));
      for (const s of stored) {
        const e = expected.get(s.session_id)!;
        assert.deepEqual(s.progress.map((p) => p.samples), e.samples, `${s.session_id} samples`);
        assert.deepEqual(s.progress.map((p) => p.frames), e.frames, `${s.session_id} frames`);
        assert.deepEqual(s.progress.map((p) => p.final_seq), e.finals, `${s.session_id} final seqs`);
      }
      assert.ok(stored.some((s) => s.progress.some((p) => p.samples > 0)) && stored.some((s) => s.progress.some((p) => p.final_seq !== null)));
    });

    test('the count stays constant: 200 rows, a search, a filter, and past 500 one more pair per 500 ids', async () => {
      const ui = await counted(() => sessions.list({ limit: 200 }));
      assert.equal(ui.value.length, 200);
      assert.equal(ui.n, 3);
      const search = await counted(() => sessions.list({ search: 'note', limit: 200 }));
      assert.equal(search.value.length, SESSIONS / 10);
      assert.ok(search.value.every((s) => s.notes?.startsWith('note ')));
      assert.equal(search.n, 3);
      const none = await counted(() => sessions.list({ search: 'nothing matches this', limit: 200 }));
      assert.deepEqual([none.value, none.n], [[], 1]);
      const done = await counted(() => sessions.list({ state: 'complete', limit: 500 }));
      assert.equal(done.value.length, Math.ceil(SESSIONS / STATES.length));
      assert.equal(done.n, 3);
      const all = await counted(() => store.listSessionSummaries());
      assert.equal(all.value.length, SESSIONS + 1);
      assert.equal(all.n, 5, 'ids go 500 to an IN list');
    });

    if (questions) {
      test('MariaDB counts the same: its Questions counter moves by the 3 statements of one list call', async () => {
        await sessions.list({ limit: SESSIONS }); // warm: pooled connections open, statements prepared
        // The counter is server-wide and other clients only add to it: the smallest of a few tries bounds ours.
        let least = Infinity;
        for (let i = 0; i < 10 && least > 3; i++) {
          const before = await questions();
          await sessions.list({ limit: SESSIONS });
          least = Math.min(least, (await questions()) - before - 1); // minus the second SHOW STATUS itself
        }
        console.log(`${name}: MariaDB Questions for one list_sessions of ${SESSIONS}: ${least}`);
        assert.equal(least, 3);
      });
    }

    test('closed through completion: the page reads the kept counts, sums no chunk, and still equals get', async () => {
      const want = new Map<string, { samples: number[]; frames: number[]; last: (number | null)[] }>();
      for (let i = 0; i < 30; i++) {
        const sessionId = `z-${String(i).padStart(2, '0')}`;
        const boards = [`closed-${i}`, `closed-${i}-b`];
        const at = new Date(T0 + (SESSIONS + 10 + i) * 60_000);
        await store.createSession({ sessionId, state: 'uploading', boards, playerId: 'p-closed', court: null, roomId: null, notes: null, sampleRateHz: 200, createdAt: at, startedAt: at, stoppedAt: at, completedAt: null, failureReason: null, summary: null });
        const chunks: SampleChunk[] = [];
        for (let seq = 0; seq < i % 5; seq++) chunks.push({ sessionId, deviceId: boards[0]!, seq: seq * 2, startMs: seq * 100, rateHz: 200, count: 3 + seq, data: Buffer.alloc((3 + seq) * 24), receivedAt: at });
        if (chunks.length) await store.insertChunks(chunks);
        if (i % 2) await store.setFinalSeq(sessionId, boards[0]!, 7, at);
        await store.updateSession(sessionId, { state: i % 3 ? 'complete' : 'failed', completedAt: at });
        want.set(sessionId, {
          samples: [chunks.reduce((n, c) => n + c.count, 0), 0], frames: [chunks.length, 0], last: [chunks.length ? chunks.at(-1)!.seq : null, null],
        });
      }
      const page = await counted(() => sessions.list({ limit: 31 }));
      assert.equal(page.n, 3, `queries: ${page.sql.join(' | ')}`);
      // Only the open session (the live one on top) sums its chunks.
      assert.ok(page.sql.some((q) => /FROM sample_chunks WHERE session_id IN \(\?\) GROUP/.test(q)), `one open session's chunk sums: ${page.sql.join(' | ')}`);
      // Newer than everything else: the 30 first, then the live session.
      const closed = page.value.slice(0, 30);
      assert.equal(page.value[30]!.player_id, 'p-live');
      assert.deepEqual(closed.map((s) => s.session_id), [...want.keys()].reverse());
      for (const s of closed) {
        const e = want.get(s.session_id)!;
        assert.deepEqual(s.progress.map((p) => p.samples), e.samples, `${s.session_id} samples`);
        assert.deepEqual(s.progress.map((p) => p.frames), e.frames, `${s.session_id} frames`);
        assert.deepEqual(s.progress.map((p) => p.last_seq), e.last, `${s.session_id} last seq`);
        assert.deepEqual(s, await sessions.get(s.session_id), `${s.session_id}: as get gives it`);
      }
      // Open and closed sessions in one page: kept counts and sums in one statement.
      const mixed = await counted(() => sessions.list({ limit: 200 }));
      assert.equal(mixed.n, 3);
      for (const s of mixed.value) assert.deepEqual(s, await sessions.get(s.session_id), `${s.session_id}: as get gives it`);
      // The live session's id is random: the rest is the same data on both backends.
      pages.set(name, mixed.value.filter((s) => s.player_id !== 'p-live'));
    });
  });
}

/** The closed-session pages each backend gave, compared once both ran. */
const pages = new Map<string, unknown[]>();

backend('SQLite', (hooks) => openSqliteStore(':memory:', hooks));

let db: FreshMysql | undefined;
let admin: mysql.Connection | undefined;
after(async () => {
  await admin?.end();
  await db?.drop();
});
backend(
  'MariaDB',
  async (hooks) => {
    db = await freshMysqlUrl();
    const t = parseMysqlUrl(db.url);
    admin = await mysql.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password });
    return openMysqlStore(db.url, hooks);
  },
  async () => {
    const [rows] = await admin!.query("SHOW GLOBAL STATUS LIKE 'Questions'");
    return Number((rows as { Value: string }[])[0]!.Value);
  },
);

test('SQLite and MariaDB give the same pages for the same sessions', () => {
  assert.equal(pages.size, 2);
  const [a, b] = [...pages.values()];
  assert.equal(a!.length, 199);
  assert.deepEqual(a, b);
});
