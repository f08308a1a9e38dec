/**
 * Folds several runs of one benchmark into one document of the same shape, so
 * `bench:compare` reads a repeated run like a single one: every number becomes
 * the median of the runs' numbers at that place, and each place where the runs
 * differed is listed in `ranges` with its min and max. Strings, booleans and
 * arrays of different lengths are taken from the first run.
 */
export interface Folded {
  doc: unknown;
  /** Dotted path (array elements as their index) -> [min, max] over the runs. */
  ranges: Record<string, [number, number]>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function foldRuns(runs: unknown[]): Folded {
  const ranges: Record<string, [number, number]> = {};
  const fold = (xs: unknown[], path: string): unknown => {
    const first = xs[0];
    if (typeof first === 'number') {
      const nums = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (nums.length !== xs.length) return first;
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      if (lo !== hi) ranges[path] = [lo, hi];
      return median(nums);
    }
    if (Array.isArray(first)) {
      if (!xs.every((x) => Array.isArray(x) && x.length === first.length)) return first;
      return first.map((_, i) => fold(xs.map((x) => (x as unknown[])[i]), path ? `${path}.${i}` : String(i)));
    }
    if (first !== null && typeof first === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(first)) {
        out[k] = fold(xs.map((x) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined)), path ? `${path}.${k}` : k);
      }
      return out;
    }
    return first;
  };
  return { doc: fold(runs, ''), ranges };
}
