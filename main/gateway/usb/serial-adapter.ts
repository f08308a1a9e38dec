/**
 * A Web Serial `SerialPort` (what esptool-js's Transport talks to) over node
 * serialport. Hand-written because esptool-js only ships a browser and a
 * WebUSB port.
 *
 * Control lines: node serialport's `set()` fills every line it is not given
 * with its default (DTR and RTS *on*), so setting only RTS would also raise
 * DTR and, through the auto-reset circuit, reset the board at the wrong
 * moment. We remember both lines and always send both. Ports without modem
 * lines (ptys, some adapters) answer ENOTTY/EINVAL: the first such answer is
 * remembered and later changes are dropped, so a reset sequence degrades to
 * "press EN yourself" instead of an exception in the middle of esptool-js.
 */
import { SerialPort } from 'serialport';
import { errorText, openError } from './errors.js';

/** The node serialport surface the adapter needs (a fake one in tests). */
export interface NodePortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  drain(cb: (err: Error | null) => void): void;
  set(opts: { dtr?: boolean; rts?: boolean; brk?: boolean }, cb: (err: Error | null) => void): void;
  update(opts: { baudRate: number }, cb: (err: Error | null) => void): void;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close', fn: (err?: Error & { disconnected?: boolean }) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export type OpenNodePort = (path: string, baudRate: number) => NodePortLike;

export const openNodePort: OpenNodePort = (path, baudRate) =>
  new SerialPort({ path, baudRate, autoOpen: false, hupcl: false }) as unknown as NodePortLike;

export interface AdapterOptions {
  usbVendorId?: number;
  usbProductId?: number;
  /** Opens the node port (tests pass a fake). */
  openPort?: OpenNodePort;
  /** Called once when the port turns out to have no DTR/RTS lines. */
  onNoLines?: () => void;
}

interface WebSerialOpenOptions {
  baudRate: number;
}

interface SignalOptions {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
  break?: boolean;
}

const NO_LINES = /inappropriate ioctl|ENOTTY|EINVAL|invalid argument|not supported/i;

export class WebSerialAdapter {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  /** False once the port refused a modem-line change (a pty has none). */
  linesSupported = true;
  /** True once the device vanished under us (unplugged, re-enumerated). */
  lost = false;
  /** Both lines, as last set. Opening a tty raises both on Linux. */
  readonly lines = { dtr: true, rts: true };
  /** Every line change sent, in order (for diagnostics and tests). */
  readonly signalLog: { dtr: boolean; rts: boolean }[] = [];
  private port: NodePortLike | null = null;
  private baudRate = 115200;
  /** Ends the current readable stream (so esptool-js's read loop stops). */
  private endStream: (err?: Error) => void = () => {};

  constructor(
    readonly path: string,
    private readonly opts: AdapterOptions = {},
  ) {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return { usbVendorId: this.opts.usbVendorId, usbProductId: this.opts.usbProductId };
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  async open(options: WebSerialOpenOptions): Promise<void> {
    if (this.port) throw new Error(`${this.path} is already open`);
    this.baudRate = options.baudRate;
    this.lost = false;
    const port = (this.opts.openPort ?? openNodePort)(this.path, options.baudRate);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(openError(this.path, err)) : resolve())));
    this.port = port;
    this.lines.dtr = true;
    this.lines.rts = true;

    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let finished = false;
    const finish = (err?: Error) => {
      if (finished || !controller) return;
      finished = true;
      if (err) controller.error(err);
      else controller.close();
    };
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        finished = true;
      },
    });
    port.on('data', (chunk: Buffer) => {
      if (!finished) controller?.enqueue(new Uint8Array(chunk));
    });
    port.on('close', (err) => {
      if (err?.disconnected) this.lost = true;
      finish(err?.disconnected ? Object.assign(new Error(`${this.path}: device lost`), { name: 'NetworkError' }) : undefined);
      this.port = null;
    });
    port.on('error', (err) => finish(err));
    this.endStream = finish;
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.writeRaw(chunk),
    });
  }

  /** Writes bytes and waits until the OS has sent them. */
  writeRaw(chunk: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new Error(`${this.path} is not open`));
    return new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(chunk), (err) => {
        if (err) return reject(err);
        port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.endStream();
    this.readable = null;
    this.writable = null;
    if (!port || !port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
    port.removeAllListeners();
  }

  /** Web Serial's setSignals: lines not given keep their last value; both are always sent together. */
  async setSignals(s: SignalOptions): Promise<void> {
    if (s.dataTerminalReady !== undefined) this.lines.dtr = s.dataTerminalReady;
    if (s.requestToSend !== undefined) this.lines.rts = s.requestToSend;
    const port = this.port;
    if (!port || !this.linesSupported) return;
    const next = { dtr: this.lines.dtr, rts: this.lines.rts };
    this.signalLog.push(next);
    const opts: { dtr: boolean; rts: boolean; brk?: boolean } = { ...next };
    if (s.break !== undefined) opts.brk = s.break;
    await new Promise<void>((resolve, reject) =>
      port.set(opts, (err) => {
        if (!err) return resolve();
        if (NO_LINES.test(errorText(err))) {
          this.linesSupported = false;
          this.opts.onNoLines?.();
          return resolve();
        }
        reject(err);
      }),
    );
  }

  /** Changes the baud rate in place (esptool-js prefers this to a close and reopen, which may reset the board). */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error(`${this.path} is not open`);
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
    this.baudRate = baudRate;
  }

  get currentBaudRate(): number {
    return this.baudRate;
  }
}
