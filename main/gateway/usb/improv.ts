/**
 * Improv Wi-Fi over serial, the client side, byte for byte as published
 * (improv-wifi.com/serial): `IMPROV`, version 1, type, length, data, checksum
 * (low byte of the sum of all earlier bytes), and a newline after, as the
 * reference JS client sends. RPC data is command, length, payload; results
 * are length-prefixed UTF-8 strings.
 *
 * The board's console shares the port, so packets are searched for anywhere
 * in the byte stream and everything else is handed out as log lines. Packets
 * with a bad checksum are dropped and counted, as the reference client does.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { errorText, openError, usbError, type UsbError } from './errors.js';
import { openNodePort, type NodePortLike, type OpenNodePort } from './serial-adapter.js';
import { portExists } from './ports.js';

const HEADER = Buffer.from('IMPROV', 'ascii');
const VERSION = 1;
export const ImprovType = { CURRENT_STATE: 0x01, ERROR_STATE: 0x02, RPC: 0x03, RPC_RESULT: 0x04 } as const;
export const ImprovCommand = { WIFI_SETTINGS: 0x01, GET_CURRENT_STATE: 0x02, GET_DEVICE_INFO: 0x03, GET_WIFI_NETWORKS: 0x04 } as const;
export const IMPROV_STATES: Record<number, string> = { 0x01: 'authorization_required', 0x02: 'authorized', 0x03: 'provisioning', 0x04: 'provisioned' };
export const IMPROV_ERRORS: Record<number, string> = {
  0x01: 'invalid RPC packet',
  0x02: 'unknown RPC command',
  0x03: 'unable to connect to the Wi-Fi network (wrong password or out of range?)',
  0x04: 'not authorized (press the button on the board first)',
  0x05: 'bad hostname',
  0xff: 'unknown error',
};

export interface ImprovPacket {
  type: number;
  data: Buffer;
}

export function encodeImprovPacket(type: number, data: Uint8Array): Buffer {
  const body = Buffer.concat([HEADER, Buffer.from([VERSION, type, data.length]), Buffer.from(data)]);
  let sum = 0;
  for (const b of body) sum = (sum + b) & 0xff;
  return Buffer.concat([body, Buffer.from([sum, 0x0a])]);
}

export function encodeRpc(command: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  return encodeImprovPacket(ImprovType.RPC, Buffer.concat([Buffer.from([command, payload.length]), Buffer.from(payload)]));
}

/** Length-prefixed strings (RPC results, Wi-Fi settings). */
export function encodeStrings(list: string[]): Buffer {
  return Buffer.concat(list.map((s) => {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw usbError('BAD_INPUT', `'${s.slice(0, 20)}...' is longer than 255 bytes`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  }));
}

export function decodeStrings(data: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < data.length; ) {
    const n = data[i]!;
    out.push(data.subarray(i + 1, i + 1 + n).toString('utf8'));
    i += 1 + n;
  }
  return out;
}

/** Splits a byte stream into Improv packets and console lines. */
export class ImprovStreamParser {
  private buf = Buffer.alloc(0);
  private line = '';
  badChecksums = 0;

  constructor(
    private readonly onPacket: (p: ImprovPacket) => void,
    private readonly onLine: (line: string) => void = () => {},
  ) {}

  push(chunk: Uint8Array): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const at = this.buf.indexOf(HEADER);
      if (at < 0) {
        // Keep only a tail that may be the start of a header ("IMP..."); the rest is console text.
        let keep = Math.min(this.buf.length, HEADER.length - 1);
        while (keep > 0 && !this.buf.subarray(this.buf.length - keep).equals(HEADER.subarray(0, keep))) keep--;
        this.text(this.buf.subarray(0, this.buf.length - keep));
        this.buf = this.buf.subarray(this.buf.length - keep);
        return;
      }
      this.text(this.buf.subarray(0, at));
      this.buf = this.buf.subarray(at);
      if (this.buf.length < 9) return;
      if (this.buf[6] !== VERSION) {
        this.text(this.buf.subarray(0, 1));
        this.buf = this.buf.subarray(1);
        continue;
      }
      const len = this.buf[8]!;
      if (this.buf.length < 10 + len) return;
      const packet = this.buf.subarray(0, 10 + len);
      this.buf = this.buf.subarray(10 + len);
      if (this.buf[0] === 0x0a) this.buf = this.buf.subarray(1);
      let sum = 0;
      for (let i = 0; i < 9 + len; i++) sum = (sum + packet[i]!) & 0xff;
      if (sum !== packet[9 + len]) {
        this.badChecksums++;
        continue;
      }
      this.onPacket({ type: packet[7]!, data: Buffer.from(packet.subarray(9, 9 + len)) });
    }
  }

  private text(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.line += bytes.toString('latin1');
    const parts = this.line.split('\n');
    this.line = parts.pop()!;
    for (const p of parts) this.onLine(Buffer.from(p.replace(/\r$/, ''), 'latin1').toString('utf8'));
  }
}

