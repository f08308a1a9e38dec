/**
 * Firmware uploaded through the HTTP API, kept as `<dataDir>/firmware/<sha256>.bin`
 * with a small JSON beside it (name, size, when, the chip its header names).
 * The id is the content hash, so uploading the same file twice is one entry.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usbError } from './errors.js';
import { IMAGE_CHIP_IDS, imageChipId } from './images.js';

export const MAX_FIRMWARE_BYTES = 16 * 1024 * 1024;

export interface FirmwareMeta {
  id: string;
  name: string | null;
  size: number;
  uploaded_at: string;
  /** Chip named by the ESP-IDF image header (at 0x0, or the bootloader at 0x1000 in a merged image). */
  chip: string | null;
}

const ID = /^[0-9a-f]{64}$/;

export class FirmwareStore {
  readonly dir: string;

  constructor(dataDir: string, private readonly now: () => number = Date.now) {
    this.dir = join(dataDir, 'firmware');
  }

  save(data: Buffer, name: string | null): FirmwareMeta {
    if (data.length === 0) throw usbError('BAD_INPUT', 'the firmware is empty');
    if (data.length > MAX_FIRMWARE_BYTES) throw usbError('FIRMWARE_TOO_LARGE', MAX_FIRMWARE_BYTES);
    mkdirSync(this.dir, { recursive: true });
    const id = createHash('sha256').update(data).digest('hex');
    const chipId = imageChipId(data, 0) ?? imageChipId(data, 0x1000);
    const meta: FirmwareMeta = {
      id,
      name: name ? name.replace(/[^\w.\- ()]/g, '_').slice(0, 128) : null,
      size: data.length,
      uploaded_at: new Date(this.now()).toISOString(),
      chip: chipId === null ? null : IMAGE_CHIP_IDS[chipId]!,
    };
    // Write then rename: a half-written file never has the final name.
    const bin = join(this.dir, `${id}.bin`);
    writeFileSync(bin + '.tmp', data);
    renameSync(bin + '.tmp', bin);
    writeFileSync(join(this.dir, `${id}.json`), JSON.stringify(meta, null, 2));
    return meta;
  }

  list(): FirmwareMeta[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .flatMap((n) => {
        try {
          return [JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as FirmwareMeta];
        } catch {
          return [];
        }
      })
      .sort((a, b) => b.uploaded_at.localeCompare(a.uploaded_at));
  }

  /** The image bytes, or FIRMWARE_NOT_FOUND. */
  read(id: string): Buffer {
    if (!ID.test(id)) throw usbError('FIRMWARE_NOT_FOUND', id);
    try {
      return readFileSync(join(this.dir, `${id}.bin`));
    } catch {
      throw usbError('FIRMWARE_NOT_FOUND', id);
    }
  }
}
