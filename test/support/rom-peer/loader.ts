/**
 * The board side of Espressif's serial bootloader protocol, hand-written from
 * the published description (docs "Serial Protocol", esptool's stub sources)
 * because no library plays the *device* role: the ESP32 ROM loader and, once
 * the host has uploaded and started it, the flasher stub.
 *
 * What it checks as the chip would: SLIP frames, the request header (direction
 * 0, size field equal to the payload), the XOR checksum of _DATA payloads
 * (seed 0xEF), block sequence numbers, SPI_ATTACH before flash commands (ROM),
 * payload lengths per mode (ROM FLASH_*_BEGIN 16 bytes on the ESP32, stub 16).
 * Flash behaves like NOR flash: erase sets 0xFF, writes can only clear bits,
 * addresses wrap at the chip size (a too-large image overwrites the start).
 *
 * ROM vs stub, as documented: ROM status is 4 bytes, stub 2; ROM MD5 is 32 hex
 * characters, stub 16 raw bytes; the ROM erases at *_BEGIN, the stub as it
 * writes; READ_FLASH, ERASE_FLASH/REGION exist only in the stub. One
 * assumption the documents leave open: for a command it does not know, the
 * ESP32 ROM replies status 1 / error 0x05 in a response whose command byte
 * does not echo the request (0x00); esptool treats that as "unsupported".
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { ChipProfile, Esp32Registers } from './esp32.js';

export const Op = {
  FLASH_BEGIN: 0x02, FLASH_DATA: 0x03, FLASH_END: 0x04, MEM_BEGIN: 0x05, MEM_END: 0x06, MEM_DATA: 0x07,
  SYNC: 0x08, WRITE_REG: 0x09, READ_REG: 0x0a, SPI_SET_PARAMS: 0x0b, SPI_ATTACH: 0x0d, CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_DATA: 0x11, FLASH_DEFL_END: 0x12, SPI_FLASH_MD5: 0x13, GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0, ERASE_REGION: 0xd1, READ_FLASH: 0xd2, RUN_USER_CODE: 0xd3,
} as const;
const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

// ROM loader errors (docs) and stub errors (stub_flasher.h).
const ROM_INVALID = 0x05, ROM_FAILED = 0x06, ROM_BAD_CRC = 0x07, ROM_DEFLATE = 0x0b;
const STUB_BAD_LEN = 0xc0, STUB_BAD_CHECKSUM = 0xc1, STUB_BAD_BLOCKSIZE = 0xc2, STUB_NOT_IN_FLASH_MODE = 0xc6;
const STUB_INFLATE = 0xc7, STUB_NOT_ENOUGH = 0xc8, STUB_TOO_MUCH = 0xc9, STUB_NOT_IMPLEMENTED = 0xff;
const SECTOR = 4096;
const SYNC_PAYLOAD = Buffer.concat([Buffer.from([0x07, 0x07, 0x12, 0x20]), Buffer.alloc(32, 0x55)]);

export interface LoaderFaults {
  /** Clear the lowest bit of the first byte of every written block (a stuck flash bit): MD5 checks must catch it. */
  corruptWrites?: boolean;
}

export interface LoaderIo {
  /** Sends one SLIP frame with this payload. */
  send(payload: Buffer): void;
  /** The loader hands over to the firmware (FLASH_END "run", stub reboot, RUN_USER_CODE). */
  runApp(): void;
}

interface WriteState {
  kind: 'plain' | 'deflate';
  offset: number;
  blocks: number;
  blockSize: number;
  nextSeq: number;
  /** Bytes to write in total (stub deflate: exact; others: blocks*blockSize or the erase size). */
  expect: number;
  written: number;
  compressed: Buffer[];
}

export class LoaderPeer {
  mode: 'rom' | 'stub' = 'rom';
  /** Every command seen, by name (`FLASH_DEFL_DATA`), in order: for test assertions. */
  readonly seen: string[] = [];
  attached = false;
  baud = 115200;
  private ram = new Map<number, Buffer>();
  private write: WriteState | null = null;
  private read: { offset: number; length: number; packet: number; inFlight: number; sent: number; acked: number; hash: ReturnType<typeof createHash> } | null = null;
  private mem: { offset: number; size: number; blocks: number; blockSize: number; nextSeq: number; buf: Buffer } | null = null;

