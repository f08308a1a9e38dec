/**
 * The QR code of the gateway's address on the Overview, drawn by `uqr` (a
 * maintained encoder) at error correction level M, smallest version that
 * holds the text. This file only turns its matrix into one SVG path.
 */
import { encode } from 'uqr';

export interface QrMatrix {
  version: number;
  size: number;
  mask: number;
  /** Row-major, true = dark; no quiet zone (qrPath adds it). */
  modules: boolean[][];
}

/** Encodes text (UTF-8) at level M; throws RangeError when it does not fit in version 40. */
export function encodeQr(text: string): QrMatrix {
  let q;
  try {
    q = encode(text, { ecc: 'M', border: 0 });
  } catch (err) {
    throw new RangeError(`text too long for a QR code (${err instanceof Error ? err.message : String(err)})`);
  }
  return { version: q.version, size: q.size, mask: q.maskPattern, modules: q.data };
}

/** An SVG path (one unit per module, quiet zone of `border`) for the dark modules. */
export function qrPath(q: QrMatrix, border = 4): string {
  const parts: string[] = [];
  for (let y = 0; y < q.size; y++) for (let x = 0; x < q.size; x++) if (q.modules[y]![x]) parts.push(`M${x + border},${y + border}h1v1h-1z`);
  return parts.join('');
}
