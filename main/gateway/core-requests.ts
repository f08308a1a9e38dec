/**
 * The core's operator requests (the badminton protocol's admin frames plus
 * what the UI needs): one entry each, with the HTTP route it also answers on.
 */
import { Type } from '@sinclair/typebox';
import { OperatorFrames } from '../../firmware-protocol/index.js';
import { gatewayError } from './errors.js';
import { defineRequest, type RequestTable } from './parts.js';
import { normalizeRoomId } from './rooms.js';
import {
  boardCommandName,
  broadcastToBoards,
  deviceList,
  deviceTokens,
  messageJson,
  mintDeviceToken,
  operatorRoomMessage,
  roomDetail,
  roomsList,
  systemStatus,
  type GatewayView,
} from './service.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const DeviceId = Type.String({ minLength: 1, maxLength: 128 });

/** Until the contract has them: the two device reads that had only an HTTP route. */
const GetDevice = Type.Object({ type: Type.Literal('get_device'), id: RequestId, device_id: DeviceId }, { $id: 'Operator_get_device', title: 'get_device' });
const ListCommands = Type.Object(
  { type: Type.Literal('list_commands'), id: RequestId, device_id: DeviceId, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { $id: 'Operator_list_commands', title: 'list_commands' },
);

export function coreRequests(view: GatewayView): RequestTable {
  const core = view.core;
  const F = OperatorFrames;
  return {
    get_system_status: defineRequest(F.get_system_status, { http: 'GET /status', handle: () => ({ type: 'system_status', body: systemStatus(view) }) }),
    get_device_list: defineRequest(F.get_device_list, { http: 'GET /devices', handle: () => ({ type: 'device_list', body: { devices: deviceList(view) } }) }),
    get_device: defineRequest(GetDevice, {
      http: 'GET /devices/:device_id',
      handle(f) {
        const d = core.boards.find(f.device_id);
        if (!d) throw gatewayError('NOT_FOUND', `device ${f.device_id} not found`);
        return { type: 'device', body: d };
      },
    }),
    list_commands: defineRequest(ListCommands, {
      http: 'GET /devices/:device_id/commands',
      async handle(f) {
        const rows = await core.store.listCommands({ deviceId: f.device_id, limit: f.limit ?? 100 });
        const commands = rows.map((c) => ({
          command_id: c.commandId,
          command: c.command,
          params: c.params,
          state: c.state,
          attempts: c.attempts,
          created_at: c.createdAt.toISOString(),
          acked_at: c.ackedAt?.toISOString() ?? null,
          result: c.result,
        }));
        return { type: 'commands', body: { device_id: f.device_id, commands } };
      },
    }),
    get_rooms: defineRequest(F.get_rooms, { http: 'GET /rooms', handle: () => ({ type: 'rooms', body: { rooms: roomsList(core), signaling_clients: core.signaling.ids() } }) }),
    get_room: defineRequest(F.get_room, {
      http: 'GET /rooms/:room_id',
      async handle(f) {
        const room = await roomDetail(core, f.room_id);
        if (!room) throw gatewayError('NOT_FOUND', `room ${f.room_id} not found`);
        return { type: 'room_detail', body: room };
      },
    }),
    get_messages: defineRequest(F.get_messages, {
      http: 'GET /messages',
      async handle(f) {
        const rows = await core.store.listMessages({ roomId: f.room_id === undefined ? undefined : normalizeRoomId(f.room_id), limit: f.limit ?? 100 });
        return { type: 'messages', body: { messages: rows.map(messageJson) } };
      },
    }),
    subscribe: defineRequest(F.subscribe, { handle: (f, c) => ({ type: 'subscribed', body: { topics: core.operators.subscribe(c.peer!, f.topics) } }) }),
    unsubscribe: defineRequest(F.unsubscribe, { handle: (f, c) => ({ type: 'unsubscribed', body: { topics: core.operators.unsubscribe(c.peer!, f.topics) } }) }),
    send_command: defineRequest(F.send_command, {
      http: 'POST /devices/:device_id/commands',
      status: 202,
      async handle(f) {
        const command = boardCommandName(f.command);
        const r = await core.commands.send(f.device_id, command, f.params ?? {});
        return { type: 'command_queued', body: { command_id: r.commandId, device_id: f.device_id, command, pushed: r.pushed, connected: core.boards.isConnected(f.device_id) } };
      },
    }),
    broadcast_devices: defineRequest(F.broadcast_devices, {
      http: 'POST /commands/broadcast',
      status: 202,
      async handle(f) {
        const ids = await broadcastToBoards(core, boardCommandName(f.command), f.params ?? {});
        return { type: 'broadcast_sent', body: { command_ids: ids, devices: ids.length } };
      },
    }),
    send_room_message: defineRequest(F.send_room_message, {
      http: 'POST /rooms/:room_id/messages',
      async handle(f) {
        const r = await operatorRoomMessage(core, f.room_id, f.content, f.target_device_id);
        if (!r) throw gatewayError('NOT_FOUND', `room ${f.room_id} has nobody in it`);
        if (f.target_device_id && r.recipients === 0) throw gatewayError('TARGET_NOT_FOUND', `Target device ${f.target_device_id} not found in room ${f.room_id}`);
        return { type: 'room_message_sent', body: r };
      },
    }),
    system_notification: defineRequest(F.system_notification, {
      http: 'POST /notifications',
      handle(f) {
        const at = new Date(core.clock.now()).toISOString();
        const n = core.operators.notifyAll({ type: 'system_notification', message: f.message, level: f.level ?? 'info', timestamp: at });
        return { type: 'notification_sent', body: { operators: n } };
      },
    }),
    notify_user: defineRequest(F.notify_user, {
      http: 'POST /users/:user_id/notifications',
      async handle(f) {
        const payload = typeof f.payload === 'object' && f.payload !== null ? (f.payload as Record<string, unknown>) : { type: 'notification', message: f.payload };
        const delivered = await core.users.notify(f.user_id, payload);
        return { type: 'user_notified', body: { user_id: f.user_id, delivered, queued: !delivered } };
      },
    }),
    create_device_token: defineRequest(F.create_device_token, {
      http: 'POST /device-tokens',
      status: 201,
      handle: async (f) => ({ type: 'device_token', body: await mintDeviceToken(core, f.device_id, f.label ?? null) }),
    }),
    list_device_tokens: defineRequest(F.list_device_tokens, { http: 'GET /device-tokens', handle: async () => ({ type: 'device_tokens', body: { tokens: await deviceTokens(core) } }) }),
    revoke_device_token: defineRequest(F.revoke_device_token, {
      http: 'DELETE /device-tokens/:device_id',
      async handle(f, caller) {
        const n = await core.tokens.revoke(f.device_id);
        // A DELETE of nothing is a 404 for HTTP clients; the socket reply says `revoked: 0`.
        if (n === 0 && caller.transport === 'http') throw gatewayError('NOT_FOUND', `token for ${f.device_id} not found`);
        return { type: 'device_token_revoked', body: { device_id: f.device_id, revoked: n } };
      },
    }),
  };
}
