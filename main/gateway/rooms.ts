/**
 * The room protocol's rooms: membership in memory (who is connected where), rooms,
 * devices, connections, messages and room queries in the store.
 */
import { randomInt } from 'node:crypto';
import { ROOM_ID_ALPHABET, ROOM_ID_LENGTH, reservedIdError, type IdentityFrame, type RoomStatus } from '../../firmware-protocol/index.js';
import type { Base, EventPublisher } from './base.js';
import type { TimerHandle } from './clock.js';
import { MessageQuotas, NewDeviceBudget } from './quotas.js';
import { accessError, accessFromIdentity, roomNameError } from './room-access.js';

/** What the room hub uses. */
export type RoomHubDeps = Pick<Base, 'store' | 'clock' | 'metrics' | 'persist' | 'options' | 'log'> & { readonly operators: EventPublisher };
import type { MessageRow } from './store/types.js';
import type { Peer } from './peer.js';

/** Queued messages read and sent per page on a reconnect; the next page waits until this one left the process. */
export const DELIVERY_PAGE = 16;
const DAY_MS = 86_400_000;
/** How often retention runs (also once at start). */
export const RETENTION_INTERVAL_MS = 3_600_000;

/** Resolves once everything sent to the peer so far has been handed to the kernel, or the socket closed. */
export function flushed(peer: Peer): Promise<void> {
  return new Promise((resolve) => {
    if (!peer.open) return resolve();
    const done = () => (peer.ws.off('close', done), resolve());
    peer.ws.once('close', done);
    // A ping is written after every frame before it: its callback means they are out.
    peer.ws.ping(undefined, undefined, done);
  });
}

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
/** quota: the target's queue or the room is full (QUOTA_EXCEEDED); nothing was stored. */
export type DirectResult =
  | { kind: 'sent' } | { kind: 'queued'; messageId: number } | { kind: 'not_found' } | { kind: 'bad_target'; message: string } | { kind: 'quota'; message: string };

export class RoomHub {
  private readonly rooms = new Map<string, Map<string, RoomMember>>();
  private readonly byDevice = new Map<string, RoomMember>();
  readonly quotas: MessageQuotas;
  private readonly newDevices: NewDeviceBudget;
  private retentionTimer: TimerHandle | undefined;
  private pruning: Promise<void> | null = null;
  private pruneAgain: Promise<void> | null = null;

  constructor(private readonly ctx: RoomHubDeps) {
    const o = ctx.options;
    this.quotas = new MessageQuotas(ctx.store, {
      perTarget: { count: o.maxQueuedPerTarget, bytes: o.maxQueuedBytesPerTarget },
      perRoom: { count: o.maxStoredPerRoom, bytes: o.maxStoredBytesPerRoom },
    });
    this.newDevices = new NewDeviceBudget(ctx.clock, o.maxNewDevicesPerAddress);
  }

  /** Starts retention: once now, then every hour on the injected clock. */
  start(): void {
    if (this.ctx.options.retentionDays <= 0 || this.retentionTimer !== undefined) return;
    void this.prune();
    this.retentionTimer = this.ctx.clock.setInterval(() => void this.prune(), RETENTION_INTERVAL_MS);
  }

  stop(): void {
    this.ctx.clock.clear(this.retentionTimer);
    this.retentionTimer = undefined;
  }

  /**
   * One retention pass. Called while one runs, it runs once more after that one (with the
   * time then), however often it was called meanwhile.
   */
  prune(): Promise<void> {
    if (!this.pruning) {
      this.pruning = this.prunePass().finally(() => (this.pruning = null));
      return this.pruning;
    }
    this.pruneAgain ??= this.pruning.then(() => {
      this.pruneAgain = null;
      return this.prune();
    });
    return this.pruneAgain;
  }

