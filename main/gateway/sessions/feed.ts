/**
 * Which frames without a session id belong to a board's session.
 *
 * A board numbers its frames from 0 when `start_collection` names a session
 * and stops doing so at `stop_collection`; around that it may stream live
 * frames with another numbering. A frame that names its session is filed
 * under it. A frame that does not (binary frames never do) belongs to the
 * session only when the board is in it, and the only moment the gateway
 * knows that is the board's `command_ack`: frames are read in order, so what
 * arrives after the ack of start_collection was sent after the board
 * switched, and what arrived before was live. Without this a live frame in
 * flight at the start, or one the board sends again after a reconnect, lands
 * in the session with a seq from the live numbering and a time from before
 * the start (an export that goes back in time, last_seq past final_seq).
 *
 * After the ack of stop_collection only the gaps of the session still come
 * in without an id (the seqs a resend asked for), never past the session's
 * last sample.
 */
import type { IncomingBatch } from '../samples.js';

export interface BoardFeed {
  /** Command ids of this session's start_collection and stop_collection to the board. */
  startCommand: string | null;
  stopCommand: string | null;
  /** The board acked start (ok) / stop. */
  started: boolean;
  stopped: boolean;
  /** End (board clock, ms) of the last live frame seen before the start ack: earlier frames are never the session's. */
  liveUntilMs: number;
  /** End of the latest frame stored for the session. */
  endMs: number;
}

export function newFeed(): BoardFeed {
  return { startCommand: null, stopCommand: null, started: false, stopped: false, liveUntilMs: -Infinity, endMs: -Infinity };
}

/** Time just past a frame's last sample, in the board's clock. */
export function frameEndMs(b: Pick<IncomingBatch, 'startMs' | 'rateHz' | 'samples'>): number {
  return b.startMs + (b.rateHz > 0 ? (b.samples.length * 1000) / b.rateHz : 0);
}

/**
 * Why a frame without a session id is not the session's (null: it is).
 * `accepted` tells whether the session already holds a seq, `finalSeq` is the
 * board's reported last seq once known.
 */
export function idlessRefusal(
  feed: BoardFeed,
  b: IncomingBatch,
  sessionId: string,
  accepted: (seq: number) => boolean,
  finalSeq: number | null,
): string | null {
  if (!feed.started) return `board ${b.deviceId} has not confirmed start_collection for session ${sessionId}`;
  if (b.startMs < feed.liveUntilMs) return `frame from before session ${sessionId} started`;
  if (feed.stopped) {
    const gap = b.seq !== null && !accepted(b.seq) && (finalSeq === null || b.seq <= finalSeq) && b.startMs <= feed.endMs;
    if (!gap) return `board ${b.deviceId} stopped recording session ${sessionId}`;
  }
  return null;
}
