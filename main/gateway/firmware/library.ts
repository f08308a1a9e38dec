/**
 * The firmware library: images uploaded through the HTTP API, kept as
 * `<dataDir>/firmware/<sha256>.bin` with a small JSON beside it (name, size,
 * when, the chip its header names and, for an application image, what its
 * esp_app_desc_t says). The id is the content hash, so uploading the same
 * file twice is one entry. USB flashing takes any image (a merged one too);
 * OTA takes only what `parseAppImage` accepts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usbError } from '../usb/errors.js';
import { IMAGE_CHIP_IDS, imageChipId } from '../usb/images.js';
import { firmwareError } from './errors.js';
import { parseAppImage, type AppImageInfo } from './image.js';
import { PartitionType, PARTITION_TABLE_MAX_LEN, PARTITION_TABLE_OFFSET, parsePartitionTable } from '../usb/partitions.js';

export const MAX_FIRMWARE_BYTES = 16 * 1024 * 1024;

export interface FirmwareMeta {
  id: string;
  name: string | null;
  size: number;
  uploaded_at: string;
  /** Chip named by the ESP-IDF image header (at 0x0, or the bootloader at 0x1000 in a merged image). */
  chip: string | null;
  /** What the application image says of itself; absent for images that are no application (a merged image, a bootloader). */
  app?: AppFacts;
  /**
   * A merged image (bootloader, partition table, app in one file, what ESP Web Tools flashes):
   * what its application says of itself and where it starts. Not OTA firmware: `app` stays absent.
   */
  merged_app?: AppFacts & { offset: number };
}

/** The application inside a merged image: the first app partition of its table that the file reaches, if it parses. */
export function mergedAppFacts(data: Buffer): (AppFacts & { offset: number }) | undefined {
  if (data.length <= PARTITION_TABLE_OFFSET + 2 || data[PARTITION_TABLE_OFFSET] !== 0xaa || data[PARTITION_TABLE_OFFSET + 1] !== 0x50) return undefined;
  try {
    const parts = parsePartitionTable(data.subarray(PARTITION_TABLE_OFFSET, PARTITION_TABLE_OFFSET + PARTITION_TABLE_MAX_LEN));
    const app = parts.filter((p) => p.type === PartitionType.app && p.offset < data.length).sort((a, b) => a.offset - b.offset)[0];
    if (!app) return undefined;
    const info = parseAppImage(data.subarray(app.offset, Math.min(data.length, app.offset + app.size)));
    return { ...appFacts(info), offset: app.offset };
  } catch {
    return undefined;
  }
}

/** The facts of an application image the library keeps and shows. */
export interface AppFacts {
  version: string;
  project: string;
  build_date: string;
  build_time: string;
  idf_version: string;
  chip_id: number;
  segments: number;
  secure_version: number;
  app_elf_sha256: string;
}

export function appFacts(i: AppImageInfo): AppFacts {
  return { version: i.version, project: i.project, build_date: i.build_date, build_time: i.build_time, idf_version: i.idf_version, chip_id: i.chip_id, segments: i.segments.length, secure_version: i.secure_version, app_elf_sha256: i.app_elf_sha256 };
}

/** The library entry of `POST /api/firmware` and `firmware_list`. */
export function firmwareView(m: FirmwareMeta) {
  return {
    firmware_id: m.id,
    name: m.name,
    size: m.size,
    sha256: m.id,
    chip: m.chip,
    uploaded_at: m.uploaded_at,
    version: m.app?.version ?? null,
    project: m.app?.project ?? null,
    build_date: m.app?.build_date ?? null,
    build_time: m.app?.build_time ?? null,
    idf_version: m.app?.idf_version ?? null,
    segments: m.app?.segments ?? null,
    app: m.app !== undefined,
  };
}

const ID = /^[0-9a-f]{64}$/;

export class FirmwareStore {
  readonly dir: string;

  constructor(dataDir: string, private readonly now: () => number = Date.now) {
    this.dir = join(dataDir, 'firmware');
  }

  /** An application image for OTA: refused with the reason unless parseAppImage accepts it. */
  saveApp(data: Buffer, name: string | null): FirmwareMeta {
    if (data.length > MAX_FIRMWARE_BYTES) throw firmwareError('FIRMWARE_TOO_LARGE', MAX_FIRMWARE_BYTES);
    const info = parseAppImage(data);
    return this.save(data, name, info);
  }

  save(data: Buffer, name: string | null, parsed?: AppImageInfo): FirmwareMeta {
    if (data.length === 0) throw usbError('BAD_INPUT', 'the firmware is empty');
    if (data.length > MAX_FIRMWARE_BYTES) throw usbError('FIRMWARE_TOO_LARGE', MAX_FIRMWARE_BYTES);
    let app = parsed;
    if (!app) {
      try {
        app = parseAppImage(data);
      } catch {
        app = undefined;
      }
    }
    mkdirSync(this.dir, { recursive: true });
    const id = createHash('sha256').update(data).digest('hex');
    const chipId = imageChipId(data, 0) ?? imageChipId(data, 0x1000);
    const meta: FirmwareMeta = {
      id,
      name: name ? name.replace(/[^\w.\- ()]/g, '_').slice(0, 128) : null,
      size: data.length,
      uploaded_at: new Date(this.now()).toISOString(),
      chip: chipId === null ? null : IMAGE_CHIP_IDS[chipId]!,
      ...(app ? { app: appFacts(app) } : {}),
    };
    const merged = app ? undefined : mergedAppFacts(data);
    if (merged) meta.merged_app = merged;
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

  get(id: string): FirmwareMeta | undefined {
    if (!ID.test(id)) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8')) as FirmwareMeta;
    } catch {
      return undefined;
    }
  }

  /** An application image of the library, or FIRMWARE_NOT_FOUND (USB-only images are not OTA firmware). */
  app(id: string): FirmwareMeta & { app: AppFacts } {
    const m = this.get(id);
    if (!m?.app) throw firmwareError('FIRMWARE_NOT_FOUND', id);
    return m as FirmwareMeta & { app: AppFacts };
  }

  delete(id: string): boolean {
    if (!this.get(id)) return false;
    rmSync(join(this.dir, `${id}.bin`), { force: true });
    rmSync(join(this.dir, `${id}.json`), { force: true });
    return true;
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
