/** Board commands as an operator reads them: what to offer, and the board's answer in words. */
import type { DeviceRow } from './stores/devices.js';

/** What the UI offers when a board does not list its commands. */
export const DEFAULT_COMMANDS = ['start_collection', 'stop_collection', 'status'];

/** The commands to offer for a board: the ones it says it executes, else the defaults. */
export function commandChoices(row: Pick<DeviceRow, 'commands'> | undefined): string[] {
  return row?.commands?.length ? row.commands : DEFAULT_COMMANDS;
}

const STATE_WORDS = { queued: 'queued (board offline)', pushed: 'sent, waiting for the board', acked: 'done', failed: 'failed' } as const;

/** One line for the state, and the board's answer as label/value pairs (empty when it said nothing). */
export function commandOutcome(c: NonNullable<DeviceRow['lastCommand']>): { state: string; reason: string | null; fields: [string, string][] } {
  const r = c.result;
  const fields: [string, string][] = [];
  let reason: string | null = c.detail ?? null;
  if (r && typeof r === 'object' && !Array.isArray(r)) {
    const o = r as Record<string, unknown>;
    if (o.error === 'unknown_command') reason = `the board does not know "${typeof o.command === 'string' ? o.command : c.command}" (unknown_command)`;
    else if (typeof o.error === 'string') reason = typeof o.message === 'string' ? `${o.error}: ${o.message}` : o.error;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'error' || (k === 'command' && o.error !== undefined) || (k === 'message' && typeof o.error === 'string')) continue;
      fields.push([k, v === null ? '–' : Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)]);
    }
  } else if (r !== undefined && r !== null) fields.push(['answer', typeof r === 'object' ? JSON.stringify(r) : String(r)]);
  return { state: STATE_WORDS[c.state], reason, fields };
}
