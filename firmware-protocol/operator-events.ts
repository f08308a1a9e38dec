/**
 * The `event` frames an operator gets on the topics it subscribed to
 * (`{type:'event', topic, at, event, ...fields}`), every one in full: the
 * core topics here, the parts' own next to their requests (sessions.ts,
 * discovery.ts, usb-replies.ts). `OperatorEvents[topic][event]` is the
 * schema; `operatorEventSchema` finds it for a received frame.
 *
 * `sensor` and `notifications` carry no `event` frames: their data comes as
 * `sensor_samples` and `system_notification` frames.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Int, Iso, Str, StrOrNull, event, type PayloadOf } from './wire.js';
import { BoardStateSchema } from './operator-replies.js';
import { SessionEvents, StrokeEvents } from './sessions.js';
import { DiscoveryEvents } from './discovery.js';
import { UsbEventFrames } from './usb-replies.js';
import { OtaEventFrames } from './ota.js';
import type { OperatorTopics } from './operator.js';

const board = { device: BoardStateSchema };

export const DeviceEvents = {
  online: event('devices', 'online', board, 'A board connected.'),
  offline: event('devices', 'offline', board, 'A board\'s socket closed.'),
  status: event('devices', 'status', board, 'A board sent status_update.'),
  upload_complete: event('devices', 'upload_complete', { device_id: Str, session_id: StrOrNull, last_seq: Int }, 'A board sent upload_complete.'),
} as const;

export const CommandEvents = {
  queued: event('commands', 'queued', { command_id: Str, device_id: Str, command: Str, params: Type.Optional(Type.Unknown()) }),
  acked: event('commands', 'acked', { command_id: Str, device_id: Str, ok: Type.Boolean(), result: Type.Unknown({ description: 'What the board answered; null when nothing.' }) }),
  failed: event('commands', 'failed', { command_id: Str, device_id: Str, command: Str, attempts: Int }, 'Never acked: pushed 1 + max_retries times, timeout_ms passed after the last.'),
} as const;

export const RoomEvents = {
  created: event('rooms', 'created', { room_id: Str }),
  join: event('rooms', 'join', { room_id: Str, device_id: Str, identity: Str }),
  leave: event('rooms', 'leave', { room_id: Str, device_id: Str }),
  signal_register: event('rooms', 'signal_register', { client_id: Str }, 'A signaling client registered.'),
  signal_unregister: event('rooms', 'signal_unregister', { client_id: Str }, 'A signaling client left.'),
} as const;

const MessageType = Type.Union([Type.Literal('broadcast'), Type.Literal('direct')]);

export const MessageEvents = {
  message: event('messages', 'message', {
    room_id: Str,
    from_device_id: Str,
    to_device_id: StrOrNull,
    message_type: MessageType,
    content: Type.Unknown({ description: 'As sent: text or any JSON value.' }),
    sent_at: Iso,
    recipients: Int,
  }),
  queued: event('messages', 'queued', { message_id: Int, room_id: Str, from_device_id: Str, to_device_id: Str }, 'A direct message stored for a target that is offline.'),
  delivered: event('messages', 'delivered', { message_id: Int, to_device_id: Str }, 'A queued message reached its target.'),
} as const;

type EventTopic = Exclude<(typeof OperatorTopics)[number], 'sensor' | 'notifications'>;

/** Every event frame, by topic, then by its `event` field. */
export const OperatorEvents = {
  devices: DeviceEvents,
  commands: CommandEvents,
  rooms: RoomEvents,
  messages: MessageEvents,
  sessions: SessionEvents,
  strokes: StrokeEvents,
  discovery: DiscoveryEvents,
  usb: UsbEventFrames,
  ota: OtaEventFrames,
} as const satisfies Record<EventTopic, Record<string, TSchema>>;

export type OperatorEventTopic = keyof typeof OperatorEvents;

/** The frames of one topic's event table, as a union. */
export type EventsOf<T extends Record<string, TSchema>> = { [E in keyof T]: Static<T[E]> }[keyof T];
/** What a part publishes for one event (the publisher adds `type`, `topic` and `at`). */
export type EventPayload<T extends Record<string, TSchema>, E extends keyof T> = PayloadOf<T[E]>;

export type DeviceEvent = EventsOf<typeof DeviceEvents>;
export type CommandEvent = EventsOf<typeof CommandEvents>;
export type RoomEvent = EventsOf<typeof RoomEvents>;
export type RoomMessageEvent = EventsOf<typeof MessageEvents>;
export type SessionEvent = EventsOf<typeof SessionEvents>;
export type StrokeEvent = EventsOf<typeof StrokeEvents>;
export type DiscoveryEvent = EventsOf<typeof DiscoveryEvents>;
export type UsbEventFrame = EventsOf<typeof UsbEventFrames>;
export type OtaEventFrame = EventsOf<typeof OtaEventFrames>;
/** Any event frame an operator can receive. */
export type OperatorEvent = DeviceEvent | CommandEvent | RoomEvent | RoomMessageEvent | SessionEvent | StrokeEvent | DiscoveryEvent | UsbEventFrame | OtaEventFrame;

/** The schema of an event frame by its topic and event (a `sensor:<id>` style suffix is ignored), or null when there is none. */
export function operatorEventSchema(topic: string, name: string): TSchema | null {
  const table = (OperatorEvents as Record<string, Record<string, TSchema>>)[topic.split(':')[0]!];
  return table && Object.hasOwn(table, name) ? table[name]! : null;
}
