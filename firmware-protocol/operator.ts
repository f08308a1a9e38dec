/**
 * Endpoint `/ws/admin/` (operator token required): the badminton protocol's
 * admin frames plus what the UI needs. Every request may carry an `id`, echoed in the
 * reply (or in the error) so a client can match answers to requests.
 */
import { Type, type TProperties } from '@sinclair/typebox';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const DeviceId = Type.String({ minLength: 1, maxLength: 128 });

/** Delivery order of what waits for a client (commands, queued room messages, notifications): high first. Default normal. */
export const Priority = Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')], { description: 'high, normal (default) or low: what waits is delivered high first, then in the order it came.' });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

/** Topics an operator can subscribe to. `sensor:<device_id>` narrows sensor to one board. */
export const OperatorTopics = ['devices', 'rooms', 'messages', 'commands', 'sensor', 'notifications', 'discovery', 'sessions', 'strokes', 'usb', 'ota'] as const;

export const OperatorFrames = {
  get_system_status: request('get_system_status', {}),
  get_device_list: request('get_device_list', {}),
  get_device: request('get_device', { device_id: DeviceId }),
  list_commands: request('list_commands', { device_id: DeviceId, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Newest first. Default 100.' })) }),
  get_device_history: request('get_device_history', {
    device_id: DeviceId,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Entries per list, newest first. Default 50.' })),
    before: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}', maxLength: 40, description: 'Only entries older than this (ISO 8601): the `at` of the last entry of the page before.' })),
    only: Type.Optional(Type.Union([Type.Literal('statuses'), Type.Literal('events'), Type.Literal('commands'), Type.Literal('sessions')], { description: 'One list (to page it); the others come back empty.' })),
  }),
  get_rooms: request('get_rooms', {}),
  get_room: request('get_room', { room_id: Type.String({ minLength: 1, maxLength: 32 }) }),
  get_messages: request('get_messages', {
    room_id: Type.Optional(Type.String({ maxLength: 32 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  }),
  subscribe: request('subscribe', {
    topics: Type.Array(Type.String({ pattern: '^(devices|rooms|messages|commands|sensor|notifications|discovery|sessions|strokes|usb|ota|fleet)(:.{1,128})?$' }), { minItems: 1, maxItems: 64 }),
  }),
  unsubscribe: request('unsubscribe', { topics: Type.Array(Type.String({ maxLength: 140 }), { minItems: 1, maxItems: 64 }) }),
  send_command: request('send_command', {
    device_id: DeviceId,
    command: Type.String({ minLength: 1, maxLength: 64 }),
    params: Type.Optional(Type.Unknown()),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 86_400_000, description: 'Wait this long for command_ack after each push before resending. Default: the gateway\'s command resend interval (10000).' })),
    max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Resends after the first push; still unacked timeout_ms after the last: state failed. Default 5.' })),
    priority: Type.Optional(Priority),
  }),
  broadcast_devices: request('broadcast_devices', {
    command: Type.String({ minLength: 1, maxLength: 64 }),
    params: Type.Optional(Type.Unknown()),
  }),
  send_room_message: request('send_room_message', {
    room_id: Type.String({ minLength: 1, maxLength: 32 }),
    content: Type.Unknown(),
    target_device_id: Type.Optional(DeviceId),
  }),
  system_notification: request('system_notification', {
    message: Type.String({ minLength: 1, maxLength: 2000 }),
    level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')])),
  }),
  notify_user: request('notify_user', {
    user_id: DeviceId,
    payload: Type.Unknown(),
    ack: Type.Optional(Type.Boolean({ description: 'The app must answer notification_ack: stored first, sent with message_id, resent until acked or expired.' })),
    priority: Type.Optional(Priority),
    ttl_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 2_592_000_000, description: 'Not delivered after this long. Default: kept until retention deletes it.' })),
  }),
  create_device_token: request('create_device_token', { device_id: DeviceId, label: Type.Optional(Type.String({ maxLength: 128 })) }),
  list_device_tokens: request('list_device_tokens', {}),
  revoke_device_token: request('revoke_device_token', { device_id: DeviceId }),
} as const;

export type OperatorRequestType = keyof typeof OperatorFrames;

/** Replies and events: operator-replies.ts and operator-events.ts. */
export type { SensorBatch } from './operator-replies.js';
