/**
 * The gateway's USB state: which port is busy with what, running jobs
 * (flash, provision) with progress and cancel, serial monitors, bulk mode,
 * uploaded firmware, and a watcher that tells operators when ports come and
 * go. The operator endpoint and the HTTP API both call into this one object,
 * and everything an operator should see live goes out through `publish`.
 */
import type { BoardConfig, BoardConfigTemplate } from '../../../firmware-protocol/nvs-config.js';
import type { UsbEvent } from '../../../firmware-protocol/usb.js';
import { validIdTemplate } from '../../../firmware-protocol/nvs-config.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { BulkQueue, type BulkRow } from './bulk.js';
import { usbError } from './errors.js';
import type { BoardInfo, ConnectOptions } from './esp.js';
import { boardInfo, flashBoard, provisionBoard } from './flash.js';
import { FirmwareStore } from './firmware-store.js';
import { loadBuildDir, type ImageSet } from './images.js';
import { ImprovClient } from './improv.js';
import { UsbJobs, type JobKind, type JobRun, type UsbJob } from './jobs.js';
import { SerialMonitor } from './monitor.js';
import { listPorts, portExists, type SerialPortInfo } from './ports.js';

export interface TokenStore {
  mint(deviceId: string, label: string): Promise<string>;
  revoke(deviceId: string): Promise<void>;
  /** Device ids with a live token. */
  taken(): Promise<Set<string>>;
}

export interface UsbManagerOptions {
  dataDir: string;
  publish: (payload: { event: UsbEvent } & Record<string, unknown>) => void;
  tokens: TokenStore;
  clock?: Clock;
  /** More port paths or patterns to list (virtual boards); COURTSIDE_EXTRA_PORTS adds to these. */
  extraPorts?: string[];
  listPorts?: () => Promise<SerialPortInfo[]>;
  /** How often to look for ports coming and going (default 2000 ms; 0: never). */
  portPollMs?: number;
  /** Whether anyone would hear about port changes now (no operators: no polling). */
  watching?: () => boolean;
  bulkPollMs?: number;
  /** Defaults for every bootloader connection (tests shorten connectAttempts). */
  connect?: ConnectOptions;
  log?: (msg: string) => void;
  /** The gateway's certificate fingerprint when it speaks TLS: written to boards' NVS (`gw_sha256`) unless the config names one. */
  certSha256?: () => string | null;
  /** Keeps a provisioned board's tags (the gateway's board list). */
  setTags?: (deviceId: string, tags: readonly string[]) => Promise<unknown>;
}

export type { JobKind, UsbJob } from './jobs.js';

export interface FirmwareSource {
  firmware_id?: string;
  build_dir?: string;
  images?: { address: number; firmware_id: string }[];
}

export class UsbManager {
  readonly firmware: FirmwareStore;
  private readonly clock: Clock;
  private readonly jobs: UsbJobs;
  private readonly owners = new Map<string, string>();
  private readonly monitors = new Map<string, SerialMonitor>();
  private bulk: BulkQueue | null = null;
  private watch: TimerHandle | undefined;
  private lastPorts = '';

  constructor(private readonly opts: UsbManagerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.firmware = new FirmwareStore(opts.dataDir, () => this.clock.now());
    this.jobs = new UsbJobs(this.clock, (event, body) => this.publish(event, body), opts.log);
  }

  private publish(event: UsbEvent, body: Record<string, unknown>): void {
    this.opts.publish({ event, ...body });
  }

  private listing: { at: number; settled: boolean; ports: Promise<SerialPortInfo[]> } | null = null;

  /** The ports now; callers share a listing in flight or younger than 250 ms (udevadm costs ~100 ms of CPU). */
  listPorts(): Promise<SerialPortInfo[]> {
    const now = this.clock.now();
    const l = this.listing;
    if (l && (!l.settled || now - l.at < 250)) return l.ports;
    const ports = this.opts.listPorts ? this.opts.listPorts() : listPorts({ extra: this.opts.extraPorts });
    const entry = { at: now, settled: false, ports };
    this.listing = entry;
    ports.then(
      () => ((entry.settled = true), (entry.at = this.clock.now())),
      () => this.listing === entry && (this.listing = null),
    );
    return ports;
  }

