/**
 * What each board reported over time (status_update and heartbeat values) and the errors the
 * gateway answered it with, for the device page. Kept in memory, bounded per board and in the
 * number of boards: a board that reports every second for a week costs the same as one that
 * reported a few hundred times, and reading a page is a slice, never a scan of the store.
 */
import { fromLoad, sinceLoad } from './epoch.js';

/** Entries kept per board (newest win). */
export const HISTORY_PER_BOARD = 500;
/** Boards with a history; past this the one heard from longest ago is forgotten. */
export const HISTORY_BOARDS = 5000;
/**
 * Entries of one kind over all boards (about 15 MB of statuses). Without it the bound was
 * boards x entries a board, 2.5 M entries, near 200 MB for a fleet heartbeating for hours; past
 * it the board heard from longest ago gives up the older half of its entries first.
 */
export const HISTORY_ENTRIES = 200_000;

export interface StatusEntry {
  at: number;
  source: 'status_update' | 'heartbeat';
  values: Record<string, unknown>;
}

export interface ErrorEntry {
  at: number;
  code: string;
  message: string;
}

/** Newest first, `limit` of them, older than `before` (ms) when given; `more` when older ones are left. */
export function pageOf<T extends { at: number }>(list: readonly T[], limit: number, before?: number): { items: T[]; more: boolean } {
  // The list is oldest first: find the end by binary search, then walk back.
  let hi = list.length;
  if (before !== undefined) {
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.at < before) lo = mid + 1;
      else hi = mid;
    }
  }
  const from = Math.max(0, hi - limit);
  return { items: list.slice(from, hi).reverse(), more: from > 0 };
}

/**
 * Pages are cut by time (`before`): two entries of one board in the same millisecond would let
 * a page end between them and the next skip the second, so each is kept at least 1 ms after
 * the one before (and a clock set back does not unsort the list).
 */
function after(list: readonly { at: number }[], at: number): number {
  const last = list.at(-1)?.at;
  return last !== undefined && at <= last ? last + 1 : at;
}

function sameHeartbeat(v: Record<string, unknown>, battery: number | undefined, rssi: number | undefined): boolean {
  const keys = Object.keys(v).length;
  return keys === (battery === undefined ? 0 : 1) + (rssi === undefined ? 0 : 1) && v.battery === battery && v.rssi === rssi;
}

/** Lists shorter than this are copied on push (see Ring.push). */
const SHORT_LIST = 16;

export class Ring<T> {
  private readonly byBoard = new Map<string, T[]>();
  /** Entries over all boards. */
  private total = 0;
  constructor(
    private readonly cap: number,
    private readonly maxBoards = HISTORY_BOARDS,
    private readonly maxEntries = HISTORY_ENTRIES,
  ) {}

  push(deviceId: string, entry: T): void {
    const had = this.byBoard.get(deviceId);
    let list: T[];
    if (had === undefined) list = [entry];
    else {
      this.byBoard.delete(deviceId);
      // A short list is copied to its exact length: pushed onto, an array grows by 16 places at
      // least, 128 bytes a board whose history is a heartbeat or two (most of an idle fleet).
      if (had.length < SHORT_LIST) list = [...had, entry];
      else (list = had).push(entry);
    }
    // Re-inserted: the map's order is the order boards were last heard, oldest first.
    this.byBoard.set(deviceId, list);
    this.total++;
    if (list.length > this.cap) this.total -= list.splice(0, list.length - this.cap).length;
    if (this.byBoard.size > this.maxBoards) this.forget(this.byBoard.keys().next().value!);
    while (this.total > this.maxEntries) {
      const [oldest, entries] = this.byBoard.entries().next().value!;
      const drop = Math.ceil(entries.length / 2);
      if (drop >= entries.length) this.forget(oldest);
      else this.total -= entries.splice(0, drop).length;
    }
  }

  private forget(deviceId: string): void {
    this.total -= this.byBoard.get(deviceId)?.length ?? 0;
    this.byBoard.delete(deviceId);
  }

  /** Entries kept over all boards. */
  get size(): number {
    return this.total;
  }

  of(deviceId: string): readonly T[] {
    return this.byBoard.get(deviceId) ?? [];
  }
}

// Entries keep their time as ms since load (epoch.ts), kept in the entry itself, not a boxed
// number of its own (16 bytes an entry); pages give the time since 1970 back.

export class BoardHistory {
  /** Times ms since EPOCH. */
  private readonly statuses = new Ring<StatusEntry>(HISTORY_PER_BOARD);
  private readonly errors = new Ring<ErrorEntry>(HISTORY_PER_BOARD);

  status(deviceId: string, at: number, source: StatusEntry['source'], values: Record<string, unknown>): void {
    this.statuses.push(deviceId, { at: after(this.statuses.of(deviceId), sinceLoad(at)), source, values });
  }

  /**
   * A heartbeat's values. An entry's values are never changed once kept, so a heartbeat that
   * repeats the board's last one shares its values object: an idle board reporting the same
   * battery and signal for hours keeps one, not one per heartbeat. `like`: an object the caller
   * keeps unchanged too (the board's status), shared when it holds just these values.
   */
  heartbeat(deviceId: string, at: number, battery: number | undefined, rssi: number | undefined, like?: Record<string, unknown> | null): void {
    const list = this.statuses.of(deviceId);
    const last = list.at(-1);
    let values: Record<string, unknown> | undefined;
    if (last !== undefined && last.source === 'heartbeat' && sameHeartbeat(last.values, battery, rssi)) values = last.values;
    else if (like != null && sameHeartbeat(like, battery, rssi)) values = like;
    else {
      values = {};
      if (battery !== undefined) values.battery = battery;
      if (rssi !== undefined) values.rssi = rssi;
    }
    this.statuses.push(deviceId, { at: after(list, sinceLoad(at)), source: 'heartbeat', values });
  }

  error(deviceId: string, at: number, code: string, message: string): void {
    this.errors.push(deviceId, { at: after(this.errors.of(deviceId), at), code, message: message.slice(0, 300) });
  }

  statusPage(deviceId: string, limit: number, before?: number): { items: StatusEntry[]; more: boolean } {
    const page = pageOf(this.statuses.of(deviceId), limit, before === undefined ? undefined : sinceLoad(before));
    return { items: page.items.map((e) => ({ at: fromLoad(e.at), source: e.source, values: e.values })), more: page.more };
  }

  errorPage(deviceId: string, limit: number, before?: number) {
    return pageOf(this.errors.of(deviceId), limit, before);
  }
}
