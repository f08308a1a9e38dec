/**
 * Flashing through esptool-js and our Web Serial adapter against the board
 * peer (ROM loader + flasher stub on a socat pty): what the peer inflated into
 * its flash must equal the input, every path must be verified by MD5, and the
 * refusals must come before anything is written.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isUsbError, type UsbErrorCode } from '../../main/gateway/usb/errors.js';
import { EspSession, type WriteProgress } from '../../main/gateway/usb/esp.js';
import { flashBoard } from '../../main/gateway/usb/flash.js';
import { resolveFlashInputs, type ImageSet } from '../../main/gateway/usb/images.js';
import { startBoardPeer, type BoardPeer } from '../support/rom-peer/index.js';
import { addressFile, buildDir, CHIP_ESP32S3, espImage, firmware, writeTemp } from './fixtures.js';

const BAUD = 921600;
const peers: BoardPeer[] = [];
async function board(opts: Parameters<typeof startBoardPeer>[0] = {}): Promise<BoardPeer> {
  const b = await startBoardPeer(opts);
  peers.push(b);
  return b;
}
after(async () => {
  for (const p of peers) await p.stop();
});

async function rejectsWith(p: Promise<unknown>, code: UsbErrorCode, text?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isUsbError(e), `expected a UsbError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (text) assert.match(e.message, text);
    return true;
  });
}

const region = (b: BoardPeer, at: number, len: number) => b.flash.subarray(at, at + len);

describe('flash through esptool-js over the pty board peer', () => {
  test('a merged image is detected, written compressed through the stub, verified and reads back identical', async () => {
    const b = await board({ mac: '24:0a:c4:aa:bb:01' });
    const fw = firmware();
    const progress: WriteProgress[] = [];
    const r = await flashBoard(b.path, { images: [{ address: 0, data: fw.merged, name: 'merged.bin' }], chip: null }, { baud: BAUD, onProgress: (p) => progress.push(p) });
    assert.equal(r.info.chip, 'ESP32');
    assert.equal(r.info.mac, '24:0a:c4:aa:bb:01');
    assert.equal(r.info.flash_size, 4 * 1024 * 1024);
    assert.match(r.info.description, /^ESP32-D0WD-V3 \(revision 3\)$/);
    assert.equal(r.info.stub, true);
    assert.equal(r.info.reset_lines, false, 'a pty has no DTR/RTS');
    assert.equal(r.reset, false);
    assert.ok(region(b, 0, fw.merged.length).equals(fw.merged), 'flash differs from the image');
    assert.ok(b.flash.subarray(fw.merged.length, fw.merged.length + 4096).every((x) => x === 0xff), 'bytes after the image were touched');
    const seen = b.loader.seen;
    for (const op of ['SYNC', 'READ_REG', 'MEM_END', 'CHANGE_BAUDRATE', 'SPI_SET_PARAMS', 'FLASH_DEFL_BEGIN', 'FLASH_DEFL_DATA', 'FLASH_DEFL_END', 'SPI_FLASH_MD5']) {
      assert.ok(seen.includes(op), `${op} not sent`);
    }
    assert.ok(!seen.includes('FLASH_DATA'), 'uncompressed writes were used');
    assert.equal(b.loader.baud, BAUD);
    // Progress: from 0 to everything, never backwards, with a rate.
    assert.equal(progress[0]!.bytes, 0);
    assert.equal(progress.at(-1)!.bytes, fw.merged.length);
    assert.equal(progress.at(-1)!.percent, 100);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.bytes >= progress[i - 1]!.bytes);
    assert.ok(progress.at(-1)!.rate_bps > 0);
  });

  test('an ESP-IDF build folder lands at its addresses; an address file and address/file pairs name the same images', async () => {
    const fw = firmware({ appSize: 0x12345 });
    const dir = buildDir(fw);
    const set = resolveFlashInputs([dir]);
    assert.equal(set.chip, 'esp32');
    const byAddress = (s: typeof set) => s.images.map((i) => [i.address, i.data.toString('base64')] as const).sort((x, y) => x[0] - y[0]);
    assert.deepEqual(set.images.map((i) => i.address).sort((x, y) => x - y), [0x1000, 0x8000, 0x10000]);
    assert.deepEqual(byAddress(resolveFlashInputs([addressFile(dir)])), byAddress(set));
    const pairs = ['0x1000', `${dir}/bootloader/bootloader.bin`, '0x8000', `${dir}/partition_table/partition-table.bin`, '65536', `${dir}/racket.bin`];
    assert.deepEqual(byAddress(resolveFlashInputs(pairs)), byAddress(set));
    const b = await board();
    const r = await flashBoard(b.path, set, { baud: BAUD });
    assert.equal(r.images.length, 3);
    assert.ok(region(b, 0x1000, fw.bootloader.length).equals(fw.bootloader), 'bootloader');
    assert.ok(region(b, 0x8000, fw.table.length).equals(fw.table), 'partition table');
    // The app is not a multiple of 4: esptool pads with 0xFF, and so must the MD5 check.
    assert.ok(region(b, 0x10000, fw.app.length).equals(fw.app), 'app');
    assert.equal(b.flash[0x10000 + fw.app.length], 0xff);
    assert.equal(b.loader.seen.filter((x) => x === 'FLASH_DEFL_BEGIN').length, 3);
  });

  test('ROM loader only (--no-stub): SPI attach, small blocks, and the ROM\'s hex MD5 is understood', async () => {
    const b = await board();
    const img = espImage(0x6000);
    const r = await flashBoard(b.path, { images: [{ address: 0x20000, data: img, name: 'app.bin' }], chip: null }, { baud: BAUD, noStub: true });
    assert.equal(r.info.stub, false);
    assert.ok(region(b, 0x20000, img.length).equals(img));
    assert.ok(b.loader.seen.includes('SPI_ATTACH'));
    assert.ok(!b.loader.seen.includes('MEM_BEGIN'), 'the stub was uploaded');
    const blocks = b.loader.seen.filter((s) => s === 'FLASH_DEFL_DATA').length;
    assert.ok(blocks >= 6, `ROM blocks are 1 KB, got ${blocks} blocks for 24 KB`);
    await rejectsWith(flashBoard(b.path, { images: [{ address: 0, data: img, name: 'x' }], chip: null }, { noStub: true, erase: true }), 'STUB_REQUIRED');
  });

  test('--erase wipes the whole flash before writing', async () => {
    const junk = randomBytes(4 * 1024 * 1024);
    const b = await board({ flash: junk });
    const img = espImage(0x4000);
    await flashBoard(b.path, { images: [{ address: 0x10000, data: img, name: 'app.bin' }], chip: null }, { baud: BAUD, erase: true });
    assert.ok(b.loader.seen.includes('ERASE_FLASH'));
    assert.ok(region(b, 0x10000, img.length).equals(img));
    assert.ok(region(b, 0x200000, 0x1000).every((x) => x === 0xff), 'old contents survived the erase');
  });

  test('refusals come before any write: wrong chip, image larger than the flash, wrong build chip', async () => {
    const b = await board({ flashSize: 1024 * 1024 });
    const s3 = firmware({ chipId: CHIP_ESP32S3 });
    await rejectsWith(flashBoard(b.path, { images: [{ address: 0, data: s3.merged, name: 'merged.bin' }], chip: null }, { baud: BAUD }), 'WRONG_CHIP', /built for ESP32-S3 but the board is an ESP32/);
    // The same checks on an open session (one connection for the rest).
    const s = await EspSession.open(b.path, { baud: BAUD });
    try {
      const refused = (set: ImageSet) => {
        try {
          s.check(set);
          return null;
        } catch (e) {
          return isUsbError(e) ? [e.code, e.message] : String(e);
        }
      };
      assert.deepEqual(refused({ images: [{ address: 0x10000, data: espImage(0x100000), name: 'big.bin' }], chip: null }), ['IMAGE_TOO_LARGE', "big.bin ends at 0x110000, beyond the board's 1 MB flash: use a smaller image or a board with more flash"]);
      assert.equal(refused(resolveFlashInputs([buildDir(firmware(), 'esp32c3')]))?.[0], 'WRONG_CHIP');
      assert.equal(refused({ images: [{ address: 0x1000, data: espImage(0x2000), name: 'a.bin' }, { address: 0x2000, data: espImage(0x100), name: 'b.bin' }], chip: null })?.[0], 'IMAGES_OVERLAP');
      assert.equal(refused({ images: [{ address: 0x10000, data: espImage(0x1000), name: 'ok.bin' }], chip: 'esp32' }), null);
    } finally {
      await s.close();
    }
    assert.ok(!b.loader.seen.some((op) => op.startsWith('FLASH_')), 'something was written');
    assert.ok(b.flash.every((x) => x === 0xff));
  });

  test('a board that does not answer (firmware running, BOOT not held) gets the button advice', async () => {
    const b = await board({ mode: 'app' });
    const t0 = Date.now();
    await rejectsWith(flashBoard(b.path, { images: [{ address: 0, data: espImage(4096), name: 'x' }], chip: null }, { connectAttempts: 1 }), 'NO_ANSWER', /hold BOOT and press EN/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a stuck flash bit is caught by the MD5 check', async () => {
    const b = await board({ faults: { corruptWrites: true } });
    await rejectsWith(flashBoard(b.path, { images: [{ address: 0x10000, data: espImage(0x2000), name: 'app.bin' }], chip: null }, { baud: BAUD }), 'VERIFY_FAILED', /0x10000 does not read back/);
  });

  test('cancel stops the write between blocks; a vanished port and a busy port are reported as such', async () => {
    const b = await board();
    const ac = new AbortController();
    const img = randomBytes(0x80000); // incompressible: many blocks
    await rejectsWith(flashBoard(b.path, { images: [{ address: 0x10000, data: img, name: 'app.bin' }], chip: null }, {
      baud: BAUD,
      signal: ac.signal,
      onProgress: (p) => p.bytes > 0 && ac.abort(),
    }), 'CANCELLED', /incomplete/);
    assert.ok(!b.loader.seen.includes('FLASH_DEFL_END'));
    await rejectsWith(flashBoard('/dev/ttyUSB-not-here', { images: [{ address: 0, data: img, name: 'x' }], chip: null }), 'PORT_NOT_FOUND');
    const { SerialPort } = await import('serialport');
    const holder = new SerialPort({ path: b.path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => holder.open((e) => (e ? rej(e) : res())));
    try {
      await rejectsWith(flashBoard(b.path, { images: [{ address: 0, data: img, name: 'x' }], chip: null }), 'PORT_BUSY', /in use/);
    } finally {
      await new Promise<void>((res) => holder.close(() => res()));
    }
    const gone = await board();
    const big = randomBytes(0x100000);
    await rejectsWith(flashBoard(gone.path, { images: [{ address: 0x10000, data: big, name: 'app.bin' }], chip: null }, {
      baud: BAUD,
      onProgress: (p) => void (p.bytes > 0x20000 && gone.unplug()),
    }), 'PORT_LOST', /disappeared/);
  });

  test('an image file given alone goes to 0x0', () => {
    const f = writeTemp('merged.bin', firmware().merged);
    const set = resolveFlashInputs([f]);
    assert.equal(set.images.length, 1);
    assert.equal(set.images[0]!.address, 0);
  });
});
