/**
 * A serial monitor: a board's console as lines, with reset control (EN, and
 * EN with IO0 held for the bootloader) and survival of re-enumeration: when
 * the device vanishes (a reset of a native-USB chip, a replug) it waits for
 * the same path, or for the same USB serial number under a new path, and
 * carries on. Time (idle flush, polling) comes from an injected Clock.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { errorText, openError, usbError } from './errors.js';
import { listPorts, portExists, type SerialPortInfo } from './ports.js';
import { openNodePort, type NodePortLike, type OpenNodePort } from './serial-adapter.js';

export interface MonitorLine {
  port: string;
  /** The line without ANSI colour codes. */
  text: string;
  /** ESP-IDF log level letter (E, W, I, D, V) when the line is an ESP_LOG line. */
  level: string | null;
  at: number;
}

export type MonitorStatus = 'open' | 'lost' | 'reconnected' | 'closed' | 'paused';

export interface MonitorOptions {
  baud?: number;
  clock?: Clock;
  /** How often to look for the board after it vanished (default 250 ms). */
  pollMs?: number;
  /** A partial line is flushed after this much silence (default 300 ms). */
  idleFlushMs?: number;
  openPort?: OpenNodePort;
  listPorts?: () => Promise<SerialPortInfo[]>;
  onLine?: (line: MonitorLine) => void;
  onStatus?: (status: MonitorStatus, path: string) => void;
  /** Raw bytes as they come (the CLI prints these to keep colours). */
  onData?: (chunk: Buffer) => void;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const LEVEL = /^([EWIDV]) \(\d+\) /;
const MAX_LINE = 4096;
const NO_LINES = /inappropriate ioctl|ENOTTY|EINVAL|invalid argument|not supported/i;

export class SerialMonitor {
  private port: NodePortLike | null = null;
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');
  private idle: TimerHandle | undefined;
  private poll: TimerHandle | undefined;
  private presence: TimerHandle | undefined;
  private stopping = false;
  private paused = false;
  /** USB identity of the board, to find it again under another name. */
  private identity: { serial: string; vendor: string | null } | null = null;
  readonly clock: Clock;
  path: string;

  constructor(path: string, private readonly opts: MonitorOptions = {}) {
    this.path = path;
    this.clock = opts.clock ?? systemClock;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.rememberIdentity();
    await this.open();
    this.opts.onStatus?.('open', this.path);
  }

  private async rememberIdentity(): Promise<void> {
    try {
      const ports = await (this.opts.listPorts ?? listPorts)();
      const me = ports.find((p) => p.path === this.path);
      if (me?.serial_number) this.identity = { serial: me.serial_number, vendor: me.vendor_id };
    } catch {
      /* listing is a nicety here */
    }
  }

