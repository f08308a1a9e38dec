/**
 * Endpoint `/`: the room protocol and the signaling protocol on one socket. The first
 * frame decides: `{"type":"register"}` is a signaling client, a frame with
 * `device_id` is a room client. Until then, nothing else is accepted.
 */
import {
  FrameParser,
  IdentityFrame,
  MessageAckFrame,
  QueryRoomFrame,
  RegisterFrame,
  RoomMessageFrame,
  SignalFrame,
  checkOne,
  compile,
  isObject,
  parseJson,
  reservedIdError,
} from '../../../firmware-protocol/index.js';
import type { Base } from '../base.js';
import type { RoomHub } from '../rooms.js';
import type { SignalHub } from '../signaling.js';
import type { Peer } from '../peer.js';
import type { RoomMember } from '../rooms.js';
import { handleFrames, type Intake } from './frames.js';
import type { DeviceTokens } from '../core.js';
import { PRIORITY_RANK } from '../priority.js';

const identityCheck = compile(IdentityFrame);
const registerCheck = compile(RegisterFrame);
const signalCheck = compile(SignalFrame);
const roomFrames = new FrameParser({ message: RoomMessageFrame, query_room: QueryRoomFrame, message_ack: MessageAckFrame });

/** What the room and signaling endpoint uses. */
export type LegacyEndpointDeps = Intake & Pick<Base, 'store'> & { readonly tokens: Pick<DeviceTokens, 'check'>; readonly rooms: RoomHub; readonly signaling: SignalHub };

