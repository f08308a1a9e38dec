/**
 * USB provisioning as a gateway extension: the `usb_*` operator requests on
 * /ws/admin/ and the same operations under /api/usb/ (plus firmware upload as
 * a raw HTTP body), live events on topic `usb`, and device tokens minted in
 * the gateway's store. Errors carry the UsbError code and its one line.
 */
import type { IncomingMessage } from 'node:http';
import { FrameParser, type FrameOf } from '../../../firmware-protocol/frame.js';
import { UsbFrames } from '../../../firmware-protocol/usb.js';
import { createDeviceToken } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { ExtensionFactory, GatewayExtension, HttpContext } from '../extensions.js';
import { errorText, isUsbError, usbError, UsbError } from './errors.js';
import { MAX_FIRMWARE_BYTES } from './firmware-store.js';
import { UsbManager, type UsbManagerOptions } from './manager.js';

type UsbFrame = FrameOf<typeof UsbFrames>;
type Answer = { reply: string; body: Record<string, unknown>; status?: number };

export interface UsbExtensionOptions extends Partial<Pick<UsbManagerOptions, 'extraPorts' | 'listPorts' | 'portPollMs' | 'bulkPollMs' | 'connect'>> {}

/** Runs one request against the manager; the same for WebSocket frames and HTTP bodies. */
export async function answer(usb: UsbManager, f: UsbFrame): Promise<Answer> {
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

/** HTTP routes: `METHOD /usb/...` (below /api) to the request type whose body they take. */
const ROUTES: Record<string, UsbFrame['type']> = {
  'GET /usb/ports': 'usb_list_ports',
  'GET /usb/firmware': 'usb_list_firmware',
  'POST /usb/board-info': 'usb_board_info',
  'POST /usb/flash': 'usb_flash',
  'POST /usb/provision': 'usb_provision',
  'GET /usb/jobs': 'usb_jobs',
  'GET /usb/jobs/:': 'usb_job',
  'POST /usb/jobs/:/cancel': 'usb_cancel',
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

function readRaw(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        req.resume();
        return reject(usbError('FIRMWARE_TOO_LARGE', max));
      }
      chunks.push(c);
    });
    req.on('end', () => !failed && resolve(Buffer.concat(chunks)));
    req.on('error', (e) => !failed && reject(usbError('BAD_INPUT', `upload aborted: ${errorText(e)}`)));
  });
}

function asUsbError(err: unknown): UsbError {
  return isUsbError(err) ? err : new UsbError('FLASH_FAILED', `internal error: ${errorText(err)}`, err);
}

export function createUsbExtension(options: UsbExtensionOptions = {}): ExtensionFactory {
  return (ctx: GatewayContext): GatewayExtension => {
    const usb = new UsbManager({
      ...options,
      dataDir: ctx.options.dataDir,
      clock: ctx.clock,
      publish: (payload) => ctx.operators.publish('usb', payload),
      // Port polling spawns udevadm: only while an operator listens to USB events.
      watching: () => ctx.operators.hasSubscribers('usb'),
      log: (m) => ctx.log.warn(m),
      tokens: {
        mint: (deviceId, label) => createDeviceToken(ctx, deviceId, label),
        revoke: async (deviceId) => void (await ctx.store.revokeDeviceTokens(deviceId, new Date(ctx.clock.now()))),
        taken: async () => new Set((await ctx.store.listDeviceTokens()).filter((t) => t.revokedAt === null).map((t) => t.deviceId)),
      },
    });
    const parser = new FrameParser(UsbFrames);

    const http = async (h: HttpContext): Promise<boolean> => {
      if (h.segments[0] !== 'usb') return false;
      const route = `${h.method} /${h.segments.map((s, i) => (i === 2 && h.segments[1] === 'jobs' ? ':' : s)).join('/')}`;
      try {
        if (route === 'POST /usb/firmware') {
          const data = await readRaw(h.req, MAX_FIRMWARE_BYTES);
          const name = h.url.searchParams.get('name') ?? (typeof h.req.headers['x-filename'] === 'string' ? h.req.headers['x-filename'] : null);
          h.json(201, { firmware: usb.firmware.save(data, name) });
          return true;
        }
        if (route === 'GET /usb/bulk/report.csv') {
          const csv = usb.bulkCsv();
          h.res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="courtside-bulk.csv"', 'cache-control': 'no-store' });
          h.res.end(csv);
          return true;
        }
        const type = ROUTES[route];
        if (!type) return false;
        let body: Record<string, unknown> = {};
        if (h.method === 'POST') {
          const b = await h.readJson();
          if (!b.ok) return h.fail(400, 'BAD_INPUT', b.message), true;
          if (typeof b.value !== 'object' || b.value === null || Array.isArray(b.value)) return h.fail(400, 'BAD_INPUT', 'body must be a JSON object'), true;
          body = b.value as Record<string, unknown>;
        }
        if (h.segments[1] === 'jobs' && h.segments[2]) body = { ...body, job_id: h.segments[2] };
        const p = parser.check({ ...body, type });
        if (!p.ok) return h.fail(400, 'BAD_INPUT', p.error.message), true;
        const a = await answer(usb, p.frame);
        h.json(a.status ?? 200, a.body);
      } catch (err) {
        const e = asUsbError(err);
        h.fail(e.httpStatus, e.code, e.message);
      }
      return true;
    };

    return {
      name: 'usb',
      frames: UsbFrames,
      async handle(frame, op) {
        try {
          const a = await answer(usb, frame as UsbFrame);
          op.reply(a.reply, a.body);
        } catch (err) {
          const e = asUsbError(err);
          // USB codes are not frame codes: send the frame ourselves so the UI can match on them.
          op.peer.send(frame.id === undefined ? { type: 'error', code: e.code, message: e.message } : { type: 'error', code: e.code, message: e.message, id: frame.id });
        }
      },
      http,
      status: () => ({ usb: usb.status() }),
      start: async () => usb.start(),
      close: () => usb.close(),
    };
  };
}

/** The standard USB extension (ports from the OS plus COURTSIDE_EXTRA_PORTS). */
export const usbExtension: ExtensionFactory = createUsbExtension();