export interface ImprovDeviceInfo {
  firmware: string;
  version: string;
  chip: string;
  name: string;
  os_name: string | null;
  os_version: string | null;
}

export interface ImprovStateInfo {
  state: string;
  code: number;
  /** The URL a provisioned board points to (if it sent one). */
  url: string | null;
}

export interface ImprovClientOptions {
  baud?: number;
  /** How long to wait for the first answer (the board may still be booting). */
  timeoutMs?: number;
  /** How often the first request is repeated while waiting. */
  resendMs?: number;
  openPort?: OpenNodePort;
  onLog?: (line: string) => void;
  /** Timeouts and resends (default: the system clock). */
  clock?: Clock;
}

type Waiter = { onPacket: (p: ImprovPacket) => void; fail: (e: UsbError) => void };

export class ImprovClient {
  /** Error states and states the board sent, in order. */
  readonly events: { type: 'state' | 'error'; code: number }[] = [];
  private waiter: Waiter | null = null;
  private readonly parser: ImprovStreamParser;
  private readonly clock: Clock;

  private constructor(
    readonly path: string,
    private readonly port: NodePortLike,
    private readonly opts: ImprovClientOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.parser = new ImprovStreamParser((p) => this.onPacket(p), opts.onLog);
    port.on('data', (c: Buffer) => this.parser.push(c));
  }

