/**
 * Time, injected: the one Clock type of the gateway, the board simulator and
 * the operator UI's client. Everything that waits (heartbeats, resends, rate
 * limits, reconnect backoff, request timeouts) takes a Clock, so tests drive
 * time by hand instead of sleeping (the MQTT.js KeepaliveManager way).
 *
 * It lives outside main/gateway/ and imports nothing, and uses no Node types,
 * because the UI bundle imports it too (browser libs only, see
 * renderer/tsconfig.json): the UI gets this file and no gateway code.
 * main/gateway/clock.ts re-exports it for the gateway's own modules.
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Clears a timeout or an interval; undefined and spent handles are ignored. */
  clear(handle: TimerHandle | undefined): void;
}

type HostTimer = ReturnType<typeof setTimeout>;

/**
 * The host's timers behind a Clock. With `unref` (the default) no timer keeps
 * a Node process alive, which is what a server's background timers want; a
 * simulated board or a reconnecting client keeps the process alive like the
 * plain globals do (`unref: false`). Browsers have no unref; it is skipped.
 */
export function createSystemClock(options: { unref?: boolean } = {}): Clock {
  const unref = options.unref ?? true;
  const live = new Map<number, HostTimer>();
  let next = 1;
  const keep = (t: HostTimer): TimerHandle => {
    if (unref) (t as unknown as { unref?: () => void }).unref?.();
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
      if (t !== undefined) {
        // One call for both kinds: the host keeps timeouts and intervals in one id space.
        clearTimeout(t);
        live.delete(h.id);
      }
    },
  };
}

export const systemClock: Clock = createSystemClock();

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