  constructor(
    private readonly chip: ChipProfile,
    private readonly regs: Esp32Registers,
    readonly flash: Buffer,
    private readonly io: LoaderIo,
    private readonly faults: LoaderFaults = {},
  ) {}

  /** Back to the ROM loader (a reset into download mode). */
  resetToRom(): void {
    this.mode = 'rom';
    this.attached = false;
    this.write = null;
    this.read = null;
    this.mem = null;
    this.ram.clear();
  }

  onFrame(frame: Buffer): void {
    if (this.read) return this.onReadAck(frame);
    if (frame.length < 8 || frame[0] !== 0x00) return; // not a request: the chip ignores it
    const op = frame[1]!;
    const size = frame.readUInt16LE(2);
    const chk = frame.readUInt32LE(4);
    const data = frame.subarray(8);
    this.seen.push(OP_NAMES.get(op) ?? `0x${op.toString(16)}`);
    if (data.length !== size) return this.fail(op, this.isStub ? STUB_BAD_LEN : ROM_INVALID);
    this.handle(op, data, chk);
  }

  private get isStub(): boolean {
    return this.mode === 'stub';
  }

  private respond(op: number, value = 0, body: Buffer = Buffer.alloc(0), status = 0, error = 0): void {
    const statusBytes = this.isStub ? Buffer.from([status, error]) : Buffer.from([status, error, 0, 0]);
    const payload = Buffer.concat([body, statusBytes]);
    const head = Buffer.alloc(8);
    head[0] = 0x01;
    head[1] = op;
    head.writeUInt16LE(payload.length, 2);
    head.writeUInt32LE(value >>> 0, 4);
    this.io.send(Buffer.concat([head, payload]));
  }

  private fail(op: number, error: number): void {
    this.respond(op, 0, Buffer.alloc(0), 1, error);
  }

  private words(data: Buffer, n: number): number[] {
    return Array.from({ length: n }, (_, i) => data.readUInt32LE(i * 4));
  }

