/**
 * The badminton protocol's mini-program users: a player's phone on /ws/miniprogram/{user_id}/.
 * Notifications to a user who is away are kept in the messages table (to
 * `user:<id>`, so a user id never collides with a room device id) and handed
 * over when the user connects.
 */
import type { Base } from './base.js';
import type { Peer } from './peer.js';
import type { MessageRow } from './store/types.js';
import { DELIVERY_PAGE, flushed } from './room-util.js';
import { AckTracker } from './acks.js';
import type { EventPublisher } from './base.js';
import type { UserFleet } from './fleet/hooks.js';

export const userAddress = (userId: string) => `user:${userId}`;

/** `from_device_id` of the rows notify() queues; with no room, it marks a frame the gateway built. */
export const GATEWAY_ORIGIN = 'gateway';

/**
 * A row the gateway queued for a player itself. Room messages always carry
 * their room, so even one addressed to `user:<id>` (written before room
 * targets were checked, or by a room device that named itself so) is never
 * handed to the app.
 */
export function isGatewayNotification(m: MessageRow): boolean {
  return m.roomId === null && m.fromDeviceId === GATEWAY_ORIGIN;
}

export class UserHub {
  private readonly users = new Map<string, Set<Peer>>();
  /** Notifications sent with `ack: true`, waiting for notification_ack. */
  readonly acks: AckTracker;

  constructor(private readonly ctx: Pick<Base, 'store' | 'clock' | 'options' | 'persist'> & { readonly operators?: EventPublisher; readonly fleet?: UserFleet }) {
    this.acks = new AckTracker(ctx);
  }

  add(userId: string, peer: Peer): void {
    let set = this.users.get(userId);
    if (!set) {
      this.users.set(userId, (set = new Set()));
      this.ctx.fleet?.online(userId);
    }
    set.add(peer);
  }

  remove(userId: string, peer: Peer): void {
    const set = this.users.get(userId);
    if (!set) return;
    set.delete(peer);
    if (set.size === 0) {
      this.users.delete(userId);
      // Unacked notifications stay queued for the app's next connection.
      this.acks.forget(userAddress(userId));
      this.ctx.fleet?.offline(userId);
    }
  }

  /** Closes every socket of the player (their close handlers then remove them); returns how many. */
  closeUser(userId: string, code: number, reason: string): number {
    const set = [...(this.users.get(userId) ?? [])];
    for (const p of set) p.close(code, reason);
    return set.length;
  }

  count(): number {
    let n = 0;
    for (const s of this.users.values()) n += s.size;
    return n;
  }

  isConnected(userId: string): boolean {
    return this.users.has(userId);
  }

  /**
   * Sends now if the user is connected, else stores it for later. Resolves to whether it was
   * sent now. With `ack`, it is stored first and sent with its `message_id`, and counts as
   * delivered only when the app acks it (resolves false, with the id).
   */
  async notify(userId: string, frame: Record<string, unknown>, opts: { ack?: boolean; priority?: number; ttlMs?: number | null } = {}): Promise<boolean> {
    if (opts.ack) return (await this.notifyAcked(userId, frame, opts), false);
    const set = this.users.get(userId);
    if (set && set.size > 0) {
      const text = JSON.stringify(frame);
      for (const p of set) p.sendText(text, opts.priority ?? 1);
      return true;
    }
    // Connected through another gateway: that one sends it, or stores it if the player just left.
    if (this.ctx.fleet?.notify(userId, frame)) return true;
    await this.ctx.store.insertMessage({
      roomId: null,
      fromDeviceId: GATEWAY_ORIGIN,
      toDeviceId: userAddress(userId),
      messageType: 'direct',
      content: JSON.stringify(frame),
      sentAt: new Date(this.ctx.clock.now()),
      status: 'queued',
      priority: opts.priority ?? 1,
      expiresAt: opts.ttlMs ? new Date(this.ctx.clock.now() + opts.ttlMs) : null,
    });
    return false;
  }

  /** Stores, sends to every socket of the app, and waits for its ack; resolves to the message id. */
  async notifyAcked(userId: string, frame: Record<string, unknown>, opts: { priority?: number; ttlMs?: number | null }): Promise<number> {
    const now = this.ctx.clock.now();
    const expiresAt = opts.ttlMs ? new Date(now + opts.ttlMs) : null;
    const id = await this.ctx.store.insertMessage({
      roomId: null, fromDeviceId: GATEWAY_ORIGIN, toDeviceId: userAddress(userId), messageType: 'direct', content: JSON.stringify(frame),
      sentAt: new Date(now), status: 'queued', priority: opts.priority ?? 1, ackRequested: true, expiresAt,
    });
    if (this.users.has(userId)) this.sendAcked(userId, id, frame, expiresAt, opts.priority ?? 1);
    return id;
  }

  private sendAcked(userId: string, id: number, frame: Record<string, unknown>, expiresAt: Date | null, priority: number): void {
    const text = JSON.stringify({ ...frame, message_id: id, ack: true });
    const send = () => {
      const set = this.users.get(userId);
      if (!set || set.size === 0) return false;
      for (const p of set) p.sendText(text, priority);
      return true;
    };
    send();
    this.acks.track({
      id, to: userAddress(userId), expiresAt: expiresAt?.getTime() ?? null, resend: send,
      onAcked: () => this.ctx.operators?.publish('messages', { event: 'delivered', message_id: id, to_device_id: userAddress(userId) }),
      onExpired: () => this.ctx.persist(this.ctx.store.markMessageExpired(id).then(() => undefined), 'notification expired'),
    });
  }

  async deliverQueued(userId: string, peer: Peer): Promise<number> {
    let after = 0;
    let afterPriority = 0;
    let n = 0;
    // A page at a time, as for room queues: memory holds one page however long the queue.
    for (;;) {
      const page = await this.ctx.store.queuedMessagesPage(userAddress(userId), {
        roomId: null, fromDeviceId: GATEWAY_ORIGIN, afterId: after, afterPriority, liveAt: new Date(this.ctx.clock.now()), limit: DELIVERY_PAGE,
      });
      for (const m of page) {
        after = m.id;
        afterPriority = m.priority;
        // What a player app receives is only what the gateway wrote for it.
        if (!isGatewayNotification(m)) continue;
        if (!peer.open) return n;
        if (m.ackRequested) {
          // Delivered only once acked.
          this.sendAcked(userId, m.id, JSON.parse(m.content) as Record<string, unknown>, m.expiresAt, m.priority);
        } else {
          peer.sendText(m.content, m.priority);
          await this.ctx.store.markMessageDelivered(m.id, new Date(this.ctx.clock.now()));
        }
        n++;
      }
      if (page.length < DELIVERY_PAGE) return n;
      await flushed(peer);
    }
  }
}
