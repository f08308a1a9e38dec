/**
 * The application image parser against esptool-js's own image loader (the
 * segments, their addresses and lengths, the chip id, the stored and the
 * computed checksum), and the refusals: text, random bytes, a bootloader, a
 * merged image, a damaged checksum or hash.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ESP32FirmwareImage } from 'esptool-js/lib/image/esp32.js';
import { ESP32S3FirmwareImage } from 'esptool-js/lib/image/others.js';
import { ESP32ROM } from 'esptool-js/lib/targets/esp32.js';
import { ESP32S3ROM } from 'esptool-js/lib/targets/esp32s3.js';
import { parseAppImage } from '../../main/gateway/firmware/image.js';
import { CourtsideError } from '../../main/gateway/errors.js';
import { buildAppImage } from '../support/app-image.js';

async function esptoolJs(img: Buffer, s3 = false) {
  const warn = console.warn;
  console.warn = () => {}; // esptool-js warns about segment addresses outside the ESP8266's RAM
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const e = s3 ? new ESP32S3FirmwareImage(new ESP32S3ROM() as any) : new ESP32FirmwareImage(new ESP32ROM() as any, null);
    await e.loadFromFile(new Uint8Array(img));
    return e;
  } finally {
    console.warn = warn;
  }
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CourtsideError, String(err));
    return err.code;
  }
  return null;
};

describe('ESP-IDF application image parser', () => {
  test('agrees with esptool-js on segments, chip and checksum, and reads esp_app_desc_t', async () => {
    for (const [chipId, s3] of [[0x0000, false], [0x0009, true]] as const) {
      const img = buildAppImage({ version: '2.0.0', project: 'racket-fw', chipId, codeSize: 20000, idf: 'v5.3.1', date: 'Dec  1 2026', time: '11:00:00' });
      const info = parseAppImage(img);
      const e = await esptoolJs(img, s3);
      assert.equal(info.chip_id, e.chipId);
      assert.equal(info.chip, s3 ? 'ESP32-S3' : 'ESP32');
      assert.deepEqual(info.segments.map((s) => [s.load_addr, s.length]), e.segments.map((s) => [s.addr, s.data.length]));
      assert.equal(info.checksum, e.checksum);
      assert.equal(info.checksum, e.calculateChecksum());
      // esptool-js 0.7 reads the digest one byte early (at the checksum byte); its dataLength is the checksum's offset.
      assert.equal(info.appended_sha256, createHash('sha256').update(img.subarray(0, e.dataLength + 1)).digest('hex'));
      assert.equal(info.sha256, createHash('sha256').update(img).digest('hex'));
      assert.deepEqual([info.version, info.project, info.idf_version, info.build_date, info.build_time], ['2.0.0', 'racket-fw', 'v5.3.1', 'Dec  1 2026', '11:00:00']);
      assert.equal(info.size, img.length);
    }
  });

  test('refuses what is no application image, each with its catalogued code', async () => {
    assert.equal(code(() => parseAppImage(Buffer.from('hello, this is a README\n'.repeat(20)))), 'FIRMWARE_NOT_IMAGE');
    const rnd = randomBytes(4096);
    rnd[0] = 0x12;
    assert.equal(code(() => parseAppImage(rnd)), 'FIRMWARE_NOT_IMAGE');
    assert.equal(code(() => parseAppImage(Buffer.alloc(0))), 'FIRMWARE_EMPTY');
    assert.equal(code(() => parseAppImage(buildAppImage({ bootloader: true }))), 'FIRMWARE_BOOTLOADER');
    assert.equal(code(() => parseAppImage(buildAppImage({ noAppDesc: true }))), 'FIRMWARE_NO_APP_DESC');
    const good = buildAppImage();
    assert.equal(code(() => parseAppImage(good.subarray(0, 100))), 'FIRMWARE_TRUNCATED');
    // A flipped byte in a segment: the checksum no longer matches (esptool-js agrees).
    const bad = Buffer.from(good);
    bad[40] ^= 0x01;
    assert.equal(code(() => parseAppImage(bad)), 'FIRMWARE_BAD_CHECKSUM');
    const e = await esptoolJs(bad);
    assert.notEqual(e.checksum, e.calculateChecksum());
    // Two flips cancel in the XOR checksum; the SHA-256 still sees them.
    const twice = Buffer.from(good);
    twice[40] ^= 0x01;
    twice[41] ^= 0x01; // the same bit in another byte of the same segment
    assert.equal(code(() => parseAppImage(twice)), 'FIRMWARE_BAD_HASH');
    // A merged image (partition table at 0x8000): USB flashing takes it, OTA does not.
    const merged = Buffer.alloc(0x10000 + good.length, 0xff);
    merged[0x8000] = 0xaa;
    merged[0x8001] = 0x50;
    good.copy(merged, 0x10000);
    assert.equal(code(() => parseAppImage(merged)), 'FIRMWARE_MERGED');
    const unknownChip = buildAppImage({ chipId: 0x0bad });
    assert.equal(code(() => parseAppImage(unknownChip)), 'FIRMWARE_UNKNOWN_CHIP');
  });
});
