/**
 * Bounds on what a client on the LAN can make the gateway keep. Room clients
 * (in open mode: anyone) can queue direct messages for ids that never
 * connect, fill a room's log with broadcasts, and mint a device row per id
 * they make up. Each is capped here; the caps are options of `serve`.
 */
import type { Clock } from './clock.js';
import { isThisMachine } from './limits.js';
import type { MessageCount, MessageInsert, Store } from './store/types.js';

export interface MessageLimits {
  /** Queued direct messages to one device, all rooms together; 0 for no cap. */
  perTarget: MessageCount;
  /** Everything stored of one room: queued, sent and delivered messages and broadcasts; 0 for no cap. */
  perRoom: MessageCount;
}

/** Usage entries kept in memory; a usage evicted is read again from the store's indexes. */
const MAX_CACHED = 10_000;

const over = (u: MessageCount, limit: MessageCount, bytes: number) =>
  (limit.count > 0 && u.count + 1 > limit.count) || (limit.bytes > 0 && u.bytes + bytes > limit.bytes);

/**
 * Usage per target and per room, read once from the store (index-only sums)
 * and then kept up to date as this gateway stores and delivers. A slot is
 * reserved before the write, so concurrent senders cannot pass a cap
 * together. Several gateways on one database each count what they add since
 * they read it: the cap can be passed by at most one cap's worth per gateway.
 */
export class MessageQuotas {
  private readonly targets = new Map<string, MessageCount>();
  private readonly rooms = new Map<string, MessageCount>();

  constructor(private readonly store: Store, readonly limits: MessageLimits) {}

  private async cached(map: Map<string, MessageCount>, key: string, load: () => Promise<MessageCount>): Promise<MessageCount> {
    let u = map.get(key);
    if (u) {
      map.delete(key);
      map.set(key, u);
      return u;
    }
    const loaded = await load();
    u = map.get(key);
    if (u) return u;
    map.set(key, loaded);
    if (map.size > MAX_CACHED) map.delete(map.keys().next().value!);
    return loaded;
  }

  private target(id: string): Promise<MessageCount> {
    return this.cached(this.targets, id, async () => (await this.store.messageUsage({ queuedFor: id })).target ?? { count: 0, bytes: 0 });
  }

  private room(id: string): Promise<MessageCount> {
    return this.cached(this.rooms, id, async () => (await this.store.messageUsage({ roomId: id })).room ?? { count: 0, bytes: 0 });
  }

  /** Reserves a queued direct message; null when it fits, else why not (for the sender). */
  async reserveQueued(roomId: string, target: string, bytes: number): Promise<string | null> {
    const [t, r] = await Promise.all([this.target(target), this.room(roomId)]);
    const { perTarget, perRoom } = this.limits;
    if (over(t, perTarget, bytes)) {
      return `the queue for ${target} is full (${t.count} messages, ${t.bytes} bytes waiting; at most ${perTarget.count} or ${perTarget.bytes} bytes); it empties when ${target} connects`;
    }
    if (over(r, perRoom, bytes)) return this.roomFull(roomId, r);
    t.count++;
    t.bytes += bytes;
    r.count++;
    r.bytes += bytes;
    return null;
  }

  /** Reserves a stored room message (broadcast or direct message sent live); false when the room is full. */
  async reserveStored(roomId: string, bytes: number): Promise<boolean> {
    const r = await this.room(roomId);
    if (over(r, this.limits.perRoom, bytes)) return false;
    r.count++;
    r.bytes += bytes;
    return true;
  }

  /** Stores a message in the room's log if the room has room for it; false (nothing stored) if not. */
  async storeWithin(roomId: string, m: MessageInsert): Promise<boolean> {
    const bytes = Buffer.byteLength(m.content);
    if (!(await this.reserveStored(roomId, bytes))) return false;
    try {
      await this.store.insertMessage(m);
    } catch (err) {
      this.release(roomId, null, bytes);
      throw err;
    }
    return true;
  }

  roomFull(roomId: string, r: MessageCount): string {
    const { perRoom } = this.limits;
    return `room ${roomId} holds as much as one room may keep (${r.count} messages, ${r.bytes} bytes; at most ${perRoom.count} or ${perRoom.bytes} bytes); older messages go when they pass the retention`;
  }

  /** Gives back a reservation whose write failed. */
  release(roomId: string, target: string | null, bytes: number): void {
    const r = this.rooms.get(roomId);
    if (r) (r.count--, (r.bytes -= bytes));
    const t = target === null ? undefined : this.targets.get(target);
    if (t) (t.count--, (t.bytes -= bytes));
  }

  /** A queued message was handed over: it leaves the target's queue (it stays in the room's log). */
  delivered(target: string, bytes: number): void {
    const t = this.targets.get(target);
    if (t) (t.count--, (t.bytes -= bytes));
  }

  /** After retention deleted rows: usage is read again when next needed. */
  reset(): void {
    this.targets.clear();
    this.rooms.clear();
  }
}

const MAX_ADDRESSES = 10_000;

/**
 * New device rows one IP address may cause: `perHour` at once, then one
 * more every hour / perHour (a token bucket on the injected clock). Known
 * devices reconnect freely; only ids the gateway has never seen count.
 */
export class NewDeviceBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly clock: Clock, private readonly perHour: number) {}

  /** True (and one taken) if `ip` may create another device now. */
  take(ip: string): boolean {
    if (this.perHour <= 0 || isThisMachine(ip)) return true;
    const now = this.clock.now();
    let b = this.buckets.get(ip);
    if (!b) {
      b = { tokens: this.perHour, at: now };
      this.buckets.set(ip, b);
      // Forget the address that was idle longest: an address with a full bucket loses nothing.
      if (this.buckets.size > MAX_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value!);
    }
    b.tokens = Math.min(this.perHour, b.tokens + ((now - b.at) / 3_600_000) * this.perHour);
    b.at = now;
    this.buckets.delete(ip);
    this.buckets.set(ip, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  message(ip: string): string {
    return `too many new device ids from ${ip} (at most ${this.perHour} an hour); use a device id this gateway knows, or wait`;
  }
}
