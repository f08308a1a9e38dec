/**
 * The settings file as operator requests (`get_settings`, `set_settings`,
 * `GET`/`PUT /api/settings`), for the UI's Settings view. Saved settings
 * apply at the next start; the answer says which of them differ from what
 * runs now.
 */
import { Type } from '@sinclair/typebox';
import type { Core, PartFactory } from './core.js';
import { defineRequest, type GatewayPart } from './parts.js';
import { readSettings, SettingsSchema, SETTINGS_FILE, writeSettings, type Settings } from './settings.js';
import { join } from 'node:path';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
const GetSettings = Type.Object({ type: Type.Literal('get_settings'), id: RequestId }, { $id: 'Operator_get_settings', title: 'get_settings' });
const SetSettings = Type.Object({ type: Type.Literal('set_settings'), id: RequestId, settings: SettingsSchema }, { $id: 'Operator_set_settings', title: 'set_settings' });

/** What runs now, in the file's terms. */
function running(core: Core): Required<Omit<Settings, 'udp_probe_port'>> & { udp_probe_port: number | null } {
  const o = core.options;
  return {
    host: o.host,
    port: o.port,
    db: o.db,
    device_auth: o.deviceAuth,
    mdns: o.discovery.mdns,
    udp_probe_port: o.discovery.udpProbePort === false ? null : o.discovery.udpProbePort,
    mdns_interfaces: [...o.discovery.interfaces],
  };
}

export function settingsPart(): PartFactory {
  return (core: Core): GatewayPart => {
    const answer = (saved: Settings) => {
      const now = running(core);
      const pending = (Object.keys(saved) as (keyof Settings)[]).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
      return { type: 'settings', body: { file: join(core.options.dataDir, SETTINGS_FILE), saved, running: now, restart_required: pending } };
    };
    return {
      name: 'settings',
      requests: {
        get_settings: defineRequest(GetSettings, { http: 'GET /settings', handle: () => answer(readSettings(core.options.dataDir)) }),
        set_settings: defineRequest(SetSettings, {
          http: 'PUT /settings',
          handle(f) {
            writeSettings(core.options.dataDir, f.settings);
            core.log.info('settings saved by an operator; they apply at the next start', { fields: Object.keys(f.settings).join(',') });
            return answer(f.settings);
          },
        }),
      },
    };
  };
}
