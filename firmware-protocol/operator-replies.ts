/**
 * What the gateway sends on `/ws/admin/`: the replies to the core requests of
 * operator.ts, and the frames nobody asked for (system notifications, sensor
 * samples). The replies of the optional parts live with their requests
 * (sessions.ts, discovery.ts, usb-replies.ts); `OperatorServerFrames` joins
 * them all. Events are in operator-events.ts.
 *
 * Each reply echoes the request's `id`. `OperatorReplyBody<'system_status'>`
 * is what the gateway puts next to `type` and `id`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Int, Iso, IsoOrNull, ServerTime, Str, StrOrNull, reply, type BodyOf } from './wire.js';
import { AnalysisCompleteNotification, SessionReplyFrames } from './sessions.js';
import { DiscoveryReplyFrames } from './discovery.js';
import { UsbReplyFrames } from './usb-replies.js';
import { SettingsReplyFrames } from './settings.js';
import { CorrectionReplyFrames } from './corrections.js';
import { PlayerReplyFrames } from './players.js';
import { OtaReplyFrames } from './ota.js';
import { FleetReplyFrames } from './fleet.js';
import { PlatformReplyFrames } from './envelope.js';
import { SamplesDroppedFrame } from './flow.js';
import { LiveReplyFrames } from './live.js';

/** A service seen over mDNS, as the device list shows it. */
export const MdnsRecordSchema = Type.Object({
  name: Type.String({ description: 'DNS-SD instance name.' }),
  service_type: Type.String({ description: 'e.g. `_courtside-dev._tcp`.' }),
  host: Str,
  addresses: Type.Array(Str),
  port: Int,
  txt: Type.Record(Type.String(), Type.String()),
  last_seen_age_ms: Type.Number(),
});
export type MdnsRecord = Static<typeof MdnsRecordSchema>;

export const DeviceSources = ['connected', 'known', 'lan'] as const;

/** One board of `device_list`: what the gateway knows of it, merged with what mDNS sees by device id. */
export const DeviceInfoSchema = Type.Object({
  device_id: Str,
  online: Type.Boolean({ description: 'Connected now (the socket alone decides).' }),
  source: Type.Union([Type.Literal('connected'), Type.Literal('known'), Type.Literal('lan')], {
    description: 'connected: online now; known: has connected before; lan: only seen over mDNS.',
  }),
  ip: StrOrNull,
  connected_at: IsoOrNull,
  disconnected_at: IsoOrNull,
  last_seen_at: IsoOrNull,
  last_seen_age_ms: Type.Union([Type.Number(), Type.Null()]),
  last_heartbeat_at: IsoOrNull,
  last_heartbeat_age_ms: Type.Union([Type.Number(), Type.Null()]),
  status: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  status_at: IsoOrNull,
  gateway_id: Type.Optional(Type.Union([Str, Type.Null()], { description: 'With several gateways (Redis): the one holding the board now; null when none does. Absent on a gateway on its own.' })),
  tags: Type.Optional(Type.Array(Str, { description: 'The board\'s tags (set_device_tags).' })),
  mdns: Type.Union([Type.Array(MdnsRecordSchema), Type.Null()], { description: 'What mDNS sees of this device id; null when nothing (or discovery is off).' }),
});
export type DeviceInfo = Static<typeof DeviceInfoSchema>;
export type DeviceSource = DeviceInfo['source'];

const { source: _source, mdns: _mdns, ...boardStateProps } = DeviceInfoSchema.properties;
/** A board as the gateway itself knows it (socket, heartbeat, status): `device` of the `devices` events. */
export const BoardStateSchema = Type.Object(boardStateProps);
export type BoardState = Static<typeof BoardStateSchema>;

/** A command as stored: queued, pushed to the board, acked (`list_commands`). */
export const CommandRecordSchema = Type.Object({
  command_id: Str,
  command: Str,
  params: Type.Unknown(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('acked'), Type.Literal('failed')]),
  attempts: Int,
  created_at: Iso,
  acked_at: IsoOrNull,
  result: Type.Unknown(),
  priority: Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')]),
  timeout_ms: Type.Integer({ description: 'Wait for the ack after each push (the default when the command named none).' }),
  max_retries: Type.Integer({ description: 'Resends after the first push before the command fails.' }),
  failed_at: Type.Union([Iso, Type.Null()], { description: 'When its retries ran out without an ack (state failed).' }),
});
export type CommandRecord = Static<typeof CommandRecordSchema>;

