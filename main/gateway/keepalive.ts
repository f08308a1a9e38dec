import type { Clock, TimerHandle } from './clock.js';

/** What the keepalive needs from a socket: ws's WebSocket fits. */
export interface Pingable {
  ping(): void;
  terminate(): void;
}

/**
 * WebSocket-level liveness. One sweep every `intervalMs` pings every socket;
 * a socket that has not answered (pong, or any frame) since the previous
 * sweep is terminated. A board whose Wi-Fi dropped is therefore closed, and
 * marked offline, within two intervals.
 */
export class KeepaliveManager {
  private readonly alive = new Map<Pingable, boolean>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly onDead: (s: Pingable) => void = () => {},
  ) {}

  start(): void {
    if (!this.timer && this.intervalMs > 0) this.timer = this.clock.setInterval(() => this.sweep(), this.intervalMs);
  }

  add(s: Pingable): void {
    this.alive.set(s, true);
  }

  /** Call on pong or on any frame received. */
  seen(s: Pingable): void {
    if (this.alive.has(s)) this.alive.set(s, true);
  }

  remove(s: Pingable): void {
    this.alive.delete(s);
  }

  size(): number {
    return this.alive.size;
  }

  sweep(): void {
    for (const [s, ok] of this.alive) {
      if (!ok) {
        this.alive.delete(s);
        this.onDead(s);
        s.terminate();
        continue;
      }
      this.alive.set(s, false);
      try {
        s.ping();
      } catch {
        // A socket closing under us: the next sweep drops it.
      }
    }
  }

  stop(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
    this.alive.clear();
  }
}
