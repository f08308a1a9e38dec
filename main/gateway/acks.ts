/**
 * Receiver acks (`ack: true` on a room direct message or a player notification): the message
 * is stored as queued before it is sent, carries its `message_id`, and is resent every
 * `commandResendMs` while its target is connected, until the target acks it or it expires.
 * Only an ack marks it delivered: a frame written to a socket that then died is not lost, it
 * is sent again when the target next connects. Timers run on the injected clock.
 */
import type { Base } from './base.js';
import type { TimerHandle } from './clock.js';

interface Pending {
  id: number;
  /** Who must ack it (a room device id, or `user:<id>`). */
  to: string;
  expiresAt: number | null;
  /** Sends it again; false when the target is no longer connected (then it waits for a reconnect). */
  resend: () => boolean;
  onAcked: () => void;
  onExpired: () => void;
  timer?: TimerHandle;
}

export class AckTracker {
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly ctx: Pick<Base, 'clock' | 'store' | 'options' | 'persist'>) {}

  /** Starts the resend timer of a message just sent to `p.to`. */
  track(p: Omit<Pending, 'timer'>): void {
    const old = this.pending.get(p.id);
    if (old) this.ctx.clock.clear(old.timer);
    const entry: Pending = { ...p };
    this.pending.set(p.id, entry);
    this.arm(entry);
  }

  private arm(p: Pending): void {
    const every = this.ctx.options.commandResendMs;
    const now = this.ctx.clock.now();
    const untilExpiry = p.expiresAt === null ? Infinity : p.expiresAt - now;
    if (untilExpiry <= 0) return this.expire(p);
    if (every <= 0 && untilExpiry === Infinity) return;
    const wait = every > 0 ? Math.min(every, untilExpiry) : untilExpiry;
    p.timer = this.ctx.clock.setTimeout(() => {
      if (this.pending.get(p.id) !== p) return;
      if (p.expiresAt !== null && this.ctx.clock.now() >= p.expiresAt) return this.expire(p);
      if (!p.resend()) return void this.pending.delete(p.id);
      this.arm(p);
    }, wait);
  }

  private expire(p: Pending): void {
    this.pending.delete(p.id);
    this.ctx.clock.clear(p.timer);
    p.onExpired();
  }

  /** The target acked: true if it was waiting for this target's ack (then it is delivered). */
  ack(id: number, from: string): boolean {
    const p = this.pending.get(id);
    if (!p || p.to !== from) return false;
    this.pending.delete(id);
    this.ctx.clock.clear(p.timer);
    this.ctx.persist(this.ctx.store.markMessageDelivered(id, new Date(this.ctx.clock.now())), 'message acked');
    p.onAcked();
    return true;
  }

  /** Expired elsewhere (the expiry sweep, another gateway): no more resends. */
  drop(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.ctx.clock.clear(p.timer);
    this.pending.delete(id);
  }

  /** The target went away: stop resending; what it did not ack stays queued for its next connection. */
  forget(to: string): void {
    for (const p of this.pending.values()) {
      if (p.to !== to) continue;
      this.ctx.clock.clear(p.timer);
      this.pending.delete(p.id);
    }
  }

  stop(): void {
    for (const p of this.pending.values()) this.ctx.clock.clear(p.timer);
    this.pending.clear();
  }

  count(): number {
    return this.pending.size;
  }
}
