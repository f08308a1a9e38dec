/**
 * A board's seqs (accepted, on disk) as one run [from, to) plus the others one
 * by one. A board numbers its frames 0, 1, 2, ... and they mostly arrive in
 * order, so the set stays two numbers and a few exceptions where a
 * Set<number> held an entry per frame: 360,000 an hour at 100 frames a second,
 * two sets per board, and a hash lookup and insert for every frame. The run
 * starts at the first seq seen (a board met mid-session, a numbering from 1)
 * and grows both ways. Behaves as a Set<number> does for the calls the
 * sessions make.
 */
/** What the sessions read and write of a board's seqs: a SeqSet, or a plain Set<number> (tests, tools). */
export interface Seqs extends Iterable<number> {
  readonly size: number;
  has(seq: number): boolean;
  add(seq: number): unknown;
}

export class SeqSet implements Seqs {
  private from = 0;
  private to = 0;
  /** Members outside the run: seqs past a gap, and anything that is not a whole number >= 0. */
  private readonly extra = new Set<number>();

  constructor(seqs: Iterable<number> = []) {
    for (const s of seqs) this.add(s);
  }

  get size(): number {
    return this.to - this.from + this.extra.size;
  }

  has(seq: number): boolean {
    return (seq >= this.from && seq < this.to && Number.isInteger(seq)) || this.extra.has(seq);
  }

  add(seq: number): this {
    if (seq === this.to && this.to > this.from && Number.isSafeInteger(seq)) {
      this.to++;
      // The frames after a gap that came first now join the run.
      while (this.extra.size > 0 && Number.isSafeInteger(this.to) && this.extra.delete(this.to)) this.to++;
    } else if (seq === this.from - 1 && this.to > this.from && Number.isSafeInteger(seq)) {
      this.from--;
      while (this.extra.size > 0 && Number.isSafeInteger(this.from - 1) && this.extra.delete(this.from - 1)) this.from--;
    } else if (this.to === this.from && Number.isSafeInteger(seq) && seq >= 0 && !this.extra.has(seq)) {
      this.from = seq;
      this.to = seq + 1;
    } else if (!this.has(seq)) {
      this.extra.add(seq);
    }
    return this;
  }

  /** The run ascending, then the others in the order they came. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let s = this.from; s < this.to; s++) yield s;
    yield* this.extra;
  }
}
