/**
 * Frames waiting for a socket that is backed up, by delivery priority. While a client reads
 * slowly its kernel and WebSocket buffers hold what was already written, in the order written;
 * what arrives meanwhile waits here instead, so a high-priority frame (a queued message or
 * notification marked `high`, a command) leaves before normal and low ones that were sent to
 * that client earlier, and in send order within one priority. Used only past a threshold: a
 * socket that keeps up never holds a frame here.
 */

/** Stored priority ranks (0 high, 1 normal, 2 low); a frame sent with no priority is normal. */
export const RANKS = 3;
export const NORMAL_RANK = 1;

/** One FIFO per rank, each an array read from a moving head (no O(n) shift per frame). */
export class SendBacklog {
  private readonly lanes: string[][] = Array.from({ length: RANKS }, () => []);
  private readonly heads: number[] = new Array<number>(RANKS).fill(0);
  private count = 0;
  /** Characters waiting (JSON text: about its bytes), counted against the send-buffer cap. */
  size = 0;

  get length(): number {
    return this.count;
  }

  push(text: string, rank: number): void {
    const r = rank <= 0 ? 0 : rank >= RANKS - 1 ? RANKS - 1 : Math.floor(rank);
    this.lanes[r]!.push(text);
    this.count++;
    this.size += text.length;
  }

  /** The next frame to write: the oldest of the highest priority waiting. */
  shift(): string | undefined {
    for (let r = 0; r < RANKS; r++) {
      const lane = this.lanes[r]!;
      const h = this.heads[r]!;
      if (h >= lane.length) continue;
      const text = lane[h]!;
      lane[h] = '';
      if (h + 1 === lane.length) (lane.length = 0, (this.heads[r] = 0));
      else this.heads[r] = h + 1;
      this.count--;
      this.size -= text.length;
      return text;
    }
    return undefined;
  }

  clear(): void {
    for (let r = 0; r < RANKS; r++) (this.lanes[r]!.length = 0, (this.heads[r] = 0));
    this.count = 0;
    this.size = 0;
  }
}
