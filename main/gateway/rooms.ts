/**
 * The room protocol's rooms: membership in memory (who is connected where), rooms,
 * devices, connections, messages and room queries in the store.
 */
import { randomInt } from 'node:crypto';
import { ROOM_ID_ALPHABET, ROOM_ID_LENGTH, reservedIdError, type IdentityFrame, type RoomStatus } from '../../firmware-protocol/index.js';
import type { Base, EventPublisher } from './base.js';

/** What the room hub uses. */
export type RoomHubDeps = Pick<Base, 'store' | 'clock' | 'metrics' | 'persist'> & { readonly operators: EventPublisher };
import type { MessageRow } from './store/types.js';
import type { Peer } from './peer.js';

export interface RoomMember {
  readonly deviceId: string;
  readonly identity: string;
  readonly roomId: string;
  readonly peer: Peer;
  readonly presence: boolean;
  readonly joinedAt: number;
  /** Resolves to the store's connection row id. */
  connectionId: Promise<number | null>;
}

export function newRoomId(): string {
  let id = '';
  for (let i = 0; i < ROOM_ID_LENGTH; i++) id += ROOM_ID_ALPHABET[randomInt(ROOM_ID_ALPHABET.length)];
  return id;
}

/** Room ids are read aloud and typed by people: accept lower case and spaces around. */
export function normalizeRoomId(id: string): string {
  return id.trim().toUpperCase();
}

/** The content as it was sent: JSON values come back as values, text as text. */
export function storedContent(m: { content: string; contentJson: boolean }): unknown {
  if (!m.contentJson) return m.content;
  try {
    return JSON.parse(m.content) as unknown;
  } catch {
    return m.content;
  }
}

function contentText(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content ?? null);
}

/** bad_target: the id can never name a room device (another endpoint's address); nothing was sent or stored. */
export type DirectResult = { kind: 'sent' } | { kind: 'queued'; messageId: number } | { kind: 'not_found' } | { kind: 'bad_target'; message: string };

export class RoomHub {
  private readonly rooms = new Map<string, Map<string, RoomMember>>();
  private readonly byDevice = new Map<string, RoomMember>();

  constructor(private readonly ctx: RoomHubDeps) {}

  member(deviceId: string): RoomMember | undefined {
    return this.byDevice.get(deviceId);
  }

  membersOf(roomId: string): RoomMember[] {
    return [...(this.rooms.get(roomId)?.values() ?? [])];
  }

  /** Rooms with at least one member, with their members. */
  activeRooms(): { roomId: string; members: RoomMember[] }[] {
    return [...this.rooms].map(([roomId, m]) => ({ roomId, members: [...m.values()] }));
  }

  connectionCount(): number {
    return this.byDevice.size;
  }

