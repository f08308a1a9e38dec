/**
 * Retention of the room protocol's rows: messages (queued ones too), room queries and closed
 * connections older than retentionDays are deleted, once at start and then every hour.
 */
import type { Base } from './base.js';
import type { TimerHandle } from './clock.js';
import type { MessageQuotas } from './quotas.js';

const DAY_MS = 86_400_000;
/** How often retention runs (also once at start). */
export const RETENTION_INTERVAL_MS = 3_600_000;

export class RoomRetention {
  private retentionTimer: TimerHandle | undefined;
  private pruning: Promise<void> | null = null;
  private pruneAgain: Promise<void> | null = null;

  constructor(
    private readonly ctx: Pick<Base, 'store' | 'clock' | 'metrics' | 'options' | 'log'>,
    private readonly quotas: Pick<MessageQuotas, 'reset'>,
  ) {}

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
}
