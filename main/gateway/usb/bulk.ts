/**
 * Bulk mode: boards are plugged in (one after another, or eight at once on a
 * powered hub); each gets the firmware and its own configuration (the next
 * device id from a template such as `racket-{n}`, and a fresh device token
 * registered in the store) in one flashing session. Every port has its own
 * job, up to `parallel` at once, with its own progress; a board that fails
 * is reported and the other ports go on.
 *
 * A port counts as a new board when it appears (or reappears after being
 * gone). Ids are given out only to boards that passed the checks, each to
 * one board at a time (the lowest id neither holding a live token nor held
 * by a board being written), and an id whose board then failed is revoked
 * and handed to the next board, so no token outlives a failed write and the
 * ids of working boards fill the gaps failures leave.
 */
import { deviceIdFromTemplate, type BoardConfig, type BoardConfigTemplate } from '../../../firmware-protocol/nvs-config.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { errorText, isUsbError, usbError, type UsbError } from './errors.js';
import { EspSession, type BoardInfo, type ConnectOptions, type WriteProgress } from './esp.js';
import { overlay, type ImageSet } from './images.js';
import { portExists, type SerialPortInfo } from './ports.js';
import { configImage } from './provision.js';
import type { UsbBulkRow } from '../../../firmware-protocol/usb.js';

export type BulkRow = UsbBulkRow;

export interface BulkOptions {
  firmware: ImageSet;
  idTemplate: string;
  /** First n to try (default 1). */
  start?: number;
  config: BoardConfigTemplate;
  /** Only these ports (present when their device node exists); default every port listPorts() reports. */
  ports?: readonly string[];
  listPorts: () => Promise<SerialPortInfo[]>;
  /** Mints and stores a token for a device id, returning the token. */
  mintToken: (deviceId: string) => Promise<string>;
  /** Revokes every token of a device id. */
  revokeToken: (deviceId: string) => Promise<void>;
  /** Device ids that already have a live token (skipped when numbering). */
  takenIds: () => Promise<Set<string>>;
  /** Lets the queue use a port now; returns a release function, or null if the port is busy elsewhere. */
  claimPort?: (path: string) => (() => void) | null;
  erase?: boolean;
  connect?: ConnectOptions;
  clock?: Clock;
  /** How often to look for new ports (default 500 ms). */
  pollMs?: number;
  /** Ports written at once (default 8; 1 writes one board after another). */
  parallel?: number;
  /** Called with the device id of each board that was provisioned (tags written at provisioning). */
  onProvisioned?: (deviceId: string) => Promise<void>;
  onBoard?: (row: BulkRow) => void;
  onStart?: (port: string) => void;
  onInfo?: (port: string, info: BoardInfo) => void;
  onProgress?: (port: string, p: WriteProgress) => void;
}

export type BulkState = 'running' | 'stopping' | 'stopped';

const CSV_COLUMNS: (keyof BulkRow)[] = ['port', 'mac', 'chip', 'device_id', 'result', 'error_code', 'error', 'finished_at'];

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function bulkCsv(rows: readonly BulkRow[]): string {
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\r\n') + '\r\n';
}

export class BulkQueue {
  readonly rows: BulkRow[] = [];
  state: BulkState = 'stopped';
  private readonly clock: Clock;
  /** Ports being provisioned now, with each one's write progress. */
  private readonly active = new Map<string, WriteProgress | null>();
  /** Ids handed to boards being written. */
  private readonly reserved = new Set<string>();
  /**
   * Ids go out in the order ports left the queue, not the order their boards answer: the first
   * port of a hub gets the first id whatever the timing. Each board waits for the one before it
   * to have its id (or to have failed) — a wait bounded by the connect timeout.
   */
  private idTurn: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  /** Ports seen in the last poll: a port is a new board when it is not in here. */
  private present = new Set<string>();
  private queue: string[] = [];
  private readonly working = new Set<Promise<void>>();
  private nextN: number;
  private abort = new AbortController();
  private scanning = false;

  constructor(private readonly opts: BulkOptions) {
    this.clock = opts.clock ?? systemClock;
    this.nextN = opts.start ?? 1;
  }

  start(): void {
    if (this.state === 'running') return;
    this.state = 'running';
    this.abort = new AbortController();
    this.timer = this.clock.setInterval(() => void this.scan(), this.opts.pollMs ?? 500);
    void this.scan();
  }

  /** The first port being provisioned now, or null. */
  get current(): string | null {
    return this.active.keys().next().value ?? null;
  }

