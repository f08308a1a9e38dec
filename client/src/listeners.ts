/** Listener sets: one broken listener never stops the others from hearing. */

// Module-scoped, so the library needs neither DOM nor Node types.
declare const console: { error(...args: unknown[]): void };

export type Listener<T> = (value: T) => void;

export function listen<T>(set: Set<Listener<T>>, fn: Listener<T>): () => void {
  set.add(fn);
  return () => set.delete(fn);
}

export function emit<T>(set: Set<Listener<T>>, value: T): void {
  for (const fn of [...set]) {
    try {
      fn(value);
    } catch (err) {
      console.error(err);
    }
  }
}
