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

const INT = 2 ** 31;

/** Writes `len` digits of 0 <= n < 2^31, zero-padded on the left; returns the new position. */
function writeIntDigits(buf: Buffer, pos: number, n: number, len: number): number {
  // `| 0`: int32 division, which the compiler turns into a multiply.
  let i = pos + len;
  while (i - pos >= 2) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    i -= 2;
    buf[i] = PAIRS[r]!;
    buf[i + 1] = PAIRS[r + 1]!;
    n = q;
  }
  if (i > pos) buf[pos] = 48 + n;
  return pos + len;
}

function intLength(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6
    : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
}

/** Writes the decimal digits of a non-negative integer below 2^53; returns the new position. */
function writeUint(buf: Buffer, pos: number, n: number): number {
  if (n < INT) return writeIntDigits(buf, pos, n, intLength(n));
  // Times in ms since 1970 (about 1.7e12, 1.7e15 in µs): the top digits, then nine more.
  const hi = Math.floor(n / 1e9);
  pos = writeUint(buf, pos, hi);
  return writeIntDigits(buf, pos, n - hi * 1e9, 9);
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
  let e = writeIntDigits(buf, pos + 1, fp, d);
  while (buf[e - 1] === 48) e--;
  return e;
}

/**
 * writeRounded for d = 5 and d = 3 with |n| < 2^31 (every accelerometer and
 * gyroscope reading): int32 arithmetic with constant divisors, which compile
 * to multiplications. The same digits; anything larger goes to writeRounded.
 */
function writeR5(buf: Buffer, pos: number, x: number): number {
  const r = Math.round(x * 100_000);
  if (!(r > -INT && r < INT)) return writeRounded(buf, pos, x, 5);
  let n = r | 0;
  if (n === 0) {
    buf[pos] = 48;
    return pos + 1;
  }
  if (n < 0) {
    buf[pos++] = 45;
    n = -n | 0;
  }
  const ip = (n / 100_000) | 0;
  let fp = (n - ip * 100_000) | 0;
  pos = writeIntDigits(buf, pos, ip, intLength(ip));
  if (fp === 0) return pos;
  buf[pos] = 46;
  let e = pos + 6;
  for (let i = e - 1; i > pos; i--) {
    const q = (fp / 10) | 0;
    buf[i] = 48 + fp - q * 10;
    fp = q;
  }
  while (buf[e - 1] === 48) e--;
  return e;
}

function writeR3(buf: Buffer, pos: number, x: number): number {
  const r = Math.round(x * 1000);
  if (!(r > -INT && r < INT)) return writeRounded(buf, pos, x, 3);
  let n = r | 0;
  if (n === 0) {
    buf[pos] = 48;
    return pos + 1;
  }
  if (n < 0) {
    buf[pos++] = 45;
    n = -n | 0;
  }
  const ip = (n / 1000) | 0;
  let fp = (n - ip * 1000) | 0;
  pos = writeIntDigits(buf, pos, ip, intLength(ip));
  if (fp === 0) return pos;
  buf[pos] = 46;
  let e = pos + 4;
  for (let i = e - 1; i > pos; i--) {
    const q = (fp / 10) | 0;
    buf[i] = 48 + fp - q * 10;
    fp = q;
  }
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
    // A byte loop: device ids are short, and Buffer#copy is a native call per row.
    for (let k = 0; k < dl; k++) buf[pos + k] = device[k]!;
    pos += dl;
    buf[pos++] = 44;
    pos = writeRounded(buf, pos, startMs + i * step, 3);
    buf[pos++] = 44;
    pos = writeR5(buf, pos, f[o]!);
    buf[pos++] = 44;
    pos = writeR5(buf, pos, f[o + 1]!);
    buf[pos++] = 44;
    pos = writeR5(buf, pos, f[o + 2]!);
    buf[pos++] = 44;
    pos = writeR3(buf, pos, f[o + 3]!);
    buf[pos++] = 44;
    pos = writeR3(buf, pos, f[o + 4]!);
    buf[pos++] = 44;
    pos = writeR3(buf, pos, f[o + 5]!);
    buf[pos++] = 10;
  }
  return pos;
}
