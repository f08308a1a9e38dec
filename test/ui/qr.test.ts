/**
 * The Overview's QR code, checked by an independent decoder: the SVG path the
 * component draws is rasterised and read back with jsQR, which must return
 * the text (and its UTF-8 bytes) exactly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jsQRModule from 'jsqr';
import { encodeQr, qrPath } from '../../renderer/src/lib/qr.js';

// jsqr is CommonJS with a d.ts that says `export default`: under NodeNext the default import is
// module.exports, which is the function itself (or holds it as `default`).
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default;

const BORDER = 4;
const SCALE = 4;

/** The dark modules an SVG path of `M{x},{y}h1v1h-1z` squares paints, on a grid of `dim`. */
function modulesOfPath(path: string, dim: number): boolean[][] {
  const grid = Array.from({ length: dim }, () => new Array<boolean>(dim).fill(false));
  const squares = path.match(/M\d+,\d+h1v1h-1z/g) ?? [];
  assert.equal(squares.join(''), path, 'the path is only unit squares');
  for (const sq of squares) {
    const [x, y] = sq.slice(1, sq.indexOf('h')).split(',').map(Number) as [number, number];
    grid[y]![x] = true;
  }
  return grid;
}

/** What a camera would see, rendered black on white: RGBA pixels. */
function raster(grid: boolean[][]): { data: Uint8ClampedArray; width: number } {
  const width = grid.length * SCALE;
  const data = new Uint8ClampedArray(width * width * 4);
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      const v = grid[Math.floor(py / SCALE)]![Math.floor(px / SCALE)] ? 0 : 255;
      const i = (py * width + px) * 4;
      data[i] = data[i + 1] = data[i + 2] = v;
      data[i + 3] = 255;
    }
  }
  return { data, width };
}

function scan(text: string) {
  const q = encodeQr(text);
  const dim = q.size + 2 * BORDER;
  const grid = modulesOfPath(qrPath(q, BORDER), dim);
  const { data, width } = raster(grid);
  return { q, grid, read: jsQR(data, width, width, { inversionAttempts: 'dontInvert' }) };
}

describe('QR code', () => {
  for (const text of [
    'ws://192.168.4.2:8765/',
    'http://192.168.178.23:8765/?token=QkJ2x0a9-example_token_value_1234567890',
    'Courtside · 羽毛球',
    'x'.repeat(300),
  ]) {
    test(`a decoder reads back ${JSON.stringify(text.slice(0, 40))}`, () => {
      const { q, read } = scan(text);
      assert.ok(read, 'jsQR found a code');
      assert.equal(read.data, text);
      assert.deepEqual(read.binaryData, [...new TextEncoder().encode(text)]);
      assert.equal(read.version, q.version);
      assert.equal(q.size, q.version * 4 + 17);
    });
  }

  test('the quiet zone is white and as wide as asked', () => {
    const { q, grid } = scan('ws://10.0.0.1:8765/');
    const dim = q.size + 2 * BORDER;
    for (let y = 0; y < dim; y++) {
      for (let x = 0; x < dim; x++) {
        const inside = x >= BORDER && y >= BORDER && x < BORDER + q.size && y < BORDER + q.size;
        if (!inside) assert.equal(grid[y]![x], false, `module ${x},${y}`);
      }
    }
  });

  test('text that fits no QR version is a RangeError', () => {
    assert.throws(() => encodeQr('x'.repeat(5000)), RangeError);
  });
});
