/**
 * The ingest writer's callbacks (what a frame's ack waits on instead of a promise): each is
 * called once, only after its chunk is committed (read back through a connection of its own),
 * after the batch's progress; a failure reaches every waiting frame; `durable` still works as a
 * promise for those who ask for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../main/gateway/store/sqlite.js';
import { IngestWriter } from '../../main/gateway/sessions/ingest.js';
import { StoredFrame } from '../../main/gateway/samples.js';
import { silentLogger } from '../../main/gateway/log.js';
import { systemClock } from '../../main/gateway/clock.js';
import type { SampleChunk } from '../../main/gateway/store/types.js';

const chunk = (deviceId: string, seq: number): SampleChunk => ({
  sessionId: 's-cb', deviceId, seq, startMs: seq * 10, rateHz: 100, count: 1, data: Buffer.alloc(24, seq & 0xff), receivedAt: new Date(1_700_000_000_000),
});

test('each frame hears once, after its commit and its batch progress, in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-stored-frame-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cb.sqlite');
  const store = await openSqliteStore(file);
  const reader = new Database(file, { readonly: true });
  const has = reader.prepare('SELECT COUNT(*) FROM sample_chunks WHERE device_id = ? AND seq = ?').pluck();
  const writer = new IngestWriter(store, systemClock, silentLogger);
  const progressed = new Set<string>();
  writer.onWritten = (chunks) => {
    for (const c of chunks) progressed.add(`${c.deviceId}/${c.seq}`);
  };
  try {
    const heard: string[] = [];
    const problems: string[] = [];
    const frames: StoredFrame[] = [];
    for (let seq = 0; seq < 40; seq++) {
      for (const board of ['a', 'b', 'c']) {
        const key = `${board}/${seq}`;
        const f = new StoredFrame('s-cb');
        frames.push(f);
        f.onDurable(() => {
          heard.push(key);
          if (has.get(board, seq) !== 1) problems.push(`${key} acked before it was committed`);
          if (!progressed.has(key)) problems.push(`${key} acked before its progress`);
        }, (err) => problems.push(`${key} failed: ${String(err)}`));
        writer.add(chunk(board, seq), f);
      }
      if (seq % 5 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await writer.flushed();
    await Promise.all(frames.map((f) => f.durable));
    assert.deepEqual(problems, []);
    assert.equal(heard.length, 120);
    assert.equal(new Set(heard).size, 120);
    // Per board in seq order.
    for (const board of ['a', 'b', 'c']) assert.deepEqual(heard.filter((k) => k.startsWith(`${board}/`)), Array.from({ length: 40 }, (_, i) => `${board}/${i}`));
    // Settled frames answer late listeners at once, the same way.
    let late = 0;
    frames[0]!.onDurable(() => late++, () => {});
    assert.equal(late, 1);
  } finally {
    reader.close();
    await writer.close();
    await store.close();
  }
});

test('a writer closing with frames still queued: each hears the error, the promise rejects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-stored-frame-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openSqliteStore(join(dir, 'closed.sqlite'));
  // Every write fails (the store is gone): the writer keeps the chunks and retries until closed.
  await store.close();
  const writer = new IngestWriter(store, systemClock, silentLogger, { retryMs: 5 });
  const errors: string[] = [];
  const f = new StoredFrame('s-cb');
  f.onDurable(() => errors.push('acked'), (err) => errors.push((err as Error).message));
  writer.add(chunk('a', 0), f);
  await new Promise((r) => setTimeout(r, 30));
  // close() waits on an unreferenced timer (a gateway's exit does not wait for it): keep the test alive.
  const alive = setInterval(() => {}, 1000);
  await writer.close(10).finally(() => clearInterval(alive));
  assert.deepEqual(errors, ['gateway shutting down']);
  await assert.rejects(f.durable, /gateway shutting down/);
  const after = new StoredFrame('s-cb');
  writer.add(chunk('a', 1), after);
  await assert.rejects(after.durable, /ingest writer is closed/);
});

test('listeners hear in order, each on its own: one that throws fails unhandled, the rest still hear', (t) => {
  const rethrown: unknown[] = [];
  // What the frame hands on to fail unhandled, caught here instead of by the runner.
  t.mock.method(globalThis, 'queueMicrotask', (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      rethrown.push(e);
    }
  });
  const f = new StoredFrame('s-cb');
  const heard: string[] = [];
  f.onDurable(() => { heard.push('1'); throw new Error('a broken listener'); }, () => heard.push('1 failed'));
  for (const n of ['2', '3', '4']) f.onDurable(() => heard.push(n), () => heard.push(`${n} failed`));
  f.written(null);
  f.written(new Error('late'));
  f.onDurable(() => heard.push('5'), () => heard.push('5 failed'));
  assert.deepEqual(heard, ['1', '2', '3', '4', '5']);
  assert.deepEqual(rethrown.map((e) => (e as Error).message), ['a broken listener']);
  const g = new StoredFrame('s-cb');
  const told: unknown[] = [];
  g.onDurable(() => told.push('ok'), (e) => told.push(e));
  const boom = new Error('disk gone');
  g.written(boom);
  g.onDurable(() => told.push('ok'), (e) => told.push(e));
  assert.deepEqual(told, [boom, boom]);
});
