/**
 * The settings file (`settings.json` in the data folder): what the desktop
 * app starts with and what the UI's Settings view edits. `courtside serve`
 * reads it too, and its flags win over it. Changes apply at the next start.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, SettingsSchema, validate, type Settings } from '../../firmware-protocol/index.js';
import { gatewayError } from './errors.js';
import type { CoreOptions } from './options.js';

export const SETTINGS_FILE = 'settings.json';
export type { Settings };

const check = compile(SettingsSchema);

export function checkSettings(value: unknown): Settings {
  const v = validate(check, value);
  if (!v.ok) throw gatewayError('SETTINGS_INVALID', v.error);
  return v.value;
}

/** The saved settings; {} when there is no file. A broken file is an error, not a silent reset. */
export function readSettings(dataDir: string): Settings {
  const file = join(dataDir, SETTINGS_FILE);
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw gatewayError('SETTINGS_INVALID', `${file} is not valid JSON`);
  }
  return checkSettings(value);
}

/** Written whole through a temporary file, so a crash never leaves half a file. */
export function writeSettings(dataDir: string, settings: Settings): void {
  const file = join(dataDir, SETTINGS_FILE);
  const tmp = file + '.tmp';
  writeFileSync(tmp, JSON.stringify(checkSettings(settings), null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Settings as gateway options; fields the file leaves out keep their defaults. */
export function optionsFromSettings(s: Settings): CoreOptions {
  const o: CoreOptions = {};
  if (s.host !== undefined) o.host = s.host;
  if (s.port !== undefined) o.port = s.port;
  if (s.db !== undefined) o.db = s.db;
  if (s.device_auth !== undefined) o.deviceAuth = s.device_auth;
  if (s.redis !== undefined && s.redis !== null) o.redis = s.redis;
  if (s.retention_days !== undefined) o.retentionDays = s.retention_days;
  if (s.tls !== undefined) o.tls = s.tls;
  const d: NonNullable<CoreOptions['discovery']> = {};
  if (s.mdns !== undefined) d.mdns = s.mdns;
  if (s.udp_probe_port !== undefined) d.udpProbePort = s.udp_probe_port ?? false;
  if (s.mdns_interfaces !== undefined) d.interfaces = s.mdns_interfaces;
  if (Object.keys(d).length) o.discovery = d;
  return o;
}
