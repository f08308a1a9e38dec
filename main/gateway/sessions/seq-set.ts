/**
 * A board's seqs (accepted, on disk) as "every seq below `below`" plus the
 * others one by one. A board numbers its frames 0, 1, 2, ... and they mostly
 * arrive in order, so the set stays a number and a few exceptions where a
 * Set<number> held an entry per frame: 360,000 an hour at 100 frames a second,
 * two sets per board, and a hash lookup and insert for every frame.
 * Behaves as a Set<number> does for the calls the sessions make.
 */
export class SeqSet {
  /** Every integer seq in [0, below) is in the set. */
  private below = 0;
  /** Members not counted by `below`: seqs past a gap, and anything that is not a whole number >= 0. */
  private readonly extra = new Set<number>();

  constructor(seqs: Iterable<number> = []) {
    for (const s of seqs) this.add(s);
  }

  get size(): number {
    return this.below + this.extra.size;
  }

  has(seq: number): boolean {
    return (seq >= 0 && seq < this.below && Number.isInteger(seq)) || this.extra.has(seq);
  }

  add(seq: number): this {
    if (seq === this.below) {
      this.below++;
      // The frames after a gap that came first now join the run.
      while (this.extra.size > 0 && this.extra.delete(this.below)) this.below++;
    } else if (!this.has(seq)) {
      this.extra.add(seq);
    }
    return this;
  }

  /** Ascending for the run; the others in the order they came. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let s = 0; s < this.below; s++) yield s;
    yield* this.extra;
  }
}
