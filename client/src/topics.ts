/**
 * Topic subscriptions counted per topic, so two views watching `devices` share
 * one subscription and the last one to let go ends it. The client sends what
 * this returns: topics that just gained their first watcher or lost their last.
 */
export class TopicCounts {
  private readonly counts = new Map<string, number>();

  /** Adds one watcher to each topic; returns those that had none. */
  add(topics: readonly string[]): string[] {
    return topics.filter((t) => {
      const n = this.counts.get(t) ?? 0;
      this.counts.set(t, n + 1);
      return n === 0;
    });
  }

  /** Removes one watcher from each topic; returns those left with none. */
  remove(topics: readonly string[]): string[] {
    return topics.filter((t) => {
      const n = (this.counts.get(t) ?? 1) - 1;
      if (n <= 0) this.counts.delete(t);
      else this.counts.set(t, n);
      return n <= 0;
    });
  }

  get size(): number {
    return this.counts.size;
  }

  /** Every watched topic, in the order first watched. */
  list(): string[] {
    return [...this.counts.keys()];
  }
}
