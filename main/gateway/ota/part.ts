/**
 * Firmware and OTA as a gateway part: the firmware library (`POST
 * /api/firmware` with the image as the raw body, list, get, delete), staged
 * rollouts, board tags and commands by tag, as operator requests with their
 * HTTP routes; live events on topic `ota`; the download server on its own
 * port; and what boards say (reconnects, statuses, ota_progress, acks) fed
 * to the rollouts.
 */
import { OtaOperatorFrames } from '../../../firmware-protocol/index.js';
import type { FrameOf } from '../../../firmware-protocol/frame.js';
import type { Core, PartFactory } from '../core.js';
import { readBody } from '../dispatch.js';
import { CourtsideError } from '../errors.js';
import { answer, defineRequest, type Answer, type GatewayPart, type RequestTable, type RouteSpec } from '../parts.js';
import { firmwareError } from '../firmware/errors.js';
import { FirmwareStore, MAX_FIRMWARE_BYTES, firmwareView } from '../firmware/library.js';
import { ImageServer } from './image-server.js';
import { Rollouts, type RolloutSnapshot } from './rollouts.js';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimerHandle } from '../clock.js';

export interface OtaPartOptions {
  /** Port of the download server. Default the gateway's port + 2 (8767), or a free one when that is taken or the gateway itself listens on port 0 (tests). */
  port?: number;
  /** Address boards reach the download server by. Default the gateway's first LAN address (127.0.0.1 when it listens there). */
  publicHost?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
}

type OtaFrame = FrameOf<typeof OtaOperatorFrames>;

const ROUTES: Record<OtaFrame['type'], RouteSpec> = {
  firmware_list: 'GET /firmware',
  firmware_get: 'GET /firmware/:firmware_id',
  firmware_delete: 'DELETE /firmware/:firmware_id',
  ota_start_rollout: 'POST /ota/rollouts',
  ota_list_rollouts: 'GET /ota/rollouts',
  ota_get_rollout: 'GET /ota/rollouts/:rollout_id',
  ota_pause_rollout: 'POST /ota/rollouts/:rollout_id/pause',
  ota_resume_rollout: 'POST /ota/rollouts/:rollout_id/resume',
  ota_stop_rollout: 'POST /ota/rollouts/:rollout_id/stop',
  ota_retry_failed: 'POST /ota/rollouts/:rollout_id/retry-failed',
  set_device_tags: 'PUT /devices/:device_id/tags',
  list_device_tags: 'GET /tags',
  send_tag_command: 'POST /tags/:tag/command',
};

