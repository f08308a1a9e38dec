/**
 * A small QR Code encoder (ISO/IEC 18004, model 2) for the gateway's address
 * on the Overview: byte mode (UTF-8), error correction level M, versions
 * 1-40, the mask with the lowest penalty. Written here rather than pulled in
 * as a dependency because the UI needs only this one case; the unit test
 * decodes what it makes (format bits, Reed-Solomon syndromes, payload).
 */

/** Error correction codewords per block and number of blocks, level M, by version (index 0 unused). */
const ECC_PER_BLOCK_M = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
const BLOCKS_M = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
/** Format bits of level M: 0b00. */
const LEVEL_M_BITS = 0;

export interface QrMatrix {
  version: number;
  size: number;
  mask: number;
  /** Row-major, true = dark. */
  modules: boolean[][];
}

/** Modules available for data and ECC (all but function patterns), in bits. */
export function rawDataModules(version: number): number {
  let bits = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    bits -= (25 * align - 10) * align - 55;
    if (version >= 7) bits -= 36;
  }
  return bits;
}

export function dataCodewordsM(version: number): number {
  return Math.floor(rawDataModules(version) / 8) - ECC_PER_BLOCK_M[version]! * BLOCKS_M[version]!;
}

export function eccParamsM(version: number): { eccPerBlock: number; blocks: number } {
  return { eccPerBlock: ECC_PER_BLOCK_M[version]!, blocks: BLOCKS_M[version]! };
}

/** GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1. */
export function gfMul(a: number, b: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((b >>> i) & 1) * a;
  }
  return z & 0xff;
}

/** Generator polynomial of the given degree, highest power first, leading 1 dropped. */
function rsGenerator(degree: number): number[] {
  const g = new Array<number>(degree).fill(0);
  g[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      g[j] = gfMul(g[j]!, root);
      if (j + 1 < degree) g[j]! ^= g[j + 1]!;
    }
    root = gfMul(root, 2);
  }
  return g;
}

export function rsRemainder(data: readonly number[], degree: number): number[] {
  const gen = rsGenerator(degree);
  const rem = new Array<number>(degree).fill(0);
  for (const b of data) {
    const factor = b ^ rem.shift()!;
    rem.push(0);
    for (let i = 0; i < degree; i++) rem[i]! ^= gfMul(gen[i]!, factor);
  }
  return rem;
}

export function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const n = Math.floor(version / 7) + 2;
  const size = version * 4 + 17;
  const step = version === 32 ? 26 : Math.ceil((size - 13) / (n * 2 - 2)) * 2;
  const out = [6];
  for (let pos = size - 7; out.length < n; pos -= step) out.splice(1, 0, pos);
  return out;
}

export function maskBit(mask: number, x: number, y: number): boolean {
  switch (mask) {
    case 0: return (x + y) % 2 === 0;
    case 1: return y % 2 === 0;
    case 2: return x % 3 === 0;
    case 3: return (x + y) % 3 === 0;
    case 4: return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0;
    case 5: return ((x * y) % 2) + ((x * y) % 3) === 0;
    case 6: return (((x * y) % 2) + ((x * y) % 3)) % 2 === 0;
    default: return (((x + y) % 2) + ((x * y) % 3)) % 2 === 0;
  }
}

/** 15 format bits (level, mask, BCH, XOR pattern). */
export function formatBits(mask: number): number {
  const data = (LEVEL_M_BITS << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

/** Positions of the format bit copies: [first copy, second copy] per bit index 0..14, as [x, y]. */
export function formatPositions(size: number): [number, number][][] {
  const out: [number, number][][] = [];
  for (let i = 0; i < 15; i++) {
    const a: [number, number] = i < 6 ? [8, i] : i < 8 ? [8, i + 1] : i === 8 ? [7, 8] : [14 - i, 8];
    const b: [number, number] = i < 8 ? [size - 1 - i, 8] : [8, size - 15 + i];
    out.push([a, b]);
  }
  return out;
}

class Grid {
  readonly m: boolean[][];
  readonly fn: boolean[][];
  constructor(readonly size: number) {
    this.m = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
    this.fn = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  }
  set(x: number, y: number, dark: boolean): void {
    this.m[y]![x] = dark;
    this.fn[y]![x] = true;
  }
}

/** Marks every function module (finders, timing, alignment, format and version areas). */
export function functionPatterns(version: number): Grid {
  const size = version * 4 + 17;
  const g = new Grid(size);
  for (let i = 0; i < size; i++) {
    g.set(6, i, i % 2 === 0);
    g.set(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        g.set(x, y, d !== 2 && d !== 4);
      }
    }
  }
  const al = alignmentPositions(version);
  for (let i = 0; i < al.length; i++) {
    for (let j = 0; j < al.length; j++) {
      if ((i === 0 && j === 0) || (i === 0 && j === al.length - 1) || (i === al.length - 1 && j === 0)) continue;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) g.set(al[i]! + dx, al[j]! + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }
  drawFormat(g, 0);
  if (version >= 7) {
    let rem = version;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (version << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      g.set(a, b, dark);
      g.set(b, a, dark);
    }
  }
  return g;
}

function drawFormat(g: Grid, mask: number): void {
  const bits = formatBits(mask);
  formatPositions(g.size).forEach(([a, b], i) => {
    const dark = ((bits >>> i) & 1) === 1;
    g.set(a[0], a[1], dark);
    g.set(b[0], b[1], dark);
  });
  g.set(8, g.size - 8, true);
}

/** The zigzag order in which codeword bits are placed: [x, y] of each data module. */
export function dataModuleOrder(fn: boolean[][]): [number, number][] {
  const size = fn.length;
  const out: [number, number][] = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let v = 0; v < size; v++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - v : v;
        if (!fn[y]![x]) out.push([x, y]);
      }
    }
  }
  return out;
}

