/**
 * Endpoint `/ws/esp32/{device_code}/`: seed 001's board endpoint. Frame names
 * are the seed's; the fields are defined here for firmware authors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { OtaProgressFrame } from './ota.js';

const Seq = Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Board-local sequence number, +1 per frame of samples.' });
const SessionId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()], { description: 'Session the samples belong to (from start_collection).' }));
/** Samples are stored as Float32: a value past its range would be stored as Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;
const Finite = Type.Number({ minimum: -FLOAT32_MAX, maximum: FLOAT32_MAX });
/** A time in ms: within what a date can hold (about 275,000 years either side of 1970). */
export const MAX_TIME_MS = 8.64e15;
const TimeMs = (description: string) => Type.Number({ minimum: -MAX_TIME_MS, maximum: MAX_TIME_MS, description });

export const HeartbeatFrame = Type.Object(
  {
    type: Type.Literal('heartbeat'),
    battery: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'percent' })),
    rssi: Type.Optional(Type.Number({ minimum: -127, maximum: 0, description: 'dBm' })),
  },
  { $id: 'HeartbeatFrame', title: 'heartbeat' },
);

export const StatusUpdateFrame = Type.Object(
  {
    type: Type.Literal('status_update'),
    status: Type.Union(
      [
        Type.Record(Type.String(), Type.Unknown(), { description: 'Kept as the board\'s last status and shown to operators: battery, rssi, firmware, state, session_id, ...' }),
        Type.String({ maxLength: 128, description: 'Or a word ("idle", "recording") with the other fields flat beside it, as such firmware sends: the frame without `type` is kept.' }),
      ],
    ),
  },
  { $id: 'StatusUpdateFrame', title: 'status_update', additionalProperties: true },
);

export const PollCommandsFrame = Type.Object({ type: Type.Literal('poll_commands') }, { $id: 'PollCommandsFrame', title: 'poll_commands' });

export const SampleObject = Type.Object(
  { ax: Finite, ay: Finite, az: Finite, gx: Finite, gy: Finite, gz: Finite },
  { description: 'Accelerometer in g, gyroscope in degrees/s.' },
);

export const SensorDataFrame = Type.Object(
  {
    type: Type.Literal('sensor_data'),
    seq: Type.Optional(Seq),
    session_id: SessionId,
    timestamp: TimeMs('Sample time, ms (board clock, or epoch once synced from heartbeat_ack).'),
    data: SampleObject,
  },
  { $id: 'SensorDataFrame', title: 'sensor_data' },
);
export type SensorDataFrame = Static<typeof SensorDataFrame>;

export const MAX_BATCH_SAMPLES = 2000;

export const BatchSensorDataFrame = Type.Object(
  {
    type: Type.Literal('batch_sensor_data'),
    seq: Seq,
    session_id: SessionId,
    start_ms: TimeMs('Time of the first sample, ms.'),
    rate_hz: Type.Number({ exclusiveMinimum: 0, maximum: 10000, description: 'Sample rate; sample i is at start_ms + i*1000/rate_hz.' }),
    samples: Type.Array(Type.Array(Finite, { minItems: 6, maxItems: 6 }), {
      minItems: 1,
      maxItems: MAX_BATCH_SAMPLES,
      description: 'Each [ax, ay, az, gx, gy, gz].',
    }),
  },
  { $id: 'BatchSensorDataFrame', title: 'batch_sensor_data' },
);
export type BatchSensorDataFrame = Static<typeof BatchSensorDataFrame>;

export const UploadCompleteFrame = Type.Object(
  {
    type: Type.Literal('upload_complete'),
    session_id: SessionId,
    last_seq: Type.Integer({ minimum: -1, description: 'Highest seq sent in the session; -1 if none.' }),
  },
  { $id: 'UploadCompleteFrame', title: 'upload_complete' },
);

