/**
 * Chart colours from the page's theme: uPlot paints on a canvas, which CSS
 * colours do not reach, so axes, tick labels and grid read the theme's
 * variables and are read again when the system switches between light and dark.
 */
export interface ChartColors {
  /** Axis lines, tick labels and the unit label. */
  axis: string;
  grid: string;
}

const FALLBACK: ChartColors = { axis: '#5b6776', grid: '#eef1f4' };

export function chartColors(): ChartColors {
  if (typeof document === 'undefined' || typeof getComputedStyle === 'undefined') return { ...FALLBACK };
  const cs = getComputedStyle(document.documentElement);
  return { axis: cs.getPropertyValue('--muted').trim() || FALLBACK.axis, grid: cs.getPropertyValue('--chip').trim() || FALLBACK.grid };
}

/** Calls `fn` whenever the system's colour scheme changes; returns the remover. */
export function onSchemeChange(fn: () => void): () => void {
  if (typeof matchMedia === 'undefined') return () => {};
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', fn);
  return () => mq.removeEventListener('change', fn);
}
