/**
 * One conversation with a board's serial bootloader, through esptool-js and
 * our Web Serial adapter: connect (chip, MAC, flash size), write images
 * compressed and verified by MD5, read flash, reset.
 *
 * Hand-written where esptool-js 0.7 does not do it right:
 * - MD5: in ROM mode (no stub) the ROM answers 32 hex *characters*, which
 *   esptool-js hexes again, so verification could never pass; we read both
 *   forms.
 * - Hard reset: its HardReset only releases RTS and never pulses it, so the
 *   board does not restart; we pulse EN (RTS) with both lines set together.
 * - ROM mode: the ROM needs SPI_ATTACH (8 bytes) and smaller blocks before
 *   touching flash, which esptool-js leaves to the caller.
 * - Reading flash: the stub's closing MD5 packet is left unread; we read it
 *   and check the data against it.
 */
import { createHash } from 'node:crypto';
import { ESPError, ESPLoader, Transport, UnexpectedChipIdError, UnexpectedChipMagicError, type IEspLoaderTerminal } from 'esptool-js';
import { errorText, isUsbError, usbError, usbErrorWithCause, type UsbError } from './errors.js';
import { checkImages, padImage, type BoardFacts, type FlashImage, type ImageSet } from './images.js';
import { listPorts, portExists } from './ports.js';
import { WebSerialAdapter, type OpenNodePort } from './serial-adapter.js';

const ROM_BAUD = 115200;
export const DEFAULT_FLASH_BAUD = 460800;
const ESP_SPI_SET_PARAMS = 0x0b;
const ESP_SPI_ATTACH = 0x0d;
const ESP_SPI_FLASH_MD5 = 0x13;

/** Transport whose trace lines (printed even with tracing off, e.g. "readLoop exited") stay quiet unless asked for. */
class QuietTransport extends Transport {
  override trace(message: string): void {
    if (this.tracing) super.trace(message);
  }
}

export interface ConnectOptions {
  /** Baud rate after syncing at 115200 (default 460800). */
  baud?: number;
  /** Talk to the ROM loader only (esptool --no-stub). */
  noStub?: boolean;
  /** Reset-and-sync attempts (esptool's default is 7). */
  connectAttempts?: number;
  signal?: AbortSignal;
  /** esptool-js's own lines ("Chip is ESP32-D0WD-V3 ..."). */
  log?: (line: string) => void;
  trace?: boolean;
  usbVendorId?: number;
  usbProductId?: number;
  openPort?: OpenNodePort;
}

export interface BoardInfo {
  port: string;
  /** esptool-js chip name: ESP32, ESP32-S3, ... */
  chip: string;
  description: string;
  features: string[];
  mac: string;
  crystal_mhz: number;
  flash_id: string | null;
  /** Bytes, or null when the flash chip did not say. */
  flash_size: number | null;
  stub: boolean;
  /** False when the port has no DTR/RTS (resets are up to the operator). */
  reset_lines: boolean;
}

export interface WriteProgress {
  /** Image bytes written so far (all files), uncompressed. */
  bytes: number;
  total: number;
  percent: number;
  /** Bytes per second since the write started. */
  rate_bps: number;
  file_index: number;
  files: number;
}

export interface WriteOptions {
  erase?: boolean;
  onProgress?: (p: WriteProgress) => void;
  signal?: AbortSignal;
  now?: () => number;
}

const SIZE_NAMES: Record<string, number> = { KB: 1024, MB: 1024 * 1024 };
function sizeBytes(name: string | undefined): number | null {
  const m = name ? /^(\d+)(KB|MB)$/.exec(name) : null;
  return m ? Number(m[1]) * SIZE_NAMES[m[2]!]! : null;
}

function words(...v: number[]): Uint8Array {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeUInt32LE(x >>> 0, i * 4));
  return new Uint8Array(b);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The USB vendor/product id of a port, as numbers (none for virtual ports or when listing fails). */
async function usbIds(path: string): Promise<{ usbVendorId?: number; usbProductId?: number }> {
  if (!/^\/dev\/|^COM\d+$/i.test(path)) return {}; // not a device node: nothing to look up (virtual boards)
  try {
    const p = (await listPorts()).find((x) => x.path === path);
    if (!p?.vendor_id) return {};
    return { usbVendorId: parseInt(p.vendor_id, 16), usbProductId: p.product_id ? parseInt(p.product_id, 16) : undefined };
  } catch {
    return {};
  }
}

export class EspSession {
  private constructor(
    readonly path: string,
    readonly adapter: WebSerialAdapter,
    readonly loader: ESPLoader,
    readonly info: BoardInfo,
  ) {}

