/** Stroke types as the player pages colour and count them. */
export const TYPES = ['clear', 'drive', 'lift', 'smash', 'unknown'] as const;

export const TYPE_COLORS: Record<string, string> = { clear: '#2e86ab', drive: '#3b8b3b', lift: '#b7791f', smash: '#d1495b', unknown: '#8a8a8a' };

/** Each type's count and share of the session's strokes (types without strokes left out). */
export function typeMix(counts: Record<string, number>): { type: string; count: number; share: number }[] {
  const total = TYPES.reduce((n, t) => n + (counts[t] ?? 0), 0);
  return TYPES.filter((t) => (counts[t] ?? 0) > 0).map((t) => ({ type: t, count: counts[t]!, share: total ? counts[t]! / total : 0 }));
}
