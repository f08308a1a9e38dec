/**
 * The gateway's settings file (`settings.json` in its data folder) as
 * operators read and write it (`get_settings`, `set_settings`): what the
 * desktop app starts with and what `courtside serve` reads before its flags.
 * Saved settings apply at the next start.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Str, reply } from './wire.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

/** Every field is optional: one left out keeps its default (or the flag given at start). */
export const SettingsSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$', description: 'Address to listen on. Default 0.0.0.0.' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port. Default 8765.' })),
    db: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'SQLite file or mysql://user:pass@host:port/db. Default <data-dir>/courtside.sqlite.' })),
    device_auth: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('token')], { description: 'Default open.' })),
    redis: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 1024, pattern: '^rediss?://' }), Type.Null()], { description: 'redis://host:port[/db]: join the gateways that share this Redis and the same MySQL/MariaDB database; null: on its own. Default null.' })),
    mdns: Type.Optional(Type.Boolean({ description: 'mDNS advertise and browse. Default true.' })),
    udp_probe_port: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.Null()], { description: 'UDP discovery probe port; null: off. Default 8766.' })),
    mdns_interfaces: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32, description: 'Names or IPv4 addresses; [] for every interface.' })),
    retention_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500, description: 'Days messages, room queries and closed connections are kept; recorded sessions are never deleted by it. 0: keep everything. Default 30.' })),
    tls: Type.Optional(Type.Boolean({ description: 'HTTPS and WSS on the port, with a certificate made for this machine and kept in the data folder (your own: the --tls-cert and --tls-key flags). Default false for courtside serve, true for the desktop app.' })),
  },
  { additionalProperties: false },
);
export type Settings = Static<typeof SettingsSchema>;

/** What runs now, in the file's terms (every field present). */
export const RunningSettingsSchema = Type.Object({
  host: Str,
  port: Type.Integer(),
  db: Str,
  device_auth: Type.Union([Type.Literal('open'), Type.Literal('token')]),
  redis: Type.Optional(Type.Union([Str, Type.Null()])),
  mdns: Type.Boolean(),
  udp_probe_port: Type.Union([Type.Integer(), Type.Null()]),
  mdns_interfaces: Type.Array(Str),
  retention_days: Type.Integer(),
  /** HTTPS and WSS, with either certificate (made or the operator's own). */
  tls: Type.Boolean(),
});
export type RunningSettings = Static<typeof RunningSettingsSchema>;

export const SettingsOperatorFrames = {
  get_settings: request('get_settings', {}),
  set_settings: request('set_settings', { settings: SettingsSchema }),
} as const;

export const SettingsReplyFrames = {
  settings: reply('settings', {
    file: Type.String({ description: 'Where the settings are kept.' }),
    saved: SettingsSchema,
    running: RunningSettingsSchema,
    restart_required: Type.Array(Type.String(), { description: 'Saved fields that differ from what runs now: they apply at the next start.' }),
  }),
} as const;
export type SettingsReply = Static<typeof SettingsReplyFrames.settings>;
