/**
 * This browser's display preferences (speed unit), kept in localStorage:
 * they belong to the person at this screen, not to the gateway.
 */
import { writable } from 'svelte/store';

export type SpeedUnit = 'kmh' | 'mph';
export interface Prefs {
  speedUnit: SpeedUnit;
}

const KEY = 'courtside.prefs';
const KMH_PER_MPH = 1.609344;

function load(): Prefs {
  try {
    const v = JSON.parse(globalThis.localStorage?.getItem(KEY) ?? '{}') as Partial<Prefs>;
    return { speedUnit: v.speedUnit === 'mph' ? 'mph' : 'kmh' };
  } catch {
    return { speedUnit: 'kmh' };
  }
}

export const prefs = writable<Prefs>(load());
prefs.subscribe((p) => {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(p));
  } catch {
    // Private mode without storage: the choice lasts for this page.
  }
});

/** "68 km/h" or "42 mph"; "–" for no value. */
export function speedText(kmh: number | null | undefined, unit: SpeedUnit): string {
  if (kmh === null || kmh === undefined || !Number.isFinite(kmh)) return '–';
  return unit === 'mph' ? `${Math.round(kmh / KMH_PER_MPH)} mph` : `${Math.round(kmh)} km/h`;
}

export function speedValue(kmh: number, unit: SpeedUnit): number {
  return unit === 'mph' ? kmh / KMH_PER_MPH : kmh;
}

export const unitLabel = (unit: SpeedUnit) => (unit === 'mph' ? 'mph' : 'km/h');
