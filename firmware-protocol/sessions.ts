/**
 * Badminton sessions: the operator requests that drive them, the session
 * object every answer and event carries, and the board frames a session adds
 * (the binary sample frame, resend requests).
 */
import { TagPattern } from './ota.js';
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Iso, Str, StrOrNull, event, reply, type PayloadOf } from './wire.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const SessionIdField = Type.String({ minLength: 1, maxLength: 64 });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

export const SessionStates = ['created', 'recording', 'uploading', 'analyzing', 'complete', 'failed'] as const;
export type SessionState = (typeof SessionStates)[number];

/** Board -> the player holding it; a board not named is the session's `player_id`'s. */
const BoardPlayers = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 1, maxLength: 128 }), {
  // No count bound here: the gateway takes only the session's boards (at most 64).
  description: 'Which player holds which board (device id -> player), when they are not all the session\'s player.',
});

export const SessionOperatorFrames = {
  create_session: request('create_session', {
    boards: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 64, description: 'Device ids of the racket boards (or give `tag`).' })),
    tag: Type.Optional(Type.String({ pattern: TagPattern, description: 'Every board carrying this tag (set_device_tags), instead of `boards`.' })),
    player_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'User id on /ws/miniprogram/{user_id}/.' })),
    board_players: Type.Optional(BoardPlayers),
    court: Type.Optional(Type.String({ maxLength: 64 })),
    room_id: Type.Optional(Type.String({ maxLength: 32 })),
    notes: Type.Optional(Type.String({ maxLength: 4000 })),
    sample_rate_hz: Type.Optional(Type.Integer({ minimum: 10, maximum: 2000, description: 'Asked of the boards in start_collection. Default 200.' })),
  }),
  start_session: request('start_session', { session_id: SessionIdField }),
  stop_session: request('stop_session', { session_id: SessionIdField }),
  get_session: request('get_session', { session_id: SessionIdField }),
  get_session_signal: request('get_session_signal', {
    session_id: SessionIdField,
    points: Type.Optional(Type.Integer({ minimum: 10, maximum: 20_000, description: 'Points per board at most. Default 2000.' })),
  }),
  update_session: request('update_session', {
    session_id: SessionIdField,
    player_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'null clears it.' })),
    board_players: Type.Optional(Type.Union([BoardPlayers, Type.Null()], { description: 'Replaces the whole assignment; null clears it.' })),
    court: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
  }),
  delete_session: request('delete_session', { session_id: SessionIdField }),
  list_sessions: request('list_sessions', {
    search: Type.Optional(Type.String({ maxLength: 128, description: 'Matches player, court, notes, board ids.' })),
    state: Type.Optional(Type.Union(SessionStates.map((s) => Type.Literal(s)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  }),
} as const;

/** A stroke found while the session records (the analysis after the stop may differ a little). */
export const LiveStrokeSchema = Type.Object({
  t_ms: Type.Number({ description: 'Time of the peak on the board\'s sample clock (ms).' }),
  type: Type.String({ description: 'clear, drive, lift, smash or unknown.' }),
  speed_kmh: Type.Number(),
  peak_dps: Type.Number(),
});
export type LiveStroke = Static<typeof LiveStrokeSchema>;

/** Per board, how far its upload got. */
export const SessionBoardProgress = Type.Object({
  device_id: Type.String(),
  samples: Type.Integer(),
  frames: Type.Integer(),
  /** Highest seq stored (durable). */
  last_seq: Type.Union([Type.Integer(), Type.Null()]),
  /** From upload_complete; null until the board says it is done. */
  final_seq: Type.Union([Type.Integer(), Type.Null()]),
  missing: Type.Array(Type.Integer(), { description: 'Seqs asked again (gaps).' }),
  complete: Type.Boolean(),
  live_strokes: Type.Optional(Type.Integer({ description: 'While recording: strokes found so far on this board.' })),
  last_stroke: Type.Optional(Type.Union([LiveStrokeSchema, Type.Null()], { description: 'While recording: the newest of them.' })),
});

export const SessionJson = Type.Object(
  {
    session_id: Type.String(),
    state: Type.Union(SessionStates.map((s) => Type.Literal(s))),
    boards: Type.Array(Type.String()),
    player_id: Type.Union([Type.String(), Type.Null()]),
    board_players: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], { description: 'Board -> player, where set.' })),
    court: Type.Union([Type.String(), Type.Null()]),
    room_id: Type.Union([Type.String(), Type.Null()]),
    notes: Type.Union([Type.String(), Type.Null()]),
    sample_rate_hz: Type.Integer(),
    created_at: Type.String(),
    started_at: Type.Union([Type.String(), Type.Null()]),
    stopped_at: Type.Union([Type.String(), Type.Null()]),
    completed_at: Type.Union([Type.String(), Type.Null()]),
    failure_reason: Type.Union([Type.String(), Type.Null()]),
    progress: Type.Array(SessionBoardProgress),
    summary: Type.Union([Type.Unknown(), Type.Null()], { description: 'Analysis summary once complete.' }),
  },
  { $id: 'Session' },
);
export type SessionJson = Static<typeof SessionJson>;