export function otaPart(options: OtaPartOptions = {}): PartFactory {
  return (core: Core): GatewayPart => {
    const library = new FirmwareStore(core.options.dataDir, () => core.clock.now());
    // Rollouts are kept in the data folder beside the firmware, written a moment after they change.
    const file = join(core.options.dataDir, 'ota-rollouts.json');
    let saveTimer: TimerHandle | undefined;
    const save = () => {
      saveTimer = undefined;
      try {
        writeFileSync(file + '.tmp', JSON.stringify(rollouts.snapshot()));
        renameSync(file + '.tmp', file);
      } catch (err) {
        core.log.warn('could not save the rollouts', { error: String(err) });
      }
    };
    const publish = (payload: Record<string, unknown>) => {
      core.operators.publish('ota', payload);
      if (saveTimer === undefined) saveTimer = core.clock.setTimeout(save, 200);
    };
    const publicHost = () => {
      if (options.publicHost) return options.publicHost;
      const h = core.options.host;
      if (h !== '0.0.0.0' && h !== '::') return h;
      const lan = core.urls().board[0];
      return lan ? new URL(lan).hostname.replace(/^\[|\]$/g, '') : '127.0.0.1';
    };
    const images = new ImageServer(
      { read: (id) => (library.get(id)?.app ? library.read(id) : undefined) },
      { host: core.options.host, port: options.port ?? (core.options.port === 0 || core.options.port > 65533 ? 0 : core.options.port + 2), fallback: options.port === undefined, publicHost, tls: options.tls ?? gatewayTls(core.options.tls), clock: core.clock, log: (m) => core.log.warn(m) },
    );
    const rollouts = new Rollouts({
      clock: core.clock,
      board: (id) => {
        const b = core.boards.find(id);
        if (!b) return undefined;
        const fw = b.status?.firmware;
        return { online: b.online, firmware: typeof fw === 'string' ? fw : null };
      },
      sendCommand: (id, command, params) => core.commands.send(id, command, params),
      grant: (id, fw, ttl) => images.grant(id, fw, ttl),
      revoke: (t) => images.revoke(t),
      publish,
    });
    if (existsSync(file)) {
      try {
        rollouts.restore(JSON.parse(readFileSync(file, 'utf8')) as RolloutSnapshot[]);
      } catch (err) {
        core.log.warn('could not read the saved rollouts', { error: String(err) });
      }
    }
    core.boards.listen({
      connected: (id) => rollouts.connected(id),
      disconnected: (id) => rollouts.disconnected(id),
      status: (id, s) => rollouts.status(id, s),
      otaProgress: (id, f) => rollouts.progress(id, f),
      commandAck: (id, c, ok, r) => rollouts.commandAck(id, c, ok, r),
    });

    async function handle(f: OtaFrame): Promise<Answer> {
      switch (f.type) {
        case 'firmware_list':
          return answer('firmware_list', { firmware: library.list().filter((m) => m.app).map(firmwareView) });
        case 'firmware_get': {
          const m = library.app(f.firmware_id);
          return answer('firmware', { firmware: firmwareView(m) });
        }
        case 'firmware_delete': {
          const r = rollouts.using(f.firmware_id);
          if (r) throw firmwareError('FIRMWARE_IN_USE', f.firmware_id, r.id);
          if (!library.delete(f.firmware_id)) throw firmwareError('FIRMWARE_NOT_FOUND', f.firmware_id);
          publish({ event: 'firmware', action: 'deleted', firmware_id: f.firmware_id });
          return answer('firmware_deleted', { firmware_id: f.firmware_id });
        }
        case 'ota_start_rollout': {
          const fw = library.app(f.firmware_id);
          if (f.devices && f.tag) throw firmwareError('ROLLOUT_NO_TARGETS', 'give devices or a tag, not both');
          const devices = f.devices ?? (f.tag ? core.boards.withTag(f.tag) : []);
          for (const d of f.devices ?? []) if (!core.boards.find(d)) throw firmwareError('DEVICE_UNKNOWN', d);
          const run = rollouts.create({ ...f, version: fw.app.version, size: fw.size, devices, tag: f.tag ?? null, explicit: f.devices !== undefined });
          return answer('ota_rollout', { rollout: run.view() }, 201);
        }
        case 'ota_list_rollouts':
          return answer('ota_rollouts', { rollouts: rollouts.list().map((r) => r.view()) });
        case 'ota_get_rollout':
          return answer('ota_rollout', { rollout: rollouts.get(f.rollout_id).view() });
        case 'ota_pause_rollout':
          rollouts.get(f.rollout_id).pause();
          return answer('ota_rollout', { rollout: rollouts.get(f.rollout_id).view() });
        case 'ota_resume_rollout':
          rollouts.get(f.rollout_id).resume();
          return answer('ota_rollout', { rollout: rollouts.get(f.rollout_id).view() });
        case 'ota_stop_rollout':
          rollouts.get(f.rollout_id).stop();
          return answer('ota_rollout', { rollout: rollouts.get(f.rollout_id).view() });
        case 'ota_retry_failed':
          rollouts.get(f.rollout_id).retryFailed();
          return answer('ota_rollout', { rollout: rollouts.get(f.rollout_id).view() });
        case 'set_device_tags': {
          const tags = await core.boards.setTags(f.device_id, f.tags);
          publish({ event: 'tags', device_id: f.device_id, tags });
          return answer('device_tags', { device_id: f.device_id, tags });
        }
        case 'list_device_tags':
          return answer('device_tags_list', { devices: core.boards.allTags() });
        case 'send_tag_command': {
          const ids = core.boards.withTag(f.tag);
          const commands = [];
          for (const id of ids) {
            const c = await core.commands.send(id, f.command, f.params ?? {});
            commands.push({ device_id: id, command_id: c.commandId, pushed: c.pushed });
          }
          return answer('tag_command_queued', { tag: f.tag, commands });
        }
      }
    }

    const requests: RequestTable = {};
    for (const [type, schema] of Object.entries(OtaOperatorFrames)) {
      requests[type] = defineRequest(schema, { http: ROUTES[type as OtaFrame['type']], handle: (f) => handle(f as OtaFrame) });
    }

    return {
      name: 'ota',
      requests,
      rawRoutes: [
        {
          http: 'POST /firmware',
          async handle(h) {
            const data = await readBody(h.req, MAX_FIRMWARE_BYTES).catch((err: unknown) => {
              throw err instanceof CourtsideError && err.code === 'BODY_TOO_LARGE' ? firmwareError('FIRMWARE_TOO_LARGE', MAX_FIRMWARE_BYTES) : err;
            });
            const name = h.url.searchParams.get('name') ?? (typeof h.req.headers['x-filename'] === 'string' ? h.req.headers['x-filename'] : null);
            const meta = library.saveApp(data, name);
            publish({ event: 'firmware', action: 'added', firmware_id: meta.id });
            h.json(201, { firmware: firmwareView(meta) });
          },
        },
      ],
      status: () => ({ ota: { port: images.port, scheme: images.scheme, rollouts: rollouts.list().filter((r) => r.state === 'running' || r.state === 'paused').length } }),
      start: () => images.start(),
      // The gateway's own certificate was given (no --ota certificate of the caller's): downloads follow its renewal.
      certificateRenewed: (t) => {
        if (!options.tls) images.setCertificate({ cert: t.cert, key: t.key });
      },
      close: async () => {
        rollouts.close();
        if (saveTimer !== undefined) {
          core.clock.clear(saveTimer);
          save();
        }
        await images.close();
      },
    };
  };
}

/** With `--tls`, boards download over HTTPS with the gateway's own certificate (the one they pin). */
function gatewayTls(t: { cert: string; key: string } | null): { cert: string; key: string } | undefined {
  return t ? { cert: t.cert, key: t.key } : undefined;
}
