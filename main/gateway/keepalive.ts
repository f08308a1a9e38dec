import type { Clock, TimerHandle } from './clock.js';

/** What the keepalive needs from a socket: the gateway's Peer fits (ws's WebSocket too). */
export interface Pingable {
  ping(): void;
  terminate(): void;
}

/**
 * What the manager keeps on each socket it tracks: two fields of the object
 * itself (the Peer declares them), not an entry of a Map per socket.
 */
interface Tracked extends Pingable {
  keepaliveSlot?: number;
  keepaliveSeen?: boolean;
}

/** Slots of the wheel at most: a sweep pings a tenth of the sockets, not all at once. */
const MAX_SLOTS = 10;

/**
 * WebSocket-level liveness, one wheel for every socket on the injected
 * clock (no timer per socket). Sockets are spread over the slots of the
 * wheel; each tick sweeps one slot, so every socket is swept once per
 * `intervalMs` and ten thousand idle boards are pinged a slot at a time
 * instead of in one burst that would hold up every reply behind it. A socket
 * that has not answered (pong, or any frame) since its previous sweep is
 * terminated: a board whose Wi-Fi dropped is closed, and marked offline,
 * within two intervals.
 */
export class KeepaliveManager {
  private readonly tracked = new Set<Tracked>();
  private timer: TimerHandle | undefined;
  /** A divisor of the interval, so the ticks of one interval add up to it exactly. */
  private readonly slots: number;
  private nextSlot = 0;
  private tick = 0;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly onDead: (s: Pingable) => void = () => {},
  ) {
    let k = MAX_SLOTS;
    while (k > 1 && !(intervalMs % k === 0 && intervalMs / k >= 1)) k--;
    this.slots = k;
  }

  start(): void {
    if (!this.timer && this.intervalMs > 0) this.timer = this.clock.setInterval(() => this.sweepSlot(), this.intervalMs / this.slots);
  }

  add(s: Pingable): void {
    const t = s as Tracked;
    t.keepaliveSeen = true;
    t.keepaliveSlot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % this.slots;
    this.tracked.add(t);
  }

  /** Call on pong or on any frame received. */
  seen(s: Pingable): void {
    const t = s as Tracked;
    if (t.keepaliveSlot !== undefined) t.keepaliveSeen = true;
  }

  remove(s: Pingable): void {
    const t = s as Tracked;
    if (this.tracked.delete(t)) t.keepaliveSlot = undefined;
  }

  size(): number {
    return this.tracked.size;
  }

  /** What is tracked now (a copy: closing them changes the set). */
  all(): Pingable[] {
    return [...this.tracked];
  }

  /** No more sweeps; what is tracked stays until removed (a gateway closing its sockets counts them down). */
  halt(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Every socket, whatever its slot (one whole interval's work at once). */
  sweep(): void {
    for (let i = 0; i < this.slots; i++) this.sweepSlot();
  }

  private sweepSlot(): void {
    const slot = this.tick;
    this.tick = (this.tick + 1) % this.slots;
    for (const s of this.tracked) {
      if (s.keepaliveSlot !== slot) continue;
      if (!s.keepaliveSeen) {
        this.remove(s);
        this.onDead(s);
        s.terminate();
        continue;
      }
      s.keepaliveSeen = false;
      try {
        s.ping();
      } catch {
        // A socket closing under us: its next sweep drops it.
      }
    }
  }

  stop(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
    for (const s of this.tracked) s.keepaliveSlot = undefined;
    this.tracked.clear();
  }
}
