/**
 * Frames waiting for their answer, by id. Each has a deadline on the injected
 * clock. When the socket goes down, a frame either fails at once (an
 * operator's request: the person should know) or stays, to be sent again on
 * the next open, in the order it was first sent, until it is answered or its
 * deadline passes: nothing the gateway did not answer is lost to a restart.
 */
import type { Clock, TimerHandle } from './socket.js';

export class RequestError extends Error {
  constructor(
    /** The gateway's error code, or DISCONNECTED / TIMEOUT from the client itself. */
    readonly code: string,
    message: string,
    /** The frame type that was refused. */
    readonly request: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

interface Entry<R> {
  frame: Record<string, unknown>;
  type: string;
  resend: boolean;
  resolve: (v: R) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
}

export class PendingTable<R> {
  private readonly entries = new Map<string, Entry<R>>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.entries.size;
  }

  /** Ids still unanswered, oldest first. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  add(id: string, type: string, frame: Record<string, unknown>, timeoutMs: number, resend: boolean): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.entries.delete(id);
        reject(new RequestError('TIMEOUT', `no answer to ${type} within ${timeoutMs} ms`, type));
      }, timeoutMs);
      this.entries.set(id, { frame, type, resend, resolve, reject, timer });
    });
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  resolve(id: string, value: R): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.clock.clear(e.timer);
    e.resolve(value);
    return true;
  }

  reject(id: string, err: Error): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.clock.clear(e.timer);
    e.reject(err);
    return true;
  }

  /** The socket went down: those that may not wait fail now. */
  down(message: string): void {
    for (const [id, e] of this.entries) if (!e.resend) this.reject(id, new RequestError('DISCONNECTED', message, e.type));
  }

  /** Fails every one (the client was closed). */
  failAll(message: string): void {
    for (const [id, e] of this.entries) this.reject(id, new RequestError('DISCONNECTED', message, e.type));
  }

  /** Frames to send again on open, in first-sent order. */
  toResend(): Record<string, unknown>[] {
    return [...this.entries.values()].filter((e) => e.resend).map((e) => e.frame);
  }
}