  /** The ports, as told to an operator: the watcher's next change is relative to this list. */
  async reportPorts(): Promise<SerialPortInfo[]> {
    const ports = await this.listPorts();
    this.lastPorts = JSON.stringify(ports.map((p) => p.path));
    return ports;
  }

  /** Starts publishing ports_changed. */
  start(): void {
    const ms = this.opts.portPollMs ?? 2000;
    if (ms <= 0) return;
    const look = async () => {
      if (this.opts.watching && !this.opts.watching()) {
        this.lastPorts = ''; // the next operator gets a fresh baseline
        return;
      }
      const ports = await this.listPorts().catch(() => null);
      if (!ports) return;
      const key = JSON.stringify(ports.map((p) => p.path));
      if (key !== this.lastPorts) {
        const first = this.lastPorts === '';
        this.lastPorts = key;
        if (!first) this.publish('ports_changed', { ports });
      }
    };
    void look();
    this.watch = this.clock.setInterval(() => void look(), ms);
  }

  // ---- ports ------------------------------------------------------------------

  /** Marks a port as used by `who`; throws PORT_BUSY if something else has it. */
  private claim(port: string, who: string): () => void {
    const by = this.owners.get(port);
    if (by) throw usbError('PORT_BUSY', port, by);
    this.owners.set(port, who);
    return () => {
      if (this.owners.get(port) === who) this.owners.delete(port);
    };
  }

  /** Runs `fn` with the port to itself; a serial monitor on it steps aside meanwhile. */
  private async withPort<T>(port: string, who: string, fn: () => Promise<T>, release = this.claim(port, who)): Promise<T> {
    const mon = this.monitors.get(port);
    try {
      if (mon) await mon.pause();
      return await fn();
    } finally {
      release();
      if (mon && this.monitors.get(port) === mon) await mon.resume();
    }
  }

  // ---- jobs -------------------------------------------------------------------

  private resolveImages(src: FirmwareSource): ImageSet {
    const given = [src.firmware_id, src.build_dir, src.images].filter((x) => x !== undefined).length;
    if (given !== 1) throw usbError('BAD_INPUT', 'give exactly one of firmware_id, build_dir or images');
    if (src.build_dir) return loadBuildDir(src.build_dir);
    if (src.firmware_id) return { images: [{ address: 0, data: this.firmware.read(src.firmware_id), name: src.firmware_id.slice(0, 12) }], chip: null };
    return { images: src.images!.map((i) => ({ address: i.address, data: this.firmware.read(i.firmware_id), name: i.firmware_id.slice(0, 12) })), chip: null };
  }

  private startJob(kind: JobKind, port: string, run: JobRun): UsbJob {
    if (!portExists(port)) throw usbError('PORT_NOT_FOUND', port);
    const who = `${kind} job`;
    const release = this.claim(port, who);
    return this.jobs.start(kind, port, (onPort) => this.withPort(port, who, onPort, release), run);
  }

  private jobHooks(job: UsbJob, signal: AbortSignal) {
    return { ...this.opts.connect, signal, now: () => this.clock.now(), ...this.jobs.hooks(job) };
  }

  startFlash(req: FirmwareSource & { port: string; baud?: number; erase?: boolean; no_stub?: boolean }): UsbJob {
    const set = this.resolveImages(req);
    return this.startJob('flash', req.port, async (job, signal) => {
      const r = await flashBoard(req.port, set, { ...this.jobHooks(job, signal), baud: req.baud ?? this.opts.connect?.baud, erase: req.erase, noStub: req.no_stub });
      return { bytes: r.bytes, seconds: r.seconds, reset: r.reset, images: r.images };
    });
  }

