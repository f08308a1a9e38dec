/**
 * Time, injected. Everything in the gateway that waits (heartbeats, resends,
 * rate limits, the status line) takes a Clock, so tests drive time by hand
 * instead of sleeping (the MQTT.js KeepaliveManager way).
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = (() => {
  const live = new Map<number, NodeJS.Timeout>();
  let next = 1;
  const keep = (t: NodeJS.Timeout): TimerHandle => {
    t.unref?.();
    const id = next++;
    live.set(id, t);
    return { id };
  };
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      let handle: TimerHandle;
      const t = setTimeout(() => {
        live.delete(handle.id);
        fn();
      }, ms);
      handle = keep(t);
      return handle;
    },
    setInterval: (fn, ms) => keep(setInterval(fn, ms)),
    clear(h) {
      if (!h) return;
      const t = live.get(h.id);
      if (t) {
        clearTimeout(t);
        live.delete(h.id);
      }
    },
  };
})();

/** A clock for tests: time moves only when `advance` is called. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 1;
  private timers = new Map<number, { at: number; every: number | null; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.seq++;
    this.timers.set(id, { at: this.t + ms, every: null, fn });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.seq++;
    this.timers.set(id, { at: this.t + ms, every: Math.max(1, ms), fn });
    return { id };
  }
  clear(h: TimerHandle | undefined): void {
    if (h) this.timers.delete(h.id);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, tm] of this.timers) if (tm.at < nextAt) ((nextAt = tm.at), (nextId = id));
      if (nextId < 0 || nextAt > end) break;
      const tm = this.timers.get(nextId)!;
      this.t = tm.at;
      if (tm.every === null) this.timers.delete(nextId);
      else tm.at += tm.every;
      tm.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.size;
  }
}
