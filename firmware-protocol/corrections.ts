/**
 * Coaches' stroke corrections and the player profiles they make: the
 * operator requests (correct, list, delete, re-analyse, profile) and their
 * replies. A correction names its stroke by board and time on the board's
 * sample clock, the way the session's strokes and signal name it.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Int, Iso, IsoOrNull, Str, StrOrNull, reply } from './wire.js';
import { SessionJson, StrokeSchema } from './sessions.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const SessionIdField = Type.String({ minLength: 1, maxLength: 64 });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

export const CorrectionTypes = ['clear', 'drive', 'lift', 'smash', 'not_a_stroke'] as const;
export type CorrectionType = (typeof CorrectionTypes)[number];
export const CorrectionActions = ['retype', 'not_a_stroke', 'add'] as const;

export const CorrectionOperatorFrames = {
  correct_stroke: request('correct_stroke', {
    session_id: SessionIdField,
    device_id: Type.String({ minLength: 1, maxLength: 128, description: 'The board whose signal the stroke is on.' }),
    t_ms: Type.Number({ description: 'The stroke\'s time on the board\'s sample clock (ms): a listed stroke\'s t_ms, or a point of the signal for a stroke the analysis missed.' }),
    stroke_type: Type.Union(CorrectionTypes.map((t) => Type.Literal(t)), { description: 'What the stroke is, or not_a_stroke.' }),
    by: Type.String({ minLength: 1, maxLength: 128, description: 'Who corrects (operator or coach name).' }),
  }),
  list_corrections: request('list_corrections', { session_id: SessionIdField }),
  delete_correction: request('delete_correction', { session_id: SessionIdField, correction_id: Type.String({ minLength: 1, maxLength: 64 }) }),
  reanalyze_session: request('reanalyze_session', { session_id: SessionIdField }),
  get_player_profile: request('get_player_profile', { player_id: Type.String({ minLength: 1, maxLength: 128 }) }),
} as const;

export const CorrectionSchema = Type.Object({
  correction_id: Str,
  session_id: Str,
  device_id: Str,
  player_id: StrOrNull,
  t_ms: Type.Number(),
  type: Type.Union(CorrectionTypes.map((t) => Type.Literal(t))),
  original_type: Type.Union([Type.String(), Type.Null()], { description: 'The analysis\'s type when corrected; null for a stroke the coach added.' }),
  action: Type.Union(CorrectionActions.map((t) => Type.Literal(t))),
  by: Str,
  at: Iso,
  attached: Type.Boolean({ description: 'It found its stroke in the current analysis (board, and time within 300 ms).' }),
});
export type CorrectionJson = Static<typeof CorrectionSchema>;

export const PlayerProfileSchema = Type.Object({
  player_id: Str,
  corrected_by_type: Type.Object(
    { clear: Int, drive: Int, lift: Int, smash: Int },
    { description: 'Corrected strokes per type the analysis of this player learns from.' },
  ),
  not_a_stroke: Int,
  corrections: Int,
  sessions: Type.Integer({ description: 'Sessions the corrections come from.' }),
  updated_at: IsoOrNull,
});
export type PlayerProfileJson = Static<typeof PlayerProfileSchema>;

export const StrokeChangeSchema = Type.Object({
  device_id: Str,
  t_ms: Type.Number(),
  before: Type.Union([Type.String(), Type.Null()], { description: 'Type before; null for a stroke not there before.' }),
  after: Type.Union([Type.String(), Type.Null()], { description: 'Type after; null for a stroke gone.' }),
});

const Strokes = Type.Array(StrokeSchema);

export const CorrectionReplyFrames = {
  stroke_corrected: reply('stroke_corrected', {
    correction: CorrectionSchema,
    replaced: Type.Array(Str, { description: 'Earlier corrections of the same stroke, now gone.' }),
    session: SessionJson,
    strokes: Strokes,
  }),
  corrections: reply('corrections', { session_id: Str, corrections: Type.Array(CorrectionSchema, { description: 'Oldest first.' }) }),
  correction_deleted: reply('correction_deleted', { correction_id: Str, session: SessionJson, strokes: Strokes }),
  session_reanalyzed: reply('session_reanalyzed', {
    session: SessionJson,
    strokes: Strokes,
    changes: Type.Array(StrokeChangeSchema, { description: 'Strokes whose type changed, appeared or went away.' }),
    profile: Type.Union([PlayerProfileSchema, Type.Null()], { description: 'The profile the session was analysed with; null without a player.' }),
  }),
  player_profile: reply('player_profile', { profile: PlayerProfileSchema }),
} as const;
