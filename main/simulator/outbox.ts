/**
 * What a board holds until the gateway confirms it, as the firmware does: every
 * data frame until its seq is acked (sent again, in seq order, after a
 * reconnect or when the gateway asks), and each session's upload_complete
 * until its upload_ack. Seqs count from 0 in every session ('' outside one).
 */
import type { BoardStats } from './board-options.js';

type Send = (data: string | Uint8Array) => boolean;

export class Outbox {
  /** Last seq per session. */
  private readonly seqs = new Map<string, number>();
  /** `${session}#${seq}` -> frame and whether it ever left the board (to tell resends from first sends). */
  private readonly unacked = new Map<string, { data: string | Uint8Array; sent: boolean }>();
  /** upload_complete frames not yet answered by upload_ack, by session. */
  private readonly uploads = new Map<string, string>();

  constructor(
    private readonly maxUnacked: number,
    private readonly stats: BoardStats,
  ) {}

  get size(): number { return this.unacked.size; }

  lastSeq(sessionId: string | null): number { return this.seqs.get(sessionId ?? '') ?? -1; }

  nextSeq(sessionId: string | null): number {
    const key = sessionId ?? '';
    const seq = (this.seqs.get(key) ?? -1) + 1;
    this.seqs.set(key, seq);
    return seq;
  }

  /** A session the board (re)joins starts again at seq 0. */
  restartSeqs(sessionId: string): void { this.seqs.delete(sessionId); }

  /** Keeps a frame just produced; past maxUnacked the oldest goes, as on a board with full RAM. */
  add(sessionId: string | null, seq: number, data: string | Uint8Array, sent: boolean): void {
    if (sent) this.stats.framesSent++;
    this.unacked.set(key(sessionId, seq), { data, sent });
    if (this.unacked.size > this.maxUnacked) {
      this.unacked.delete(this.unacked.keys().next().value as string);
      this.stats.dropped++;
    }
  }

  /** data_ack, stored or not (stored:false is final too): the frame is done with. */
  ack(sessionId: unknown, seq: number): void {
    if (this.unacked.delete(key(sessionId, seq))) this.stats.acked++;
  }

  uploadSent(sessionId: string | null, text: string): void { this.uploads.set(sessionId ?? '', text); }
  uploadAcked(sessionId: unknown): void { this.uploads.delete(typeof sessionId === 'string' ? sessionId : ''); }

  /** After a reconnect: in the order produced (Map order), which is seq order within each session. */
  resendAll(send: Send): void {
    for (const k of [...this.unacked.keys()]) if (!this.resendOne(k, send)) return;
    for (const text of this.uploads.values()) send(text);
  }

  /** The gateway's `resend`: gaps it found at upload_complete, sent again if still held. */
  resendSeqs(sessionId: unknown, seqs: readonly unknown[], send: Send): void {
    for (const seq of seqs) this.resendOne(key(sessionId, Number(seq)), send);
  }

  private resendOne(k: string, send: Send): boolean {
    const entry = this.unacked.get(k);
    if (!entry) return true;
    if (!send(entry.data)) return false;
    this.stats.framesSent++;
    if (entry.sent) this.stats.resent++;
    entry.sent = true;
    return true;
  }
}

function key(sessionId: unknown, seq: number): string {
  return `${typeof sessionId === 'string' ? sessionId : ''}#${seq}`;
}