export const CommandAckFrame = Type.Object(
  {
    type: Type.Literal('command_ack'),
    command_id: Type.String({ minLength: 1, maxLength: 64 }),
    ok: Type.Optional(Type.Boolean({ description: 'false if the board could not execute it; default true.' })),
    result: Type.Optional(Type.Unknown()),
  },
  { $id: 'CommandAckFrame', title: 'command_ack' },
);
export type CommandAckFrame = Static<typeof CommandAckFrame>;

/** Board -> gateway frames by type. */
export const BoardFrames = {
  heartbeat: HeartbeatFrame,
  status_update: StatusUpdateFrame,
  poll_commands: PollCommandsFrame,
  sensor_data: SensorDataFrame,
  batch_sensor_data: BatchSensorDataFrame,
  upload_complete: UploadCompleteFrame,
  command_ack: CommandAckFrame,
  ota_progress: OtaProgressFrame,
} as const;

/** Commands the gateway sends; boards may support more (any string is allowed). */
export const KnownCommands = ['start_collection', 'stop_collection', 'status', 'reboot', 'identify', 'ota_update'] as const;

export const CommandPayload = Type.Object({
  command_id: Type.String(),
  command: Type.String(),
  params: Type.Unknown(),
});

// Gateway -> board frames.
export const GatewayToBoardFrames = {
  connection_established: Type.Object(
    {
      type: Type.Literal('connection_established'),
      device_code: Type.String(),
      server_time: Type.Number(),
      ack: Type.Optional(Type.Literal('cumulative', { description: 'Present when the board asked for cumulative acks (`?ack=cumulative`): its sample frames are acked by data_acks.' })),
    },
    { $id: 'ConnectionEstablishedFrame' },
  ),
  heartbeat_ack: Type.Object({ type: Type.Literal('heartbeat_ack'), server_time: Type.Number({ description: 'ms since epoch' }) }, { $id: 'HeartbeatAckFrame' }),
  status_ack: Type.Object({ type: Type.Literal('status_ack') }, { $id: 'StatusAckFrame' }),
  commands: Type.Object({ type: Type.Literal('commands'), commands: Type.Array(CommandPayload) }, { $id: 'CommandsFrame' }),
  command: Type.Object({ type: Type.Literal('command'), command_id: Type.String(), command: Type.String(), params: Type.Unknown() }, { $id: 'CommandFrame' }),
  data_ack: Type.Object(
    {
      type: Type.Literal('data_ack'),
      seq: Type.Union([Type.Integer(), Type.Null()]),
      session_id: Type.Union([Type.String(), Type.Null()]),
      stored: Type.Boolean({ description: 'true: on disk, drop it. false: live only (no recording session, or the session is closed), drop it too.' }),
      reason: Type.Optional(Type.String()),
    },
    { $id: 'DataAckFrame' },
  ),
  data_acks: Type.Object(
    {
      type: Type.Literal('data_acks'),
      session_id: Type.Union([Type.String(), Type.Null()]),
      stored: Type.Boolean({ description: 'As in data_ack, for every seq this frame acks.' }),
      from_seq: Type.Integer({ minimum: 0, description: 'First seq of the range.' }),
      to_seq: Type.Integer({ minimum: 0, description: 'Last seq of the range, included.' }),
      except: Type.Array(Type.Integer({ minimum: 0 }), { description: 'Seqs within the range this frame does not ack: keep those until their own ack.' }),
    },
    { $id: 'DataAcksFrame', description: 'Cumulative ack (boards that connected with ?ack=cumulative): every seq from from_seq to to_seq except those in except, as if each had its data_ack.' },
  ),
  upload_ack: Type.Object(
    {
      type: Type.Literal('upload_ack'),
      session_id: Type.Union([Type.String(), Type.Null()]),
      last_seq: Type.Integer(),
      missing: Type.Array(Type.Integer(), { description: 'Seqs the gateway lacks; a resend frame asks for them.' }),
    },
    { $id: 'UploadAckFrame' },
  ),
} as const;

export type DataAcksFrame = Static<typeof GatewayToBoardFrames.data_acks>;
