/**
 * Every store call in flight, counted: how many, and since when the oldest
 * has waited. A stalled database (a frozen disk, MariaDB gone quiet) shows
 * here first; health reports it and the device endpoints stop reading their
 * sockets while too much is waiting, so the gateway's memory stays bounded
 * whatever the database does (writes fired and not awaited included).
 */
import type { Clock } from './clock.js';
import type { Store } from './store/types.js';

export interface StoreWatchOptions {
  /** Calls in flight at which device sockets stop being read. Default 2000. */
  highWater?: number;
  /** ... and below which they are read again. Default 500. */
  lowWater?: number;
  /** A call waiting this long makes the store "late" (health: degraded). Default 2000 ms. */
  lateMs?: number;
}

export class StoreWatch {
  private inFlight = 0;
  /** Start times of the calls in flight, oldest first (calls settle roughly in order). */
  private readonly starts = new Map<number, number>();
  private nextId = 0;
  private pressure = false;
  private reliefWaiters: (() => void)[] = [];
  readonly highWater: number;
  readonly lowWater: number;
  readonly lateMs: number;

  constructor(private readonly clock: Clock, o: StoreWatchOptions = {}) {
    this.highWater = o.highWater ?? 2000;
    this.lowWater = o.lowWater ?? 500;
    this.lateMs = o.lateMs ?? 2000;
  }

  /** The store with every method that returns a promise counted. */
  wrap(store: Store): Store {
    const cache = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get: (target, key, receiver) => {
        const v: unknown = Reflect.get(target, key, receiver);
        if (typeof v !== 'function' || key === 'close') return v;
        let w = cache.get(key) as { fn: unknown; wrapped: unknown } | undefined;
        if (!w || w.fn !== v) {
          const fn = v as (...a: unknown[]) => unknown;
          w = { fn, wrapped: (...args: unknown[]) => this.track(fn.apply(target, args)) };
          cache.set(key, w);
        }
        return w.wrapped;
      },
    });
  }

  private track<T>(r: T): T {
    if (!(r instanceof Promise)) return r;
    const id = this.nextId++;
    this.starts.set(id, this.clock.now());
    this.inFlight++;
    if (!this.pressure && this.inFlight >= this.highWater) this.pressure = true;
    const done = () => {
      this.starts.delete(id);
      this.inFlight--;
      if (this.pressure && this.inFlight <= this.lowWater) {
        this.pressure = false;
        for (const f of this.reliefWaiters.splice(0)) f();
      }
    };
    r.then(done, done);
    return r;
  }

  get pending(): number {
    return this.inFlight;
  }

  get pressured(): boolean {
    return this.pressure;
  }

  /** Calls `fn` once, when the calls in flight drop below the low-water mark. */
  onRelief(fn: () => void): void {
    if (!this.pressure) fn();
    else this.reliefWaiters.push(fn);
  }

  /** How long the oldest call in flight has waited, ms (0 when none). */
  oldestMs(): number {
    for (const t of this.starts.values()) return Math.max(0, this.clock.now() - t);
    return 0;
  }

  /** Why the store is behind, or null when it is not. */
  lateReason(): string | null {
    const ms = this.oldestMs();
    if (ms >= this.lateMs) return `database calls are late: the oldest has waited ${(ms / 1000).toFixed(1)} s (${this.inFlight} in flight)`;
    if (this.pressure) return `database calls are backing up: ${this.inFlight} in flight, device sockets paused`;
    return null;
  }
}
