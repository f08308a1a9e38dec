/**
 * The Live view's data: which boards are charted, and their sample streams.
 * Samples bypass Svelte's reactivity entirely (thousands a second would
 * re-render the page); they go straight into per-board ring buffers that the
 * charts read once per animation frame. Only the choice of boards and a
 * once-a-second rate summary are stores.
 *
 * Subscriptions follow the choice: `sensor:<id>` per charted board, so the
 * gateway sends nothing for boards nobody watches.
 *
 * A board newly charted, or the window widened past what was fetched, asks
 * the gateway for what it kept of the board (`get_recent_samples`), so the
 * chart starts full; live batches that arrived meanwhile stay (one sample per time).
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import type { SensorBatch } from '../protocol.js';
import { BoardStream } from '../ring.js';

export interface LiveOptions {
  /** Seconds of history kept per board (the longest window the view offers). Default 30. */
  keepSeconds?: number;
  /** Clock for arrival times; default performance.now (Date.now where absent). */
  now?: () => number;
}

export interface LiveSummary {
  /** Samples per second per charted board over the last second. */
  rates: Record<string, number>;
}

/** Most boards charted at once: past this the page is a wall of noise, and the budget per frame runs out. */
export const MAX_CHARTED = 24;

export function createLiveStore(client: GatewayClient, options: LiveOptions = {}) {
  // Five minutes, the longest window offered: at 200 Hz about 2 MB per board.
  const keepSeconds = options.keepSeconds ?? 300;
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  const now = options.now ?? (perf ? () => perf.now() : () => Date.now());
  const streams = new Map<string, BoardStream>();
  const selected = writable<string[]>([]);
  const summary = writable<LiveSummary>({ rates: {} });
  let chosen: string[] = [];
  /** The choice kept while the view is closed, restored when it opens again. */
  let remembered: string[] = [];
  const releases = new Map<string, () => void>();
  let offSensor: (() => void) | null = null;
  let rateTimer: ReturnType<typeof setInterval> | null = null;
  const lastCount = new Map<string, number>();
  /** Seconds of backfill asked for per charted board. */
  const backfilled = new Map<string, number>();
  let windowS = 10;

  function backfill(id: string, seconds: number): void {
    if ((backfilled.get(id) ?? 0) >= seconds) return;
    backfilled.set(id, seconds);
    const stream = streams.get(id);
    client.request('get_recent_samples', { device_id: id, seconds: Math.min(Math.ceil(seconds), keepSeconds, 300) }).then(
      (r) => {
        // Dropped (or dropped and picked again) while the answer was on its way: not this stream's.
        if (stream && streams.get(id) === stream) stream.backfill(r.runs, now());
      },
      // An older gateway without the request, or a board it never saw: the chart fills as samples come.
      () => {},
    );
  }

  function ingest(batches: SensorBatch[]): void {
    const t = now();
    for (const b of batches) {
      const s = streams.get(b.device_id);
      if (!s || !Array.isArray(b.samples)) continue;
      s.add(b.start_ms, b.rate_hz, b.samples, t);
    }
  }

  /** Charts exactly these boards (in this order); streams of boards dropped are freed. */
  function choose(ids: string[]): void {
    const next = [...new Set(ids)].slice(0, MAX_CHARTED);
    for (const id of chosen) {
      if (next.includes(id)) continue;
      releases.get(id)?.();
      releases.delete(id);
      streams.delete(id);
      lastCount.delete(id);
      backfilled.delete(id);
    }
    for (const id of next) {
      if (releases.has(id)) continue;
      streams.set(id, new BoardStream(keepSeconds));
      releases.set(id, client.watch([`sensor:${id}`]));
      backfill(id, windowS);
    }
    chosen = next;
    selected.set(next);
  }

  function toggle(id: string): void {
    choose(chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id]);
  }

  return {
    selected: { subscribe: selected.subscribe } as Readable<string[]>,
    summary: { subscribe: summary.subscribe } as Readable<LiveSummary>,
    choose,
    toggle,
    /** The stream a chart reads; undefined for a board not charted. */
    stream: (id: string) => streams.get(id),
    /** The window the charts show: widening it backfills what the boards' streams do not reach yet. */
    setWindow(seconds: number): void {
      windowS = seconds;
      for (const id of chosen) backfill(id, seconds);
    },
    ingest,
    start(): void {
      if (offSensor) return;
      offSensor = client.onSensor(ingest);
      choose(remembered);
      rateTimer = setInterval(() => {
        const rates: Record<string, number> = {};
        for (const [id, s] of streams) {
          rates[id] = s.received - (lastCount.get(id) ?? 0);
          lastCount.set(id, s.received);
        }
        summary.set({ rates });
      }, 1000);
    },
    /** Leaves the view: stops every sensor subscription and frees the buffers. */
    stop(): void {
      remembered = chosen;
      choose([]);
      offSensor?.();
      offSensor = null;
      if (rateTimer) clearInterval(rateTimer);
      rateTimer = null;
    },
  };
}

export type LiveStore = ReturnType<typeof createLiveStore>;
