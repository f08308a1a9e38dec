/**
 * The board configuration Courtside writes at provisioning: one NVS namespace
 * in the board's `nvs` partition, read by the firmware at boot with
 * nvs_get_str / nvs_get_u16. Key names are at most 15 bytes (an NVS limit).
 *
 * Pure: schemas, constants and a function that turns a config into typed NVS
 * entries. Writing them to a partition image is the gateway's job.
 */
import { Type, type Static } from '@sinclair/typebox';

/** NVS namespace of the board configuration. */
export const NVS_CONFIG_NAMESPACE = 'courtside';
/** Label of the partition the configuration goes to (the ESP-IDF default NVS partition). */
export const NVS_CONFIG_PARTITION = 'nvs';
/** Bumped when a key changes meaning; the firmware reads it first (`cfg_ver`, u8). */
export const NVS_CONFIG_VERSION = 1;

export type NvsConfigType = 'string' | 'u8' | 'u16';

export interface NvsConfigKey {
  /** The NVS key (at most 15 bytes). */
  key: string;
  type: NvsConfigType;
  required: boolean;
  /** Longest value in bytes (strings) or largest value (integers). */
  max: number;
  /** Smallest value (integers). */
  min?: number;
  description: string;
}

/** Every key, in the order they are written. */
export const NVS_CONFIG_KEYS = [
  { key: 'cfg_ver', type: 'u8', required: true, max: 255, min: 1, description: 'layout version of this namespace (NVS_CONFIG_VERSION)' },
  { key: 'wifi_ssid', type: 'string', required: true, max: 32, description: 'Wi-Fi network name (1 to 32 bytes)' },
  { key: 'wifi_pass', type: 'string', required: false, max: 64, description: 'Wi-Fi password (empty or absent: open network)' },
  { key: 'gw_host', type: 'string', required: false, max: 253, description: 'gateway host name or IP address (absent: find the gateway by mDNS, _courtside._tcp)' },
  { key: 'gw_port', type: 'u16', required: false, max: 65535, min: 1, description: 'gateway TCP port (default 8765)' },
  { key: 'gw_path', type: 'string', required: false, max: 64, description: "board endpoint path (default '/ws/esp32/'); the board appends '<device_id>/'" },
  { key: 'gw_sha256', type: 'string', required: false, max: 64, description: "SHA-256 of the gateway's TLS certificate, 64 lower-case hex digits (present: connect with wss:// and accept only that certificate; absent: ws://)" },
  { key: 'device_id', type: 'string', required: true, max: 64, description: 'the board’s device code, e.g. racket-01' },
  { key: 'device_token', type: 'string', required: false, max: 128, description: 'device token for --device-auth token, sent as ?token=' },
  { key: 'room_id', type: 'string', required: false, max: 32, description: 'room the board joins (absent: none)' },
  { key: 'sample_hz', type: 'u16', required: false, max: 4000, min: 1, description: 'IMU sample rate in Hz (default: the firmware’s)' },
] as const satisfies readonly NvsConfigKey[];

export type NvsConfigKeyName = (typeof NVS_CONFIG_KEYS)[number]['key'];

const Str = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max });
/** A gateway started with TLS fills this in itself when provisioning (usb/manager.ts). */
const CertSha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: "SHA-256 of the gateway's certificate (64 lower-case hex digits); a TLS gateway adds its own when absent" });

/** A board configuration as operators send it (usb_provision, bulk mode). */
export const BoardConfigSchema = Type.Object(
  {
    wifi_ssid: Str(32, 1),
    wifi_pass: Type.Optional(Str(64)),
    gw_host: Type.Optional(Str(253, 1)),
    gw_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    gw_path: Type.Optional(Str(64, 1)),
    gw_sha256: Type.Optional(CertSha256),
    device_id: Str(64, 1),
    device_token: Type.Optional(Str(128, 1)),
    room_id: Type.Optional(Str(32, 1)),
    sample_hz: Type.Optional(Type.Integer({ minimum: 1, maximum: 4000 })),
  },
  { $id: 'BoardConfig', title: 'BoardConfig', additionalProperties: false },
);
export type BoardConfig = Static<typeof BoardConfigSchema>;

/** The part of a configuration that is the same for every board of a bulk run. */
export const BoardConfigTemplateSchema = Type.Object(
  {
    wifi_ssid: Str(32, 1),
    wifi_pass: Type.Optional(Str(64)),
    gw_host: Type.Optional(Str(253, 1)),
    gw_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    gw_path: Type.Optional(Str(64, 1)),
    gw_sha256: Type.Optional(CertSha256),
    room_id: Type.Optional(Str(32, 1)),
    sample_hz: Type.Optional(Type.Integer({ minimum: 1, maximum: 4000 })),
  },
  { $id: 'BoardConfigTemplate', title: 'BoardConfigTemplate', additionalProperties: false },
);
export type BoardConfigTemplate = Static<typeof BoardConfigTemplateSchema>;

export interface NvsConfigEntry {
  key: NvsConfigKeyName;
  type: NvsConfigType;
  value: string | number;
}

export type NvsConfigResult = { ok: true; entries: NvsConfigEntry[] } | { ok: false; error: string };

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/**
 * The NVS entries for a configuration, in key order, or the first problem as
 * one sentence. Absent optional keys are not written (the firmware keeps its
 * default); an empty wifi_pass is written (an open network).
 */
export function boardConfigEntries(config: BoardConfig): NvsConfigResult {
  const values: Record<string, unknown> = { ...config, cfg_ver: NVS_CONFIG_VERSION };
  const entries: NvsConfigEntry[] = [];
  for (const k of NVS_CONFIG_KEYS) {
    const v = values[k.key];
    if (v === undefined || v === null) {
      if (k.required) return { ok: false, error: `${k.key} is required` };
      continue;
    }
    if (k.type === 'string') {
      if (typeof v !== 'string') return { ok: false, error: `${k.key} must be a string` };
      if (v.includes('\0')) return { ok: false, error: `${k.key} must not contain NUL characters` };
      const len = utf8Length(v);
      if (len > k.max) return { ok: false, error: `${k.key} is ${len} bytes; at most ${k.max} fit` };
      if (len === 0 && k.key !== 'wifi_pass') return { ok: false, error: `${k.key} must not be empty` };
    } else {
      if (typeof v !== 'number' || !Number.isInteger(v)) return { ok: false, error: `${k.key} must be a whole number` };
      const min = 'min' in k ? k.min : 0;
      if (v < min || v > k.max) return { ok: false, error: `${k.key} must be between ${min} and ${k.max}, got ${v}` };
    }
    entries.push({ key: k.key, type: k.type, value: v as string | number });
  }
  return { ok: true, entries };
}

/** `racket-{n}` -> `racket-7`; `{n:3}` pads to three digits (`racket-007`). */
export function deviceIdFromTemplate(template: string, n: number): string {
  return template.replace(/\{n(?::(\d{1,2}))?\}/g, (_m, width: string | undefined) => String(n).padStart(width ? Number(width) : 0, '0'));
}

/** True if the template has a `{n}` placeholder and makes valid device ids. */
export function validIdTemplate(template: string): boolean {
  if (!/\{n(?::\d{1,2})?\}/.test(template)) return false;
  const sample = deviceIdFromTemplate(template, 1);
  return /^[A-Za-z0-9._:-]{1,64}$/.test(sample);
}