export function attachLegacy(ctx: LegacyEndpointDeps, peer: Peer, queryToken: string | null): void {
  let member: RoomMember | null = null;
  let signalId: string | null = null;
  let greeted = false;

  const greet = () => {
    if (greeted) return;
    greeted = true;
    peer.send({ type: 'connection', message: 'Connected successfully' });
  };

  async function first(value: Record<string, unknown>): Promise<void> {
    if (value.type === 'register') {
      const r = checkOne(registerCheck, value);
      if (!r.ok) return peer.send(r.error);
      // Before the token check: a player's token (minted for user:<id>) opens no signaling client.
      const reservedClient = reservedIdError('client_id', r.frame.client_id);
      if (reservedClient !== null) return peer.error('BAD_FRAME', reservedClient);
      if (!(await ctx.tokens.check(r.frame.client_id, r.frame.token ?? queryToken))) {
        peer.error('UNAUTHORIZED', `device token missing or invalid for '${r.frame.client_id}'`);
        return peer.close(4401, 'unauthorized');
      }
      signalId = r.frame.client_id;
      peer.markIdentified();
      ctx.signaling.register(signalId, peer, r.frame.fleet_gap === true);
      peer.send({ type: 'registered', client_id: signalId });
      ctx.log.info('signaling client registered', { client_id: signalId, ip: peer.ip });
      return;
    }
    if (value.device_id === undefined && value.type !== undefined) {
      peer.error('NOT_IDENTIFIED', 'send your identity first: {"device_id","identity","room_id"?} or {"type":"register","client_id"}');
      return;
    }
    const r = checkOne(identityCheck, value);
    if (!r.ok) return peer.send(r.error);
    const identity = r.frame;
    // Room device ids are never player addresses: room traffic cannot reach a player's queue.
    const reservedDevice = reservedIdError('device_id', identity.device_id);
    if (reservedDevice !== null) return peer.error('BAD_FRAME', reservedDevice);
    if (!(await ctx.tokens.check(identity.device_id, identity.token ?? queryToken))) {
      peer.error('UNAUTHORIZED', `device token missing or invalid for '${identity.device_id}'`);
      return peer.close(4401, 'unauthorized');
    }
    const tooMany = await ctx.rooms.admitDevice(identity.device_id, peer.ip);
    if (tooMany !== null) {
      peer.error('QUOTA_EXCEEDED', tooMany);
      return peer.close(4429, 'too many new device ids from this address');
    }
    const resolved = await ctx.rooms.resolveRoom(identity);
    if (!peer.open) return;
    greet();
    if (resolved.status === 'refused') {
      // Like room_not_found: the client may send another identity on the same socket.
      peer.error(resolved.code, resolved.message);
      return;
    }
    const { status, roomId } = resolved;
    if (status === 'room_not_found') {
      // The client may send another identity frame on the same socket.
      peer.send({ type: 'room', room_id: roomId, status });
      peer.error('ROOM_NOT_FOUND', `room ${roomId} does not exist`);
      return;
    }
    peer.markIdentified();
    member = ctx.rooms.join(peer, identity, roomId);
    peer.send({ type: 'room', room_id: roomId, status });
    ctx.log.info('room client joined', { device_id: identity.device_id, room_id: roomId, status, ip: peer.ip });
    await ctx.rooms.deliverQueued(member);
  }

  async function roomFrame(m: RoomMember, value: unknown): Promise<void> {
    const p = roomFrames.check(value);
    if (!p.ok) return peer.refuse(p.error, p.error.code === 'UNKNOWN_TYPE' ? JSON.stringify(value) : '');
    const f = p.frame;
    if (f.type === 'query_room') return peer.send(ctx.rooms.roomInfo(m));
    if (f.type === 'message_ack') {
      if (!ctx.rooms.acks.ack(f.message_id, m.deviceId)) peer.error('NOT_FOUND', `no message ${f.message_id} waits for an ack from '${m.deviceId}'`);
      return;
    }
    if (f.content === undefined) return peer.error('BAD_FRAME', 'content is required');
    const target = f.target_device_id;
    if (typeof target !== 'string' || target === '') {
      ctx.rooms.broadcast(m.roomId, m.deviceId, f.content);
      return;
    }
    const res = await ctx.rooms.direct(m.roomId, m.deviceId, target, f.content, f.queue === true, PRIORITY_RANK[f.priority ?? 'normal'], { ack: f.ack === true, ttlMs: f.ttl_ms ?? null });
    if (res.kind === 'queued') peer.send({ type: 'queued', message_id: res.messageId, target_device_id: target });
    else if (res.kind === 'not_found') peer.error('TARGET_NOT_FOUND', `Target device ${target} not found in room ${m.roomId}`);
    else if (res.kind === 'bad_target') peer.error('BAD_FRAME', res.message);
    else if (res.kind === 'quota') peer.error('QUOTA_EXCEEDED', res.message);
  }

  function signal(id: string, value: unknown): void {
    if ((value as Record<string, unknown>).type === 'register') {
      // The signaling protocol registers once per socket; a repeat is answered, never relayed.
      const again = (value as Record<string, unknown>).client_id;
      if (again === id) return peer.send({ type: 'registered', client_id: id });
      return peer.error('BAD_FRAME', `already registered as '${id}'; open a new connection for another client_id`);
    }
    const r = checkOne(signalCheck, value);
    if (!r.ok) return peer.send(r.error);
    const n = ctx.signaling.relay(id, value as Record<string, unknown>);
    if (n < 0) peer.error('TARGET_NOT_FOUND', `Target client ${String((value as Record<string, unknown>).target_id)} not found`);
  }

  handleFrames(ctx, peer, (text) => {
    const j = parseJson(text);
    if (!j.ok) return peer.error('INVALID_JSON');
    if (!isObject(j.value)) return peer.error('NOT_AN_OBJECT');
    if (signalId !== null) return signal(signalId, j.value);
    if (member !== null) return roomFrame(member, j.value);
    return first(j.value);
  });

  peer.ws.on('close', () => {
    if (member) {
      ctx.rooms.leave(member);
      ctx.log.info('room client left', { device_id: member.deviceId, room_id: member.roomId });
    }
    if (signalId !== null) ctx.signaling.unregister(signalId, peer);
  });
}