/** A stroke of a complete session (get_session). */
export const StrokeSchema = Type.Object({
  device_id: Str,
  index: Type.Integer(),
  t_ms: Type.Number({ description: 'Time of the stroke, on the board\'s sample clock (ms).' }),
  type: Type.String({ description: 'clear, drive, lift or smash.' }),
  confidence: Type.Number(),
  peak_dps: Type.Number(),
  speed_kmh: Type.Number(),
  peak_g: Type.Number(),
  saturated: Type.Boolean(),
  model_type: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The analysis\'s type when a coach corrected it (`type` is then the coach\'s); null for a stroke a coach added.' })),
  correction: Type.Optional(Type.Union([Type.Object({ correction_id: Str, by: Str, at: Str }), Type.Null()], { description: 'Who corrected the stroke and when; null when nobody did.' })),
});
export type Stroke = Static<typeof StrokeSchema>;

/** Replies to the session requests (create, start, stop and get answer `session`; list answers `sessions`). */
/** Per board of `session_signal`: the gyroscope magnitude thinned to at most `points` points, peaks kept. */
export const SessionSignalBoardSchema = Type.Object({ device_id: Str, t_ms: Type.Array(Type.Number()), gyro_dps: Type.Array(Type.Number()) });

export const SessionReplyFrames = {
  session: reply('session', {
    session: SessionJson,
    strokes: Type.Optional(Type.Array(StrokeSchema, { description: 'get_session only: the strokes once the session is complete, else empty.' })),
  }),
  sessions: reply('sessions', { sessions: Type.Array(SessionJson, { description: 'Newest first.' }) }),
  session_deleted: reply('session_deleted', { session_id: Str }),
  session_signal: reply('session_signal', { session_id: Str, boards: Type.Array(SessionSignalBoardSchema) }),
} as const;
export type SessionReply = Static<typeof SessionReplyFrames.session>;
export type SessionsReply = Static<typeof SessionReplyFrames.sessions>;
export type SessionSignalReply = Static<typeof SessionReplyFrames.session_signal>;
export type SessionSignal = Omit<SessionSignalReply, 'type' | 'id'>;


/** Sent to the session's player and to every operator when a session's analysis is done. */
export const AnalysisCompleteNotification = Type.Object(
  {
    type: Type.Literal('analysis_complete_notification'),
    session_id: Str,
    player_id: StrOrNull,
    summary: Type.Unknown({ description: 'The session\'s analysis summary (as in the session object).' }),
    completed_at: Iso,
  },
  { description: 'A session finished its analysis.' },
);
export type AnalysisCompleteNotification = Static<typeof AnalysisCompleteNotification>;

/** Events on topic `sessions`: the session object after a change of state or of upload progress. */
export const SessionEvents = {
  state: event('sessions', 'state', { session: SessionJson }),
  progress: event('sessions', 'progress', { session: SessionJson }),
} as const;

/**
 * Events on topic `strokes`: a topic of its own, so a `sessions` subscriber still gets only
 * events that carry the session object.
 */
