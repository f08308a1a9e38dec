/**
 * What the USB commands share: the progress bar, error printing, Ctrl-C as
 * cancel, board-info lines, and the store for device tokens (the same
 * database `courtside serve` uses).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashToken, mintToken } from '../../auth.js';
import { defaultDataDir } from '../../options.js';
import type { Store } from '../../store/types.js';
import { UsageError, intFlag } from '../../../cli/args.js';
import { isUsbError } from '../errors.js';
import type { BoardInfo, WriteProgress } from '../esp.js';
import type { TokenStore } from '../manager.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (a live bar) or not (a line every 10%). */
  tty: boolean;
}

export const stdio: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  tty: !!process.stderr.isTTY,
};

export function kb(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

/** A progress bar on stderr: bytes, percent and rate. */
export function progressBar(io: Io): (p: WriteProgress) => void {
  let lastTenth = -1;
  return (p) => {
    const width = 30;
    const filled = Math.round((p.percent / 100) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.percent.toFixed(1).padStart(5)}%  ${kb(p.bytes)}/${kb(p.total)}  ${kb(p.rate_bps)}/s`;
    if (io.tty) {
      io.err(`\r${line}`);
      if (p.bytes >= p.total) io.err('\n');
      return;
    }
    const tenth = Math.floor(p.percent / 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      io.err(line + '\n');
    }
  };
}

export function describeBoard(info: BoardInfo): string {
  const flash = info.flash_size === null ? 'flash size unknown' : `${info.flash_size / 1048576} MB flash`;
  return `${info.description}, MAC ${info.mac}, ${flash}${info.stub ? '' : ' (ROM loader)'}`;
}

/** One line for a failure; UsbErrors already are one line. Exit code 1. */
export function printFailure(io: Io, err: unknown): number {
  if (err instanceof UsageError) throw err;
  io.err(`courtside: ${isUsbError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** An AbortController aborted by Ctrl-C (SIGINT) and SIGTERM; call the result to stop listening. */
export function cancelOnSignal(): { signal: AbortSignal; dispose: () => void; interrupted: () => boolean } {
  const ac = new AbortController();
  let hit = false;
  const on = () => {
    hit = true;
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    interrupted: () => hit,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

export const baudFlag = (v: string | undefined) => intFlag('baud', v, 9600, 4_000_000);
export const attemptsFlag = (v: string | undefined) => intFlag('connect-attempts', v, 1, 100);

export const STORE_FLAGS = {
  db: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

/** The gateway's store (for device tokens), from --db / --data-dir like `courtside serve`. */
export async function openTokenStore(values: { db?: string; 'data-dir'?: string }): Promise<{ store: Store; tokens: TokenStore }> {
  const db = values.db ?? join(values['data-dir'] ?? defaultDataDir(), 'courtside.sqlite');
  if (!/^[a-z]+:\/\//i.test(db) && db !== ':memory:') mkdirSync(dirname(db), { recursive: true });
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