  private handle(op: number, data: Buffer, chk: number): void {
    const stub = this.isStub;
    const needLen = (...lens: number[]) => {
      if (lens.includes(data.length)) return true;
      this.fail(op, stub ? STUB_BAD_LEN : ROM_INVALID);
      return false;
    };
    switch (op) {
      case Op.SYNC: {
        if (!data.equals(SYNC_PAYLOAD)) return; // not a sync frame: no answer
        // Eight identical answers; the ROM's value is non-zero, the stub's is 0 (how esptool tells them apart).
        for (let i = 0; i < 8; i++) this.respond(op, stub ? 0 : 0x55201207);
        return;
      }
      case Op.READ_REG:
        if (needLen(4)) this.respond(op, this.regs.read(data.readUInt32LE(0)));
        return;
      case Op.WRITE_REG:
        if (data.length === 0 || data.length % 16 !== 0) return this.fail(op, stub ? STUB_BAD_LEN : ROM_INVALID);
        for (let i = 0; i < data.length; i += 16) {
          const [addr, value, mask] = this.words(data.subarray(i), 3) as [number, number, number];
          this.regs.write(addr, value, mask);
        }
        return this.respond(op);
      case Op.SPI_ATTACH:
        if (!needLen(...(stub ? [4, 8] : [8]))) return;
        this.attached = true;
        return this.respond(op);
      case Op.SPI_SET_PARAMS:
        if (needLen(24)) this.respond(op);
        return;
      case Op.CHANGE_BAUDRATE:
        if (!needLen(8)) return;
        this.respond(op);
        this.baud = data.readUInt32LE(0);
        return;
      case Op.MEM_BEGIN: {
        if (!needLen(16)) return;
        const [size, blocks, blockSize, offset] = this.words(data, 4) as [number, number, number, number];
        this.mem = { offset, size, blocks, blockSize, nextSeq: 0, buf: Buffer.alloc(size) };
        return this.respond(op);
      }
      case Op.MEM_DATA: {
        const m = this.mem;
        if (!m) return this.fail(op, stub ? STUB_NOT_IN_FLASH_MODE : ROM_FAILED);
        const block = this.dataBlock(op, data, chk, m.nextSeq);
        if (!block) return;
        block.copy(m.buf, m.nextSeq * m.blockSize);
        m.nextSeq++;
        if (m.nextSeq === m.blocks) this.ram.set(m.offset, m.buf);
        return this.respond(op);
      }
      case Op.MEM_END: {
        if (!needLen(8)) return;
        const [noExecute, entry] = this.words(data, 2) as [number, number];
        this.respond(op);
        // Jump to the entry point if it lies in uploaded RAM; the program there is the flasher stub.
        if (noExecute === 0 && [...this.ram].some(([start, buf]) => entry >= start && entry < start + buf.length)) {
          this.mode = 'stub';
          this.attached = true; // the stub attaches the SPI flash itself
          this.io.send(Buffer.from('OHAI'));
        }
        return;
      }
      case Op.FLASH_BEGIN:
      case Op.FLASH_DEFL_BEGIN: {
        if (!needLen(...(stub ? [16] : this.chip.romBeginWords.map((w) => w * 4)))) return;
        if (!this.attached) return this.fail(op, ROM_FAILED);
        const [size, blocks, blockSize, offset] = this.words(data, 4) as [number, number, number, number];
        if (stub && blockSize > 0x4000 + 64) return this.fail(op, STUB_BAD_BLOCKSIZE);
        const deflate = op === Op.FLASH_DEFL_BEGIN;
        // ROM: erase now (size is the erase size); stub: erase as it writes.
        if (!stub) this.erase(offset, size);
        const expect = deflate ? size : stub ? blocks * blockSize : size;
        this.write = { kind: deflate ? 'deflate' : 'plain', offset, blocks, blockSize, nextSeq: 0, expect, written: 0, compressed: [] };
        return this.respond(op);
      }
      case Op.FLASH_DATA:
      case Op.FLASH_DEFL_DATA:
        return this.flashData(op, data, chk);
      case Op.FLASH_END:
      case Op.FLASH_DEFL_END: {
        if (!needLen(4)) return;
        const w = this.write;
        if (stub && w && w.kind === 'deflate' && w.written < w.expect) return this.fail(op, STUB_NOT_ENOUGH);
        this.write = null;
        this.respond(op);
        // 0: reboot; 1: ROM "run user code", stub "stay in the loader".
        if (data.readUInt32LE(0) === 0 || !stub) this.io.runApp();
        return;
      }
      case Op.SPI_FLASH_MD5: {
        if (!needLen(16)) return;
        if (!this.attached) return this.fail(op, ROM_FAILED);
        const [addr, size] = this.words(data, 2) as [number, number];
        const digest = createHash('md5').update(this.readFlash(addr, size)).digest();
        return this.respond(op, 0, stub ? digest : Buffer.from(digest.toString('hex'), 'ascii'));
      }
      case Op.ERASE_FLASH:
        if (!stub) break;
        if (!needLen(0)) return;
        this.flash.fill(0xff);
        return this.respond(op);
      case Op.ERASE_REGION: {
        if (!stub) break;
        if (!needLen(8)) return;
        const [addr, size] = this.words(data, 2) as [number, number];
        if (addr % SECTOR || size % SECTOR) return this.fail(op, STUB_BAD_BLOCKSIZE);
        this.erase(addr, size);
        return this.respond(op);
      }
      case Op.READ_FLASH: {
        if (!stub) break;
        if (!needLen(16)) return;
        const [offset, length, packet, inFlight] = this.words(data, 4) as [number, number, number, number];
        this.respond(op);
        this.read = { offset, length, packet, inFlight: Math.max(1, inFlight), sent: 0, acked: 0, hash: createHash('md5') };
        return this.pumpRead();
      }
      case Op.RUN_USER_CODE:
        if (!stub) break;
        return this.io.runApp();
    }
    // Unknown here. The stub echoes the command with "not implemented"; the ROM does not echo it.
    if (stub) return this.fail(op, STUB_NOT_IMPLEMENTED);
    this.respond(0x00, 0, Buffer.alloc(0), 1, ROM_INVALID);
  }