export const StrokeEvents = {
  stroke: event('strokes', 'stroke', {
    session_id: Str,
    device_id: Str,
    player_id: StrOrNull,
    count: Type.Integer({ description: 'Strokes found so far on this board in this session.' }),
    stroke: LiveStrokeSchema,
  }, 'A stroke found on a board while its session records.'),
} as const;
export type SessionEventPayload<E extends keyof typeof SessionEvents> = PayloadOf<(typeof SessionEvents)[E]>;

/** Gateway -> board: send these seqs of the session again (gaps found at upload_complete). */
export const ResendFrame = Type.Object(
  { type: Type.Literal('resend'), session_id: Type.Union([Type.String(), Type.Null()]), seqs: Type.Array(Type.Integer()) },
  { $id: 'ResendFrame' },
);

/** Frames the sessions part sends a board, as exported (PROTOCOL.md wording). */
export const SessionBoardFrames = {
  // Typed as the schema it copies, so declarations can name it (the spread's type holds TypeBox's private symbols).
  resend: { ...ResendFrame, description: 'Gaps found at upload_complete: send these frames of the session again (the board keeps every frame until its data_ack).' } as typeof ResendFrame,
} as const;

/**
 * The binary sample frame (WebSocket binary message on /ws/esp32/), all
 * little-endian, for boards streaming at 200-1000 Hz:
 *
 *   offset size  field
 *        0    2  magic 'C' 'S' (0x43 0x53)
 *        2    1  version = 1
 *        3    1  channels = 6 (ax ay az gx gy gz)
 *        4    4  seq (uint32)
 *        8    8  start_ms (float64): time of the first sample
 *       16    4  rate_hz (float32)
 *       20    2  count (uint16): samples in this frame
 *       22    2  reserved = 0
 *       24    4  accel_scale (float32): g per LSB
 *       28    4  gyro_scale (float32): degrees/s per LSB
 *       32  2*channels*count  int16 samples, sample-major
 */
export const BINARY_MAGIC_0 = 0x43;
export const BINARY_MAGIC_1 = 0x53;
export const BINARY_VERSION = 1;
export const BINARY_HEADER_BYTES = 32;
export const BINARY_CHANNELS = 6;
export const BINARY_MAX_SAMPLES = 4000;
/** Largest accel_scale or gyro_scale: 32768 times it stays a finite Float32. */
export const BINARY_MAX_SCALE = 1e30;

export interface BinaryBatch {
  seq: number;
  startMs: number;
  rateHz: number;
  accelScale: number;
  gyroScale: number;
  /** Scaled values, sample-major: [ax, ay, az, gx, gy, gz] * count. */
  samples: number[][];
}

export type BinaryDecode = { ok: true; batch: BinaryBatch } | { ok: false; error: string };

/** Decodes a binary sample frame; never throws. */
export function decodeBinaryBatch(buf: Uint8Array): BinaryDecode {
  if (buf.length < BINARY_HEADER_BYTES) return { ok: false, error: `binary frame shorter than its ${BINARY_HEADER_BYTES}-byte header` };
  if (buf[0] !== BINARY_MAGIC_0 || buf[1] !== BINARY_MAGIC_1) return { ok: false, error: "binary frame must start with 'CS'" };
  if (buf[2] !== BINARY_VERSION) return { ok: false, error: `binary frame version ${buf[2]} is not supported (expected ${BINARY_VERSION})` };
  const channels = buf[3]!;
  if (channels !== BINARY_CHANNELS) return { ok: false, error: `channels must be ${BINARY_CHANNELS}, got ${channels}` };
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const seq = v.getUint32(4, true);
  const startMs = v.getFloat64(8, true);
  const rateHz = v.getFloat32(16, true);
  const count = v.getUint16(20, true);
  const accelScale = v.getFloat32(24, true);
  const gyroScale = v.getFloat32(28, true);
  if (!Number.isFinite(startMs)) return { ok: false, error: 'start_ms must be a finite number' };
  if (Math.abs(startMs) > 8.64e15) return { ok: false, error: 'start_ms must be at most 8.64e15 either side of 0' };
  if (!(rateHz > 0 && rateHz <= 10000)) return { ok: false, error: 'rate_hz must be greater than 0 and at most 10000' };
  if (count < 1 || count > BINARY_MAX_SAMPLES) return { ok: false, error: `count must be between 1 and ${BINARY_MAX_SAMPLES}` };
  if (!(accelScale > 0) || !(gyroScale > 0)) return { ok: false, error: 'accel_scale and gyro_scale must be greater than 0' };
  // Scaled values are stored as Float32: a scale that can take an int16 past its range is refused.
  if (!(accelScale <= BINARY_MAX_SCALE) || !(gyroScale <= BINARY_MAX_SCALE)) return { ok: false, error: `accel_scale and gyro_scale must be finite and at most ${BINARY_MAX_SCALE}` };
  const expected = BINARY_HEADER_BYTES + 2 * channels * count;
  if (buf.length !== expected) return { ok: false, error: `binary frame of ${count} samples must be ${expected} bytes, got ${buf.length}` };
  const samples: number[][] = new Array(count);
  let o = BINARY_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const s = new Array<number>(6);
    for (let c = 0; c < 3; c++, o += 2) s[c] = v.getInt16(o, true) * accelScale;
    for (let c = 3; c < 6; c++, o += 2) s[c] = v.getInt16(o, true) * gyroScale;
    samples[i] = s;
  }
  return { ok: true, batch: { seq, startMs, rateHz, accelScale, gyroScale, samples } };
}

