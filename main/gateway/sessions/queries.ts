/** The read side of sessions: one session, a page of the list, a player's newest. */
import type { SessionState } from '../store/types.js';
import type { SessionFleet } from '../fleet/hooks.js';
import type { SessionDeps } from './manager.js';
import type { LiveSession } from './live.js';
import { progressFrom, sessionJson, storedProgress } from './json.js';
import { boardFromStore } from './shared.js';

export type SessionJson = ReturnType<typeof sessionJson>;

export interface SessionReads {
  ctx: SessionDeps;
  fleet: SessionFleet | null;
  live: Map<string, LiveSession>;
}

/** An open session with live progress, else the stored row. */
export async function getSession(r: SessionReads, sessionId: string): Promise<SessionJson | null> {
  const s = r.live.get(sessionId);
  // In a fleet, boards on other gateways store what this one never sees.
  if (s && r.fleet) for (const b of s.boards.values()) await boardFromStore(r.ctx.store, sessionId, b);
  if (s) return sessionJson(s.row, s.boards);
  const row = await r.ctx.store.getSession(sessionId);
  if (!row) return null;
  return sessionJson(row, await storedProgress(r.ctx, row));
}

/**
 * A page of the session list, each as `get` gives it, newest first: three
 * queries for the page (store.listSessionSummaries), not three per session.
 */
export async function listSessions(r: SessionReads, opts: { search?: string; state?: SessionState; limit?: number } = {}): Promise<SessionJson[]> {
  const page = await r.ctx.store.listSessionSummaries(opts);
  return page.map(({ row, chunks, finals }) => {
    const s = r.live.get(row.sessionId);
    return s ? sessionJson(s.row, s.boards) : sessionJson(row, progressFrom(row, chunks, finals));
  });
}

/** For the player's session_status: the session asked for, else their newest. */
export async function sessionForPlayer(r: SessionReads, playerId: string, sessionId?: string): Promise<SessionJson | null> {
  if (sessionId) {
    const s = await getSession(r, sessionId);
    return s && s.player_id === playerId ? s : null;
  }
  for (const s of r.live.values()) if (s.row.playerId === playerId) return sessionJson(s.row, s.boards);
  const [mine] = await r.ctx.store.listSessions({ playerId, limit: 1 });
  return mine ? getSession(r, mine.sessionId) : null;
}