export const StoredMessageSchema = Type.Object({
  id: Int,
  room_id: StrOrNull,
  from_device_id: Str,
  to_device_id: StrOrNull,
  message_type: Type.Union([Type.Literal('broadcast'), Type.Literal('direct')]),
  content: Type.Unknown({ description: 'As sent: a string, or any other JSON value.' }),
  sent_at: Iso,
  status: Type.Union([Type.Literal('sent'), Type.Literal('queued'), Type.Literal('delivered'), Type.Literal('expired')], { description: 'expired (Courtside): queued past its ttl_ms, never delivered.' }),
  delivered_at: IsoOrNull,
});
export type StoredMessage = Static<typeof StoredMessageSchema>;

/** One board's samples in a `sensor_samples` frame. */
export const SensorBatchSchema = Type.Object({
  device_id: Str,
  seq: Type.Union([Type.Integer(), Type.Null()]),
  session_id: StrOrNull,
  start_ms: Type.Number(),
  rate_hz: Type.Number({ description: '0 for a single sensor_data sample.' }),
  samples: Type.Array(Type.Array(Type.Number(), { minItems: 6, maxItems: 6 })),
});
/** Each sample is [ax, ay, az, gx, gy, gz]: g and degrees/s. */
export type SensorBatch = Static<typeof SensorBatchSchema>;

const Counts = <K extends string>(keys: readonly K[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Int])) as Record<K, typeof Int>);

const BulkState = Type.Union([Type.Literal('running'), Type.Literal('stopping'), Type.Literal('stopped')]);

export const SystemStatusSchema = Type.Object({
  version: Str,
  uptime_s: Type.Number(),
  database: Type.Object({ kind: Str, description: Str }),
  data_dir: Type.String({ description: 'The data folder: database (SQLite), operator token, uploaded firmware, saved settings.' }),
  device_auth: Type.Union([Type.Literal('open'), Type.Literal('token')]),
  connections: Counts(['room', 'signaling', 'board', 'user', 'operator'] as const),
  rooms: Int,
  boards_online: Int,
  boards_known: Int,
  devices_on_lan: Type.Integer({ description: 'Services seen over mDNS (0 with discovery off).' }),
  commands_pending: Int,
  totals: Counts(['frames_in', 'frames_out', 'room_messages', 'signals', 'sensor_frames', 'sensor_samples', 'store_errors'] as const),
  urls: Type.Object({ board: Type.Array(Str), operator: Type.Array(Str) }),
  board_addresses: Type.Array(
    Type.Object({
      address: Str,
      interface: Type.Union([Str, Type.Null()], { description: 'The interface that has this address; null for a host name.' }),
      loopback: Type.Boolean({ description: 'Only this machine reaches it; a board given it cannot connect.' }),
    }),
    { description: 'Where boards can reach the gateway: the LAN addresses when it listens on every interface, else the one it listens on. Provisioning pre-fills the first that is not loopback.' },
  ),
  parts: Type.Array(Str, { description: 'The parts plugged in, in start order (sessions, usb, discovery, settings).' }),
  requests: Type.Array(Str, { description: 'Every operator request type this gateway answers.' }),
  sessions_open: Type.Optional(Type.Integer({ description: 'Sessions part: sessions not yet complete or failed.' })),
  ingest: Type.Optional(
    Type.Object(
      { queued: Int, written: Int, duplicates: Int, failed_writes: Int, pressured: Type.Boolean() },
      { description: 'Sessions part: the sample write queue.' },
    ),
  ),
  discovery: Type.Optional(
    Type.Object(
      { gateway_id: Str, mdns: Type.Integer({ description: 'Interfaces with mDNS running.' }), probe_port: Type.Union([Int, Type.Null()]), discovered: Int },
      { description: 'Discovery part (off in `courtside serve` with --no-mdns and --udp-probe-port 0).' },
    ),
  ),
  usb: Type.Optional(
    Type.Object(
      { jobs_running: Int, monitors: Type.Array(Str, { description: 'Ports with a serial monitor.' }), bulk: BulkState },
      { description: 'USB provisioning part.' },
    ),
  ),
});
export type SystemStatus = Static<typeof SystemStatusSchema>;

export const RoomMemberSchema = Type.Object({ device_id: Str, identity: Str, joined_at: Iso, presence: Type.Boolean() });
export type RoomMember = Static<typeof RoomMemberSchema>;
export const RoomSummarySchema = Type.Object({ room_id: Str, total_clients: Int, members: Type.Array(RoomMemberSchema) });
export type RoomSummary = Static<typeof RoomSummarySchema>;
/** A room nobody is in any more, still browsable with its messages until retention removes them. */
export const EmptyRoomSchema = Type.Object({ room_id: Str, created_at: Iso, last_message_at: IsoOrNull, messages: Int });
export type EmptyRoom = Static<typeof EmptyRoomSchema>;

