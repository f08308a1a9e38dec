/**
 * SLIP framing as the ESP ROM loader uses it (RFC 1055 with frames both
 * opened and closed by 0xC0; 0xDB 0xDC stands for 0xC0, 0xDB 0xDD for 0xDB).
 * Written for the board peer from Espressif's serial protocol page, not
 * shared with the code under test.
 */
export const END = 0xc0;
export const ESC = 0xdb;
export const ESC_END = 0xdc;
export const ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Buffer {
  const out: number[] = [END];
  for (const b of payload) {
    if (b === END) out.push(ESC, ESC_END);
    else if (b === ESC) out.push(ESC, ESC_ESC);
    else out.push(b);
  }
  out.push(END);
  return Buffer.from(out);
}

/** Feeds bytes, calls `onFrame` for each complete frame; bytes outside frames go to `onNoise`. */
export class SlipDecoder {
  private buf: number[] = [];
  private inFrame = false;
  private escaping = false;
  /** Frames with a bad escape sequence (dropped, as the ROM does). */
  badFrames = 0;

  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly onNoise: (byte: number) => void = () => {},
  ) {}

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      if (!this.inFrame) {
        if (b === END) {
          this.inFrame = true;
          this.buf = [];
        } else this.onNoise(b);
        continue;
      }
      if (this.escaping) {
        this.escaping = false;
        if (b === ESC_END) this.buf.push(END);
        else if (b === ESC_ESC) this.buf.push(ESC);
        else {
          this.badFrames++;
          this.inFrame = false;
        }
        continue;
      }
      if (b === ESC) this.escaping = true;
      else if (b === END) {
        // An empty frame is the opening END of the next one (frames are sent as C0 ... C0).
        if (this.buf.length === 0) continue;
        const frame = Buffer.from(this.buf);
        this.buf = [];
        this.inFrame = false;
        this.onFrame(frame);
      } else this.buf.push(b);
    }
  }

  reset(): void {
    this.buf = [];
    this.inFrame = false;
    this.escaping = false;
  }
}