  static async open(path: string, opts: ImprovClientOptions = {}): Promise<ImprovClient> {
    if (!portExists(path)) throw usbError('PORT_NOT_FOUND', path);
    const port = (opts.openPort ?? openNodePort)(path, opts.baud ?? 115200);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(openError(path, err)) : resolve())));
    port.on('error', () => {});
    return new ImprovClient(path, port, opts);
  }

  get badChecksums(): number {
    return this.parser.badChecksums;
  }

  private onPacket(p: ImprovPacket): void {
    if (p.type === ImprovType.CURRENT_STATE) this.events.push({ type: 'state', code: p.data[0] ?? 0 });
    if (p.type === ImprovType.ERROR_STATE) this.events.push({ type: 'error', code: p.data[0] ?? 0 });
    const w = this.waiter;
    if (!w) return;
    if (p.type === ImprovType.ERROR_STATE && (p.data[0] ?? 0) !== 0) {
      return w.fail(usbError('IMPROV_ERROR', IMPROV_ERRORS[p.data[0]!] ?? `error 0x${p.data[0]!.toString(16)}`));
    }
    w.onPacket(p);
  }

  /** Sends raw bytes (tests, diagnostics). */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.write(Buffer.from(bytes), (e) => (e ? reject(e) : resolve())));
  }

  /**
   * Sends an RPC; `match` sees every packet until it calls `done`. The first
   * request of a session is repeated every resendMs (the board may be booting)
   * and its timeout means "no Improv here".
   */
  private rpc<T>(
    command: number,
    payload: Uint8Array,
    what: string,
    match: (p: ImprovPacket, done: (v: T) => void) => void,
    opts: { timeoutMs: number; resend?: boolean; first?: boolean },
  ): Promise<T> {
    if (this.waiter) return Promise.reject(usbError('PORT_BUSY', this.path, 'another Improv request'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let resend: TimerHandle | undefined;
      const cleanup = () => {
        settled = true;
        this.clock.clear(timer);
        this.clock.clear(resend);
        if (this.waiter === w) this.waiter = null;
      };
      const done = (v: T) => {
        if (settled) return;
        cleanup();
        resolve(v);
      };
      const w: Waiter = {
        onPacket: (p) => match(p, done),
        fail: (e) => {
          if (settled) return;
          cleanup();
          reject(e);
        },
      };
      this.waiter = w;
      const send = () => this.sendRaw(encodeRpc(command, payload)).catch((e: unknown) => w.fail(usbError('PORT_OPEN_FAILED', this.path, errorText(e))));
      void send();
      if (opts.resend) resend = this.clock.setInterval(send, this.opts.resendMs ?? 1000);
      const timer = this.clock.setTimeout(
        () => w.fail(opts.first ? usbError('IMPROV_NOT_DETECTED', this.path, this.badChecksums) : usbError('IMPROV_TIMEOUT', what)),
        opts.timeoutMs,
      );
    });
  }

  private static results(p: ImprovPacket, command: number): string[] | null {
    if (p.type !== ImprovType.RPC_RESULT || p.data[0] !== command) return null;
    return decodeStrings(p.data.subarray(2, 2 + p.data[1]!));
  }

  /** The provisioning state (and URL when provisioned). Also how Improv is detected. */
  async currentState(): Promise<ImprovStateInfo> {
    let code = -1;
    let fallback: TimerHandle | undefined;
    const info = (url: string | null): ImprovStateInfo => ({ state: IMPROV_STATES[code] ?? `0x${code.toString(16)}`, code, url });
    try {
      return await this.rpc<ImprovStateInfo>(ImprovCommand.GET_CURRENT_STATE, new Uint8Array(0), 'current state', (p, done) => {
        if (p.type === ImprovType.CURRENT_STATE && code < 0) {
          code = p.data[0] ?? 0;
          if (code !== 0x04) return done(info(null));
          // A provisioned board follows with an RPC result carrying its URL; not every board sends one.
          fallback = this.clock.setTimeout(() => done(info(null)), 500);
          return;
        }
        const r = code === 0x04 ? ImprovClient.results(p, ImprovCommand.GET_CURRENT_STATE) : null;
        if (r) done(info(r[0] || null));
      }, { timeoutMs: this.opts.timeoutMs ?? 3000, resend: true, first: true });
    } finally {
      this.clock.clear(fallback);
    }
  }

  private result(command: number, what: string, timeoutMs = this.opts.timeoutMs ?? 3000): Promise<string[]> {
    return this.rpc<string[]>(command, new Uint8Array(0), what, (p, done) => {
      const r = ImprovClient.results(p, command);
      if (r) done(r);
    }, { timeoutMs });
  }

  async deviceInfo(): Promise<ImprovDeviceInfo> {
    const r = await this.result(ImprovCommand.GET_DEVICE_INFO, 'device info');
    return { firmware: r[0] ?? '', version: r[1] ?? '', chip: r[2] ?? '', name: r[3] ?? '', os_name: r[4] ?? null, os_version: r[5] ?? null };
  }

  /** Networks the board sees: one result per network, an empty result at the end. */
  async scan(timeoutMs = 15000): Promise<{ ssid: string; rssi: number; secured: boolean }[]> {
    const found: { ssid: string; rssi: number; secured: boolean }[] = [];
    return this.rpc(ImprovCommand.GET_WIFI_NETWORKS, new Uint8Array(0), 'Wi-Fi scan', (p, done) => {
      const r = ImprovClient.results(p, ImprovCommand.GET_WIFI_NETWORKS);
      if (!r) return;
      if (r.length === 0) done(found);
      else found.push({ ssid: r[0]!, rssi: Number(r[1]), secured: r[2] !== 'NO' });
    }, { timeoutMs });
  }

  /** Sends credentials; resolves once the board reports provisioned (with its URL, if any). */
  async sendWifi(ssid: string, password: string, timeoutMs = 30000): Promise<{ url: string | null }> {
    const payload = encodeStrings([ssid, password]);
    return this.rpc(ImprovCommand.WIFI_SETTINGS, payload, 'Wi-Fi credentials', (p, done) => {
      const r = ImprovClient.results(p, ImprovCommand.WIFI_SETTINGS);
      if (r) done({ url: r[0] || null });
    }, { timeoutMs });
  }

  async close(): Promise<void> {
    this.waiter?.fail(usbError('CANCELLED', 'the Improv request'));
    this.waiter = null;
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
    this.port.removeAllListeners();
  }
}
