/**
 * Cumulative acks, for boards that ask for them at connect (`?ack=cumulative`):
 * instead of one `data_ack` per frame, one `data_acks` frame now and then
 * acks a range of seqs, naming the few in it that are not acked. A frame of
 * acks costs a write to the socket, as a frame of samples costs a read: at
 * 100 frames a second per board the per-frame ack is a large part of the
 * gateway's work, and the board only needs to know what it may drop.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Peer } from '../peer.js';

/** Past this many seqs missing between two acked ones, a new frame starts instead of a longer `except`. */
const MAX_GAP = 16;

interface Group {
  sessionId: string | null;
  stored: boolean;
  seqs: number[];
}

/**
 * One timer for every board on cumulative acks that has some pending: a round
 * starts with the first ack any of them holds and flushes them all, instead
 * of a timer (and its closure) per board per round. A board's ack waits at
 * most `delayMs`, less when it joined a round already under way.
 */
export class AckRounds {
  private pending: CumulativeAcks[] = [];
  private timer: TimerHandle | undefined;
  private readonly fire = (): void => this.flushAll();

  constructor(
    private readonly clock: Clock,
    /** How long the first ack of a round waits for others. */
    readonly delayMs: number,
  ) {}

  join(acks: CumulativeAcks): void {
    this.pending.push(acks);
    if (this.timer === undefined) this.timer = this.clock.setTimeout(this.fire, this.delayMs);
  }

  private flushAll(): void {
    this.timer = undefined;
    const list = this.pending;
    this.pending = [];
    for (const a of list) a.flush();
  }
}

const byNumber = (a: number, b: number): number => a - b;

function ascending(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[i - 1]!) return false;
  return true;
}

export class CumulativeAcks {
  /** The group most acks go to (one session, all stored or all not); others, rarely, in `more`. */
  private first: Group | null = null;
  private more: Group[] | null = null;
  private joined = false;

  constructor(
    private readonly peer: Peer,
    private readonly rounds: AckRounds,
  ) {}

  add(seq: number, sessionId: string | null, stored: boolean): void {
    const f = this.first;
    if (f !== null && f.sessionId === sessionId && f.stored === stored) f.seqs.push(seq);
    else if (f === null) this.first = { sessionId, stored, seqs: [seq] };
    else {
      const more = (this.more ??= []);
      let g = more.find((m) => m.sessionId === sessionId && m.stored === stored);
      if (!g) more.push((g = { sessionId, stored, seqs: [] }));
      g.seqs.push(seq);
    }
    if (!this.joined) {
      this.joined = true;
      this.rounds.join(this);
    }
  }

  /** Sends what is pending, now (the round's timer, or a close that wants it out). */
  flush(): void {
    this.joined = false;
    const f = this.first;
    const more = this.more;
    this.first = null;
    this.more = null;
    if (f !== null) this.emitGroup(f);
    if (more !== null) for (const g of more) this.emitGroup(g);
  }

  private emitGroup(g: Group): void {
    // Seqs come in order nearly always: sorting (which copies) only when they did not.
    const seqs = ascending(g.seqs) ? g.seqs : g.seqs.sort(byNumber);
    let from = seqs[0]!;
    let prev = from;
    let except: number[] = [];
    for (let i = 1; i < seqs.length; i++) {
      const s = seqs[i]!;
      if (s === prev) continue; // acked twice (a frame sent again): once is enough
      if (s - prev - 1 > MAX_GAP) {
        this.emit(g, from, prev, except);
        from = s;
        except = [];
      } else for (let m = prev + 1; m < s; m++) except.push(m);
      prev = s;
    }
    this.emit(g, from, prev, except);
  }

  private emit(g: Group, from: number, to: number, except: number[]): void {
    // A template, as for the per-frame ack: the frame every board on cumulative acks gets 20 times a second.
    const sid = g.sessionId === null ? 'null' : JSON.stringify(g.sessionId);
    this.peer.sendText(`{"type":"data_acks","session_id":${sid},"stored":${g.stored},"from_seq":${from},"to_seq":${to},"except":[${except.join(',')}]}`);
  }

  /** The socket closed: nothing more to send (a round still under way finds nothing pending). */
  stop(): void {
    this.first = null;
    this.more = null;
  }
}
