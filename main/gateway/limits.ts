import type { Clock } from './clock.js';

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
export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedAt: number | null = null;
  /** Frames owed for the last pause; spent before tokens, gone once `creditUntil` passes. */
  private credit = 0;
  private creditUntil = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
    /** Longest pause credited, ms: what a board can have queued in TCP is bounded anyway. */
    private readonly maxCreditMs = 60_000,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }

  take(n = 1): boolean {
    // Frames still parsed from the read in progress when the socket was paused.
    if (this.pausedAt !== null) return true;
    const now = this.clock.now();
    this.refill(now);
    if (this.credit > 0) {
      if (now <= this.creditUntil && this.credit >= n) {
        this.credit -= n;
        return true;
      }
      this.credit = 0;
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
    const now = this.clock.now();
    this.refill(now);
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  pause(): void {
    this.pausedAt ??= this.clock.now();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    const now = this.clock.now();
    const ms = Math.min(this.maxCreditMs, now - this.pausedAt);
    this.pausedAt = null;
    this.credit = Math.min((this.rate * this.maxCreditMs) / 1000, this.credit + (this.rate * ms) / 1000);
    // The backlog comes in at network speed; a generous window for it, then what is left lapses.
    this.creditUntil = now + Math.max(1000, ms);
  }
}
