/**
 * The core's operator requests (the badminton protocol's admin frames plus
 * what the UI needs): one entry each, with the HTTP route it also answers on.
 */
import { LiveOperatorFrames, OperatorFrames } from '../../firmware-protocol/index.js';
import { gatewayError } from './errors.js';
import { answer, defineRequest, type RequestTable } from './parts.js';
import { normalizeRoomId } from './rooms.js';
import { PRIORITY_RANK } from './priority.js';
import { commandJson, deviceHistory, emptyRooms } from './device-history.js';
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

export function coreRequests(view: GatewayView): RequestTable {
  const core = view.core;
  const F = OperatorFrames;
  return {
    get_system_status: defineRequest(F.get_system_status, { http: 'GET /status', handle: () => answer('system_status', systemStatus(view)) }),
    get_device_list: defineRequest(F.get_device_list, { http: 'GET /devices', handle: () => answer('device_list', { devices: deviceList(view) }) }),
    get_device: defineRequest(F.get_device, {
      http: 'GET /devices/:device_id',
      handle(f) {
        const d = core.boards.find(f.device_id);
        if (!d) throw gatewayError('NOT_FOUND', `device ${f.device_id} not found`);
        return answer('device', d);
      },
    }),
    get_recent_samples: defineRequest(LiveOperatorFrames.get_recent_samples, {
      http: 'GET /devices/:device_id/recent-samples',
      handle(f) {
        if (!core.boards.find(f.device_id)) throw gatewayError('NOT_FOUND', `device ${f.device_id} not found`);
        const seconds = f.seconds ?? 60;
        return answer('recent_samples', { device_id: f.device_id, seconds, ...core.recent.read(f.device_id, seconds) });
      },
    }),
    list_commands: defineRequest(F.list_commands, {
      http: 'GET /devices/:device_id/commands',
      async handle(f) {
        const rows = await core.store.listCommands({ deviceId: f.device_id, limit: f.limit ?? 100 });
        const commands = rows.map((c) => commandJson(core, c));
        return answer('commands', { device_id: f.device_id, commands });
      },
    }),
    get_device_history: defineRequest(F.get_device_history, {
      http: 'GET /devices/:device_id/history',
      handle: async (f) => answer('device_history', await deviceHistory(core, f)),
    }),
    get_rooms: defineRequest(F.get_rooms, {
      http: 'GET /rooms',
      handle: async () => answer('rooms', { rooms: roomsList(core), signaling_clients: core.signaling.ids(), empty_rooms: await emptyRooms(core) }),
    }),
    get_room: defineRequest(F.get_room, {
      http: 'GET /rooms/:room_id',
      async handle(f) {
        const room = await roomDetail(core, f.room_id);
        if (!room) throw gatewayError('NOT_FOUND', `room ${f.room_id} not found`);
        return answer('room_detail', room);
      },
    }),
    get_messages: defineRequest(F.get_messages, {
      http: 'GET /messages',
      async handle(f) {
        const rows = await core.store.listMessages({ roomId: f.room_id === undefined ? undefined : normalizeRoomId(f.room_id), limit: f.limit ?? 100 });
        return answer('messages', { messages: rows.map(messageJson) });
      },
    }),
    subscribe: defineRequest(F.subscribe, { handle: (f, c) => answer('subscribed', { topics: core.operators.subscribe(c.peer!, f.topics) }) }),
    unsubscribe: defineRequest(F.unsubscribe, { handle: (f, c) => answer('unsubscribed', { topics: core.operators.unsubscribe(c.peer!, f.topics) }) }),
    send_command: defineRequest(F.send_command, {
      http: 'POST /devices/:device_id/commands',
      status: 202,
      async handle(f) {
        const command = boardCommandName(f.command);
        const r = await core.commands.send(f.device_id, command, f.params ?? {}, { timeoutMs: f.timeout_ms, maxRetries: f.max_retries, priority: f.priority });
        return answer('command_queued', { command_id: r.commandId, device_id: f.device_id, command, pushed: r.pushed, connected: core.boards.isOnline(f.device_id) });
      },
    }),
    broadcast_devices: defineRequest(F.broadcast_devices, {
      http: 'POST /commands/broadcast',
      status: 202,
      async handle(f) {
        const ids = await broadcastToBoards(core, boardCommandName(f.command), f.params ?? {});
        return answer('broadcast_sent', { command_ids: ids, devices: ids.length });
      },
    }),
    send_room_message: defineRequest(F.send_room_message, {
      http: 'POST /rooms/:room_id/messages',
      async handle(f) {
        const r = await operatorRoomMessage(core, f.room_id, f.content, f.target_device_id);
        if (!r) throw gatewayError('NOT_FOUND', `room ${f.room_id} has nobody in it`);
        if (f.target_device_id && r.recipients === 0) throw gatewayError('TARGET_NOT_FOUND', `Target device ${f.target_device_id} not found in room ${f.room_id}`);
        return answer('room_message_sent', r);
      },
    }),
    system_notification: defineRequest(F.system_notification, {
      http: 'POST /notifications',
      handle(f) {
        const at = new Date(core.clock.now()).toISOString();
        const n = core.operators.notifyAll({ type: 'system_notification', message: f.message, level: f.level ?? 'info', timestamp: at });
        return answer('notification_sent', { operators: n });
      },
    }),
    notify_user: defineRequest(F.notify_user, {
      http: 'POST /users/:user_id/notifications',
      async handle(f) {
        const payload = typeof f.payload === 'object' && f.payload !== null ? (f.payload as Record<string, unknown>) : { type: 'notification', message: f.payload };
        const priority = PRIORITY_RANK[f.priority ?? 'normal'];
        if (f.ack === true) {
          const messageId = await core.users.notifyAcked(f.user_id, payload, { priority, ttlMs: f.ttl_ms ?? null });
          return answer('user_notified', { user_id: f.user_id, delivered: false, queued: true, message_id: messageId });
        }
        const delivered = await core.users.notify(f.user_id, payload, { priority, ttlMs: f.ttl_ms ?? null });
        return answer('user_notified', { user_id: f.user_id, delivered, queued: !delivered });
      },
    }),
    create_device_token: defineRequest(F.create_device_token, {
      http: 'POST /device-tokens',
      status: 201,
      handle: async (f) => answer('device_token', await mintDeviceToken(core, f.device_id, f.label ?? null)),
    }),
    list_device_tokens: defineRequest(F.list_device_tokens, { http: 'GET /device-tokens', handle: async () => answer('device_tokens', { tokens: await deviceTokens(core) }) }),
    revoke_device_token: defineRequest(F.revoke_device_token, {
      http: 'DELETE /device-tokens/:device_id',
      async handle(f, caller) {
        const n = await core.tokens.revoke(f.device_id);
        // A DELETE of nothing is a 404 for HTTP clients; the socket reply says `revoked: 0`.
        if (n === 0 && caller.transport === 'http') throw gatewayError('NOT_FOUND', `token for ${f.device_id} not found`);
        return answer('device_token_revoked', { device_id: f.device_id, revoked: n });
      },
    }),
  };
}
