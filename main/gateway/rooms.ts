/**
 * The room protocol's rooms: membership in memory (who is connected where), rooms,
 * devices, connections, messages and room queries in the store.
 */
import { reservedIdError, type IdentityFrame, type RoomStatus } from '../../firmware-protocol/index.js';
import type { Base, EventPublisher } from './base.js';
import { RoomRetention } from './room-retention.js';
import { MessageQuotas, NewDeviceBudget } from './quotas.js';
import { accessError, accessFromIdentity, roomNameError } from './room-access.js';
import { contentText, DELIVERY_PAGE, flushed, messageFrame, newRoomId, normalizeRoomId, storedContent } from './room-util.js';

export { DELIVERY_PAGE, flushed, newRoomId, normalizeRoomId, storedContent } from './room-util.js';
/** What the room hub uses. */
export type RoomHubDeps = Pick<Base, 'store' | 'clock' | 'metrics' | 'persist' | 'options' | 'log'> & { readonly operators: EventPublisher; readonly fleet?: RoomFleet };
import type { RoomFleet } from './fleet/hooks.js';
import type { ExpiredMessage, MessageRow } from './store/types.js';
import { AckTracker } from './acks.js';
import { MessageExpiry } from './message-expiry.js';
import type { Peer } from './peer.js';

export { RETENTION_INTERVAL_MS } from './room-retention.js';

export interface RoomMember {
  readonly deviceId: string;
  readonly identity: string;
  readonly roomId: string;
  readonly peer: Peer;
  readonly presence: boolean;
  /** Asked for fleet_gap frames (a room client written for the room protocol does not expect them). */
  readonly fleetGap?: boolean;
  readonly joinedAt: number;
  /** Resolves to the store's connection row id. */
  connectionId: Promise<number | null>;
}

/** bad_target: the id can never name a room device (another endpoint's address); nothing was sent or stored. */
/** quota: the target's queue or the room is full (QUOTA_EXCEEDED); nothing was stored. */
export type DirectResult =
  | { kind: 'sent' } | { kind: 'queued'; messageId: number } | { kind: 'not_found' } | { kind: 'bad_target'; message: string } | { kind: 'quota'; message: string };

export class RoomHub {
  private readonly rooms = new Map<string, Map<string, RoomMember>>();
  private readonly byDevice = new Map<string, RoomMember>();
  /** Per member: the queue delivery under way, and whether another pass was asked for meanwhile. */
  private readonly delivering = new WeakMap<RoomMember, { run: Promise<number>; again: boolean }>();
  readonly quotas: MessageQuotas;
  private readonly newDevices: NewDeviceBudget;
  private readonly retention: RoomRetention;
  /** Direct messages sent with `ack: true`, waiting for their target's message_ack. */
  readonly acks: AckTracker;
  /** Marks queued messages past their ttl_ms expired (every message, a player's notifications too). */
  readonly expiry: MessageExpiry;

  constructor(private readonly ctx: RoomHubDeps) {
    const o = ctx.options;
    this.quotas = new MessageQuotas(ctx.store, {
      perTarget: { count: o.maxQueuedPerTarget, bytes: o.maxQueuedBytesPerTarget },
      perRoom: { count: o.maxStoredPerRoom, bytes: o.maxStoredBytesPerRoom },
    });
    this.newDevices = new NewDeviceBudget(ctx.clock, o.maxNewDevicesPerAddress);
    this.acks = new AckTracker(ctx);
    this.retention = new RoomRetention(ctx, this.quotas);
    this.expiry = new MessageExpiry(ctx, (m) => this.expired(m));
  }

  /** Starts retention (once now, then every hour) and the expiry sweep, on the injected clock. */
  start(): void {
    this.retention.start();
    this.expiry.start();
  }

  stop(): void {
    this.acks.stop();
    this.retention.stop();
    this.expiry.stop();
  }

  /** A queued room message expired: it leaves its target's queue, and a sender that asked for an ack hears it. */
  private expired(m: ExpiredMessage): void {
    if (m.roomId === null) return;
    this.quotas.delivered(m.toDeviceId, m.bytes);
    this.acks.drop(m.id);
    if (!m.ackRequested) return;
    this.toSender(m.fromDeviceId, JSON.stringify({ type: 'expired', message_id: m.id, target_device_id: m.toDeviceId }));
  }