  /** Stops watching; the boards being written finish (cancelling would leave them half-flashed). */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.clock.clear(this.timer);
    this.queue = [];
    while (this.working.size > 0) await Promise.all([...this.working]);
    this.state = 'stopped';
  }

  status(): { state: BulkState; current: string | null; active: { port: string; progress: WriteProgress | null }[]; queued: string[]; done: number; ok: number; failed: number; next_id: string } {
    const ok = this.rows.filter((r) => r.result === 'ok').length;
    const active = [...this.active].map(([port, progress]) => ({ port, progress }));
    return { state: this.state, current: this.current, active, queued: [...this.queue], done: this.rows.length, ok, failed: this.rows.length - ok, next_id: deviceIdFromTemplate(this.opts.idTemplate, this.nextN) };
  }

  csv(): string {
    return bulkCsv(this.rows);
  }

  /** Looks for ports that appeared since the last look. */
  async scan(): Promise<void> {
    if (this.state !== 'running' || this.scanning) return;
    this.scanning = true;
    let now: string[];
    try {
      // Named ports count when their device node exists (virtual ones are not in any listing).
      now = this.opts.ports ? this.opts.ports.filter(portExists) : (await this.opts.listPorts()).map((p) => p.path);
    } catch {
      return;
    } finally {
      this.scanning = false;
    }
    const fresh = now.filter((p) => !this.present.has(p) && !this.active.has(p) && !this.queue.includes(p));
    this.present = new Set(now);
    if (this.state !== 'running') return;
    this.queue.push(...fresh);
    this.pump();
  }

  private pump(): void {
    const parallel = Math.max(1, this.opts.parallel ?? 8);
    while (this.state === 'running' && this.active.size < parallel && this.queue.length > 0) {
      const port = this.queue.shift()!;
      this.active.set(port, null);
      const work: Promise<void> = this.board(port).finally(() => {
        this.working.delete(work);
        this.active.delete(port);
        this.pump();
      });
      this.working.add(work);
    }
  }

  /** The lowest id from nextN on that has no live token and no board being written; reserved for the caller. */
  private async nextId(): Promise<{ id: string; n: number }> {
    const taken = await this.opts.takenIds();
    const free = (n: number) => {
      const id = deviceIdFromTemplate(this.opts.idTemplate, n);
      return !taken.has(id) && !this.reserved.has(id);
    };
    while (!free(this.nextN) && !this.reserved.has(deviceIdFromTemplate(this.opts.idTemplate, this.nextN))) this.nextN++;
    let n = this.nextN;
    while (!free(n)) n++;
    const id = deviceIdFromTemplate(this.opts.idTemplate, n);
    this.reserved.add(id);
    return { id, n };
  }

  private async board(port: string): Promise<void> {
    const myTurn = this.idTurn;
    let turnDone!: () => void;
    this.idTurn = new Promise<void>((r) => (turnDone = r));
    try {
      await this.boardInTurn(port, myTurn, turnDone);
    } finally {
      turnDone();
    }
  }

  private async boardInTurn(port: string, myTurn: Promise<void>, turnDone: () => void): Promise<void> {
    this.opts.onStart?.(port);
    let info: BoardInfo | null = null;
    let deviceId: string | null = null;
    let idN = 0;
    let minted = false;
    const release = this.opts.claimPort ? this.opts.claimPort(port) : () => {};
    const finish = (err: unknown) => {
      const e = err as UsbError | undefined;
      const row: BulkRow = {
        port,
        mac: info?.mac ?? null,
        chip: info?.chip ?? null,
        device_id: err ? null : deviceId,
        result: err ? 'failed' : 'ok',
        error_code: err ? (isUsbError(err) ? e!.code : 'FLASH_FAILED') : null,
        error: err ? errorText(err) : null,
        finished_at: new Date(this.clock.now()).toISOString(),
      };
      this.rows.push(row);
      this.opts.onBoard?.(row);
    };
    if (!release) return finish(usbError('PORT_BUSY', port, 'another job (a monitor or a flash)'));
    let session: EspSession | null = null;
    try {
      session = await EspSession.open(port, { ...this.opts.connect, signal: this.abort.signal });
      info = session.info;
      this.opts.onInfo?.(port, info);
      if (this.rows.some((r) => r.result === 'ok' && r.mac === info!.mac)) {
        // Already done in this run: a native-USB board re-enumerates after its reset and looks new.
        await session.hardReset();
        return;
      }
      session.check(this.opts.firmware);
      await myTurn;
      try {
        ({ id: deviceId, n: idN } = await this.nextId());
      } finally {
        turnDone();
      }
      const token = await this.opts.mintToken(deviceId);
      minted = true;
      const config: BoardConfig = { ...this.opts.config, device_id: deviceId, device_token: token };
      const nvs = await configImage(session, config, this.opts.firmware.images);
      const onProgress = (p: WriteProgress) => {
        this.active.set(port, p);
        this.opts.onProgress?.(port, p);
      };
      await session.write(overlay(this.opts.firmware.images, nvs), { erase: this.opts.erase, onProgress, now: () => this.clock.now() });
      await session.hardReset();
      await this.opts.onProvisioned?.(deviceId).catch(() => {});
      this.reserved.delete(deviceId);
      if (idN === this.nextN) this.nextN++;
      finish(null);
    } catch (err) {
      if (minted && deviceId) await this.opts.revokeToken(deviceId).catch(() => {});
      if (deviceId) this.reserved.delete(deviceId);
      if (deviceId && idN < this.nextN) this.nextN = idN;
      finish(err);
    } finally {
      await session?.close().catch(() => {});
      release();
    }
  }
}
