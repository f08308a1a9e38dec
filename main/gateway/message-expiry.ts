/**
 * Queued messages past their `ttl_ms`: marked `expired` in the store, so they are never delivered
 * after, leave their target's queue quota, and their sender (if it asked for an ack and is
 * connected) hears `expired`. A sweep runs every EXPIRY_SWEEP_MS on the injected clock, and at
 * once when a target's queue is full (an expired message must not keep a live one out).
 */
import type { Base } from './base.js';
import type { TimerHandle } from './clock.js';
import type { ExpiredMessage } from './store/types.js';

/** How often queued messages are checked for expiry. */
export const EXPIRY_SWEEP_MS = 60_000;
/** Rows marked per store call: one sweep never holds a long write. */
const EXPIRY_BATCH = 500;

export class MessageExpiry {
  private timer: TimerHandle | undefined;
  private sweeping: Promise<number> | null = null;

  constructor(
    private readonly ctx: Pick<Base, 'store' | 'clock' | 'metrics' | 'log'>,
    /** Called once for each message this gateway marked expired. */
    private readonly onExpired: (m: ExpiredMessage) => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.ctx.clock.setInterval(() => void this.sweep(), EXPIRY_SWEEP_MS);
  }

  stop(): void {
    this.ctx.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Marks every queued message due by now expired; resolves to how many this call marked. One at a time. */
  sweep(): Promise<number> {
    this.sweeping ??= this.pass().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async pass(): Promise<number> {
    let n = 0;
    try {
      for (;;) {
        const rows = await this.ctx.store.expireMessages(new Date(this.ctx.clock.now()), EXPIRY_BATCH);
        for (const m of rows) this.onExpired(m);
        n += rows.length;
        if (rows.length < EXPIRY_BATCH) return n;
      }
    } catch (err) {
      this.ctx.metrics.storeErrors++;
      this.ctx.log.warn('expiry pass failed', { error: err instanceof Error ? err.message : String(err) });
      return n;
    }
  }

  /** One message whose expiry a timer saw (an acked send): marked and reported unless the sweep was first. */
  async expire(m: ExpiredMessage): Promise<void> {
    try {
      if (await this.ctx.store.markMessageExpired(m.id)) this.onExpired(m);
    } catch (err) {
      this.ctx.metrics.storeErrors++;
      this.ctx.log.warn('marking a message expired failed', { message_id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
