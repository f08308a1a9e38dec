/**
 * Operator requests for USB provisioning (`/ws/admin/`, and the same bodies on
 * `/api/usb/...`): serial ports, flashing, board configuration, Improv Wi-Fi,
 * the serial monitor and bulk mode. Long jobs answer at once with a job id;
 * their progress and result arrive as `event` frames on topic `usb`.
 *
 * Replies: usb_ports {ports}, usb_firmware {firmware}, usb_board_info {info},
 * usb_job {job} (flash, provision, cancel, job), usb_jobs {jobs}, usb_improv
 * {...}, usb_monitor {port, running}, usb_reset {port, mode}, usb_bulk {bulk}.
 * Failures: `{type:'error', code, message, id?}` with a UsbError code
 * (PORT_BUSY, NO_ANSWER, WRONG_CHIP, IMAGE_TOO_LARGE, VERIFY_FAILED, ...).
 *
 * Events (`{type:'event', topic:'usb', event, ...}`): ports_changed {ports};
 * job_started {job_id, kind, port}; board_info {job_id?, port, info};
 * flash_progress {job_id?, port, bytes, total, percent, rate_bps, file_index,
 * files}; flash_done / provision_done {job_id, port, ok, state, result, error};
 * monitor_line {port, text, level, at}; monitor_status {port, status, path};
 * improv_state {port, state, url}; bulk_board {port, mac, chip, device_id,
 * result, error_code, error, finished_at}; bulk_status {state, current, ...}.
 *
 * HTTP: GET /api/usb/ports, GET|POST /api/usb/firmware (raw body, ?name=),
 * POST /api/usb/{board-info,flash,provision,reset,monitor/start,monitor/stop},
 * POST /api/usb/improv/{info,state,scan,wifi}, GET /api/usb/jobs[/ID],
 * POST /api/usb/jobs/ID/cancel, POST /api/usb/bulk/{start,stop},
 * GET /api/usb/bulk, GET /api/usb/bulk/report.csv.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Iso, StrOrNull } from './wire.js';
import { BoardConfigSchema, BoardConfigTemplateSchema } from './nvs-config.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));
/** A serial device path: /dev/ttyUSB0, /dev/cu.usbserial-0001, COM3. */
const PortPath = Type.String({ minLength: 1, maxLength: 512 });
/** sha256 (hex) of an uploaded firmware image (POST /api/usb/firmware). */
export const FirmwareId = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Baud = Type.Optional(Type.Integer({ minimum: 9600, maximum: 4_000_000 }));
const FlashAddress = Type.Integer({ minimum: 0, maximum: 0x7fffffff });

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Usb_${type}`, title: type });
}

/** What to write: an uploaded image at 0x0 (a merged .bin), a build folder on the gateway, or images at addresses. */
const FirmwareSource = {
  firmware_id: Type.Optional(FirmwareId),
  build_dir: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  images: Type.Optional(Type.Array(Type.Object({ address: FlashAddress, firmware_id: FirmwareId }), { minItems: 1, maxItems: 16 })),
};

export const UsbFrames = {
  usb_list_ports: request('usb_list_ports', {}),
  usb_list_firmware: request('usb_list_firmware', {}),
  /** Connects, reports chip, MAC and flash size, and lets the board go. */
  usb_board_info: request('usb_board_info', { port: PortPath, baud: Baud }),
  usb_flash: request('usb_flash', {
    port: PortPath,
    ...FirmwareSource,
    baud: Baud,
    erase: Type.Optional(Type.Boolean()),
    /** Talk to the ROM loader only (esptool --no-stub): slower, no erase-all. */
    no_stub: Type.Optional(Type.Boolean()),
  }),
  usb_provision: request('usb_provision', {
    port: PortPath,
    config: BoardConfigSchema,
    /** Mint a device token for config.device_id and write it (when config.device_token is absent). */
    mint_token: Type.Optional(Type.Boolean()),
    /** NVS partition label (default `nvs`). */
    partition: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    baud: Baud,
    /** Tags the gateway keeps for config.device_id once the board is written (rollouts, commands and filters by tag). */
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$' }), { maxItems: 32 })),
  }),
  usb_cancel: request('usb_cancel', { job_id: Type.String({ minLength: 1, maxLength: 64 }) }),
  usb_job: request('usb_job', { job_id: Type.String({ minLength: 1, maxLength: 64 }) }),
  usb_jobs: request('usb_jobs', {}),
  usb_improv_info: request('usb_improv_info', { port: PortPath }),
  usb_improv_state: request('usb_improv_state', { port: PortPath }),
  usb_improv_scan: request('usb_improv_scan', { port: PortPath }),
  usb_improv_wifi: request('usb_improv_wifi', {
    port: PortPath,
    ssid: Type.String({ minLength: 1, maxLength: 32 }),
    password: Type.String({ maxLength: 64 }),
  }),
  usb_monitor_start: request('usb_monitor_start', { port: PortPath, baud: Baud }),
  usb_monitor_stop: request('usb_monitor_stop', { port: PortPath }),
  usb_reset: request('usb_reset', { port: PortPath, mode: Type.Union([Type.Literal('run'), Type.Literal('bootloader')]) }),
  usb_bulk_start: request('usb_bulk_start', {
    ...FirmwareSource,
    /** Device ids: `racket-{n}`, `{n:3}` for zero padding. */
    id_template: Type.String({ minLength: 3, maxLength: 64 }),
    /** First n to try (ids that already have a token are skipped). Default 1. */
    start: Type.Optional(Type.Integer({ minimum: 0, maximum: 999999 })),
    config: BoardConfigTemplateSchema,
    /** Watch only these ports; default: every serial port that appears. */
    ports: Type.Optional(Type.Array(PortPath, { minItems: 1, maxItems: 64 })),
    baud: Baud,
    erase: Type.Optional(Type.Boolean()),
    /** Ports written at once, one job per port. Default 8; 1: one board after another. */
    parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    /** Tags the gateway keeps for every board provisioned. */
    tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$' }), { maxItems: 32 })),
  }),
  usb_bulk_stop: request('usb_bulk_stop', {}),
  usb_bulk_status: request('usb_bulk_status', {}),
} as const;

export type UsbRequestType = keyof typeof UsbFrames;

/** `event` frames on topic `usb` (field `event`). */
export const UsbEvents = [
  'ports_changed',
  'job_started',
  'board_info',
  'flash_progress',
  'flash_done',
  'provision_done',
  'monitor_line',
  'monitor_status',
  'improv_state',
  'bulk_board',
  'bulk_status',
] as const;
export type UsbEvent = (typeof UsbEvents)[number];

/** Board hints from USB vendor:product ids (lower-case hex). */
export const USB_BRIDGES: Record<string, string> = {
  '10c4:ea60': 'CP210x',
  '10c4:ea70': 'CP2105',
  '10c4:ea71': 'CP2108',
  '1a86:7523': 'CH340',
  '1a86:5523': 'CH341',
  '1a86:55d4': 'CH9102',
  '1a86:55d3': 'CH343',
  '0403:6001': 'FTDI FT232R',
  '0403:6010': 'FTDI FT2232',
  '0403:6011': 'FTDI FT4232',
  '0403:6014': 'FTDI FT232H',
  '0403:6015': 'FTDI FT231X',
  '303a:1001': 'Espressif USB-Serial/JTAG',
  '303a:0002': 'Espressif USB-OTG (ESP32-S2)',
  '303a:0009': 'Espressif USB-OTG (ESP32-S3)',
};

/** A one-word guess of what is behind a USB serial port. */
export function boardHint(vendorId: string | undefined, productId: string | undefined): string | null {
  if (!vendorId) return null;
  const v = vendorId.toLowerCase().padStart(4, '0');
  const p = (productId ?? '').toLowerCase().padStart(4, '0');
  const exact = USB_BRIDGES[`${v}:${p}`];
  if (exact) return exact;
  if (v === '303a') return 'Espressif native USB';
  if (v === '10c4') return 'CP210x';
  if (v === '1a86') return 'CH34x';
  if (v === '0403') return 'FTDI';
  return null;
}

/** A serial port as the gateway lists it (`usb_ports`, `GET /api/usb/ports`, `ports_changed` events). */
export const UsbPortInfoSchema = Type.Object({
  path: Type.String({ description: 'What to pass as `port`: /dev/ttyUSB0, /dev/cu.usbserial-0001, COM3.' }),
  vendor_id: Type.Union([Type.String(), Type.Null()], { description: 'USB vendor id, 4 lower-case hex digits.' }),
  product_id: StrOrNull,
  serial_number: StrOrNull,
  manufacturer: StrOrNull,
  product: StrOrNull,
  location: Type.Union([Type.String(), Type.Null()], { description: 'USB topology (`1-1.3`): tells hub ports apart.' }),
  by_id: Type.Union([Type.String(), Type.Null()], { description: 'Stable name under /dev/serial/by-id.' }),
  hint: Type.Union([Type.String(), Type.Null()], { description: 'CP210x, CH340, FTDI, Espressif native USB, virtual...' }),
  source: Type.Union([Type.Literal('os'), Type.Literal('sysfs'), Type.Literal('extra')]),
});
export type UsbPortInfo = Static<typeof UsbPortInfoSchema>;

/** One board's line in the bulk report (`bulk_board` events, usb_bulk_status rows, the CSV). */
export const UsbBulkRowSchema = Type.Object({
  port: Type.String(),
  mac: StrOrNull,
  chip: StrOrNull,
  device_id: StrOrNull,
  result: Type.Union([Type.Literal('ok'), Type.Literal('failed')]),
  error_code: StrOrNull,
  error: StrOrNull,
  finished_at: Iso,
});
export type UsbBulkRow = Static<typeof UsbBulkRowSchema>;

/**
 * The codes of USB errors (in `error` frames of usb_* requests, and `error.code`
 * of failed jobs). main/gateway/usb/errors.ts holds each one's message.
 */
export const UsbErrorCodeNames = [
  'PORT_NOT_FOUND',
  'PORT_BUSY',
  'PORT_ACCESS',
  'PORT_OPEN_FAILED',
  'PORT_LOST',
  'PORT_LIST_FAILED',
  'NO_ANSWER',
  'BOARD_STOPPED',
  'UNKNOWN_CHIP',
  'WRONG_CHIP',
  'IMAGE_TOO_LARGE',
  'IMAGES_OVERLAP',
  'BAD_INPUT',
  'VERIFY_FAILED',
  'FLASH_FAILED',
  'STUB_REQUIRED',
  'CANCELLED',
  'NO_PARTITION_TABLE',
  'NO_NVS_PARTITION',
  'CONFIG_INVALID',
  'LINES_UNSUPPORTED',
  'IMPROV_NOT_DETECTED',
  'IMPROV_ERROR',
  'IMPROV_TIMEOUT',
  'FIRMWARE_NOT_FOUND',
  'FIRMWARE_TOO_LARGE',
  'JOB_NOT_FOUND',
  'BULK_RUNNING',
  'BULK_NOT_RUNNING',
  'MONITOR_NOT_RUNNING',
] as const;
export type UsbErrorCode = (typeof UsbErrorCodeNames)[number];
