/**
 * A simulated ESP32 board on a socat pty pair, for tests of flashing,
 * provisioning, Improv and the serial monitor (and later the UI's e2e tests):
 *
 *   const board = await startBoardPeer({ mac: '24:0a:c4:00:00:01' });
 *   // open board.path as the serial port; board.flash is its flash chip
 *   await board.stop();
 *
 * The board is in download mode (BOOT held) by default and speaks the ROM
 * loader protocol, then the flasher stub once one is uploaded. In app mode it
 * prints log lines and, if asked, speaks Improv Wi-Fi. A pty has no DTR/RTS,
 * so resets are driven by the test (`reset()`), as an operator's finger would.
 */
import { SerialPort } from 'serialport';
import { startPtyPair, type PtyOptions, type PtyPair } from '../pty.js';
import { ESP32, Esp32Registers, parseMac } from './esp32.js';
import { ImprovDevice, type ImprovDeviceOptions } from './improv-device.js';
import { LoaderPeer, type LoaderFaults } from './loader.js';
import { slipEncode, SlipDecoder } from './slip.js';

export { ImprovDevice, ImprovError, ImprovState, improvPacket, type ImprovDeviceOptions, type WifiNetwork } from './improv-device.js';
export { LoaderPeer, Op, type LoaderFaults } from './loader.js';
export { startPtyPair, type PtyPair } from '../pty.js';

export type BoardMode = 'download' | 'stub' | 'app';

export interface BoardPeerOptions extends PtyOptions {
  mac?: string;
  /** Flash size in bytes (default 4 MB). */
  flashSize?: number;
  /** Initial flash contents (default erased: all 0xFF). */
  flash?: Buffer;
  /** What runs at start: the ROM download mode (BOOT held, default) or the firmware. */
  mode?: 'download' | 'app';
  /** Speak Improv Wi-Fi when the firmware runs. */
  improv?: ImprovDeviceOptions | false;
  /** Lines the firmware prints when it starts. */
  bootLog?: string[];
  faults?: LoaderFaults;
}

export interface BoardPeer {
  /** Open this as the board's serial port. */
  readonly path: string;
  /** The board's flash chip, live. */
  readonly flash: Buffer;
  readonly mode: BoardMode;
  readonly loader: LoaderPeer;
  readonly improv: ImprovDevice | null;
  /** Bytes the board received in total. */
  readonly received: number;
  /** EN pressed: `download` with BOOT held (ROM loader), `run` without (the firmware). */
  reset(into: 'run' | 'download'): void;
  /** The firmware prints a line (app mode). */
  print(line: string): void;
  /** The board sends raw bytes (a prompt without a line end, binary noise). */
  write(bytes: Buffer): void;
  /** The USB device disappears (the host path vanishes) / comes back. */
  unplug(): Promise<void>;
  replug(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_BOOT_LOG = [
  'ets Jun  8 2016 00:22:57',
  'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  'I (29) boot: ESP-IDF v5.2 2nd stage bootloader',
  '\x1b[0;32mI (312) courtside: firmware started\x1b[0m',
];

export async function startBoardPeer(opts: BoardPeerOptions = {}): Promise<BoardPeer> {
  const pty: PtyPair = await startPtyPair(opts);
  const flashSize = opts.flashSize ?? 4 * 1024 * 1024;
  const flash = Buffer.alloc(flashSize, 0xff);
  opts.flash?.copy(flash, 0, 0, Math.min(flashSize, opts.flash.length));
  const regs = new Esp32Registers(parseMac(opts.mac ?? '24:0a:c4:12:34:56'), flashSize);
  let port: SerialPort | null = null;
  let mode: BoardMode = opts.mode ?? 'download';
  let received = 0;
  let stopped = false;

  const write = (bytes: Buffer) => {
    if (port?.isOpen) port.write(bytes);
  };
  const printLines = (lines: string[]) => write(Buffer.from(lines.map((l) => l + '\r\n').join(''), 'utf8'));

  const loader = new LoaderPeer(ESP32, regs, flash, {
    send: (payload) => write(slipEncode(payload)),
    runApp: () => enterApp(),
  }, opts.faults);
  const improv = opts.improv ? new ImprovDevice(opts.improv, (b) => write(b)) : null;
  const slip = new SlipDecoder((frame) => loader.onFrame(frame));

  function enterApp(): void {
    mode = 'app';
    slip.reset();
    printLines(opts.bootLog ?? DEFAULT_BOOT_LOG);
  }

  function enterDownload(): void {
    mode = 'download';
    loader.resetToRom();
    slip.reset();
    // What the ESP32 ROM prints when it starts with GPIO0 low.
    printLines(['ets Jun  8 2016 00:22:57', '', 'rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))', 'waiting for download']);
  }

  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (mode === 'app') improv?.push(chunk);
    else {
      slip.push(chunk);
      if (loader.mode === 'stub') mode = 'stub';
    }
  };

  const openPort = async () => {
    const p = new SerialPort({ path: pty.peerPath, baudRate: 115200, autoOpen: false, hupcl: false, lock: false });
    await new Promise<void>((resolve, reject) => p.open((e) => (e ? reject(e) : resolve())));
    p.on('data', onData);
    p.on('error', () => {});
    port = p;
  };
  const closePort = async () => {
    const p = port;
    port = null;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  };

  await openPort();
  if (mode === 'app') enterApp();

  return {
    path: pty.path,
    flash,
    get mode() {
      return mode;
    },
    loader,
    improv,
    get received() {
      return received;
    },
    reset(into) {
      if (into === 'download') enterDownload();
      else enterApp();
    },
    print(line) {
      printLines([line]);
    },
    write(bytes) {
      write(bytes);
    },
    async unplug() {
      await closePort();
      await pty.unplug();
    },
    async replug() {
      await pty.replug();
      await openPort();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await closePort();
      await pty.stop();
    },
  };
}