/** One entry of a board's status history: a status_update as sent, or a heartbeat's values. */
export const StatusHistoryEntrySchema = Type.Object({ at: Iso, source: Type.Union([Type.Literal('status_update'), Type.Literal('heartbeat')]), values: Type.Record(Type.String(), Type.Unknown()) });
/** Connected and disconnected (from the connection rows), error (a frame of the board the gateway refused). */
export const DeviceEventSchema = Type.Object({
  at: Iso,
  event: Type.Union([Type.Literal('connected'), Type.Literal('disconnected'), Type.Literal('error')]),
  ip: Type.Optional(StrOrNull),
  gateway_id: Type.Optional(StrOrNull),
  code: Type.Optional(Str),
  message: Type.Optional(Str),
});
export type DeviceHistoryEvent = Static<typeof DeviceEventSchema>;
export const DeviceSessionSchema = Type.Object({ session_id: Str, state: Str, created_at: Iso, started_at: IsoOrNull, stopped_at: IsoOrNull, player_id: StrOrNull, boards: Type.Array(Str) });

export const DeviceTokenSchema = Type.Object({ device_id: Str, label: StrOrNull, created_at: Iso, revoked_at: IsoOrNull });
export type DeviceToken = Static<typeof DeviceTokenSchema>;

export const NotificationLevel = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]);

/** Replies to the requests of operator.ts (`OperatorFrames`), by reply type. */
export const OperatorReplyFrames = {
  system_status: reply('system_status', SystemStatusSchema.properties),
  device_list: reply('device_list', { devices: Type.Array(DeviceInfoSchema) }),
  rooms: reply('rooms', {
    rooms: Type.Array(RoomSummarySchema),
    signaling_clients: Type.Array(Str),
    empty_rooms: Type.Optional(Type.Array(EmptyRoomSchema, { description: 'Rooms with nobody in them that still have messages (or were made within the retention), last active first, at most 50.' })),
  }),
  device_history: reply('device_history', {
    device_id: Str,
    statuses: Type.Array(StatusHistoryEntrySchema, { description: 'Newest first; kept in memory since the gateway started, up to 500 per board.' }),
    events: Type.Array(DeviceEventSchema, { description: 'Newest first.' }),
    commands: Type.Array(CommandRecordSchema, { description: 'Newest first.' }),
    sessions: Type.Array(DeviceSessionSchema, { description: 'Newest first.' }),
    more: Type.Object(
      { statuses: Type.Boolean(), events: Type.Boolean(), commands: Type.Boolean(), sessions: Type.Boolean() },
      { description: 'True where older entries are left: ask again with `only` and `before` set to the last entry\'s time.' },
    ),
  }),
  room_detail: reply('room_detail', {
    room_id: Str,
    total_clients: Int,
    members: Type.Array(Type.Object({ device_id: Str, identity: Str, joined_at: Iso })),
    messages: Type.Array(StoredMessageSchema),
    queries: Int,
  }),
  messages: reply('messages', { messages: Type.Array(StoredMessageSchema) }),
  subscribed: reply('subscribed', { topics: Type.Array(Str, { description: 'Every topic the operator is now subscribed to.' }) }),
  unsubscribed: reply('unsubscribed', { topics: Type.Array(Str, { description: 'The topics left.' }) }),
  device: reply('device', BoardStateSchema.properties),
  commands: reply('commands', { device_id: Str, commands: Type.Array(CommandRecordSchema, { description: 'Newest first.' }) }),
  command_queued: reply('command_queued', {
    command_id: Str,
    device_id: Str,
    command: Type.String({ description: 'The board command, with the HTTP names start and stop mapped to start_collection and stop_collection.' }),
    pushed: Type.Boolean({ description: 'Sent to the board at once (it is connected).' }),
    connected: Type.Boolean({ description: 'The board is connected now.' }),
  }),
  broadcast_sent: reply('broadcast_sent', { command_ids: Type.Array(Str), devices: Int }),
  room_message_sent: reply('room_message_sent', { recipients: Int }),
  notification_sent: reply('notification_sent', { operators: Int }),
  user_notified: reply('user_notified', {
    user_id: Str,
    delivered: Type.Boolean(),
    queued: Type.Boolean(),
    message_id: Type.Optional(Type.Integer({ description: 'With ack: the id the app acks; delivered comes as a messages event once it does.' })),
  }),
  device_token: reply('device_token', { device_id: Str, token: Type.String({ description: 'Shown once; only its hash is stored.' }) }),
  device_tokens: reply('device_tokens', { tokens: Type.Array(DeviceTokenSchema) }),
  device_token_revoked: reply('device_token_revoked', { device_id: Str, revoked: Int }),
} as const;