  /** A notice for a message's sender, wherever in the fleet it is connected. */
  private toSender(from: string, notice: string): void {
    const sender = this.byDevice.get(from);
    if (sender) sender.peer.sendText(notice);
    else this.ctx.fleet?.toDevice(from, notice);
  }

  /** Reserves a slot in the target's queue; a full queue is first cleared of what expired. */
  private async reserveQueued(roomId: string, target: string, bytes: number): Promise<string | null> {
    const full = await this.quotas.reserveQueued(roomId, target, bytes);
    if (full === null || (await this.expiry.sweep()) === 0) return full;
    return this.quotas.reserveQueued(roomId, target, bytes);
  }

  /** One retention pass (see RoomRetention.prune). */
  prune(): Promise<void> {
    return this.retention.prune();
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
      fleetGap: identity.fleet_gap === true,
      joinedAt: clock.now(),
      connectionId: Promise.resolve(null),
    };
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = new Map()));
    this.presence(roomId, 'join', member);
    room.set(member.deviceId, member);
    this.byDevice.set(member.deviceId, member);
    this.ctx.fleet?.joined(member);

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
    // What it did not ack stays queued: sent again when it next identifies.
    this.acks.forget(member.deviceId);
    const room = this.rooms.get(member.roomId);
    room?.delete(member.deviceId);
    if (room && room.size === 0) this.rooms.delete(member.roomId);
    this.presence(member.roomId, 'leave', member);
    this.ctx.fleet?.left(member);
    const at = new Date(this.ctx.clock.now());
    this.ctx.persist(
      member.connectionId.then((id) => (id === null ? undefined : this.ctx.store.closeConnection(id, at))),
      'room leave',
    );
    this.ctx.operators.publish('rooms', { event: 'leave', room_id: member.roomId, device_id: member.deviceId });
  }

  /** Tells the room's members who asked for presence (`who` may be a member another gateway holds). */
  presence(roomId: string, event: 'join' | 'leave', who: { deviceId: string; identity: string }): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    let text: string | undefined;
    for (const m of room.values()) {
      if (m === who || m.deviceId === who.deviceId || !m.presence) continue;
      text ??= JSON.stringify({ type: 'presence', event, room_id: roomId, device_id: who.deviceId, identity: who.identity });
      m.peer.sendText(text);
    }
  }

  /** Sends to every other member of the room; returns how many received it. */
  broadcast(roomId: string, fromDeviceId: string, content: unknown): number {
    const at = new Date(this.ctx.clock.now());
    const text = messageFrame(content, fromDeviceId, 'broadcast', at);
    let n = this.deliverLocal(roomId, fromDeviceId, text);
    if (this.ctx.fleet) n += this.ctx.fleet.toRoom(roomId, fromDeviceId, text);
    this.ctx.metrics.messagesRelayed++;
    const body = contentText(content);
    this.ctx.persist(
      this.storeLogged(roomId, { roomId, fromDeviceId, toDeviceId: null, messageType: 'broadcast', content: body, sentAt: at, status: 'sent', contentJson: typeof content !== 'string' }),
      'message',
    );
    this.ctx.operators.publish('messages', { event: 'message', room_id: roomId, from_device_id: fromDeviceId, to_device_id: null, message_type: 'broadcast', content, sent_at: at.toISOString(), recipients: n });
    return n;
  }

  /** Sends a frame to this gateway's members of the room but one; returns how many. */
  deliverLocal(roomId: string, except: string, text: string): number {
    let n = 0;
    for (const m of this.rooms.get(roomId)?.values() ?? []) {
      if (m.deviceId === except) continue;
      m.peer.sendText(text);
      n++;
    }
    return n;
  }

  /** A direct message to a member of the same room; queued in the store when asked and the target is away. */
  async direct(roomId: string, fromDeviceId: string, target: string, content: unknown, queue: boolean, priority = 1, delivery: { ack: boolean; ttlMs: number | null } = { ack: false, ttlMs: null }): Promise<DirectResult> {
    // Room traffic stays in the room namespace: a queued row under a player's address would
    // otherwise be read back as that player's notification.
    const reserved = reservedIdError('target_device_id', target);
    if (reserved !== null) return { kind: 'bad_target', message: `${reserved}; room messages reach only devices in the room` };
    const at = new Date(this.ctx.clock.now());
    const body = contentText(content);
    const m = this.rooms.get(roomId)?.get(target);
    if (delivery.ack && (m || queue)) return this.directAcked(roomId, fromDeviceId, target, content, at, priority, delivery.ttlMs, m);
    const text = messageFrame(content, fromDeviceId, 'direct', at);
    if (m || this.ctx.fleet?.toDevice(target, text, roomId)) {
      m?.peer.sendText(text, priority);
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
    const full = await this.reserveQueued(roomId, target, bytes);
    if (full !== null) {
      this.ctx.metrics.countError('QUOTA_EXCEEDED');
      return { kind: 'quota', message: full };
    }
    // Stored before the sender hears "queued": a queued message survives a restart.
    let messageId: number;
    try {
      messageId = await this.ctx.store.insertMessage({
        roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'queued', contentJson: typeof content !== 'string', priority,
        expiresAt: delivery.ttlMs === null ? null : new Date(at.getTime() + delivery.ttlMs),
      });
    } catch (err) {
      this.quotas.release(roomId, target, bytes);
      throw err;
    }
    this.ctx.operators.publish('messages', { event: 'queued', message_id: messageId, room_id: roomId, from_device_id: fromDeviceId, to_device_id: target });
    // The target may have joined while the row was written, after its own delivery pass read
    // the queue: without another pass the message would wait for its next identity.
    const joined = this.byDevice.get(target);
    if (joined) void this.deliverQueued(joined).catch((err: unknown) => this.ctx.log.warn('queued delivery failed', { device_id: target, error: err instanceof Error ? err.message : String(err) }));
    return { kind: 'queued', messageId };
  }

  /**
   * Hands a device the direct messages queued for it, in whichever room it joined (as
   * PROTOCOL.md promises: a device that comes back elsewhere is not left waiting), high
   * priority first, then oldest first, and tells each sender. One queued in another room
   * carries that room's `room_id`.
   */
  deliverQueued(member: RoomMember): Promise<number> {
    // One pass at a time per member, so no message goes out twice; a pass asked for while one
    // runs happens once after it.
    const busy = this.delivering.get(member);
    if (busy) {
      busy.again = true;
      return busy.run;
    }
    const state = { run: Promise.resolve(0), again: false };
    state.run = (async () => {
      let n = 0;
      try {
        do {
          state.again = false;
          n += await this.deliverQueuedPass(member);
        } while (state.again && member.peer.open);
      } finally {
        this.delivering.delete(member);
      }
      return n;
    })();
    this.delivering.set(member, state);
    return state.run;
  }

  private async deliverQueuedPass(member: RoomMember): Promise<number> {
    const { store, clock } = this.ctx;
    let after = 0;
    let afterPriority = 0;
    let n = 0;
    // A page at a time, the next only once this one has left the process: a long queue
    // costs one page of memory, not the whole queue.
    for (;;) {
      const page: MessageRow[] = await store.queuedMessagesPage(member.deviceId, { roomId: member.roomId, anyRoom: true, afterId: after, afterPriority, liveAt: new Date(clock.now()), limit: DELIVERY_PAGE });
      for (const msg of page) {
        if (!member.peer.open) return n;
        const bytes = Buffer.byteLength(msg.content);
        if (msg.ackRequested) {
          // Delivered only once acked.
          this.sendAcked(member, { id: msg.id, roomId: msg.roomId, fromDeviceId: msg.fromDeviceId, content: storedContent(msg), sentAt: msg.sentAt, expiresAt: msg.expiresAt, bytes, priority: msg.priority });
        } else {
          member.peer.sendText(messageFrame(storedContent(msg), msg.fromDeviceId, 'direct', msg.sentAt, msg.roomId !== member.roomId ? msg.roomId : null), msg.priority);
          await store.markMessageDelivered(msg.id, new Date(clock.now()));
          this.delivered(msg.id, msg.fromDeviceId, member.deviceId, bytes);
        }
        after = msg.id;
        afterPriority = msg.priority;
        n++;
      }
      if (page.length < DELIVERY_PAGE) return n;
      await flushed(member.peer);
    }
  }

  /**
   * `ack: true`: stored as queued first (a restart or a dying socket loses nothing), sent now
   * if the target is in the room, resent until it acks or the message expires.
   */
  private async directAcked(roomId: string, fromDeviceId: string, target: string, content: unknown, at: Date, priority: number, ttlMs: number | null, m: RoomMember | undefined): Promise<DirectResult> {
    const body = contentText(content);
    const bytes = Buffer.byteLength(body);
    const full = await this.reserveQueued(roomId, target, bytes);
    if (full !== null) {
      this.ctx.metrics.countError('QUOTA_EXCEEDED');
      return { kind: 'quota', message: full };
    }
    const expiresAt = ttlMs === null ? null : new Date(at.getTime() + ttlMs);
    let messageId: number;
    try {
      messageId = await this.ctx.store.insertMessage({
        roomId, fromDeviceId, toDeviceId: target, messageType: 'direct', content: body, sentAt: at, status: 'queued', contentJson: typeof content !== 'string', priority, ackRequested: true, expiresAt,
      });
    } catch (err) {
      this.quotas.release(roomId, target, bytes);
      throw err;
    }
    this.ctx.operators.publish('messages', { event: 'queued', message_id: messageId, room_id: roomId, from_device_id: fromDeviceId, to_device_id: target });
    if (m && this.byDevice.get(target) === m) this.sendAcked(m, { id: messageId, roomId, fromDeviceId, content, sentAt: at, expiresAt, bytes, priority });
    return { kind: 'queued', messageId };
  }

  private sendAcked(m: RoomMember, r: { id: number; roomId: string | null; fromDeviceId: string; content: unknown; sentAt: Date; expiresAt: Date | null; bytes: number; priority: number }): void {
    const text = messageFrame(r.content, r.fromDeviceId, 'direct', r.sentAt, r.roomId !== m.roomId ? r.roomId : null, r.id);
    const send = () => {
      if (!m.peer.open || this.byDevice.get(m.deviceId) !== m) return false;
      m.peer.sendText(text, r.priority);
      return true;
    };
    send();
    this.acks.track({
      id: r.id, to: m.deviceId, expiresAt: r.expiresAt?.getTime() ?? null, resend: send,
      onAcked: () => this.delivered(r.id, r.fromDeviceId, m.deviceId, r.bytes),
      onExpired: () => void this.expiry.expire({ id: r.id, roomId: r.roomId, fromDeviceId: r.fromDeviceId, toDeviceId: m.deviceId, bytes: r.bytes, ackRequested: true }),
    });
  }

  private delivered(id: number, from: string, to: string, bytes: number): void {
    this.quotas.delivered(to, bytes);
    this.toSender(from, JSON.stringify({ type: 'delivered', message_id: id, target_device_id: to }));
    this.ctx.operators.publish('messages', { event: 'delivered', message_id: id, to_device_id: to });
  }

  /** Stores a room message that was relayed live, unless the room is full (then it was relayed only). */
  private async storeLogged(roomId: string, m: Parameters<RoomHubDeps['store']['insertMessage']>[0]): Promise<void> {
    if (!(await this.quotas.storeWithin(roomId, m))) this.ctx.metrics.countError('QUOTA_EXCEEDED');
  }

  roomInfo(member: RoomMember): { type: 'room_info'; room_id: string; total_clients: number; clients: { device_id: string; identity: string }[] } {
    const all: { deviceId: string; identity: string }[] = this.membersOf(member.roomId);
    if (this.ctx.fleet) all.push(...this.ctx.fleet.remoteMembers(member.roomId).map((m) => ({ deviceId: m.deviceId, identity: m.identity })));
    this.ctx.persist(
      this.ctx.store.insertRoomQuery({ deviceId: member.deviceId, roomId: member.roomId, queriedAt: new Date(this.ctx.clock.now()) }),
      'room query',
    );
    return {
      type: 'room_info',
      room_id: member.roomId,
      total_clients: all.length,
      clients: all.filter((m) => m.deviceId !== member.deviceId).map((m) => ({ device_id: m.deviceId, identity: m.identity })),
    };
  }

  /** The room protocol's status line: connections, rooms, devices per room. */
  statusLine(): string {
    const per = [...this.rooms].map(([id, m]) => `${id}:${m.size}`).join(',');
    return `connections=${this.byDevice.size} rooms=${this.rooms.size} devices_per_room={${per}}`;
  }
}