  private async prunePass(): Promise<void> {
    const before = new Date(this.ctx.clock.now() - this.ctx.options.retentionDays * DAY_MS);
    try {
      const n = await this.ctx.store.pruneOlderThan(before);
      // Only a pass that deleted messages changes usage. Resetting after every pass (the one at start
      // included) dropped the reservations of writes still in flight, and a burst then passed the room cap.
      if (n.messages > 0) this.quotas.reset();
      if (n.messages + n.roomQueries + n.connections > 0) {
        this.ctx.log.info('retention: deleted rows older than the retention', { before: before.toISOString(), messages: n.messages, room_queries: n.roomQueries, connections: n.connections });
      }
    } catch (err) {
      this.ctx.metrics.storeErrors++;
      this.ctx.log.warn('retention pass failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Null if this identity may join: a device the gateway knows, or a new one within its
   * address's budget of new device ids; otherwise why not.
   */
  async admitDevice(deviceId: string, ip: string): Promise<string | null> {
    if (this.byDevice.has(deviceId) || (await this.ctx.store.getDevice(deviceId)) !== undefined) return null;
    return this.newDevices.take(ip) ? null : this.newDevices.message(ip);
  }

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

  /**
   * Decides the room for an identity frame (the room protocol's four statuses); `refused` when
   * the name cannot be created or the room is restricted and this identity may not join.
   */
  async resolveRoom(identity: IdentityFrame): Promise<{ status: RoomStatus; roomId: string } | { status: 'refused'; roomId: string; code: 'BAD_FRAME' | 'ROOM_FORBIDDEN'; message: string }> {
    const { store } = this.ctx;
    const requested = typeof identity.room_id === 'string' ? normalizeRoomId(identity.room_id) : '';
    if (requested) {
      if (identity.create === true) {
        const bad = roomNameError(requested);
        if (bad !== null) return { status: 'refused', roomId: requested, code: 'BAD_FRAME', message: bad };
        if (!this.rooms.has(requested) && (await store.createRoom(requested, new Date(this.ctx.clock.now()), accessFromIdentity(identity)))) {
          this.ctx.operators.publish('rooms', { event: 'created', room_id: requested });
          return { status: 'created_new', roomId: requested };
        }
      } else if (!this.rooms.has(requested) && !(await store.roomExists(requested))) {
        this.ctx.log.warn('room not found', { room_id: requested, device_id: identity.device_id });
        return { status: 'room_not_found', roomId: requested };
      }
      const refused = accessError(requested, await store.getRoomAccess(requested), identity);
      if (refused !== null) {
        this.ctx.log.warn('room refused a device', { room_id: requested, device_id: identity.device_id });
        return { status: 'refused', roomId: requested, code: 'ROOM_FORBIDDEN', message: refused };
      }
      return { status: 'joined_existing', roomId: requested };
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

  private messageFrame(content: unknown, from: string, messageType: 'broadcast' | 'direct', at: Date, roomId: string | null = null): string {
    return JSON.stringify({ type: 'message', content, from_device_id: from, message_type: messageType, timestamp: at.toISOString(), ...(roomId !== null ? { room_id: roomId } : {}) });
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
      this.storeLogged(roomId, { roomId, fromDeviceId, toDeviceId: null, messageType: 'broadcast', content: body, sentAt: at, status: 'sent', contentJson: typeof content !== 'string' }),
      'message',
    );
    this.ctx.operators.publish('messages', { event: 'message', room_id: roomId, from_device_id: fromDeviceId, to_device_id: null, message_type: 'broadcast', content, sent_at: at.toISOString(), recipients: n });
    return n;
  }

  /** A direct message to a member of the same room; queued in the store when asked and the target is away. */
  async direct(roomId: string, fromDeviceId: string, target: string, content: unknown, queue: boolean, priority = 1): Promise<DirectResult> {
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
        this.storeLogged(roomId, { roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'sent', contentJson: typeof content !== 'string' }),
        'message',
      );
      this.ctx.operators.publish('messages', { event: 'message', room_id: roomId, from_device_id: fromDeviceId, to_device_id: target, message_type: 'direct', content, sent_at: at.toISOString(), recipients: 1 });
      return { kind: 'sent' };
    }
    if (!queue) {
      this.ctx.log.warn('target device not found', { room_id: roomId, target_device_id: target, from_device_id: fromDeviceId });
      return { kind: 'not_found' };
    }
    const bytes = Buffer.byteLength(body);
    const full = await this.quotas.reserveQueued(roomId, target, bytes);
    if (full !== null) {
      this.ctx.metrics.countError('QUOTA_EXCEEDED');
      return { kind: 'quota', message: full };
    }
    // Stored before the sender hears "queued": a queued message survives a restart.
    let messageId: number;
    try {
      messageId = await this.ctx.store.insertMessage({
        roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'queued', contentJson: typeof content !== 'string', priority,
      });
    } catch (err) {
      this.quotas.release(roomId, target, bytes);
      throw err;
    }
    this.ctx.operators.publish('messages', { event: 'queued', message_id: messageId, room_id: roomId, from_device_id: fromDeviceId, to_device_id: target });
    return { kind: 'queued', messageId };
  }

  /**
   * Hands a device the direct messages queued for it, in whichever room it joined (as
   * PROTOCOL.md promises: a device that comes back elsewhere is not left waiting), high
   * priority first, then oldest first, and tells each sender. One queued in another room
   * carries that room's `room_id`.
   */
  async deliverQueued(member: RoomMember): Promise<number> {
    const { store, clock } = this.ctx;
    let after = 0;
    let afterPriority = 0;
    let n = 0;
    // A page at a time, the next only once this one has left the process: a long queue
    // costs one page of memory, not the whole queue.
    for (;;) {
      const page: MessageRow[] = await store.queuedMessagesPage(member.deviceId, { roomId: member.roomId, anyRoom: true, afterId: after, afterPriority, limit: DELIVERY_PAGE });
      for (const msg of page) {
        if (!member.peer.open) return n;
        member.peer.sendText(this.messageFrame(storedContent(msg), msg.fromDeviceId, 'direct', msg.sentAt, msg.roomId !== member.roomId ? msg.roomId : null));
        await store.markMessageDelivered(msg.id, new Date(clock.now()));
        this.quotas.delivered(member.deviceId, Buffer.byteLength(msg.content));
        this.byDevice.get(msg.fromDeviceId)?.peer.send({ type: 'delivered', message_id: msg.id, target_device_id: member.deviceId });
        this.ctx.operators.publish('messages', { event: 'delivered', message_id: msg.id, to_device_id: member.deviceId });
        after = msg.id;
        afterPriority = msg.priority;
        n++;
      }
      if (page.length < DELIVERY_PAGE) return n;
      await flushed(member.peer);
    }
  }

  /** Stores a room message that was relayed live, unless the room is full (then it was relayed only). */
  private async storeLogged(roomId: string, m: Parameters<RoomHubDeps['store']['insertMessage']>[0]): Promise<void> {
    const bytes = Buffer.byteLength(m.content);
    if (!(await this.quotas.reserveStored(roomId, bytes))) {
      this.ctx.metrics.countError('QUOTA_EXCEEDED');
      return;
    }
    try {
      await this.ctx.store.insertMessage(m);
    } catch (err) {
      this.quotas.release(roomId, null, bytes);
      throw err;
    }
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