/** Frames the gateway sends an operator unasked (events aside). */
export const OperatorPushFrames = {
  connection_established: Type.Object({ type: Type.Literal('connection_established'), role: Type.Literal('operator'), server_time: ServerTime }),
  sensor_samples: Type.Object({ type: Type.Literal('sensor_samples'), batches: Type.Array(SensorBatchSchema) }),
  system_notification: Type.Object({ type: Type.Literal('system_notification'), message: Str, level: NotificationLevel, timestamp: Iso }),
  analysis_complete_notification: AnalysisCompleteNotification,
  samples_dropped: SamplesDroppedFrame,
} as const;

/** The envelope every `event` frame shares; operator-events.ts has each topic's events in full. */
export const EventEnvelope = Type.Object(
  { type: Type.Literal('event'), topic: Str, at: Iso, event: Type.Optional(Str) },
  {
    description:
      'A live event on a subscribed topic; the other fields depend on topic and event. sessions: state and progress, with `session` (the session object); ' +
      'discovery: added, updated, removed (with `reason`), with `device`; devices, rooms, messages, commands, usb: see PROTOCOL.md.',
  },
);

/** Every reply an operator can get, of the core and of every part, by reply type. */
export const OperatorAllReplyFrames = { ...OperatorReplyFrames, ...SessionReplyFrames, ...CorrectionReplyFrames, ...PlayerReplyFrames, ...DiscoveryReplyFrames, ...UsbReplyFrames, ...SettingsReplyFrames, ...FleetReplyFrames, ...PlatformReplyFrames, ...OtaReplyFrames, ...LiveReplyFrames } as const;
export type OperatorReplyType = keyof typeof OperatorAllReplyFrames;
export type OperatorReplyFrame<T extends OperatorReplyType = OperatorReplyType> = { [K in T]: Static<(typeof OperatorAllReplyFrames)[K]> }[T];
/** What the gateway passes as a reply's body (everything but `type` and `id`). */
export type OperatorReplyBody<T extends OperatorReplyType> = BodyOf<(typeof OperatorAllReplyFrames)[T]>;

/** Every frame the gateway sends on /ws/admin/ (`event` as its envelope). */
export const OperatorServerFrames = { ...OperatorPushFrames, ...OperatorAllReplyFrames, event: EventEnvelope } as const;

export type SystemStatusReply = OperatorReplyFrame<'system_status'>;
export type DeviceListReply = OperatorReplyFrame<'device_list'>;
export type DeviceReply = OperatorReplyFrame<'device'>;
export type CommandsReply = OperatorReplyFrame<'commands'>;
export type RoomsReply = OperatorReplyFrame<'rooms'>;
export type RoomDetailReply = OperatorReplyFrame<'room_detail'>;
export type RoomDetail = OperatorReplyBody<'room_detail'>;
export type MessagesReply = OperatorReplyFrame<'messages'>;
export type SubscribedReply = OperatorReplyFrame<'subscribed'>;
export type UnsubscribedReply = OperatorReplyFrame<'unsubscribed'>;
export type CommandQueuedReply = OperatorReplyFrame<'command_queued'>;
export type BroadcastSentReply = OperatorReplyFrame<'broadcast_sent'>;
export type RoomMessageSentReply = OperatorReplyFrame<'room_message_sent'>;
export type NotificationSentReply = OperatorReplyFrame<'notification_sent'>;
export type UserNotifiedReply = OperatorReplyFrame<'user_notified'>;
export type DeviceTokenReply = OperatorReplyFrame<'device_token'>;
export type DeviceTokensReply = OperatorReplyFrame<'device_tokens'>;
export type DeviceTokenRevokedReply = OperatorReplyFrame<'device_token_revoked'>;
export type OperatorConnectionEstablished = Static<typeof OperatorPushFrames.connection_established>;
export type SensorSamplesFrame = Static<typeof OperatorPushFrames.sensor_samples>;
export type SystemNotificationFrame = Static<typeof OperatorPushFrames.system_notification>;
export type EventEnvelope = Static<typeof EventEnvelope>;

