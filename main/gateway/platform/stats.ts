/**
 * The figures getHealth() and getMetrics() report, in the Node WebSocket
 * module's shape: connections (active, total, peak), frames per second over
 * the last minute, the mean time from a frame read to its handler done, and
 * error frames per frame received. Time comes from the gateway's Clock, so a
 * test moves it by hand.
 */
import type { Clock } from '../clock.js';
import type { EnvelopeHealth, EnvelopeMetrics } from '../../../firmware-protocol/index.js';

/** Seconds of history behind messagesPerSecond. */
export const RATE_WINDOW_S = 60;
/** Response times the mean is taken over. */
export const RESPONSE_SAMPLES = 1000;

const MB = 1024 * 1024;

/** The gateway's frame counters (Metrics), which this reads instead of counting again. */
export interface FrameCounter {
  readonly framesIn: number;
  readonly framesOut: number;
}
const round1 = (n: number) => Math.round(n * 10) / 10;

export class PlatformStats {
  active = 0;
  total = 0;
  peak = 0;
  errors = 0;
  /** Every frame handled since start, and the ms they took together (a plugin's mean between its checks). */
  handledCount = 0;
  handledMs = 0;
  readonly startedAt: number;
  private readonly buckets = new Array<number>(RATE_WINDOW_S).fill(0);
  private bucketSecond: number;
  private readonly times = new Float64Array(RESPONSE_SAMPLES);
  private timesCount = 0;
  private timesNext = 0;

  /** Where frames are counted: the gateway's Metrics once one runs with this platform. */
  private counter: FrameCounter = { framesIn: 0, framesOut: 0 };
  /** Counted before the current counter was bound (an embedding application that started the gateway again). */
  private receivedBefore = 0;
  private sentBefore = 0;

  constructor(private readonly clock: Clock) {
    this.startedAt = clock.now();
    this.bucketSecond = Math.floor(this.startedAt / 1000);
  }

  connected(): void {
    this.total++;
    this.active++;
    if (this.active > this.peak) this.peak = this.active;
  }

  disconnected(): void {
    this.active = Math.max(0, this.active - 1);
  }

  /** Moves the per-second ring to the current second, zeroing the seconds skipped. */
  private roll(): void {
    const s = Math.floor(this.clock.now() / 1000);
    const gap = Math.min(RATE_WINDOW_S, s - this.bucketSecond);
    for (let i = 1; i <= gap; i++) this.buckets[(this.bucketSecond + i) % RATE_WINDOW_S] = 0;
    if (gap > 0) this.bucketSecond = s;
  }

  /**
   * One count for both: the gateway's frames-received counter (/metrics)
   * is this one's too, so a frame costs one increment, not two.
   */
  countFrom(counter: FrameCounter): void {
    this.receivedBefore = this.received - counter.framesIn;
    this.sentBefore = this.sent - counter.framesOut;
    this.counter = counter;
  }

  /** Frames received: the bound counter's, plus what was counted before it was bound. */
  get received(): number {
    return this.receivedBefore + this.counter.framesIn;
  }

  get sent(): number {
    return this.sentBefore + this.counter.framesOut;
  }

  /** A frame read: its second in the rate ring (the frame itself is counted where the counter lives). */
  frameIn(): void {
    this.roll();
    this.buckets[this.bucketSecond % RATE_WINDOW_S]!++;
  }

  handled(ms: number): void {
    this.handledCount++;
    this.handledMs += ms;
    this.times[this.timesNext] = ms;
    this.timesNext = (this.timesNext + 1) % RESPONSE_SAMPLES;
    if (this.timesCount < RESPONSE_SAMPLES) this.timesCount++;
  }

  avgResponseTime(): number {
    if (this.timesCount === 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.timesCount; i++) sum += this.times[i]!;
    return round1(sum / this.timesCount);
  }

  messagesPerSecond(): number {
    this.roll();
    const seconds = Math.max(1, Math.min(RATE_WINDOW_S, Math.floor((this.clock.now() - this.startedAt) / 1000) || 1));
    let n = 0;
    for (const b of this.buckets) n += b;
    return round1(n / seconds);
  }

  errorRate(): number {
    return this.received === 0 ? 0 : Math.round((this.errors / this.received) * 10000) / 10000;
  }

  health(status: EnvelopeHealth['status']): EnvelopeHealth {
    const m = process.memoryUsage();
    return {
      status,
      uptime: this.clock.now() - this.startedAt,
      connections: { active: this.active, total: this.total },
      memory: { used: round1(m.heapUsed / MB), total: round1(m.heapTotal / MB), rss: round1(m.rss / MB) },
      timestamp: new Date(this.clock.now()).toISOString(),
    };
  }

  metrics(): EnvelopeMetrics {
    return {
      connections: { activeConnections: this.active, totalConnections: this.total, peakConnections: this.peak },
      messages: { totalMessages: this.received, messagesSent: this.sent, messagesPerSecond: this.messagesPerSecond(), avgResponseTime: this.avgResponseTime() },
      errors: { totalErrors: this.errors, errorRate: this.errorRate() },
      timestamp: new Date(this.clock.now()).toISOString(),
    };
  }
}