  /** A fresh unique id; the store's primary key settles races between gateways sharing a database. */
  async createRoom(): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const id = newRoomId();
      if (await this.ctx.store.createRoom(id, new Date(this.ctx.clock.now()))) {
        this.ctx.operators.publish('rooms', { event: 'created', room_id: id });
        return id;
      }
    }
    throw new Error('could not find a free room id');
  }

  /** Decides the room for an identity frame (the room protocol's four statuses). */
  async resolveRoom(identity: IdentityFrame): Promise<{ status: RoomStatus; roomId: string }> {
    const { store } = this.ctx;
    const requested = typeof identity.room_id === 'string' ? normalizeRoomId(identity.room_id) : '';
    if (requested) {
      const exists = this.rooms.has(requested) || (await store.roomExists(requested));
      return { status: exists ? 'joined_existing' : 'room_not_found', roomId: requested };
    }
    const known = await store.getDevice(identity.device_id);
    if (known?.lastRoomId && (this.rooms.has(known.lastRoomId) || (await store.roomExists(known.lastRoomId)))) {
      return { status: 'reconnected', roomId: known.lastRoomId };
    }
    return { status: 'created_new', roomId: await this.createRoom() };
  }

  /** Adds the peer to the room; a device already connected elsewhere is replaced (its old socket closed). */
  join(peer: Peer, identity: IdentityFrame, roomId: string): RoomMember {
    const { store, clock } = this.ctx;
    const old = this.byDevice.get(identity.device_id);
    if (old) {
      this.leave(old);
      old.peer.close(4000, 'replaced by a newer connection of the same device');
    }
    const now = new Date(clock.now());
    const member: RoomMember = {
      deviceId: identity.device_id,
      identity: identity.identity,
      roomId,
      peer,
      presence: identity.presence === true,
      joinedAt: clock.now(),
      connectionId: Promise.resolve(null),
    };
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = new Map()));
    this.presence(roomId, 'join', member);
    room.set(member.deviceId, member);
    this.byDevice.set(member.deviceId, member);

    const write = (async () => {
      await store.upsertDevice({ deviceId: member.deviceId, kind: 'client', identity: member.identity, lastConnectedAt: now, lastRoomId: roomId });
      return store.openConnection({ deviceId: member.deviceId, kind: 'client', roomId, clientIp: peer.ip, connectedAt: now });
    })();
    member.connectionId = write.catch(() => null);
    this.ctx.persist(write, 'room join');
    this.ctx.operators.publish('rooms', { event: 'join', room_id: roomId, device_id: member.deviceId, identity: member.identity });
    return member;
  }

  /** Closes the room client's socket, if connected (its close handler then leaves the room). */
  closeDevice(deviceId: string, code: number, reason: string): boolean {
    const m = this.byDevice.get(deviceId);
    m?.peer.close(code, reason);
    return m !== undefined;
  }

  leave(member: RoomMember): void {
    if (this.byDevice.get(member.deviceId) !== member) return;
    this.byDevice.delete(member.deviceId);
    const room = this.rooms.get(member.roomId);
    room?.delete(member.deviceId);
    if (room && room.size === 0) this.rooms.delete(member.roomId);
    this.presence(member.roomId, 'leave', member);
    const at = new Date(this.ctx.clock.now());
    this.ctx.persist(
      member.connectionId.then((id) => (id === null ? undefined : this.ctx.store.closeConnection(id, at))),
      'room leave',
    );
    this.ctx.operators.publish('rooms', { event: 'leave', room_id: member.roomId, device_id: member.deviceId });
  }

  private presence(roomId: string, event: 'join' | 'leave', who: RoomMember): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    let text: string | undefined;
    for (const m of room.values()) {
      if (m === who || !m.presence) continue;
      text ??= JSON.stringify({ type: 'presence', event, room_id: roomId, device_id: who.deviceId, identity: who.identity });
      m.peer.sendText(text);
    }
  }

  private messageFrame(content: unknown, from: string, messageType: 'broadcast' | 'direct', at: Date): string {
    return JSON.stringify({ type: 'message', content, from_device_id: from, message_type: messageType, timestamp: at.toISOString() });
  }

  /** Sends to every other member of the room; returns how many received it. */
  broadcast(roomId: string, fromDeviceId: string, content: unknown): number {
    const at = new Date(this.ctx.clock.now());
    const text = this.messageFrame(content, fromDeviceId, 'broadcast', at);
    let n = 0;
    for (const m of this.rooms.get(roomId)?.values() ?? []) {
      if (m.deviceId === fromDeviceId) continue;
      m.peer.sendText(text);
      n++;
    }
    this.ctx.metrics.messagesRelayed++;
    const body = contentText(content);
    this.ctx.persist(
      this.ctx.store.insertMessage({ roomId, fromDeviceId, toDeviceId: null, messageType: 'broadcast', content: body, sentAt: at, status: 'sent', contentJson: typeof content !== 'string' }),
      'message',
    );
    this.ctx.operators.publish('messages', { event: 'message', room_id: roomId, from_device_id: fromDeviceId, to_device_id: null, message_type: 'broadcast', content, sent_at: at.toISOString(), recipients: n });
    return n;
  }

  /** A direct message to a member of the same room; queued in the store when asked and the target is away. */
  async direct(roomId: string, fromDeviceId: string, target: string, content: unknown, queue: boolean): Promise<DirectResult> {
    // Room traffic stays in the room namespace: a queued row under a player's address would
    // otherwise be read back as that player's notification.
    const reserved = reservedIdError('target_device_id', target);
    if (reserved !== null) return { kind: 'bad_target', message: `${reserved}; room messages reach only devices in the room` };
    const at = new Date(this.ctx.clock.now());
    const body = contentText(content);
    const m = this.rooms.get(roomId)?.get(target);
    if (m) {
      m.peer.sendText(this.messageFrame(content, fromDeviceId, 'direct', at));
      this.ctx.metrics.messagesRelayed++;
      this.ctx.persist(
        this.ctx.store.insertMessage({ roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'sent', contentJson: typeof content !== 'string' }),
        'message',
      );
      this.ctx.operators.publish('messages', { event: 'message', room_id: roomId, from_device_id: fromDeviceId, to_device_id: target, message_type: 'direct', content, sent_at: at.toISOString(), recipients: 1 });
      return { kind: 'sent' };
    }
    if (!queue) return { kind: 'not_found' };
    // Stored before the sender hears "queued": a queued message survives a restart.
    const messageId = await this.ctx.store.insertMessage({
      roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'queued', contentJson: typeof content !== 'string',
    });
    this.ctx.operators.publish('messages', { event: 'queued', message_id: messageId, room_id: roomId, from_device_id: fromDeviceId, to_device_id: target });
    return { kind: 'queued', messageId };
  }

  /**
   * Hands a device the direct messages queued for it in the room it just
   * joined, oldest first, and tells each sender. Messages queued in another
   * room wait until the device is back there: direct messages are room-scoped.
   */
  async deliverQueued(member: RoomMember): Promise<number> {
    const { store, clock } = this.ctx;
    const queued: MessageRow[] = (await store.queuedMessagesFor(member.deviceId)).filter((m) => m.roomId === member.roomId);
    for (const msg of queued) {
      if (!member.peer.open) break;
      member.peer.sendText(this.messageFrame(storedContent(msg), msg.fromDeviceId, 'direct', msg.sentAt));
      await store.markMessageDelivered(msg.id, new Date(clock.now()));
      this.byDevice.get(msg.fromDeviceId)?.peer.send({ type: 'delivered', message_id: msg.id, target_device_id: member.deviceId });
      this.ctx.operators.publish('messages', { event: 'delivered', message_id: msg.id, to_device_id: member.deviceId });
    }
    return queued.length;
  }

  roomInfo(member: RoomMember): { type: 'room_info'; room_id: string; total_clients: number; clients: { device_id: string; identity: string }[] } {
    const all = this.membersOf(member.roomId);
    this.ctx.persist(
      this.ctx.store.insertRoomQuery({ deviceId: member.deviceId, roomId: member.roomId, queriedAt: new Date(this.ctx.clock.now()) }),
      'room query',
    );
    return {
      type: 'room_info',
      room_id: member.roomId,
      total_clients: all.length,
      clients: all.filter((m) => m !== member).map((m) => ({ device_id: m.deviceId, identity: m.identity })),
    };
  }

  /** The room protocol's status line: connections, rooms, devices per room. */
  statusLine(): string {
    const per = [...this.rooms].map(([id, m]) => `${id}:${m.size}`).join(',');
    return `connections=${this.byDevice.size} rooms=${this.rooms.size} devices_per_room={${per}}`;
  }
}
