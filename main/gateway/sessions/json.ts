/** The session object every answer and event carries (firmware-protocol/sessions.ts `SessionJson`). */
import type { LiveStroke, SessionJson } from '../../../firmware-protocol/index.js';
import type { ChunkStats, SessionRow, Store } from '../store/types.js';
import { SeqSet, type Seqs } from './seq-set.js';

export interface BoardProgress {
  deviceId: string;
  /** Seqs received and queued or written (for gap checks). */
  accepted: Seqs;
  /** Seqs on disk (for progress). */
  durable: Seqs;
  frames: number;
  samples: number;
  finalSeq: number | null;
  /** Highest seq on disk. */
  lastSeq?: number | null;
  /** While recording: strokes found so far (live-strokes.ts) and the newest. */
  liveStrokes?: number;
  lastStroke?: LiveStroke | null;
}

/** Who holds a board of the session: the one `board_players` names, else the session's player (null: nobody named). */
export function playerOfBoard(row: Pick<SessionRow, 'playerId' | 'boardPlayers'>, deviceId: string): string | null {
  return row.boardPlayers?.[deviceId] ?? row.playerId;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** At most this many missing seqs are listed per board; the count is what an operator needs. */
const MISSING_LISTED = 50;

export function sessionJson(row: SessionRow, boards: Map<string, BoardProgress>): SessionJson {
  return {
    session_id: row.sessionId,
    state: row.state,
    boards: row.boards,
    player_id: row.playerId,
    ...(row.boardPlayers ? { board_players: row.boardPlayers } : {}),
    court: row.court,
    room_id: row.roomId,
    notes: row.notes,
    sample_rate_hz: row.sampleRateHz,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    stopped_at: iso(row.stoppedAt),
    completed_at: iso(row.completedAt),
    failure_reason: row.failureReason,
    progress: row.boards.map((id) => {
      const b = boards.get(id);
      // Only an open session knows its seqs; a closed one's progress comes from counts in the store.
      const open = row.state === 'recording' || row.state === 'uploading' || row.state === 'analyzing';
      const missing = b && open ? missingSeqs(b).slice(0, MISSING_LISTED) : [];
      const complete = !!b && b.finalSeq !== null && (row.state === 'complete' || (open && missingSeqs(b).length === 0));
      return {
        device_id: id,
        samples: b?.samples ?? 0,
        frames: b?.frames ?? 0,
        last_seq: b?.lastSeq ?? null,
        final_seq: b?.finalSeq ?? null,
        missing,
        complete,
        ...(b?.liveStrokes !== undefined && row.state === 'recording' ? { live_strokes: b.liveStrokes, last_stroke: b.lastStroke ?? null } : {}),
      };
    }),
    summary: row.summary ?? null,
  };
}

/** Seqs from 0 to the board's final seq that never arrived. */
export function missingSeqs(b: BoardProgress): number[] {
  if (b.finalSeq === null) return [];
  const out: number[] = [];
  for (let seq = 0; seq <= b.finalSeq; seq++) if (!b.accepted.has(seq)) out.push(seq);
  return out;
}


export async function storedProgress(ctx: { store: Store }, row: SessionRow): Promise<Map<string, BoardProgress>> {
  return progressFrom(row, await ctx.store.chunkStats(row.sessionId), await ctx.store.finalSeqs(row.sessionId));
}

/** A stored session's progress per board, from its chunk stats and final seqs. */
export function progressFrom(row: SessionRow, chunks: readonly ChunkStats[], finals: readonly { deviceId: string; finalSeq: number }[]): Map<string, BoardProgress> {
  const stats = new Map(chunks.map((s) => [s.deviceId, s]));
  const finalSeqs = new Map(finals.map((f) => [f.deviceId, f.finalSeq]));
  const out = new Map<string, BoardProgress>();
  for (const id of row.boards) {
    const st = stats.get(id);
    // Closed sessions: counts are what matters; the seq sets stay empty.
    out.set(id, { deviceId: id, accepted: new SeqSet(), durable: new SeqSet(), frames: st?.frames ?? 0, samples: st?.samples ?? 0, finalSeq: finalSeqs.get(id) ?? null, lastSeq: st?.maxSeq ?? null });
  }
  return out;
}
