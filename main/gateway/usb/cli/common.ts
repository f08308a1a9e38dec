/**
 * What the USB commands share: the progress bar, error printing, board-info
 * lines, and the store for device tokens (the same database `courtside
 * serve` uses).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hashToken, mintToken } from '../../auth.js';
import { defaultDataDir } from '../../options.js';
import type { Store } from '../../store/types.js';
import { UsageError, intFlag } from '../../../cli/args.js';
import { errorPrefix, type CommandIO } from '../../../cli/io.js';
import { isUsbError } from '../errors.js';
import type { BoardInfo, WriteProgress } from '../esp.js';
import type { TokenStore } from '../manager.js';

export function kb(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

/** A progress bar on stderr: bytes, percent and rate; live on a terminal, a line every 10% otherwise. */
export function progressBar(io: CommandIO): (p: WriteProgress) => void {
  let lastTenth = -1;
  return (p) => {
    const width = 30;
    const filled = Math.round((p.percent / 100) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.percent.toFixed(1).padStart(5)}%  ${kb(p.bytes)}/${kb(p.total)}  ${kb(p.rate_bps)}/s`;
    if (io.stderr.isTTY) {
      io.stderr.write(`\r${line}`);
      if (p.bytes >= p.total) io.stderr.write('\n');
      return;
    }
    const tenth = Math.floor(p.percent / 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      io.stderr.write(line + '\n');
    }
  };
}

export function describeBoard(info: BoardInfo): string {
  const flash = info.flash_size === null ? 'flash size unknown' : `${info.flash_size / 1048576} MB flash`;
  return `${info.description}, MAC ${info.mac}, ${flash}${info.stub ? '' : ' (ROM loader)'}`;
}

/** One line for a failure; UsbErrors already are one line. Exit code 1. */
export function printFailure(io: CommandIO, err: unknown): number {
  if (err instanceof UsageError) throw err;
  io.stderr.write(`${errorPrefix(io)} ${isUsbError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

export const baudFlag = (v: string | undefined) => intFlag('baud', v, 9600, 4_000_000);
export const attemptsFlag = (v: string | undefined) => intFlag('connect-attempts', v, 1, 100);

export const STORE_FLAGS = {
  db: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

/** The gateway's store (for device tokens), from --db / --data-dir like `courtside serve`. */
export async function openTokenStore(
  values: { db?: string; 'data-dir'?: string },
  io: Pick<CommandIO, 'cwd' | 'env'> = { cwd: process.cwd(), env: process.env },
): Promise<{ store: Store; tokens: TokenStore }> {
  const dataDir = values['data-dir'] === undefined ? defaultDataDir(io.env) : resolve(io.cwd, values['data-dir']);
  const isPath = (spec: string) => !/^[a-z]+:\/\//i.test(spec) && spec !== ':memory:';
  const db = values.db === undefined ? join(dataDir, 'courtside.sqlite') : isPath(values.db) ? resolve(io.cwd, values.db) : values.db;
  if (isPath(db)) mkdirSync(dirname(db), { recursive: true });
  // Loaded here, not at the top: the store pulls in both database drivers, which flash and monitor do not need.
  const { openStore } = await import('../../store/index.js');
  const store = await openStore(db);
  const tokens: TokenStore = {
    async mint(deviceId, label) {
      const token = mintToken();
      await store.saveDeviceToken({ deviceId, tokenHash: hashToken(token), label, createdAt: new Date() });
      return token;
    },
    async revoke(deviceId) {
      await store.revokeDeviceTokens(deviceId, new Date());
    },
    async taken() {
      return new Set((await store.listDeviceTokens()).filter((t) => t.revokedAt === null).map((t) => t.deviceId));
    },
  };
  return { store, tokens };
}
