/** The Live charts' y ranges: a few fixed spans per sensor, so axes do not rescale on every sample. */
export type ChartKind = 'accel' | 'gyro';

export const SPANS: Record<ChartKind, number[]> = { accel: [2, 4, 8, 16, 32], gyro: [250, 500, 1000, 2000, 4000] };

/** The smallest fixed span that holds the data; grows at once, shrinks only when the data fits well inside a smaller one. */
export function snapSpan(kind: ChartKind, ys: ArrayLike<number>[], current: number): number {
  let peak = 0;
  for (const y of ys) for (let i = 0; i < y.length; i++) peak = Math.max(peak, Math.abs(y[i]!));
  const spans = SPANS[kind];
  const fit = spans.find((s) => peak <= s * 0.95) ?? spans[spans.length - 1]!;
  if (fit >= current) return fit;
  return peak < fit * 0.6 ? fit : current;
}
