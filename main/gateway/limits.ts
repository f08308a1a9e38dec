import type { Clock } from './clock.js';
import { sinceLoad } from './epoch.js';

/**
 * The machine itself (the demo fleet, the simulator, local tools): not held to
 * the per-address limits (connections, frame and byte budgets, new devices),
 * which are there for hosts on the LAN.
 */
export function isThisMachine(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1';
}

/**
 * Token bucket for frames per second per client: `rate` tokens a second,
 * at most `burst` saved up. Time comes from the injected clock.
 *
 * Backpressure and the budget: while the gateway has stopped reading a
 * socket (`pause`), the client's frames wait in TCP and arrive in one burst
 * after `resume`. Those frames were sent while the gateway was not listening,
 * not in a burst of the client's making, so the time paused is credited back:
 * a client that kept to `rate` meanwhile sends its backlog without a refusal.
 */
// Times a bucket keeps are ms since load (epoch.ts): kept in the object itself, not a boxed
// number of its own (16 bytes a bucket).
export class TokenBucket {
  private readonly spec: BucketSpec;
  private tokens: number;
  /** When last refilled, ms since EPOCH. */
  private last: number;
  /** Pause and credit: made on the first pause (most sockets are never paused), gone once spent. */
  private credited: Credit | null = null;

  /**
   * `rate` a second, `burst` at most; or the `BucketSpec` many buckets share (one object
   * for all of a gateway's sockets instead of the same four fields in each).
   */
  constructor(rate: number | BucketSpec, burst?: number, clock?: Clock, maxCreditMs?: number) {
    this.spec = typeof rate === 'number' ? new BucketSpec(rate, burst!, clock!, maxCreditMs) : rate;
    this.tokens = this.spec.burst;
    this.last = sinceLoad(this.spec.clock.now());
  }

  private refill(clockNow: number): void {
    const now = sinceLoad(clockNow);
    if (now > this.last) {
      const { burst, rate } = this.spec;
      this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
    }
  }

  take(n = 1): boolean {
    const c = this.credited;
    // Frames still parsed from the read in progress when the socket was paused.
    if (c !== null && c.pausedAt !== null) return true;
    const now = this.spec.clock.now();
    this.refill(now);
    if (c !== null) {
      if (now <= c.until && c.credit >= n) {
        c.credit -= n;
        return true;
      }
      this.credited = null;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes `n` even past empty (the debt is paid from later refills); returns
   * how long, ms, until the bucket is out of debt: 0 when it is not in debt.
   */
  charge(n: number): number {
    const now = this.spec.clock.now();
    this.refill(now);
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.spec.rate) * 1000);
  }

  pause(): void {
    const c = (this.credited ??= { pausedAt: null, credit: 0, until: 0 });
    c.pausedAt ??= this.spec.clock.now();
  }

  resume(): void {
    const c = this.credited;
    if (c === null || c.pausedAt === null) return;
    const { rate, maxCreditMs, clock } = this.spec;
    const now = clock.now();
    const ms = Math.min(maxCreditMs, now - c.pausedAt);
    c.pausedAt = null;
    c.credit = Math.min((rate * maxCreditMs) / 1000, c.credit + (rate * ms) / 1000);
    // The backlog comes in at network speed; a generous window for it, then what is left lapses.
    c.until = now + Math.max(1000, ms);
  }
}

/** What a kind of bucket is (shared by all of its buckets). */
export class BucketSpec {
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly clock: Clock,
    /** Longest pause credited, ms: what a board can have queued in TCP is bounded anyway. */
    readonly maxCreditMs = 60_000,
  ) {}
}

/** Frames owed for the last pause (`pausedAt` set while paused); spent before tokens, gone once `until` passes. */
interface Credit {
  pausedAt: number | null;
  credit: number;
  until: number;
}
