/**
 * Players as the coach reads them: every player a session names (the
 * session's player, or the player holding one of its boards), and one
 * player's sessions with their figures, for trends over sessions and two
 * sessions side by side. A player is a name; there is no separate table.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Int, Iso, IsoOrNull, Str, StrOrNull, reply } from './wire.js';
import { SessionStates } from './sessions.js';
import { PlayerProfileSchema } from './corrections.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const PlayerIdField = Type.String({ minLength: 1, maxLength: 128 });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

export const PlayerOperatorFrames = {
  list_players: request('list_players', {
    search: Type.Optional(Type.String({ maxLength: 128, description: 'Part of the player\'s name.' })),
  }),
  get_player: request('get_player', {
    player_id: PlayerIdField,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Newest sessions at most. Default 200.' })),
  }),
} as const;

const NumOrNull = Type.Union([Type.Number(), Type.Null()]);
const TypeCounts = Type.Object({ clear: Int, drive: Int, lift: Int, smash: Int, unknown: Int });

export const PlayerSummarySchema = Type.Object({
  player_id: Str,
  sessions: Type.Integer({ description: 'Sessions naming the player (any state).' }),
  complete: Type.Integer({ description: 'Of them, analysed.' }),
  strokes: Type.Integer({ description: 'Strokes on the player\'s boards over the analysed sessions.' }),
  max_speed_kmh: NumOrNull,
  last_session_at: Iso,
});
export type PlayerSummaryJson = Static<typeof PlayerSummarySchema>;

/** The player's figures in one session: their boards' strokes only. */
export const PlayerFiguresSchema = Type.Object({
  count: Int,
  duration_s: Type.Number(),
  strokes_per_minute: Type.Number(),
  max_speed_kmh: NumOrNull,
  median_speed_kmh: NumOrNull,
  counts_by_type: TypeCounts,
});
export type PlayerFiguresJson = Static<typeof PlayerFiguresSchema>;

export const PlayerSessionSchema = Type.Object({
  session_id: Str,
  state: Type.Union(SessionStates.map((s) => Type.Literal(s))),
  created_at: Iso,
  started_at: IsoOrNull,
  court: StrOrNull,
  notes: StrOrNull,
  boards: Type.Array(Str, { description: 'The boards the player held in it.' }),
  others: Type.Array(Str, { description: 'Other players of the session.' }),
  figures: Type.Union([PlayerFiguresSchema, Type.Null()], { description: 'null until the session is complete.' }),
});
export type PlayerSessionJson = Static<typeof PlayerSessionSchema>;

export const PlayerReplyFrames = {
  players: reply('players', { players: Type.Array(PlayerSummarySchema, { description: 'Most recent session first.' }) }),
  player: reply('player', {
    player_id: Str,
    sessions: Type.Array(PlayerSessionSchema, { description: 'Newest first.' }),
    profile: PlayerProfileSchema,
  }),
} as const;
export type PlayerReply = Static<typeof PlayerReplyFrames.player>;
