/**
 * N virtual boards named `racket-1..N`, started a little apart so a fleet does
 * not hit the gateway with N handshakes in the same millisecond (real boards
 * power up seconds apart).
 */
import { createSystemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { VirtualBoard, type BoardStats, type OtaBehaviour, type VirtualBoardOptions } from './board.js';

export interface FleetOptions extends Omit<VirtualBoardOptions, 'deviceCode' | 'seed' | 'imuSource'> {
  /** How many boards. Required, at least 1. */
  devices: number;
  /** Device codes are prefix + 1..N. Default `racket-`. */
  prefix?: string;
  /** Delay between two boards' starts. Default 20 ms. */
  staggerMs?: number;
  /** Per-board token (token auth mode); overrides `token`. Default none. */
  tokenFor?: (deviceCode: string) => string | undefined;
  /** Per-board OTA behaviour (a failure to show); overrides `ota`. Default none. */
  otaFor?: (deviceCode: string) => OtaBehaviour | undefined;
}

export interface FleetTotals extends BoardStats {
  boards: number;
  /** Boards connected right now. */
  connected: number;
  /** Boards that connected at least once. */
  everConnected: number;
  unacked: number;
}

export class Fleet {
  readonly boards: VirtualBoard[];
  /** Resolves once every board has connected once; rejects if the fleet is stopped first. */
  readonly ready: Promise<void>;
  /** Staggered starts not yet due, with the way to fail their start promise if the fleet stops first. */
  private readonly pending = new Map<TimerHandle, (e: Error) => void>();
  private readonly clock: Clock;
  private readonly started = new Set<VirtualBoard>();
  private readonly connectedOnce = new Set<VirtualBoard>();
  private stopped = false;

  constructor(options: FleetOptions) {
    const { devices, prefix = 'racket-', staggerMs = 20, tokenFor, otaFor, ...boardOptions } = options;
    // One clock for the fleet and its boards, so a test's clock drives the staggered starts too.
    const clock = (this.clock = boardOptions.clock ?? createSystemClock({ unref: false }));
    if (!Number.isInteger(devices) || devices < 1) throw new RangeError('devices must be a positive integer');
    this.boards = Array.from({ length: devices }, (_, i) => {
      const deviceCode = `${prefix}${i + 1}`;
      const token = tokenFor?.(deviceCode) ?? boardOptions.token;
      const ota = otaFor?.(deviceCode) ?? boardOptions.ota;
      const board = new VirtualBoard({ ...boardOptions, clock, deviceCode, seed: i + 1, ...(token ? { token } : {}), ...(ota ? { ota: { ...ota } } : {}) });
      board.once('connected', () => this.connectedOnce.add(board));
      return board;
    });
    const starts: Promise<void>[] = this.boards.map(
      (board, i) =>
        new Promise<void>((resolve, reject) => {
          const go = (): void => {
            if (this.stopped) return reject(new Error('fleet stopped'));
            this.started.add(board);
            board.start().then(resolve, reject);
          };
          if (i === 0 || staggerMs <= 0) return go();
          const t = clock.setTimeout(() => { this.pending.delete(t); go(); }, i * staggerMs);
          this.pending.set(t, reject);
        }),
    );
    this.ready = Promise.all(starts).then(() => undefined);
    this.ready.catch(() => {}); // a fleet stopped early is not an error for callers that never awaited ready
  }

  totals(): FleetTotals {
    const t: FleetTotals = {
      boards: this.boards.length, connected: 0, everConnected: this.connectedOnce.size, unacked: 0,
      dataFrames: 0, framesSent: 0, resent: 0, acked: 0, samples: 0, errors: 0, reconnects: 0, dropped: 0,
    };
    for (const b of this.boards) {
      if (b.connected) t.connected++;
      t.unacked += b.unackedCount;
      for (const k of Object.keys(b.stats) as (keyof BoardStats)[]) t[k] += b.stats[k];
    }
    return t;
  }

  /** Waits until every board's frames are acked, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = this.clock.now() + timeoutMs;
    while (this.boards.some((b) => b.unackedCount > 0)) {
      if (this.clock.now() >= until) return false;
      await new Promise<void>((r) => this.clock.setTimeout(r, 20));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const [t, reject] of this.pending) { this.clock.clear(t); reject(new Error('fleet stopped')); }
    this.pending.clear();
    await Promise.all([...this.started].map((b) => b.stop()));
  }
}

export function startFleet(options: FleetOptions): Fleet {
  return new Fleet(options);
}
