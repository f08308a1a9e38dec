/**
 * A session as the shared database tells it, for gateways of a fleet: a board may have been
 * recorded by another gateway so far (it reconnected here, or the session was started
 * elsewhere), so what this gateway holds in memory is completed from the rows every gateway
 * writes: stored seqs, the board's final seq, and the acks of its start and stop commands.
 */
import type { SessionRow, Store, SessionState } from '../store/types.js';
import type { BoardProgress } from './json.js';
import type { BoardFeed } from './feed.js';

/** Order of session states: a row read from the store never moves a session back. */
const RANK: Record<SessionState, number> = { created: 0, recording: 1, uploading: 2, analyzing: 3, complete: 4, failed: 4 };

export function isForward(from: SessionState, to: SessionState): boolean {
  return RANK[to] >= RANK[from];
}

/** Adds what the store holds of one board's part in the session (seqs, counts, final seq). */
export async function boardFromStore(store: Store, sessionId: string, b: BoardProgress): Promise<void> {
  for (const seq of await store.chunkSeqs(sessionId, b.deviceId)) {
    b.accepted.add(seq);
    b.durable.add(seq);
  }
  const stats = (await store.chunkStats(sessionId)).find((x) => x.deviceId === b.deviceId);
  b.frames = Math.max(b.frames, b.durable.size);
  b.samples = Math.max(b.samples, stats?.samples ?? 0);
  b.lastSeq = Math.max(b.lastSeq ?? -1, stats?.maxSeq ?? -1);
  if (b.lastSeq < 0) b.lastSeq = null;
  if (b.finalSeq === null) {
    const f = (await store.finalSeqs(sessionId)).find((x) => x.deviceId === b.deviceId);
    if (f) b.finalSeq = f.finalSeq;
  }
}

interface SessionCommand {
  commandId: string;
  command: string;
  acked: boolean;
  ok: boolean;
}

/** The session's start_collection and stop_collection to the board, newest first, as stored. */
async function sessionCommands(store: Store, sessionId: string, deviceId: string): Promise<SessionCommand[]> {
  const rows = await store.listCommands({ deviceId, limit: 200 });
  return rows
    .filter((c) => (c.command === 'start_collection' || c.command === 'stop_collection') && (c.params as { session_id?: unknown } | null)?.session_id === sessionId)
    .map((c) => ({ commandId: c.commandId, command: c.command, acked: c.state === 'acked', ok: (c.result as { ok?: unknown } | null)?.ok !== false }));
}

/** The feed of a board whose commands another gateway sent (or that this one sent before a restart). */
export async function feedFromStore(store: Store, sessionId: string, deviceId: string, feed: BoardFeed, state: SessionState): Promise<void> {
  const cmds = await sessionCommands(store, sessionId, deviceId);
  const start = cmds.find((c) => c.command === 'start_collection');
  const stop = cmds.find((c) => c.command === 'stop_collection');
  feed.startCommand ??= start?.commandId ?? null;
  feed.stopCommand ??= stop?.commandId ?? null;
  // Not sent yet (the starting gateway is between the row and the command): not started.
  if (start?.acked) feed.started = feed.started || start.ok;
  if (stop?.acked && stop.ok && state === 'uploading') feed.stopped = true;
  // The end of its recording is not known here: gaps are taken up to the final seq only.
  feed.endMs = Infinity;
}

/** The session manager's tables, as a refresh from the store changes them. */
export interface SessionTables<S extends { row: SessionRow; boards: Map<string, BoardProgress>; feeds: Map<string, BoardFeed>; analyzing: Promise<void> | null }> {
  live: Map<string, S>;
  activeByBoard: Map<string, string>;
  track(row: SessionRow): S;
  checkComplete(s: S): void;
  noteClosed(sessionId: string): void;
}

/**
 * A fleet: another gateway changed the session (null: every open session, after events may
 * have been lost). The row is read again; a session new here is tracked with what the store
 * holds of each board; one that closed elsewhere lets its boards go.
 */
export async function refreshFromStore<S extends { row: SessionRow; boards: Map<string, BoardProgress>; feeds: Map<string, BoardFeed>; analyzing: Promise<void> | null }>(
  store: Store,
  t: SessionTables<S>,
  sessionId: string | null,
): Promise<void> {
  const rows = sessionId === null ? await store.openSessions() : [await store.getSession(sessionId)];
  if (sessionId === null) {
    const open = new Set(rows.map((r) => r!.sessionId));
    for (const id of t.live.keys()) if (!open.has(id)) rows.push(await store.getSession(id));
  }
  for (const row of rows) {
    if (!row) continue;
    const open = row.state !== 'complete' && row.state !== 'failed';
    let s = t.live.get(row.sessionId);
    if (!open) t.noteClosed(row.sessionId);
    if (!s) {
      if (!open) continue;
      s = t.track(row);
      for (const b of s.boards.values()) {
        await boardFromStore(store, row.sessionId, b);
        await feedFromStore(store, row.sessionId, b.deviceId, s.feeds.get(b.deviceId)!, row.state);
      }
    } else if (!s.analyzing && isForward(s.row.state, row.state)) {
      Object.assign(s.row, row);
      if (row.state === 'uploading') {
        // Stop commands another gateway sent and this board acked before it came here.
        for (const [id, feed] of s.feeds) if (!feed.stopped) await feedFromStore(store, row.sessionId, id, feed, row.state);
      }
    }
    if (s.analyzing) continue;
    const state = s.row.state;
    if (state === 'recording' || state === 'uploading') for (const id of s.row.boards) t.activeByBoard.set(id, s.row.sessionId);
    else for (const id of s.row.boards) if (t.activeByBoard.get(id) === s.row.sessionId) t.activeByBoard.delete(id);
    if (state === 'complete' || state === 'failed') t.live.delete(s.row.sessionId);
    if (state === 'uploading') t.checkComplete(s);
  }
}
