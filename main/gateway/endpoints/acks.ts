/**
 * Cumulative acks, for boards that ask for them at connect (`?ack=cumulative`):
 * instead of one `data_ack` per frame, one `data_acks` frame now and then
 * acks a range of seqs, naming the few in it that are not acked. A frame of
 * acks costs a write to the socket, as a frame of samples costs a read: at
 * 100 frames a second per board the per-frame ack is a large part of the
 * gateway's work, and the board only needs to know what it may drop.
 */
import type { DataAcksFrame } from '../../../firmware-protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Peer } from '../peer.js';

/** Past this many seqs missing between two acked ones, a new frame starts instead of a longer `except`. */
const MAX_GAP = 16;

interface Group {
  sessionId: string | null;
  stored: boolean;
  seqs: number[];
}

export class CumulativeAcks {
  private groups: Map<string, Group> | null = null;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly peer: Peer,
    private readonly clock: Clock,
    /** How long the first ack of a round waits for others. */
    private readonly delayMs: number,
  ) {}

  add(seq: number, sessionId: string | null, stored: boolean): void {
    const key = `${stored ? 1 : 0}${sessionId ?? ''}`;
    const groups = (this.groups ??= new Map());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { sessionId, stored, seqs: [] }));
    g.seqs.push(seq);
    if (this.timer === undefined) this.timer = this.clock.setTimeout(() => this.flush(), this.delayMs);
  }

  /** Sends what is pending, now. */
  flush(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
    const groups = this.groups;
    this.groups = null;
    if (groups === null) return;
    for (const g of groups.values()) {
      const seqs = g.seqs.sort((a, b) => a - b);
      let from = seqs[0]!;
      let prev = from;
      let except: number[] = [];
      const emit = () => {
        const frame: DataAcksFrame = { type: 'data_acks', session_id: g.sessionId, stored: g.stored, from_seq: from, to_seq: prev, except };
        this.peer.send(frame);
      };
      for (let i = 1; i < seqs.length; i++) {
        const s = seqs[i]!;
        if (s === prev) continue; // acked twice (a frame sent again): once is enough
        if (s - prev - 1 > MAX_GAP) {
          emit();
          from = s;
          except = [];
        } else for (let m = prev + 1; m < s; m++) except.push(m);
        prev = s;
      }
      emit();
    }
  }

  /** The socket closed: nothing more to send. */
  stop(): void {
    this.clock.clear(this.timer);
    this.timer = undefined;
    this.groups = null;
  }
}
