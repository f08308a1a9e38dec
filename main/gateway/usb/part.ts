/**
 * USB provisioning as a gateway part: the `usb_*` operator requests on
 * /ws/admin/ and the same operations under /api/usb/ (plus firmware upload as
 * a raw HTTP body and the bulk report as CSV), live events on topic `usb`,
 * and device tokens minted in the gateway's store. Errors carry the UsbError
 * code and its one line.
 */
import type { FrameOf } from '../../../firmware-protocol/frame.js';
import { UsbFrames } from '../../../firmware-protocol/usb.js';
import type { Core, PartFactory } from '../core.js';
import { readBody } from '../dispatch.js';
import { CourtsideError } from '../errors.js';
import { defineRequest, type GatewayPart, type RequestTable, type RouteSpec } from '../parts.js';
import { errorText, isUsbError, usbError, UsbError } from './errors.js';
import { MAX_FIRMWARE_BYTES } from './firmware-store.js';
import { UsbManager, type UsbManagerOptions } from './manager.js';

type UsbFrame = FrameOf<typeof UsbFrames>;
type Answer = { reply: string; body: Record<string, unknown>; status?: number };

export interface UsbPartOptions extends Partial<Pick<UsbManagerOptions, 'extraPorts' | 'listPorts' | 'portPollMs' | 'bulkPollMs' | 'connect'>> {}

/** Runs one request against the manager; the same for WebSocket frames and HTTP bodies. */
export async function run(usb: UsbManager, f: UsbFrame): Promise<Answer> {
  switch (f.type) {
    case 'usb_list_ports':
      return { reply: 'usb_ports', body: { ports: await usb.reportPorts() } };
    case 'usb_list_firmware':
      return { reply: 'usb_firmware', body: { firmware: usb.firmware.list() } };
    case 'usb_board_info':
      return { reply: 'usb_board_info', body: { info: await usb.boardInfo(f.port, f.baud) } };
    case 'usb_flash':
      return { reply: 'usb_job', body: { job: usb.startFlash(f) }, status: 202 };
    case 'usb_provision':
      return { reply: 'usb_job', body: { job: usb.startProvision(f) }, status: 202 };
    case 'usb_cancel':
      return { reply: 'usb_job', body: { job: usb.cancel(f.job_id) } };
    case 'usb_job':
      return { reply: 'usb_job', body: { job: usb.job(f.job_id) } };
    case 'usb_jobs':
      return { reply: 'usb_jobs', body: { jobs: usb.jobList() } };
    case 'usb_improv_info':
      return { reply: 'usb_improv', body: await usb.improv(f.port, 'info') };
    case 'usb_improv_state':
      return { reply: 'usb_improv', body: await usb.improv(f.port, 'state') };
    case 'usb_improv_scan':
      return { reply: 'usb_improv', body: await usb.improv(f.port, 'scan') };
    case 'usb_improv_wifi':
      return { reply: 'usb_improv', body: await usb.improv(f.port, 'wifi', { ssid: f.ssid, password: f.password }) };
    case 'usb_monitor_start':
      return { reply: 'usb_monitor', body: await usb.monitorStart(f.port, f.baud) };
    case 'usb_monitor_stop':
      return { reply: 'usb_monitor', body: await usb.monitorStop(f.port) };
    case 'usb_reset':
      return { reply: 'usb_reset', body: await usb.reset(f.port, f.mode) };
    case 'usb_bulk_start':
      return { reply: 'usb_bulk', body: { bulk: usb.bulkStart(f) }, status: 202 };
    case 'usb_bulk_stop':
      return { reply: 'usb_bulk', body: { bulk: await usb.bulkStop() } };
    case 'usb_bulk_status':
      return { reply: 'usb_bulk', body: { bulk: usb.bulkStatus() } };
  }
}

