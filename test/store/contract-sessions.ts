/**
 * The sessions part of the store contract: sessions, sample chunks (dedupe by
 * (session, device, seq), durable on resolve, paged reads), final seqs and
 * strokes. Run against both backends by sqlite.test.ts and mysql.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SampleChunk, SessionRow, Store } from '../../main/gateway/store/types.js';

export function chunkOf(sessionId: string, deviceId: string, seq: number, count = 3, base = seq): SampleChunk {
  const f = new Float32Array(count * 6);
  for (let i = 0; i < f.length; i++) f[i] = base + i / 8;
  return { sessionId, deviceId, seq, startMs: 1000 + seq * 10, rateHz: 200, count, data: Buffer.from(f.buffer), receivedAt: new Date(1_700_000_000_000 + seq) };
}

export function sessionOf(id: string, over: Partial<SessionRow> = {}): SessionRow {
  return {
    sessionId: id, state: 'created', boards: ['racket-1', 'racket-2'], playerId: 'player-7', court: 'Court 3', roomId: null, notes: 'warm-up 100%',
    sampleRateHz: 200, createdAt: new Date(1_700_000_000_000), startedAt: null, stoppedAt: null, completedAt: null, failureReason: null, summary: null, boardPlayers: null,
    ...over,
  };
}

export function sessionsContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract (sessions): ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(() => store.close());

    test('which player holds each board: stored, patched, cleared, and found by search', async () => {
      await store.createSession(sessionOf('s-bp', { boardPlayers: { 'racket-1': 'ana', 'racket-2': 'ben' }, playerId: null, notes: null }));
      assert.deepEqual((await store.getSession('s-bp'))?.boardPlayers, { 'racket-1': 'ana', 'racket-2': 'ben' });
      assert.deepEqual((await store.listSessions({ search: 'ben' })).map((s) => s.sessionId), ['s-bp']);
      await store.updateSession('s-bp', { boardPlayers: { 'racket-2': 'cleo' } });
      assert.deepEqual((await store.getSession('s-bp'))?.boardPlayers, { 'racket-2': 'cleo' });
      await store.updateSession('s-bp', { boardPlayers: null });
      assert.equal((await store.getSession('s-bp'))?.boardPlayers, null);
      assert.ok(await store.deleteSession('s-bp'));
    });

    test('create, get, update and list sessions (search escapes wildcards; newest first)', async () => {
      await store.createSession(sessionOf('s-a'));
      await store.createSession(sessionOf('s-b', { createdAt: new Date(1_700_000_001_000), playerId: 'player-9', notes: 'match', court: null }));
      const a = await store.getSession('s-a');
      assert.deepEqual(a, sessionOf('s-a'));
      await store.updateSession('s-a', { state: 'recording', startedAt: new Date(1_700_000_000_500) });
      await store.updateSession('s-a', { state: 'complete', completedAt: new Date(1_700_000_002_000), summary: { count: 3, countsByType: { smash: 3 } } });
      const done = await store.getSession('s-a');
      assert.equal(done?.state, 'complete');
      assert.equal(done?.startedAt?.getTime(), 1_700_000_000_500);
      assert.deepEqual(done?.summary, { count: 3, countsByType: { smash: 3 } });
      assert.deepEqual((await store.listSessions()).map((s) => s.sessionId).slice(0, 2), ['s-b', 's-a']);
      assert.deepEqual((await store.listSessions({ search: '100%' })).map((s) => s.sessionId), ['s-a']);
      assert.deepEqual((await store.listSessions({ search: '%' })).map((s) => s.sessionId), ['s-a']);
      assert.deepEqual((await store.listSessions({ search: 'racket-2', limit: 1 })).map((s) => s.sessionId), ['s-b']);
      assert.deepEqual((await store.listSessions({ state: 'complete' })).map((s) => s.sessionId), ['s-a']);
      assert.deepEqual((await store.listSessions({ playerId: 'player-9' })).map((s) => s.sessionId), ['s-b']);
      assert.deepEqual((await store.listSessions({ playerId: 'player' })).map((s) => s.sessionId), [], 'exact, not a substring');
      assert.deepEqual((await store.openSessions()).map((s) => s.sessionId), ['s-b']);
      assert.equal(await store.getSession('nope'), undefined);
    });

    test('claimSession: the patch applies only from the named state, once', async () => {
      await store.createSession(sessionOf('s-claim', { state: 'uploading' }));
      assert.equal(await store.claimSession('s-claim', 'recording', { state: 'analyzing' }), false);
      assert.equal((await store.getSession('s-claim'))?.state, 'uploading');
      const both = await Promise.all([store.claimSession('s-claim', 'uploading', { state: 'analyzing' }), store.claimSession('s-claim', 'uploading', { state: 'analyzing' })]);
      assert.deepEqual(both.sort(), [false, true], 'two gateways claiming at once: one wins');
      assert.equal((await store.getSession('s-claim'))?.state, 'analyzing');
      assert.equal(await store.claimSession('nope', 'uploading', { state: 'analyzing' }), false);
    });

    test('chunks: a duplicate (session, device, seq) is ignored, the count says how many were new', async () => {
      assert.equal(await store.insertChunks([chunkOf('s-c', 'r1', 0), chunkOf('s-c', 'r1', 1), chunkOf('s-c', 'r2', 0, 5)]), 3);
      assert.equal(await store.insertChunks([chunkOf('s-c', 'r1', 1, 3, 99), chunkOf('s-c', 'r1', 2)]), 1);
      assert.deepEqual(await store.chunkSeqs('s-c', 'r1'), [0, 1, 2]);
      const got = [];
      for await (const c of store.readChunks('s-c', { deviceId: 'r1' })) got.push(c);
      // The first copy of seq 1 wins: a resend never overwrites what was acked.
      assert.deepEqual(got[1], chunkOf('s-c', 'r1', 1));
      assert.deepEqual(await store.chunkStats('s-c'), [
        { deviceId: 'r1', frames: 3, samples: 9, maxSeq: 2 },
        { deviceId: 'r2', frames: 1, samples: 5, maxSeq: 0 },
      ]);
      assert.equal(await store.insertChunks([]), 0);
    });

    test('chunks read back in (device, seq) order across pages, byte for byte', async () => {
      const all: SampleChunk[] = [];
      for (const d of ['b-2', 'b-1', 'b-10']) for (let s = 0; s < 23; s++) all.push(chunkOf('s-p', d, s, 1 + (s % 4)));
      // Reversed and in one call with more rows than one multi-row insert.
      assert.equal(await store.insertChunks([...all].reverse()), all.length);
      const read: SampleChunk[] = [];
      for await (const c of store.readChunks('s-p', { pageSize: 7 })) read.push(c);
      const order = (c: SampleChunk) => `${c.deviceId}\u0000${String(c.seq).padStart(5, '0')}`;
      assert.deepEqual(read.map(order), all.map(order).sort());
      const byKey = new Map(all.map((c) => [order(c), c]));
      for (const c of read) assert.deepEqual(c, byKey.get(order(c)));
      const one: SampleChunk[] = [];
      for await (const c of store.readChunks('s-p', { deviceId: 'b-10', pageSize: 5 })) one.push(c);
      assert.deepEqual(one.map((c) => c.seq), Array.from({ length: 23 }, (_, i) => i));
    });

    test('a chunk whose data does not match its count is refused, nothing stored', async () => {
      const bad = { ...chunkOf('s-x', 'r1', 0), count: 4 };
      await assert.rejects(store.insertChunks([bad]), RangeError);
      await assert.rejects(store.insertChunks([{ ...chunkOf('s-x', 'r1', 1), seq: -1 }]), RangeError);
      assert.deepEqual(await store.chunkSeqs('s-x', 'r1'), []);
    });

    test('final seqs are kept per board and a later report replaces the earlier', async () => {
      await store.setFinalSeq('s-f', 'r1', 10, new Date());
      await store.setFinalSeq('s-f', 'r2', -1, new Date());
      await store.setFinalSeq('s-f', 'r1', 12, new Date());
      assert.deepEqual(await store.finalSeqs('s-f'), [{ deviceId: 'r1', finalSeq: 12 }, { deviceId: 'r2', finalSeq: -1 }]);
    });

    test('strokes are replaced as a whole and listed by device and index', async () => {
      const s = (deviceId: string, idx: number, type: string) => ({ sessionId: 's-s', deviceId, idx, tMs: 1000 * idx + 0.5, peakDps: 1500.25, speedKmh: 180.5, peakG: 9.75, saturated: idx === 1, type, confidence: 0.875 });
      await store.saveStrokes('s-s', [s('r2', 0, 'smash'), s('r1', 1, 'clear'), s('r1', 0, 'lift')]);
      assert.deepEqual((await store.listStrokes('s-s')).map((x) => [x.deviceId, x.idx, x.type, x.saturated]), [['r1', 0, 'lift', false], ['r1', 1, 'clear', true], ['r2', 0, 'smash', false]]);
      assert.deepEqual((await store.listStrokes('s-s'))[0], s('r1', 0, 'lift'));
      await store.saveStrokes('s-s', [s('r1', 0, 'drive')]);
      assert.deepEqual((await store.listStrokes('s-s')).map((x) => x.type), ['drive']);
      await store.saveStrokes('s-s', []);
      assert.deepEqual(await store.listStrokes('s-s'), []);
    });

    test('a session is deleted with its samples, final seqs and strokes, and nothing of another', async () => {
      for (const id of ['s-del', 's-keep']) {
        await store.createSession(sessionOf(id));
        await store.insertChunks([chunkOf(id, 'r1', 0), chunkOf(id, 'r1', 1)]);
        await store.setFinalSeq(id, 'r1', 1, new Date());
        await store.saveStrokes(id, [{ sessionId: id, deviceId: 'r1', idx: 0, tMs: 5, peakDps: 900, speedKmh: 90, peakG: 4, saturated: false, type: 'smash', confidence: 0.9 }]);
      }
      assert.equal(await store.deleteSession('s-del'), true);
      assert.equal(await store.getSession('s-del'), undefined);
      assert.deepEqual(await store.chunkStats('s-del'), []);
      assert.deepEqual(await store.finalSeqs('s-del'), []);
      assert.deepEqual(await store.listStrokes('s-del'), []);
      assert.equal(await store.deleteSession('s-del'), false);
      assert.equal((await store.getSession('s-keep'))?.sessionId, 's-keep');
      assert.equal((await store.chunkStats('s-keep'))[0]?.frames, 2);
      assert.equal((await store.listStrokes('s-keep')).length, 1);
    });

    test('a session closed by updateSession lists the chunk counts it had, kept apart from its chunks; deleted with it', async () => {
      await store.createSession(sessionOf('s-frozen', { state: 'uploading', createdAt: new Date(1_800_000_000_000) }));
      await store.insertChunks([chunkOf('s-frozen', 'racket-1', 0, 4), chunkOf('s-frozen', 'racket-1', 2, 5), chunkOf('s-frozen', 'racket-2', 1)]);
      const open = (await store.listSessionSummaries({ search: 's-frozen' }))[0]!.chunks;
      assert.deepEqual(open, [{ deviceId: 'racket-1', frames: 2, samples: 9, maxSeq: 2 }, { deviceId: 'racket-2', frames: 1, samples: 3, maxSeq: 1 }]);
      await store.updateSession('s-frozen', { state: 'complete', completedAt: new Date(1_800_000_060_000) });
      // A chunk written after completion (never, through the gateway) shows the list reads the kept counts.
      await store.insertChunks([chunkOf('s-frozen', 'racket-2', 5)]);
      assert.deepEqual((await store.listSessionSummaries({ search: 's-frozen' }))[0]!.chunks, open);
      assert.equal((await store.chunkStats('s-frozen')).find((c) => c.deviceId === 'racket-2')!.frames, 2);
      // Failed through claimSession too; a session without chunks keeps none.
      await store.createSession(sessionOf('s-frozen-2', { state: 'analyzing', createdAt: new Date(1_800_000_000_000) }));
      assert.equal(await store.claimSession('s-frozen-2', 'analyzing', { state: 'failed' }), true);
      assert.deepEqual((await store.listSessionSummaries({ search: 's-frozen-2' }))[0]!.chunks, []);
      assert.equal(await store.deleteSession('s-frozen'), true);
      await store.createSession(sessionOf('s-frozen', { state: 'uploading', createdAt: new Date(1_800_000_000_000) }));
      assert.deepEqual((await store.listSessionSummaries({ search: 's-frozen' })).find((x) => x.row.sessionId === 's-frozen')!.chunks, []);
    });

    test('queued messages keep whether their content was JSON', async () => {
      const id = await store.insertMessage({ roomId: 'R1', fromDeviceId: 'a', toDeviceId: 'b', messageType: 'direct', content: '{"x":1}', sentAt: new Date(), status: 'queued', contentJson: true });
      const plain = await store.insertMessage({ roomId: 'R1', fromDeviceId: 'a', toDeviceId: 'b', messageType: 'direct', content: '{"x":1}', sentAt: new Date(), status: 'queued' });
      const q = await store.queuedMessagesFor('b');
      assert.deepEqual(q.filter((m) => m.id === id || m.id === plain).map((m) => m.contentJson), [true, false]);
    });
  });
}
