/** Endpoint `/ws/admin/`: operators (the UI). The token and Origin were checked at the upgrade. */
import type { TSchema } from '@sinclair/typebox';
import { FrameParser, OperatorFrames, type FrameOf } from '../../../firmware-protocol/index.js';
import type { OperatorRequest } from '../extensions.js';
import type { GatewayContext } from '../context.js';
import type { Peer } from '../peer.js';
import { handleFrames } from './frames.js';
import { normalizeRoomId } from '../rooms.js';
import {
  boardCommandName,
  deviceList,
  broadcastToBoards,
  deviceTokens,
  messageJson,
  mintDeviceToken,
  operatorRoomMessage,
  roomDetail,
  roomsList,
  systemStatus,
} from '../service.js';

/** One parser per gateway: the core requests plus every extension's. */
const parsers = new WeakMap<GatewayContext, FrameParser<Record<string, TSchema>>>();
function parserFor(ctx: GatewayContext): FrameParser<Record<string, TSchema>> {
  let p = parsers.get(ctx);
  if (!p) {
    const table: Record<string, TSchema> = { ...OperatorFrames };
    for (const ext of ctx.extensions) Object.assign(table, ext.frames ?? {});
    parsers.set(ctx, (p = new FrameParser(table)));
  }
  return p;
}

export function attachOperator(ctx: GatewayContext, peer: Peer): void {
  const parser = parserFor(ctx);
  ctx.operators.add(peer);
  peer.send({ type: 'connection_established', role: 'operator', server_time: ctx.clock.now() });

  handleFrames(ctx, peer, async (text) => {
    const p = parser.parse(text);
    if (!p.ok) return peer.send(p.error);
    const reply = (type: string, body: Record<string, unknown>) => {
      const id = (p.frame as OperatorRequest).id;
      peer.send(id === undefined ? { type, ...body } : { type, id, ...body });
    };
    const type = (p.frame as OperatorRequest).type;
    if (!(type in OperatorFrames)) {
      const ext = ctx.extensions.find((e) => e.frames && type in e.frames);
      const frame = p.frame as OperatorRequest;
      return ext?.handle?.(frame, { peer, reply, error: (code, message) => peer.error(code, message, frame.id) });
    }
    const f = p.frame as FrameOf<typeof OperatorFrames>;
    switch (f.type) {
      case 'get_system_status':
        return reply('system_status', systemStatus(ctx));
      case 'get_device_list':
        return reply('device_list', { devices: deviceList(ctx) });
      case 'get_rooms':
        return reply('rooms', { rooms: roomsList(ctx), signaling_clients: ctx.signaling.ids() });
      case 'get_room': {
        const room = await roomDetail(ctx, f.room_id);
        if (!room) return peer.error('NOT_FOUND', `room ${f.room_id} not found`, f.id);
        return reply('room_detail', room);
      }
      case 'get_messages': {
        const rows = await ctx.store.listMessages({ roomId: f.room_id === undefined ? undefined : normalizeRoomId(f.room_id), limit: f.limit ?? 100 });
        return reply('messages', { messages: rows.map(messageJson) });
      }
      case 'subscribe':
        return reply('subscribed', { topics: ctx.operators.subscribe(peer, f.topics) });
      case 'unsubscribe':
        return reply('unsubscribed', { topics: ctx.operators.unsubscribe(peer, f.topics) });
      case 'send_command': {
        const r = await ctx.commands.send(f.device_id, boardCommandName(f.command), f.params ?? {});
        return reply('command_queued', { command_id: r.commandId, device_id: f.device_id, pushed: r.pushed });
      }
      case 'broadcast_devices': {
        const ids = await broadcastToBoards(ctx, boardCommandName(f.command), f.params ?? {});
        return reply('broadcast_sent', { command_ids: ids, devices: ids.length });
      }
      case 'send_room_message': {
        const r = await operatorRoomMessage(ctx, f.room_id, f.content, f.target_device_id);
        if (!r) return peer.error('NOT_FOUND', `room ${f.room_id} has nobody in it`, f.id);
        if (f.target_device_id && r.recipients === 0) return peer.error('TARGET_NOT_FOUND', `Target device ${f.target_device_id} not found in room ${f.room_id}`, f.id);
        return reply('room_message_sent', r);
      }
      case 'system_notification': {
        const at = new Date(ctx.clock.now()).toISOString();
        const n = ctx.operators.notifyAll({ type: 'system_notification', message: f.message, level: f.level ?? 'info', timestamp: at });
        return reply('notification_sent', { operators: n });
      }
      case 'notify_user': {
        const payload = typeof f.payload === 'object' && f.payload !== null ? (f.payload as Record<string, unknown>) : { type: 'notification', message: f.payload };
        const delivered = await ctx.users.notify(f.user_id, payload);
        return reply('user_notified', { user_id: f.user_id, delivered, queued: !delivered });
      }
      case 'create_device_token':
        return reply('device_token', await mintDeviceToken(ctx, f.device_id, f.label ?? null));
      case 'list_device_tokens':
        return reply('device_tokens', { tokens: await deviceTokens(ctx) });
      case 'revoke_device_token': {
        const n = await ctx.store.revokeDeviceTokens(f.device_id, new Date(ctx.clock.now()));
        return reply('device_token_revoked', { device_id: f.device_id, revoked: n });
      }
    }
  });

  peer.ws.on('close', () => ctx.operators.remove(peer));
}
