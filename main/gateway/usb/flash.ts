/**
 * The operations an operator starts on one port, shared by the CLI and the
 * operator API: board info, flash (images checked against the board, written
 * compressed, verified, board reset), and provision (configuration written to
 * the NVS partition). Each opens the port, does its work and lets go.
 */
import type { BoardConfig } from '../../../firmware-protocol/nvs-config.js';
import { usbError } from './errors.js';
import { EspSession, type BoardInfo, type ConnectOptions, type WriteProgress } from './esp.js';
import type { FlashImage, ImageSet } from './images.js';
import { configImage } from './provision.js';

export interface PortJobOptions extends ConnectOptions {
  onInfo?: (info: BoardInfo) => void;
  onProgress?: (p: WriteProgress) => void;
  /** Reset the board into its firmware at the end (default true). */
  reset?: boolean;
  now?: () => number;
}

export interface WriteResult {
  info: BoardInfo;
  /** Image bytes written (uncompressed). */
  bytes: number;
  seconds: number;
  /** True if the board was reset through DTR/RTS; false: the operator must press EN. */
  reset: boolean;
  images: { address: number; size: number; name: string }[];
}

async function withSession<T>(port: string, opts: PortJobOptions, fn: (s: EspSession) => Promise<T>): Promise<T> {
  const session = await EspSession.open(port, opts);
  try {
    opts.onInfo?.(session.info);
    return await fn(session);
  } finally {
    await session.close();
  }
}

async function writeAll(s: EspSession, images: FlashImage[], opts: PortJobOptions & { erase?: boolean }): Promise<WriteResult> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  await s.write(images, { erase: opts.erase, onProgress: opts.onProgress, signal: opts.signal, now });
  const reset = opts.reset === false ? false : await s.hardReset();
  return {
    info: s.info,
    bytes: images.reduce((n, i) => n + i.data.length, 0),
    seconds: (now() - t0) / 1000,
    reset,
    images: images.map((i) => ({ address: i.address, size: i.data.length, name: i.name })),
  };
}

/** Connects and reports the chip, MAC and flash size. */
export async function boardInfo(port: string, opts: PortJobOptions = {}): Promise<BoardInfo> {
  return withSession(port, opts, async (s) => {
    if (opts.reset !== false) await s.hardReset();
    return s.info;
  });
}

/** Flashes an image set after checking it belongs on this board. */
export async function flashBoard(port: string, set: ImageSet, opts: PortJobOptions & { erase?: boolean } = {}): Promise<WriteResult> {
  if (opts.erase && opts.noStub) throw usbError('STUB_REQUIRED', 'erasing the whole flash');
  return withSession(port, opts, async (s) => {
    s.check(set);
    return writeAll(s, set.images, opts);
  });
}

/** Writes a board configuration into the NVS partition named in the board's partition table. */
export async function provisionBoard(
  port: string,
  config: BoardConfig,
  opts: PortJobOptions & { partition?: string } = {},
): Promise<WriteResult & { partition: { label: string; offset: number; size: number } }> {
  return withSession(port, opts, async (s) => {
    const img = await configImage(s, config, [], opts.partition);
    const r = await writeAll(s, [img], opts);
    return { ...r, partition: { label: img.name.replace(/^nvs partition '(.*)'$/, '$1'), offset: img.address, size: img.data.length } };
  });
}