  private async open(): Promise<void> {
    if (!portExists(this.path)) throw usbError('PORT_NOT_FOUND', this.path);
    const port = (this.opts.openPort ?? openNodePort)(this.path, this.opts.baud ?? 115200);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(openError(this.path, err)) : resolve())));
    this.port = port;
    // The close event does not always come when the device node goes (a board unplugged mid-read,
    // a pty whose other end died): look for the node as well, on the same poll as the search.
    this.clock.clear(this.presence);
    this.presence = this.clock.setInterval(() => {
      if (this.port !== port || portExists(this.path)) return;
      this.clock.clear(this.presence);
      this.port = null;
      this.flush();
      port.removeAllListeners();
      port.on('error', () => {});
      if (port.isOpen) port.close(() => {});
      if (!this.stopping && !this.paused) this.lost();
    }, this.opts.pollMs ?? 250);
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => {});
    port.on('close', () => {
      if (this.port !== port) return;
      this.clock.clear(this.presence);
      this.port = null;
      this.flush();
      if (this.stopping || this.paused) return;
      // Any close we did not ask for is a lost board: whether the OS has already removed the
      // device node (or the reason says "disconnected") is a race, so look for it either way.
      this.lost();
    });
  }

  private onData(chunk: Buffer): void {
    this.opts.onData?.(chunk);
    this.partial += this.decoder.decode(chunk, { stream: true });
    const parts = this.partial.split('\n');
    this.partial = parts.pop()!;
    for (const p of parts) this.emit(p);
    if (this.partial.length > MAX_LINE) {
      this.emit(this.partial);
      this.partial = '';
    }
    this.clock.clear(this.idle);
    if (this.partial) this.idle = this.clock.setTimeout(() => this.flush(), this.opts.idleFlushMs ?? 300);
  }

  private flush(): void {
    this.clock.clear(this.idle);
    if (this.partial) {
      this.emit(this.partial);
      this.partial = '';
    }
  }

  private emit(raw: string): void {
    const text = raw.replace(/\r$/, '').replace(ANSI, '');
    this.opts.onLine?.({ port: this.path, text, level: LEVEL.exec(text)?.[1] ?? null, at: this.clock.now() });
  }

  /** The board vanished: look for it until it is back (same path, or same serial number elsewhere). */
  private lost(): void {
    this.opts.onStatus?.('lost', this.path);
    const tryAgain = async () => {
      if (this.stopping || this.port) return;
      let candidate: string | null = portExists(this.path) ? this.path : null;
      if (!candidate && this.identity) {
        const ports = await (this.opts.listPorts ?? listPorts)().catch(() => []);
        candidate = ports.find((p) => p.serial_number === this.identity!.serial && p.vendor_id === this.identity!.vendor)?.path ?? null;
      }
      if (candidate) {
        const previous = this.path;
        this.path = candidate;
        try {
          await this.open();
          this.clock.clear(this.poll);
          this.opts.onStatus?.('reconnected', this.path);
          return;
        } catch {
          this.path = previous; // not ready yet (udev still setting permissions): next round
        }
      }
    };
    this.clock.clear(this.poll);
    this.poll = this.clock.setInterval(() => void tryAgain(), this.opts.pollMs ?? 250);
  }

  /** Lets go of the port for another job (flashing); resume() takes it back. */
  async pause(): Promise<void> {
    this.paused = true;
    this.clock.clear(this.poll);
    await this.closePort();
    this.opts.onStatus?.('paused', this.path);
  }

  async resume(): Promise<void> {
    this.paused = false;
    if (this.stopping) return;
    try {
      await this.open();
      this.opts.onStatus?.('reconnected', this.path);
    } catch {
      this.lost();
    }
  }

  /** Resets the board: `run` pulses EN; `bootloader` holds IO0 low across the EN pulse. DTR and RTS always go together. */
  async reset(mode: 'run' | 'bootloader'): Promise<void> {
    const port = this.port;
    if (!port) throw usbError('MONITOR_NOT_RUNNING', this.path);
    const set = (dtr: boolean, rts: boolean) =>
      new Promise<void>((resolve, reject) => port.set({ dtr, rts }, (err) => (err ? reject(err) : resolve())));
    const wait = (ms: number) => new Promise<void>((r) => this.clock.setTimeout(r, ms));
    try {
      await set(false, true); // EN low
      await wait(100);
      if (mode === 'bootloader') {
        await set(true, false); // EN high with IO0 low: the ROM starts in download mode
        await wait(50);
      }
      await set(false, false);
    } catch (err) {
      if (NO_LINES.test(errorText(err))) throw usbError('LINES_UNSUPPORTED', this.path);
      throw usbError('PORT_OPEN_FAILED', this.path, errorText(err));
    }
  }

  private async closePort(): Promise<void> {
    this.clock.clear(this.presence);
    const port = this.port;
    this.port = null;
    this.flush();
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    port?.removeAllListeners();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clock.clear(this.poll);
    await this.closePort();
    this.opts.onStatus?.('closed', this.path);
  }
}