/**
 * The scaled values of a frame decodeBinaryBatch accepted, sample-major, as Float32: the form the
 * gateway stores, computed from the int16 payload at once instead of through `samples` (the same
 * numbers: each is the int16 times its scale, rounded to Float32 once).
 */
export function binaryFrameValues(buf: Uint8Array, into?: Float32Array): Float32Array {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = v.getUint16(20, true);
  const accelScale = v.getFloat32(24, true);
  const gyroScale = v.getFloat32(28, true);
  // `into`: a caller's slice of a larger array (one allocation for many frames).
  const out = into ?? new Float32Array(count * BINARY_CHANNELS);
  if (out.length !== count * BINARY_CHANNELS) throw new RangeError(`a frame of ${count} samples needs ${count * BINARY_CHANNELS} values, got room for ${out.length}`);
  for (let i = 0, o = BINARY_HEADER_BYTES; i < out.length; i += 6, o += 12) {
    out[i] = v.getInt16(o, true) * accelScale;
    out[i + 1] = v.getInt16(o + 2, true) * accelScale;
    out[i + 2] = v.getInt16(o + 4, true) * accelScale;
    out[i + 3] = v.getInt16(o + 6, true) * gyroScale;
    out[i + 4] = v.getInt16(o + 8, true) * gyroScale;
    out[i + 5] = v.getInt16(o + 10, true) * gyroScale;
  }
  return out;
}

/** Encodes a binary sample frame (the simulator and tests; firmware does the same in C). */
export function encodeBinaryBatch(b: Omit<BinaryBatch, 'samples'> & { samples: readonly (readonly number[])[] }): Uint8Array {
  const count = b.samples.length;
  const out = new Uint8Array(BINARY_HEADER_BYTES + 2 * BINARY_CHANNELS * count);
  const v = new DataView(out.buffer);
  out[0] = BINARY_MAGIC_0;
  out[1] = BINARY_MAGIC_1;
  out[2] = BINARY_VERSION;
  out[3] = BINARY_CHANNELS;
  v.setUint32(4, b.seq, true);
  v.setFloat64(8, b.startMs, true);
  v.setFloat32(16, b.rateHz, true);
  v.setUint16(20, count, true);
  v.setUint16(22, 0, true);
  v.setFloat32(24, b.accelScale, true);
  v.setFloat32(28, b.gyroScale, true);
  let o = BINARY_HEADER_BYTES;
  const clamp = (x: number) => Math.max(-32768, Math.min(32767, Math.round(x)));
  for (const s of b.samples) {
    for (let c = 0; c < 3; c++, o += 2) v.setInt16(o, clamp(s[c]! / b.accelScale), true);
    for (let c = 3; c < 6; c++, o += 2) v.setInt16(o, clamp(s[c]! / b.gyroScale), true);
  }
  return out;
}
