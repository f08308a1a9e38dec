/**
 * OTA on a virtual board, the way the protocol asks firmware to do it: take
 * `ota_update`, download the image over HTTP from the URL it names (as
 * esp_https_ota does), report `ota_progress`, check the SHA-256, "reboot"
 * by dropping the link and reconnecting with the new version in its status.
 * The failure options show every path a real board can take: the download
 * breaks, the image does not verify, or the new image does not boot and the
 * bootloader rolls back to the old one.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../shared/clock.js';

export type OtaFailure = 'download' | 'verify' | 'rollback' | 'refuse';

export interface OtaBehaviour {
  fail?: OtaFailure;
  /** Time from `rebooting` to the link dropping. Default 50 ms. */
  rebootMs?: number;
}

export interface OtaIo {
  send(frame: Record<string, unknown>): void;
  /** Drops the link; the board reconnects and reports its (new) status. */
  reboot(firmware: string): void;
  /** Said at `rebooting`: a board that said so never comes back on the old image. */
  rebooting?(firmware: string): void;
  firmware(): string;
  clock: Clock;
  behaviour: OtaBehaviour;
}

export interface OtaParams {
  url: string;
  size: number;
  sha256: string;
  version: string;
}

export function otaParams(p: Record<string, unknown>): OtaParams | null {
  const { url, size, sha256, version } = p;
  if (typeof url !== 'string' || typeof size !== 'number' || typeof sha256 !== 'string' || typeof version !== 'string') return null;
  if (!/^https?:\/\//.test(url) || !/^[0-9a-f]{64}$/.test(sha256)) return null;
  return { url, size, sha256, version };
}

/** Runs one update after the command was acked; resolves when it ended (rebooted or failed). */
export async function runOta(io: OtaIo, commandId: string, p: OtaParams): Promise<'rebooted' | 'failed'> {
  const progress = (f: Record<string, unknown>) => io.send({ type: 'ota_progress', command_id: commandId, ...f });
  const fail = (error: string) => {
    progress({ state: 'failed', error });
    return 'failed' as const;
  };
  let body: Buffer;
  try {
    const res = await fetch(p.url);
    if (res.status !== 200) return fail(`download_failed: HTTP ${res.status}`);
    if (!res.body) return fail('download_failed: no body');
    const chunks: Buffer[] = [];
    let got = 0;
    let reported = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      got += value.length;
      if (io.behaviour.fail === 'download' && got >= p.size / 2) {
        await reader.cancel();
        return fail('download_failed: connection reset');
      }
      // A quarter at a time: what a board on a slow link can afford to send.
      if (got - reported >= p.size / 4 || got === p.size) {
        reported = got;
        progress({ state: 'downloading', bytes: got, total: p.size });
      }
    }
    body = Buffer.concat(chunks);
  } catch (err) {
    return fail(`download_failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  progress({ state: 'verifying' });
  if (io.behaviour.fail === 'verify' && body.length > 0) body[body.length >> 1] ^= 0xff;
  if (body.length !== p.size) return fail(`size_mismatch: got ${body.length} bytes, expected ${p.size}`);
  if (createHash('sha256').update(body).digest('hex') !== p.sha256) return fail('sha256_mismatch');
  progress({ state: 'rebooting' });
  const next = io.behaviour.fail === 'rollback' ? io.firmware() : p.version;
  io.rebooting?.(next);
  await new Promise<void>((resolve) => io.clock.setTimeout(resolve, io.behaviour.rebootMs ?? 50));
  io.reboot(next);
  return 'rebooted';
}

export const OTA_FAILURES: readonly OtaFailure[] = ['download', 'verify', 'rollback', 'refuse'];

/**
 * `rollback` (every board) or `racket-3=rollback,racket-5=download`: how
 * simulated boards answer ota_update. Returns null with the reason when the
 * text is not such a list.
 */
export function parseOtaFailSpec(spec: string): { all: OtaFailure | null; byBoard: Map<string, OtaFailure> } | string {
  const byBoard = new Map<string, OtaFailure>();
  let all: OtaFailure | null = null;
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:([A-Za-z0-9._-]{1,128})=)?([a-z]+)$/.exec(part);
    const mode = m?.[2] as OtaFailure | undefined;
    if (!m || !mode || !OTA_FAILURES.includes(mode)) return `'${part}' is not ${OTA_FAILURES.join(', ')} or <board>=<one of those>`;
    if (m[1]) byBoard.set(m[1], mode);
    else all = mode;
  }
  if (all === null && byBoard.size === 0) return 'is empty';
  return { all, byBoard };
}
