/**
 * The settings file as operator requests (`get_settings`, `set_settings`,
 * `GET`/`PUT /api/settings`), for the UI's Settings view. Saved settings
 * apply at the next start; the answer says which of them differ from what
 * runs now.
 */
import type { Core, PartFactory } from './core.js';
import { SettingsOperatorFrames, type RunningSettings } from '../../firmware-protocol/index.js';
import { answer, defineRequest, type GatewayPart } from './parts.js';
import { readSettings, SETTINGS_FILE, writeSettings, type Settings } from './settings.js';
import { join } from 'node:path';

/** What runs now, in the file's terms. */
function running(core: Core): RunningSettings {
  const o = core.options;
  return {
    host: o.host,
    port: o.port,
    db: o.db,
    device_auth: o.deviceAuth,
    redis: o.redis,
    mdns: o.discovery.mdns,
    udp_probe_port: o.discovery.udpProbePort === false ? null : o.discovery.udpProbePort,
    mdns_interfaces: [...o.discovery.interfaces],
    retention_days: o.retentionDays,
    tls: o.tls !== null,
  };
}

export function settingsPart(): PartFactory {
  return (core: Core): GatewayPart => {
    const settingsReply = (saved: Settings) => {
      const now = running(core);
      const pending = (Object.keys(saved) as (keyof Settings)[]).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
      return answer('settings', { file: join(core.options.dataDir, SETTINGS_FILE), saved, running: now, restart_required: pending });
    };
    return {
      name: 'settings',
      requests: {
        get_settings: defineRequest(SettingsOperatorFrames.get_settings, { http: 'GET /settings', handle: () => settingsReply(readSettings(core.options.dataDir)) }),
        set_settings: defineRequest(SettingsOperatorFrames.set_settings, {
          http: 'PUT /settings',
          handle(f) {
            writeSettings(core.options.dataDir, f.settings);
            core.log.info('settings saved by an operator; they apply at the next start', { fields: Object.keys(f.settings).join(',') });
            return settingsReply(f.settings);
          },
        }),
      },
    };
  };
}
