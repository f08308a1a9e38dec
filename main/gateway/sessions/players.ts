/**
 * Players, read from the sessions that name them: a board's player is the
 * one the session assigns it to (`board_players`), else the session's
 * player. `list_players` gathers every name with counts from the stored
 * summaries; `get_player` gives one player's sessions with the figures of
 * their own boards only (strokes with the coaches' corrections laid over),
 * which is what trends over sessions and a side-by-side comparison need.
 */
import {
  PlayerOperatorFrames,
  type PlayerFiguresJson,
  type PlayerSessionJson,
  type PlayerSummaryJson,
} from '../../../firmware-protocol/index.js';
import type { Core } from '../core.js';
import { gatewayError } from '../errors.js';
import { answer, defineRequest, type RequestTable } from '../parts.js';
import type { SessionRow } from '../store/types.js';
import { median } from './analysis/detect.js';
import { OUTCOMES } from './analysis/types.js';
import { profileJson, sessionStrokes } from './corrections-part.js';
import { playerOfBoard } from './json.js';

/** Sessions read for the list of players (newest first). */
const LIST_SCAN = 5000;

/** Board -> player for boards of the session only (an empty one is no assignment). */
export function checkedBoardPlayers(boards: readonly string[], given: Record<string, string>): Record<string, string> | null {
  const stray = Object.keys(given).filter((id) => !boards.includes(id));
  if (stray.length) throw gatewayError('BAD_REQUEST', `board_players names ${stray.join(', ')}, not in the session's boards (${boards.join(', ')})`);
  return Object.keys(given).length ? { ...given } : null;
}

export { playerOfBoard };

function boardsOf(row: SessionRow, playerId: string): string[] {
  return row.boards.filter((id) => playerOfBoard(row, id) === playerId);
}

type BoardSummary = { count?: number; max_speed_kmh?: number; duration_s?: number };
const boardSummaries = (row: SessionRow): Record<string, BoardSummary> =>
  ((row.summary as { boards?: Record<string, BoardSummary> } | null)?.boards ?? {});

const round1 = (x: number) => Math.round(x * 10) / 10;

export function playerRequests(core: Core): RequestTable {
  const { store } = core;

  const figures = async (row: SessionRow, boards: readonly string[]): Promise<PlayerFiguresJson | null> => {
    if (row.state !== 'complete') return null;
    const mine = (await sessionStrokes(store, row.sessionId)).strokes.filter((s) => boards.includes(s.device_id));
    const per = boardSummaries(row);
    const durationS = Math.max(0, ...boards.map((b) => per[b]?.duration_s ?? 0));
    const speeds = mine.map((s) => s.speed_kmh);
    const counts = Object.fromEntries(OUTCOMES.map((t) => [t, 0])) as PlayerFiguresJson['counts_by_type'];
    for (const s of mine) if (s.type in counts) counts[s.type as keyof typeof counts]++;
    return {
      count: mine.length,
      duration_s: durationS,
      strokes_per_minute: durationS > 0 ? round1(mine.length / (durationS / 60)) : 0,
      max_speed_kmh: speeds.length ? Math.max(...speeds) : null,
      median_speed_kmh: speeds.length ? median(speeds) : null,
      counts_by_type: counts,
    };
  };

  const F = PlayerOperatorFrames;
  return {
    list_players: defineRequest(F.list_players, {
      http: 'GET /players',
      async handle(f) {
        const by = new Map<string, PlayerSummaryJson>();
        const needle = f.search?.trim().toLowerCase();
        for (const row of await store.listSessions({ limit: LIST_SCAN })) {
          const per = boardSummaries(row);
          const names = new Set(row.boards.map((id) => playerOfBoard(row, id)).filter((p): p is string => p !== null));
          if (row.playerId) names.add(row.playerId);
          for (const name of names) {
            if (needle && !name.toLowerCase().includes(needle)) continue;
            const p = by.get(name) ?? { player_id: name, sessions: 0, complete: 0, strokes: 0, max_speed_kmh: null, last_session_at: row.createdAt.toISOString() };
            p.sessions++;
            if (row.state === 'complete') {
              p.complete++;
              for (const b of boardsOf(row, name)) {
                p.strokes += per[b]?.count ?? 0;
                const top = per[b]?.max_speed_kmh;
                if (typeof top === 'number' && (per[b]?.count ?? 0) > 0) p.max_speed_kmh = Math.max(p.max_speed_kmh ?? 0, top);
              }
            }
            by.set(name, p);
          }
        }
        return answer('players', { players: [...by.values()] });
      },
    }),
    get_player: defineRequest(F.get_player, {
      http: 'GET /players/:player_id',
      async handle(f) {
        // The search matches the player column and the board assignment; the exact name is checked here.
        const rows = (await store.listSessions({ search: f.player_id, limit: LIST_SCAN }))
          .filter((row) => row.playerId === f.player_id || boardsOf(row, f.player_id).length > 0)
          .slice(0, f.limit ?? 200);
        const profile = profileJson(f.player_id, await store.listCorrections({ playerId: f.player_id }));
        if (rows.length === 0 && profile.corrections === 0) throw gatewayError('NOT_FOUND', `no session names the player ${f.player_id}`);
        const sessions: PlayerSessionJson[] = [];
        for (const row of rows) {
          const boards = boardsOf(row, f.player_id);
          const others = [...new Set(row.boards.map((id) => playerOfBoard(row, id)).filter((p): p is string => p !== null && p !== f.player_id))];
          sessions.push({
            session_id: row.sessionId, state: row.state, created_at: row.createdAt.toISOString(), started_at: row.startedAt?.toISOString() ?? null,
            court: row.court, notes: row.notes, boards, others, figures: await figures(row, boards),
          });
        }
        return answer('player', { player_id: f.player_id, sessions, profile });
      },
    }),
  };
}
