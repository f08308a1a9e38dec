/** A store of the current time, ticking every `ms`: ages and countdowns on screen read it. */
import { readable, type Readable } from 'svelte/store';

export function ticker(ms = 1000): Readable<number> {
  return readable(Date.now(), (set) => {
    const t = setInterval(() => set(Date.now()), ms);
    return () => clearInterval(t);
  });
}

export const now: Readable<number> = ticker(1000);
