/**
 * Errors of the firmware library and of OTA: what an operator sees when an
 * upload is not a usable application image, or a rollout cannot be made.
 */
import { errorFactory, type ErrorCatalogue } from '../errors.js';

export const FirmwareErrors = {
  FIRMWARE_EMPTY: { status: 400, message: () => 'the upload is empty: send the application .bin as the request body' },
  FIRMWARE_TOO_LARGE: { status: 413, message: (max: number) => `firmware larger than ${max / 1048576} MB` },
  FIRMWARE_NOT_IMAGE: { status: 415, message: (why: string) => `not an ESP32 application image: ${why}` },
  FIRMWARE_TRUNCATED: { status: 400, message: (what: string) => `the image is cut short (${what}): upload the whole build/<project>.bin` },
  FIRMWARE_BAD_CHECKSUM: { status: 400, message: (stored: number, computed: number) => `the image checksum is 0x${stored.toString(16).padStart(2, '0')} but its segments sum to 0x${computed.toString(16).padStart(2, '0')}: the file is damaged` },
  FIRMWARE_BAD_HASH: { status: 400, message: () => 'the SHA-256 appended to the image does not match its contents: the file is damaged' },
  FIRMWARE_BOOTLOADER: { status: 415, message: () => 'this is a second-stage bootloader, not an application: upload build/<project>.bin' },
  FIRMWARE_MERGED: { status: 415, message: () => 'this is a merged flash image (bootloader, partition table and app): upload the application build/<project>.bin alone for OTA' },
  FIRMWARE_NO_APP_DESC: { status: 415, message: () => 'the image has no esp_app_desc_t (magic 0xABCD5432) at the start of its first segment: is it an ESP-IDF application?' },
  FIRMWARE_UNKNOWN_CHIP: { status: 415, message: (id: number) => `the image names chip id ${id}, which is no ESP32-family chip Courtside knows` },
  FIRMWARE_NOT_FOUND: { status: 404, message: (id: string) => `no firmware ${id} in the library: upload it first (POST /api/firmware)` },
  FIRMWARE_IN_USE: { status: 409, message: (id: string, rollout: string) => `firmware ${id} is being rolled out by ${rollout}: stop that rollout first` },
  ROLLOUT_NOT_FOUND: { status: 404, message: (id: string) => `no rollout ${id}` },
  ROLLOUT_NO_TARGETS: { status: 400, message: (why: string) => `the rollout has no boards: ${why}` },
  ROLLOUT_STATE: { status: 409, message: (id: string, state: string, action: string) => `rollout ${id} is ${state}: cannot ${action}` },
  BAD_TAG: { status: 400, message: (tag: string) => `'${tag}' is not a tag: 1 to 32 letters, digits, '-', '_' or '.'` },
  DEVICE_UNKNOWN: { status: 404, message: (id: string) => `no board ${id} is known to the gateway` },
  OTA_TOKEN: { status: 403, message: () => 'this download link is not valid (wrong or expired token)' },
  OTA_RANGE: { status: 416, message: (range: string, size: number) => `range ${range} is outside the image (${size} bytes)` },
} as const satisfies ErrorCatalogue;

export type FirmwareErrorCode = keyof typeof FirmwareErrors;
export const { raise: firmwareError } = errorFactory(FirmwareErrors);