  /** A board provisioned by a TLS gateway pins it (wss:// and the fingerprint), unless told otherwise. */
  private withCertificate<C extends BoardConfig | BoardConfigTemplate>(config: C): C {
    const sha = this.opts.certSha256?.() ?? null;
    return sha && config.gw_sha256 === undefined ? { ...config, gw_sha256: sha } : { ...config };
  }

  startProvision(req: { port: string; config: BoardConfig; mint_token?: boolean; partition?: string; baud?: number; tags?: string[] }): UsbJob {
    return this.startJob('provision', req.port, async (job, signal) => {
      const config = this.withCertificate(req.config);
      let minted = false;
      if (req.mint_token && !config.device_token) {
        config.device_token = await this.opts.tokens.mint(config.device_id, `usb ${job.port}`);
        minted = true;
      }
      try {
        const r = await provisionBoard(req.port, config, { ...this.jobHooks(job, signal), baud: req.baud ?? this.opts.connect?.baud, partition: req.partition });
        if (req.tags) await this.opts.setTags?.(config.device_id, req.tags);
        return { device_id: config.device_id, token_minted: minted, partition: r.partition, reset: r.reset };
      } catch (err) {
        if (minted) await this.opts.tokens.revoke(config.device_id).catch(() => {});
        throw err;
      }
    });
  }

  async boardInfo(port: string, baud?: number): Promise<BoardInfo> {
    return this.withPort(port, 'board info', () => boardInfo(port, { ...this.opts.connect, baud: baud ?? this.opts.connect?.baud ?? 115200 }));
  }

  job(id: string): UsbJob {
    return this.jobs.get(id);
  }

  /** Waits for a job to finish (tests, CLI-like callers). */
  settled(id: string): Promise<UsbJob> {
    return this.jobs.settled(id);
  }

  jobList(): UsbJob[] {
    return this.jobs.list();
  }

  cancel(id: string): UsbJob {
    return this.jobs.cancel(id);
  }

  // ---- Improv -----------------------------------------------------------------

  async improv(port: string, action: 'info' | 'state' | 'scan' | 'wifi', args: { ssid?: string; password?: string } = {}): Promise<Record<string, unknown>> {
    return this.withPort(port, 'Improv', async () => {
      const client = await ImprovClient.open(port);
      try {
        const state = await client.currentState();
        if (action === 'state') return { port, ...state };
        if (action === 'info') return { port, state: state.state, info: await client.deviceInfo() };
        if (action === 'scan') return { port, networks: await client.scan() };
        const r = await client.sendWifi(args.ssid ?? '', args.password ?? '');
        this.publish('improv_state', { port, state: 'provisioned', url: r.url });
        return { port, state: 'provisioned', url: r.url };
      } finally {
        await client.close();
      }
    });
  }

  // ---- serial monitor -----------------------------------------------------------

  async monitorStart(port: string, baud?: number): Promise<{ port: string; running: boolean }> {
    if (this.monitors.has(port)) return { port, running: true };
    const by = this.owners.get(port);
    if (by) throw usbError('PORT_BUSY', port, by);
    const mon = new SerialMonitor(port, {
      baud,
      clock: this.clock,
      listPorts: () => this.listPorts(),
      // ISO like every event's `at`: the line's own time replaces the publish time.
      onLine: (l) => this.publish('monitor_line', { port, text: l.text, level: l.level, at: new Date(l.at).toISOString() }),
      onStatus: (status, path) => this.publish('monitor_status', { port, status, path }),
    });
    this.monitors.set(port, mon);
    try {
      await mon.start();
    } catch (err) {
      this.monitors.delete(port);
      throw err;
    }
    return { port, running: true };
  }

  async monitorStop(port: string): Promise<{ port: string; running: boolean }> {
    const mon = this.monitors.get(port);
    if (!mon) throw usbError('MONITOR_NOT_RUNNING', port);
    this.monitors.delete(port);
    await mon.stop();
    return { port, running: false };
  }