  /** Checks a _DATA payload (length word, sequence, XOR checksum) and returns the data, or answers the error. */
  private dataBlock(op: number, data: Buffer, chk: number, expectSeq: number): Buffer | null {
    const stub = this.isStub;
    if (data.length < 16) return this.fail(op, stub ? STUB_BAD_LEN : ROM_INVALID), null;
    const [len, seq] = this.words(data, 2) as [number, number];
    const block = data.subarray(16);
    if (len !== block.length) return this.fail(op, stub ? STUB_BAD_LEN : ROM_INVALID), null;
    let x = 0xef;
    for (const b of block) x ^= b;
    if ((chk & 0xff) !== x) return this.fail(op, stub ? STUB_BAD_CHECKSUM : ROM_BAD_CRC), null;
    if (seq !== expectSeq) return this.fail(op, stub ? STUB_BAD_LEN : ROM_INVALID), null;
    return block;
  }

  private flashData(op: number, data: Buffer, chk: number): void {
    const stub = this.isStub;
    const w = this.write;
    const want = op === Op.FLASH_DATA ? 'plain' : 'deflate';
    if (!w || w.kind !== want) return this.fail(op, stub ? STUB_NOT_IN_FLASH_MODE : ROM_FAILED);
    const block = this.dataBlock(op, data, chk, w.nextSeq);
    if (!block) return;
    w.nextSeq++;
    let out: Buffer;
    if (w.kind === 'plain') out = block;
    else {
      w.compressed.push(block);
      let all: Buffer;
      try {
        // Inflate everything received so far and keep what is new: the chip streams through tinfl the same way.
        all = zlib.inflateSync(Buffer.concat(w.compressed), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch {
        return this.fail(op, stub ? STUB_INFLATE : ROM_DEFLATE);
      }
      out = all.subarray(w.written);
    }
    if (stub && w.kind === 'deflate' && w.written + out.length > w.expect) return this.fail(op, STUB_TOO_MUCH);
    if (out.length > 0) {
      const at = w.offset + w.written;
      if (stub) this.eraseCovering(at, out.length, w);
      this.program(at, out);
      w.written += out.length;
    }
    this.respond(op);
  }

  private erasedUpTo = new WeakMap<WriteState, number>();

  /** The stub erases each sector just before its first byte is written. */
  private eraseCovering(at: number, len: number, w: WriteState): void {
    const done = this.erasedUpTo.get(w) ?? w.offset - (w.offset % SECTOR);
    const end = at + len;
    if (end > done) {
      const to = Math.ceil(end / SECTOR) * SECTOR;
      this.erase(done, to - done);
      this.erasedUpTo.set(w, to);
    }
  }

  private erase(addr: number, size: number): void {
    const start = addr - (addr % SECTOR);
    const end = Math.ceil((addr + size) / SECTOR) * SECTOR;
    for (let a = start; a < end; a++) this.flash[a % this.flash.length] = 0xff;
  }

  /** NOR flash: programming can only clear bits. */
  private program(addr: number, bytes: Buffer): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = (addr + i) % this.flash.length;
      this.flash[a] = this.flash[a]! & bytes[i]!;
    }
    if (this.faults.corruptWrites) {
      // A stuck bit: the first written byte that has a bit set loses its lowest one.
      const i = bytes.findIndex((b) => b !== 0);
      if (i >= 0) {
        const a = (addr + i) % this.flash.length;
        this.flash[a] = this.flash[a]! & (this.flash[a]! - 1);
      }
    }
  }

  private readFlash(addr: number, size: number): Buffer {
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = this.flash[(addr + i) % this.flash.length]!;
    return out;
  }

  /** Stub READ_FLASH: data packets, at most `inFlight` unacknowledged, then the MD5 of everything sent. */
  private pumpRead(): void {
    const r = this.read!;
    while (r.sent < r.length && r.sent - r.acked < r.inFlight * r.packet) {
      const n = Math.min(r.packet, r.length - r.sent);
      const chunk = this.readFlash(r.offset + r.sent, n);
      r.hash.update(chunk);
      r.sent += n;
      this.io.send(chunk);
    }
  }

  private onReadAck(frame: Buffer): void {
    const r = this.read!;
    if (frame.length !== 4) return; // only acks are expected during a read
    r.acked = frame.readUInt32LE(0);
    if (r.acked >= r.length) {
      this.read = null;
      this.io.send(r.hash.digest());
      return;
    }
    this.pumpRead();
  }
}
