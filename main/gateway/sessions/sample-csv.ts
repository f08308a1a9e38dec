/**
 * samples.csv rows written as bytes straight from a chunk's packed float32
 * samples. Each number is rounded exactly as `String(Math.round(x * 10^d) / 10^d)`
 * and written as the same text, without the generic number-to-string code:
 * the rounded value is an integer n over 10^d, and while |n| < 2^52 the
 * shortest decimal that reads back as n / 10^d is n itself with the point put
 * in and trailing zeros dropped (two decimals on the 10^-d grid can never read
 * back as the same double there, so no shorter one exists). Anything else
 * (NaN, huge values) goes through String() as before.
 */

/** Below this |n| the integer route gives String()'s text (see above). */
const EXACT = 2 ** 52;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000];

/** "00" to "99": two digits per division. */
const PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1');

function digitCount(n: number): number {
  let len = 1;
  for (let p = 10; p <= n; p *= 10) len++;
  return len;
}

/** Writes the decimal digits of a non-negative integer below 2^53; returns the new position. */
function writeUint(buf: Buffer, pos: number, n: number): number {
  const len = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : digitCount(n);
  let i = pos + len;
  while (n >= 100) {
    const q = Math.floor(n / 100);
    const r = (n - q * 100) * 2;
    i -= 2;
    buf[i] = PAIRS[r]!;
    buf[i + 1] = PAIRS[r + 1]!;
    n = q;
  }
  if (n >= 10) {
    buf[i - 2] = PAIRS[n * 2]!;
    buf[i - 1] = PAIRS[n * 2 + 1]!;
  } else buf[i - 1] = 48 + n;
  return pos + len;
}

/** `String(Math.round(x * 10^d) / 10^d)` written at `pos` (d is 3 or 5); returns the new position. */
export function writeRounded(buf: Buffer, pos: number, x: number, d: number): number {
  const scale = POW10[d]!;
  let n = Math.round(x * scale);
  if (!(n > -EXACT && n < EXACT)) return pos + buf.write(String(n / scale), pos, 'latin1');
  if (n === 0) {
    buf[pos] = 48; // -0 prints as 0
    return pos + 1;
  }
  if (n < 0) {
    buf[pos++] = 45;
    n = -n;
  }
  let ip = Math.floor(n / scale);
  let fp = n - ip * scale;
  // n / scale may round up to the next integer for the largest n: keep 0 <= fp < scale.
  if (fp < 0) { ip--; fp += scale; }
  pos = writeUint(buf, pos, ip);
  if (fp === 0) return pos;
  buf[pos] = 46;
  // All d digits of the fraction, then its trailing zeros dropped (fp > 0, so one digit stays).
  const end = pos + 1 + d;
  for (let i = end - 1; i > pos; i--) {
    const q = Math.floor(fp / 10);
    buf[i] = 48 + (fp - q * 10);
    fp = q;
  }
  let e = end;
  while (buf[e - 1] === 48) e--;
  return e;
}

/** The longest a row can be: device, 7 numbers of at most 24 characters, separators. */
export function maxRowBytes(deviceBytes: number): number {
  return deviceBytes + 7 * 24 + 8;
}

/**
 * Rows `device,time,ax,ay,az,gx,gy,gz\n` of one chunk into `buf` at `pos`
 * (room for count * maxRowBytes is the caller's); returns the new position.
 * Times are startMs + i * 1000 / rateHz; g to 5 decimals, degrees/s and ms to 3.
 */
export function writeChunkRows(buf: Buffer, pos: number, device: Buffer, startMs: number, rateHz: number, f: Float32Array, count: number): number {
  const step = rateHz > 0 ? 1000 / rateHz : 0;
  const dl = device.length;
  for (let i = 0; i < count; i++) {
    const o = i * 6;
    device.copy(buf, pos, 0, dl);
    pos += dl;
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, startMs + i * step, 3);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o]!, 5);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o + 1]!, 5);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o + 2]!, 5);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o + 3]!, 3);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o + 4]!, 3);
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, f[o + 5]!, 3);
    buf[pos++] = 10;
  }
  return pos;
}
