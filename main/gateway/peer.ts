import { WebSocket } from 'ws';
import { errorFrame, type FrameErrorCode } from '../../firmware-protocol/index.js';
import type { TokenBucket } from './limits.js';
import type { Metrics } from './metrics.js';

export type EndpointName = 'legacy' | 'board' | 'user' | 'operator';

/**
 * One connected socket, whatever its endpoint: JSON out, error frames, the
 * per-client frame budget. Sends to a closed socket are dropped silently,
 * since the close handler already cleans up.
 */
export class Peer {
  /** Error replies are themselves limited, so a flood cannot turn into one back. */
  private lastRateError = 0;
  private identifiedFlag = false;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly endpoint: EndpointName,
    private readonly bucket: TokenBucket,
    private readonly metrics: Metrics,
    private readonly now: () => number,
  ) {}

  /** True once the first frame named who this is (endpoint `/`); other endpoints identify at the upgrade. */
  get identified(): boolean {
    return this.identifiedFlag;
  }

  markIdentified(): void {
    this.identifiedFlag = true;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: object): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frame));
    this.metrics.framesOut++;
  }

  /** For fan-out: the same serialized text to many peers. */
  sendText(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(text);
    this.metrics.framesOut++;
  }

  error(code: FrameErrorCode, message?: string, id?: string | number): void {
    this.metrics.countError(code);
    this.send(errorFrame(code, message, id));
  }

  /** False (and an error reply at most once a second) when over budget. */
  admit(): boolean {
    if (this.bucket.take()) return true;
    this.metrics.countError('RATE_LIMITED');
    const t = this.now();
    if (t - this.lastRateError >= 1000) {
      this.lastRateError = t;
      this.send(errorFrame('RATE_LIMITED'));
    }
    return false;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
