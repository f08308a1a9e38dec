/**
 * The settings file (`settings.json` in the data folder): what the desktop
 * app starts with and what the UI's Settings view edits. `courtside serve`
 * reads it too, and its flags win over it. Changes apply at the next start.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { compile, validate } from '../../firmware-protocol/index.js';
import { gatewayError } from './errors.js';
import type { CoreOptions } from './options.js';

export const SETTINGS_FILE = 'settings.json';

/** Until the contract has it: the file's shape, also the body of get_settings and set_settings. */
export const SettingsSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$', description: 'Address to listen on. Default 0.0.0.0.' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port. Default 8765.' })),
    db: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'SQLite file or mysql://user:pass@host:port/db. Default <data-dir>/courtside.sqlite.' })),
    device_auth: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('token')], { description: 'Default open.' })),
    mdns: Type.Optional(Type.Boolean({ description: 'mDNS advertise and browse. Default true.' })),
    udp_probe_port: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.Null()], { description: 'null: off. Default 8766.' })),
    mdns_interfaces: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32, description: 'Names or IPv4 addresses; [] for every interface.' })),
  },
  { additionalProperties: false },
);
export type Settings = Static<typeof SettingsSchema>;
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
  const d: NonNullable<CoreOptions['discovery']> = {};
  if (s.mdns !== undefined) d.mdns = s.mdns;
  if (s.udp_probe_port !== undefined) d.udpProbePort = s.udp_probe_port ?? false;
  if (s.mdns_interfaces !== undefined) d.interfaces = s.mdns_interfaces;
  if (Object.keys(d).length) o.discovery = d;
  return o;
}