  async reset(port: string, mode: 'run' | 'bootloader'): Promise<{ port: string; mode: string }> {
    const mon = this.monitors.get(port);
    if (mon?.isOpen) {
      await mon.reset(mode);
      return { port, mode };
    }
    return this.withPort(port, 'reset', async () => {
      const tmp = new SerialMonitor(port, { clock: this.clock });
      await tmp.start();
      try {
        await tmp.reset(mode);
      } finally {
        await tmp.stop();
      }
      return { port, mode };
    });
  }

  // ---- bulk mode ----------------------------------------------------------------

  bulkStart(req: FirmwareSource & { id_template: string; start?: number; config: BoardConfigTemplate; ports?: string[]; baud?: number; erase?: boolean; parallel?: number; tags?: string[] }): ReturnType<BulkQueue['status']> {
    if (this.bulk && this.bulk.state !== 'stopped') throw usbError('BULK_RUNNING');
    if (!validIdTemplate(req.id_template)) throw usbError('BAD_INPUT', `id_template must contain {n} and make a valid device id, e.g. racket-{n}`);
    const firmware = this.resolveImages(req);
    const bulk = new BulkQueue({
      firmware,
      idTemplate: req.id_template,
      start: req.start,
      config: this.withCertificate(req.config),
      ports: req.ports,
      erase: req.erase,
      parallel: req.parallel,
      onProvisioned: req.tags ? async (id) => void (await this.opts.setTags?.(id, req.tags!)) : undefined,
      clock: this.clock,
      pollMs: this.opts.bulkPollMs,
      connect: { ...this.opts.connect, baud: req.baud ?? this.opts.connect?.baud },
      listPorts: () => this.listPorts(),
      mintToken: (id) => this.opts.tokens.mint(id, 'bulk provisioning'),
      revokeToken: (id) => this.opts.tokens.revoke(id),
      takenIds: () => this.opts.tokens.taken(),
      claimPort: (p) => (this.owners.has(p) || this.monitors.has(p) ? null : this.claim(p, 'bulk mode')),
      onStart: (port) => this.publish('bulk_status', { ...bulk.status(), current: port }),
      onInfo: (port, info) => this.publish('board_info', { port, info, bulk: true }),
      onProgress: (port, p) => this.publish('flash_progress', { port, bulk: true, ...p }),
      onBoard: (row: BulkRow) => {
        this.publish('bulk_board', { ...row });
        this.publish('bulk_status', bulk.status());
      },
    });
    this.bulk = bulk;
    bulk.start();
    return bulk.status();
  }

  async bulkStop(): Promise<ReturnType<BulkQueue['status']>> {
    const b = this.bulk;
    if (!b || b.state === 'stopped') throw usbError('BULK_NOT_RUNNING');
    await b.stop();
    this.publish('bulk_status', b.status());
    return b.status();
  }

  bulkStatus(): (ReturnType<BulkQueue['status']> & { rows: BulkRow[] }) | { state: 'stopped'; rows: BulkRow[] } {
    return this.bulk ? { ...this.bulk.status(), rows: [...this.bulk.rows] } : { state: 'stopped', rows: [] };
  }

  bulkCsv(): string {
    return this.bulk ? this.bulk.csv() : 'port,mac,chip,device_id,result,error_code,error,finished_at\r\n';
  }

  status(): Record<string, unknown> {
    return {
      jobs_running: this.jobs.running,
      monitors: [...this.monitors.keys()],
      bulk: this.bulk?.state ?? 'stopped',
    };
  }

  async close(): Promise<void> {
    this.clock.clear(this.watch);
    if (this.bulk && this.bulk.state === 'running') await this.bulk.stop();
    await this.jobs.close();
    await Promise.all([...this.monitors.values()].map((m) => m.stop()));
    this.monitors.clear();
  }
}
