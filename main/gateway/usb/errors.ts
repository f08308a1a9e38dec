/**
 * Every USB error an operator can see, with a stable code and one line that
 * says what to do. The CLI prints `message`; the operator API sends
 * `{code, message}`. Raise them with `usbError(code, ...)` so the wording
 * stays here.
 */
import { CourtsideError, errorText } from '../errors.js';
import type { UsbErrorCode as UsbErrorCodeName } from '../../../firmware-protocol/usb.js';

export const UsbErrorCodes = {
  PORT_NOT_FOUND: (port: string) => `no serial port ${port}: the board was unplugged or the name is wrong (see 'courtside ports')`,
  PORT_BUSY: (port: string, by?: string) =>
    `serial port ${port} is in use${by ? ` by ${by}` : ' by another program (a serial monitor, esptool, Arduino IDE?)'}: close it and try again`,
  PORT_ACCESS: (port: string) => `no permission to open ${port}: add your user to the 'dialout' (Linux) group, log in again and retry`,
  PORT_OPEN_FAILED: (port: string, detail: string) => `cannot open ${port}: ${detail}`,
  PORT_LOST: (port: string) => `the board on ${port} disappeared (unplugged or reset into another USB device): plug it in and try again`,
  PORT_LIST_FAILED: (detail: string) => `cannot list serial ports: ${detail}`,
  NO_ANSWER: (port: string) => `no answer from the board on ${port}: hold BOOT and press EN (or check the USB cable carries data), then try again`,
  BOARD_STOPPED: (port: string, detail: string) => `the board on ${port} stopped answering (${detail}): check the cable, try a lower --baud`,
  UNKNOWN_CHIP: (detail: string) => `the board answered but its chip is not one esptool-js knows (${detail})`,
  WRONG_CHIP: (image: string, board: string) => `the image is built for ${image} but the board is an ${board}: pick the firmware for ${board}`,
  IMAGE_TOO_LARGE: (what: string, end: number, flash: number) =>
    `${what} ends at 0x${end.toString(16)}, beyond the board's ${flash / 1048576} MB flash: use a smaller image or a board with more flash`,
  IMAGES_OVERLAP: (a: string, b: string) => `${a} and ${b} overlap: check the addresses`,
  BAD_INPUT: (detail: string) => detail,
  VERIFY_FAILED: (address: number, expected: string, actual: string) =>
    `the flash at 0x${address.toString(16)} does not read back as written (md5 ${actual}, expected ${expected}): flash again, try a lower --baud or another cable`,
  FLASH_FAILED: (detail: string) => `flashing failed: ${detail}`,
  STUB_REQUIRED: (what: string) => `${what} needs the flasher stub: run without --no-stub`,
  CANCELLED: (what: string, note?: string) => `${what} cancelled${note ? `; ${note}` : ''}`,
  NO_PARTITION_TABLE: (detail: string) => `no valid partition table at 0x8000 on the board (${detail}): flash the firmware first`,
  NO_NVS_PARTITION: (label: string) => `the board's partition table has no data/nvs partition '${label}': flash a firmware with one`,
  CONFIG_INVALID: (detail: string) => `board configuration: ${detail}`,
  LINES_UNSUPPORTED: (port: string) =>
    `${port} has no DTR/RTS control lines (a virtual port?): press EN on the board yourself (hold BOOT for the bootloader)`,
  IMPROV_NOT_DETECTED: (port: string, badChecksums: number) =>
    `no Improv Wi-Fi answer on ${port}${badChecksums ? ` (${badChecksums} packet(s) with a bad checksum: check the baud rate)` : ''}: is the firmware running and does it speak Improv?`,
  IMPROV_ERROR: (what: string) => `the board refused: ${what}`,
  IMPROV_TIMEOUT: (what: string) => `no Improv answer to ${what} in time: the board may be busy; try again`,
  FIRMWARE_NOT_FOUND: (id: string) => `no uploaded firmware ${id}: upload it first (POST /api/usb/firmware)`,
  FIRMWARE_TOO_LARGE: (max: number) => `firmware larger than ${max / 1048576} MB`,
  JOB_NOT_FOUND: (id: string) => `no USB job ${id}`,
  BULK_RUNNING: () => 'bulk mode is already running: stop it first',
  BULK_NOT_RUNNING: () => 'bulk mode is not running',
  MONITOR_NOT_RUNNING: (port: string) => `no serial monitor on ${port}`,
  // The codes are the contract's (firmware-protocol/usb.ts): one missing or extra here fails the build.
} as const satisfies Record<UsbErrorCodeName, (...args: never[]) => string>;

export type UsbErrorCode = keyof typeof UsbErrorCodes;

/** HTTP status of each USB code on the operator API. */
function usbStatus(code: UsbErrorCode): number {
  switch (code) {
    case 'PORT_NOT_FOUND':
    case 'FIRMWARE_NOT_FOUND':
    case 'JOB_NOT_FOUND':
    case 'MONITOR_NOT_RUNNING':
      return 404;
    case 'PORT_BUSY':
    case 'BULK_RUNNING':
    case 'BULK_NOT_RUNNING':
      return 409;
    case 'BAD_INPUT':
    case 'CONFIG_INVALID':
    case 'WRONG_CHIP':
    case 'IMAGE_TOO_LARGE':
    case 'IMAGES_OVERLAP':
    case 'STUB_REQUIRED':
      return 400;
    case 'FIRMWARE_TOO_LARGE':
      return 413;
    default:
      return 502;
  }
}

/** A USB error: the gateway's error type with a USB code, so the dispatcher and the CLI treat it like any other. */
export class UsbError extends CourtsideError {
  declare readonly code: UsbErrorCode;

  constructor(code: UsbErrorCode, message: string, detail?: unknown) {
    super(code, message, usbStatus(code), detail);
    this.name = 'UsbError';
  }
}

type Args<C extends UsbErrorCode> = Parameters<(typeof UsbErrorCodes)[C]>;

export function usbError<C extends UsbErrorCode>(code: C, ...args: Args<C>): UsbError {
  const make = UsbErrorCodes[code] as (...a: unknown[]) => string;
  return new UsbError(code, make(...args));
}

export function usbErrorWithCause<C extends UsbErrorCode>(cause: unknown, code: C, ...args: Args<C>): UsbError {
  const make = UsbErrorCodes[code] as (...a: unknown[]) => string;
  return new UsbError(code, make(...args), cause);
}

export function isUsbError(e: unknown): e is UsbError {
  return e instanceof UsbError;
}

export { errorText };

/** Maps what node serialport says when opening fails. */
export function openError(port: string, err: unknown): UsbError {
  const msg = errorText(err);
  if (/cannot lock port|resource busy|EBUSY|Resource temporarily unavailable|Access denied.*in use/i.test(msg)) return usbErrorWithCause(err, 'PORT_BUSY', port);
  if (/no such file|ENOENT|cannot find|File not found/i.test(msg)) return usbErrorWithCause(err, 'PORT_NOT_FOUND', port);
  if (/permission denied|EACCES|Access denied/i.test(msg)) return usbErrorWithCause(err, 'PORT_ACCESS', port);
  return usbErrorWithCause(err, 'PORT_OPEN_FAILED', port, msg);
}