/** Splits data into blocks, adds each block's ECC, interleaves. */
export function interleave(data: number[], version: number): number[] {
  const { eccPerBlock, blocks } = eccParamsM(version);
  const raw = Math.floor(rawDataModules(version) / 8);
  const shortBlocks = blocks - (raw % blocks);
  const shortLen = Math.floor(raw / blocks);
  const list: number[][] = [];
  for (let i = 0, k = 0; i < blocks; i++) {
    const len = shortLen - eccPerBlock + (i < shortBlocks ? 0 : 1);
    const dat = data.slice(k, k + len);
    k += len;
    list.push([...dat, ...(i < shortBlocks ? [-1] : []), ...rsRemainder(dat, eccPerBlock)]);
  }
  const out: number[] = [];
  for (let i = 0; i < list[0]!.length; i++) for (const b of list) if (b[i] !== -1) out.push(b[i]!);
  return out;
}

function penalty(m: boolean[][]): number {
  const size = m.length;
  let score = 0;
  const line = (get: (i: number) => boolean) => {
    let run = 1;
    for (let i = 1; i <= size; i++) {
      if (i < size && get(i) === get(i - 1)) run++;
      else {
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
    }
    // Finder-like 1:1:3:1:1 with four light modules on either side.
    for (let i = 0; i + 7 <= size; i++) {
      if (get(i) && !get(i + 1) && get(i + 2) && get(i + 3) && get(i + 4) && !get(i + 5) && get(i + 6)) {
        const lightBefore = [1, 2, 3, 4].every((k) => i - k < 0 || !get(i - k));
        const lightAfter = [1, 2, 3, 4].every((k) => i + 6 + k >= size || !get(i + 6 + k));
        if (lightBefore || lightAfter) score += 40;
      }
    }
  };
  for (let y = 0; y < size; y++) line((x) => m[y]![x]!);
  for (let x = 0; x < size; x++) line((y) => m[y]![x]!);
  let dark = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (m[y]![x]) dark++;
      if (y + 1 < size && x + 1 < size) {
        const c = m[y]![x];
        if (c === m[y]![x + 1] && c === m[y + 1]![x] && c === m[y + 1]![x + 1]) score += 3;
      }
    }
  }
  const total = size * size;
  score += (Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1) * 10;
  return score;
}

/** Encodes text (UTF-8, byte mode, level M) in the smallest version that holds it. */
export function encodeQr(text: string): QrMatrix {
  const bytes = [...new TextEncoder().encode(text)];
  let version = 1;
  for (; version <= 40; version++) {
    const countBits = version < 10 ? 8 : 16;
    if (4 + countBits + bytes.length * 8 <= dataCodewordsM(version) * 8) break;
  }
  if (version > 40) throw new RangeError('text too long for a QR code');
  const capacity = dataCodewordsM(version) * 8;
  const bits: number[] = [];
  const put = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1);
  };
  put(0b0100, 4);
  put(bytes.length, version < 10 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) put(pad, 8);
  const data: number[] = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));

  const g = functionPatterns(version);
  const order = dataModuleOrder(g.fn);
  const codewords = interleave(data, version);
  codewords.forEach((cw, i) => {
    for (let b = 0; b < 8; b++) {
      const [x, y] = order[i * 8 + b]!;
      g.m[y]![x] = ((cw >>> (7 - b)) & 1) === 1;
    }
  });
  let best = 0;
  let bestScore = Infinity;
  let bestModules: boolean[][] = [];
  for (let mask = 0; mask < 8; mask++) {
    const m = g.m.map((row, y) => row.map((v, x) => (g.fn[y]![x] ? v : v !== maskBit(mask, x, y))));
    const copy = new Grid(g.size);
    for (let y = 0; y < g.size; y++) for (let x = 0; x < g.size; x++) (copy.m[y]![x] = m[y]![x]!), (copy.fn[y]![x] = g.fn[y]![x]!);
    drawFormat(copy, mask);
    const s = penalty(copy.m);
    if (s < bestScore) (bestScore = s), (best = mask), (bestModules = copy.m);
  }
  return { version, size: g.size, mask: best, modules: bestModules };
}

/** An SVG path (one unit per module, quiet zone of `border`) for the dark modules. */
export function qrPath(q: QrMatrix, border = 4): string {
  const parts: string[] = [];
  for (let y = 0; y < q.size; y++) for (let x = 0; x < q.size; x++) if (q.modules[y]![x]) parts.push(`M${x + border},${y + border}h1v1h-1z`);
  return parts.join('');
}
