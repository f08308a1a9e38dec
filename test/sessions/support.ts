/**
 * Helpers shared by the session durability tests: the operator HTTP API as a
 * few calls, a recorder of what boards saw acked, and the one check every
 * test ends with (what the store holds against what the boards produced).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { VirtualBoard } from '../../main/simulator/board.js';
import type { Store } from '../../main/gateway/store/types.js';
import { waitFor as waitUntil } from '../support/wait.js';

/** A port free right now on 127.0.0.1 (for a gateway that must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a truthy value; the error names what was awaited. A thrown error
 * keeps the poll going (a gateway between lives refuses connections). The session tests'
 * argument order over test/support/wait.ts's `waitFor`.
 */
export function waitFor<T>(what: string, fn: () => T | Promise<T>, ms: number, everyMs = 25): Promise<NonNullable<T>> {
  return waitUntil(fn, { what, timeoutMs: ms, everyMs });
}

export interface SessionJsonLike {
  session_id: string;
  state: string;
  summary: { count: number; boards: Record<string, { samples: number; incomplete: boolean }> } | null;
  progress: { device_id: string; samples: number; frames: number; final_seq: number | null; complete: boolean }[];
}

/** The operator HTTP API of a gateway at `base` (http://127.0.0.1:port). */
export function operatorApi(base: string, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    async create(boards: string[], sampleRateHz = 200): Promise<string> {
      const r = await call('POST', '/api/sessions', { boards, sample_rate_hz: sampleRateHz, player_id: 'player-1' });
      return (r.session as SessionJsonLike).session_id;
    },
    start: async (id: string) => (await call('POST', `/api/sessions/${id}/start`)).session as SessionJsonLike,
    stop: async (id: string) => (await call('POST', `/api/sessions/${id}/stop`)).session as SessionJsonLike,
    get: async (id: string) => (await call('GET', `/api/sessions/${id}`)) as { session: SessionJsonLike; strokes: unknown[] },
    /** Waits for complete (failed ends the wait with an error). */
    async complete(id: string, ms: number) {
      return waitFor(`session ${id} complete`, async () => {
        const r = await this.get(id);
        if (r.session.state === 'failed') throw new Error(`session failed: ${JSON.stringify(r.session)}`);
        return r.session.state === 'complete' ? r : null;
      }, ms, 100);
    },
  };
}

/** Per board: seqs the gateway acked with stored:true for the session, and ack count while a flag is set. */
export class AckRecorder {
  readonly acked = new Map<string, Set<number>>();
  /** Every stored:true ack with the time it arrived (for "no ack while X"). */
  readonly times: number[] = [];
  /** upload_complete's last_seq, as echoed in upload_ack. */
  readonly finalSeq = new Map<string, number>();
  sessionId: string | null = null;

  constructor(boards: VirtualBoard[]) {
    for (const b of boards) {
      this.acked.set(b.deviceCode, new Set());
      b.on('frame', (m) => {
        if (this.sessionId === null || m.session_id !== this.sessionId) return;
        if (m.type === 'data_ack' && m.stored === true) {
          this.acked.get(b.deviceCode)!.add(Number(m.seq));
          this.times.push(Date.now());
        } else if (m.type === 'upload_ack') {
          this.finalSeq.set(b.deviceCode, Number(m.last_seq));
        }
      });
    }
  }

  count(): number {
    let n = 0;
    for (const s of this.acked.values()) n += s.size;
    return n;
  }

  minPerBoard(): number {
    return Math.min(...[...this.acked.values()].map((s) => s.size));
  }
}

/**
 * The durability promise, checked on the store itself: for every board, the
 * stored seqs are exactly 0..final (no gap, none twice), every acked seq is
 * among them, and the stored samples are all the board produced.
 */
export async function assertAllStored(store: Store, sessionId: string, boards: VirtualBoard[], rec: AckRecorder): Promise<{ samples: number; frames: number }> {
  const stats = new Map((await store.chunkStats(sessionId)).map((s) => [s.deviceId, s]));
  const finals = new Map((await store.finalSeqs(sessionId)).map((f) => [f.deviceId, f.finalSeq]));
  let samples = 0;
  let frames = 0;
  for (const b of boards) {
    const id = b.deviceCode;
    const seqs = await store.chunkSeqs(sessionId, id);
    const final = finals.get(id);
    assert.ok(final !== undefined && final >= 0, `${id}: no final seq stored`);
    assert.equal(rec.finalSeq.get(id), final, `${id}: the board's upload_complete last_seq and the stored final seq differ`);
    // Exactly once, no gap: the list is 0, 1, ..., final.
    assert.equal(seqs.length, final + 1, `${id}: ${seqs.length} chunks stored for seqs 0..${final}`);
    for (let i = 0; i < seqs.length; i++) if (seqs[i] !== i) assert.fail(`${id}: stored seqs have a gap or a repeat at index ${i} (seq ${seqs[i]})`);
    const stored = new Set(seqs);
    const lost = [...rec.acked.get(id)!].filter((s) => !stored.has(s));
    assert.deepEqual(lost, [], `${id}: acked seqs missing from the store`);
    const st = stats.get(id);
    assert.ok(st, `${id}: no chunk stats`);
    assert.equal(st.frames, final + 1, `${id}: frame count`);
    // streamAlways is false and there is one session, so the board's totals are this session's.
    assert.equal(st.samples, b.stats.samples, `${id}: stored samples vs samples the board produced`);
    assert.equal(b.stats.dataFrames, final + 1, `${id}: frames the board produced vs its final seq + 1`);
    assert.equal(b.stats.dropped, 0, `${id}: the board dropped unacked frames (its buffer overflowed)`);
    samples += st.samples;
    frames += st.frames;
  }
  return { samples, frames };
}

/** The summary of a complete session covers every board with all its samples. */
export function assertSummary(session: SessionJsonLike, strokes: unknown[], samplesByBoard: Map<string, number>): void {
  assert.equal(session.state, 'complete');
  const summary = session.summary;
  assert.ok(summary, 'a complete session has a summary');
  for (const [id, n] of samplesByBoard) {
    const b: { samples: number; incomplete: boolean } | undefined = summary.boards[id];
    assert.ok(b, `summary has board ${id}`);
    assert.equal(b.samples, n, `summary samples of ${id}`);
    assert.equal(b.incomplete, false, `${id} analysed as incomplete`);
  }
  assert.equal(summary.count, strokes.length, 'summary count vs strokes listed');
  assert.ok(strokes.length > 0, 'the swings in the recording were found as strokes');
}