/** HTTP routes below /api, by the request type whose body they take. */
const ROUTES: Record<RouteSpec, UsbFrame['type']> = {
  'GET /usb/ports': 'usb_list_ports',
  'GET /usb/firmware': 'usb_list_firmware',
  'POST /usb/board-info': 'usb_board_info',
  'POST /usb/flash': 'usb_flash',
  'POST /usb/provision': 'usb_provision',
  'GET /usb/jobs': 'usb_jobs',
  'GET /usb/jobs/:job_id': 'usb_job',
  'POST /usb/jobs/:job_id/cancel': 'usb_cancel',
  'POST /usb/improv/info': 'usb_improv_info',
  'POST /usb/improv/state': 'usb_improv_state',
  'POST /usb/improv/scan': 'usb_improv_scan',
  'POST /usb/improv/wifi': 'usb_improv_wifi',
  'POST /usb/monitor/start': 'usb_monitor_start',
  'POST /usb/monitor/stop': 'usb_monitor_stop',
  'POST /usb/reset': 'usb_reset',
  'POST /usb/bulk/start': 'usb_bulk_start',
  'POST /usb/bulk/stop': 'usb_bulk_stop',
  'GET /usb/bulk': 'usb_bulk_status',
};

function asUsbError(err: unknown): CourtsideError {
  return isUsbError(err) ? err : new UsbError('FLASH_FAILED', `internal error: ${errorText(err)}`, err);
}

export function usbPart(options: UsbPartOptions = {}): PartFactory {
  return (core: Core): GatewayPart => {
    const usb = new UsbManager({
      ...options,
      dataDir: core.options.dataDir,
      certSha256: () => core.options.tls?.fingerprint ?? null,
      clock: core.clock,
      publish: (payload) => core.operators.publish('usb', payload),
      // Port polling spawns udevadm: only while an operator listens to USB events.
      watching: () => core.operators.hasSubscribers('usb'),
      log: (m) => core.log.warn(m),
      setTags: (id, tags) => core.boards.setTags(id, tags),
      tokens: {
        mint: (deviceId, label) => core.tokens.mint(deviceId, label),
        revoke: async (deviceId) => void (await core.tokens.revoke(deviceId)),
        taken: () => core.tokens.holders(),
      },
    });

    const routeOf = new Map(Object.entries(ROUTES).map(([spec, type]) => [type, spec as RouteSpec]));
    const requests: RequestTable = {};
    for (const [type, schema] of Object.entries(UsbFrames)) {
      requests[type] = defineRequest(schema, {
        http: routeOf.get(type as UsbFrame['type']),
        async handle(f) {
          try {
            const a = await run(usb, f as UsbFrame);
            return { type: a.reply, body: a.body, status: a.status };
          } catch (err) {
            throw asUsbError(err);
          }
        },
      });
    }

    return {
      name: 'usb',
      requests,
      rawRoutes: [
        {
          http: 'POST /usb/firmware',
          async handle(h) {
            const data = await readBody(h.req, MAX_FIRMWARE_BYTES).catch((err: unknown) => {
              throw err instanceof CourtsideError && err.code === 'BODY_TOO_LARGE' ? usbError('FIRMWARE_TOO_LARGE', MAX_FIRMWARE_BYTES) : usbError('BAD_INPUT', `upload aborted: ${errorText(err)}`);
            });
            const name = h.url.searchParams.get('name') ?? (typeof h.req.headers['x-filename'] === 'string' ? h.req.headers['x-filename'] : null);
            try {
              h.json(201, { firmware: usb.firmware.save(data, name) });
            } catch (err) {
              throw asUsbError(err);
            }
          },
        },
        {
          http: 'GET /usb/bulk/report.csv',
          async handle(h) {
            const csv = usb.bulkCsv();
            h.res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="courtside-bulk.csv"', 'cache-control': 'no-store' });
            h.res.end(csv);
          },
        },
      ],
      status: () => ({ usb: usb.status() }),
      start: async () => usb.start(),
      close: () => usb.close(),
    };
  };
}