  /** Opens the port, resets the board into its bootloader, syncs and identifies it. */
  static async open(path: string, opts: ConnectOptions = {}): Promise<EspSession> {
    if (!portExists(path)) throw usbError('PORT_NOT_FOUND', path);
    // esptool-js picks its reset sequence by USB id: Espressif's USB-Serial/JTAG needs its own.
    const ids = opts.usbVendorId !== undefined ? { usbVendorId: opts.usbVendorId, usbProductId: opts.usbProductId } : await usbIds(path);
    const adapter = new WebSerialAdapter(path, { ...ids, openPort: opts.openPort });
    const terminal: IEspLoaderTerminal = {
      clean: () => {},
      writeLine: (s) => opts.log?.(s),
      write: (s) => opts.log?.(s),
    };
    const transport = new QuietTransport(adapter as unknown as ConstructorParameters<typeof Transport>[0], !!opts.trace);
    const baud = opts.baud ?? DEFAULT_FLASH_BAUD;
    const loader = new ESPLoader({ transport, baudrate: baud, romBaudrate: ROM_BAUD, terminal, enableTracing: !!opts.trace });
    const onAbort = () => void adapter.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (opts.signal?.aborted) throw usbError('CANCELLED', 'connecting');
      await loader.detectChip('default_reset', opts.connectAttempts ?? 7);
      const chip = loader.chip;
      const description = await chip.getChipDescription(loader);
      const features = (await chip.getChipFeatures(loader)).map((f) => f.trim());
      const crystal = await chip.getCrystalFreq(loader);
      const mac = await chip.readMac(loader);
      if (chip.postConnect) await chip.postConnect(loader);
      if (opts.noStub) {
        // esptool.py's ROM-mode preamble: ROM-sized blocks and an explicit SPI attach (pins 0, not legacy).
        loader.FLASH_WRITE_SIZE = chip.FLASH_WRITE_SIZE;
        await loader.checkCommand('configure SPI flash pins', ESP_SPI_ATTACH, words(0, 0));
      } else {
        await loader.runStub();
      }
      if (baud !== ROM_BAUD) await loader.changeBaud();
      let flashId: number | null = null;
      let flashSize: number | null = null;
      try {
        flashId = await loader.readFlashId();
        flashSize = sizeBytes(loader.DETECTED_FLASH_SIZES[(flashId >> 16) & 0xff]);
      } catch (err) {
        opts.log?.(`flash id not readable: ${errorText(err)}`);
      }
      if (flashSize !== null) {
        // SPI_SET_PARAMS: id, total size, block, sector, page, status mask (esptool's flash_set_parameters).
        await loader.checkCommand('set SPI params', ESP_SPI_SET_PARAMS, words(0, flashSize, 64 * 1024, 4 * 1024, 256, 0xffff));
      }
      const info: BoardInfo = {
        port: path,
        chip: chip.CHIP_NAME,
        description,
        features,
        mac,
        crystal_mhz: crystal,
        flash_id: flashId === null ? null : (flashId & 0xffffff).toString(16).padStart(6, '0'),
        flash_size: flashSize,
        stub: loader.IS_STUB,
        reset_lines: adapter.linesSupported,
      };
      return new EspSession(path, adapter, loader, info);
    } catch (err) {
      await adapter.close().catch(() => {});
      if (opts.signal?.aborted) throw usbErrorWithCause(err, 'CANCELLED', 'connecting');
      throw mapError(err, path, adapter, 'connect');
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** What the image checks need to know about this board. */
  facts(): BoardFacts {
    const chip = this.loader.chip;
    return { chipName: chip.CHIP_NAME, chipId: chip.IMAGE_CHIP_ID, bootloaderOffset: chip.BOOTLOADER_FLASH_OFFSET, flashSize: this.info.flash_size };
  }

  /** Throws WRONG_CHIP / IMAGE_TOO_LARGE / IMAGES_OVERLAP for images that do not belong on this board. */
  check(set: ImageSet): void {
    checkImages(set, this.facts());
  }

  /** MD5 (hex) of a flash region, as the bootloader computes it. */
  async md5(address: number, size: number): Promise<string> {
    const l = this.loader;
    const timeout = l.timeoutPerMb(l.MD5_TIMEOUT_PER_MB, size);
    try {
      const res = (await l.checkCommand('calculate md5sum', ESP_SPI_FLASH_MD5, words(address, size, 0, 0), 0, l.IS_STUB ? 16 : 32, timeout)) as Uint8Array;
      const b = Buffer.from(res);
      return b.length === 32 ? b.toString('ascii').toLowerCase() : b.toString('hex');
    } catch (err) {
      throw mapError(err, this.path, this.adapter, 'md5');
    }
  }

  /** Reads flash (stub only) and checks it against the stub's closing MD5. */
  async read(address: number, size: number): Promise<Buffer> {
    if (!this.loader.IS_STUB) throw usbError('STUB_REQUIRED', 'reading flash');
    try {
      const data = Buffer.from(await this.loader.readFlash(address, size));
      const digest = Buffer.from(await this.loader.transport.read(3000));
      if (!digest.equals(createHash('md5').update(data).digest())) {
        throw usbError('BOARD_STOPPED', this.path, `flash read at 0x${address.toString(16)} came back corrupted`);
      }
      return data;
    } catch (err) {
      throw mapError(err, this.path, this.adapter, 'read');
    }
  }

  /** Writes images (compressed), then checks each one's MD5 on the board. */
  async write(images: readonly FlashImage[], opts: WriteOptions = {}): Promise<void> {
    const l = this.loader;
    if (opts.erase && !l.IS_STUB) throw usbError('STUB_REQUIRED', 'erasing the whole flash');
    const now = opts.now ?? Date.now;
    const padded = images.map((i) => padImage(i.data));
    const total = padded.reduce((n, d) => n + d.length, 0);
    const before = padded.map((_, i) => padded.slice(0, i).reduce((n, d) => n + d.length, 0));
    const started = now();
    const report = (fileIndex: number, written: number, size: number) => {
      if (opts.signal?.aborted) throw usbError('CANCELLED', 'flashing', "the board's flash may be incomplete: flash it again before use");
      const fraction = size > 0 ? written / size : 1;
      const bytes = Math.min(total, Math.round(before[fileIndex]! + fraction * padded[fileIndex]!.length));
      const secs = Math.max(0.001, (now() - started) / 1000);
      opts.onProgress?.({ bytes, total, percent: total ? Math.floor((bytes * 1000) / total) / 10 : 100, rate_bps: Math.round(bytes / secs), file_index: fileIndex, files: images.length });
    };
    try {
      await l.writeFlash({
        fileArray: images.map((i) => ({ address: i.address, data: new Uint8Array(i.data) })),
        flashMode: 'keep',
        flashFreq: 'keep',
        flashSize: 'keep',
        eraseAll: !!opts.erase,
        compress: true,
        reportProgress: report,
      });
    } catch (err) {
      throw mapError(err, this.path, this.adapter, 'write');
    }
    for (let i = 0; i < images.length; i++) {
      const want = createHash('md5').update(padded[i]!).digest('hex');
      const got = await this.md5(images[i]!.address, padded[i]!.length);
      if (got !== want) throw usbError('VERIFY_FAILED', images[i]!.address, want, got);
    }
  }

  /** Pulses EN (RTS) with IO0 (DTR) released, so the board boots its firmware. */
  async hardReset(): Promise<boolean> {
    if (!this.adapter.isOpen) return false;
    await this.adapter.setSignals({ dataTerminalReady: false, requestToSend: true });
    await sleep(100);
    await this.adapter.setSignals({ dataTerminalReady: false, requestToSend: false });
    return this.adapter.linesSupported;
  }

  async close(): Promise<void> {
    await this.adapter.close();
  }
}

/** esptool-js and port errors as UsbErrors an operator can act on. */
export function mapError(err: unknown, path: string, adapter: WebSerialAdapter, stage: 'connect' | 'write' | 'read' | 'md5'): UsbError {
  if (isUsbError(err)) return err;
  if (adapter.lost || !portExists(path)) return usbErrorWithCause(err, 'PORT_LOST', path);
  if (err instanceof UnexpectedChipMagicError || err instanceof UnexpectedChipIdError) return usbErrorWithCause(err, 'UNKNOWN_CHIP', errorText(err));
  const msg = errorText(err);
  if (stage === 'connect' && /Failed to connect|Wrong boot mode|no sync reply/i.test(msg)) return usbErrorWithCause(err, 'NO_ANSWER', path);
  if (err instanceof ESPError && /No serial data|stream stopped|Timeout|invalid response/i.test(msg)) return usbErrorWithCause(err, 'BOARD_STOPPED', path, msg.split('\n')[0]!);
  return usbErrorWithCause(err, 'FLASH_FAILED', (stage === 'connect' ? 'while connecting: ' : '') + msg.split('\n')[0]!);
}
