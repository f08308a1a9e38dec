/**
 * Waiting in tests for the thing itself (a condition, an event, a settled
 * promise) instead of for a guessed number of milliseconds: a fixed sleep is
 * either too short on a loaded CI machine or wasted time everywhere else.
 * The timeouts here are only upper bounds that turn a hang into a clear error.
 */

export interface WaitOptions {
  /** Upper bound; the error names `what`. */
  timeoutMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
  /** Poll interval for predicates. */
  everyMs?: number;
}

/** Resolves with the first truthy value of `fn` (polled); rejects after `timeoutMs` naming `what` and the last error. */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, what = 'condition', everyMs = 10 } = opts;
  const until = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface EventSource {
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn: (...args: any[]) => void): unknown;
}

/** The next `event` from `source` whose arguments pass `filter`; its first argument. */
export function nextEvent<T = unknown>(source: EventSource, event: string, filter: (...args: any[]) => boolean = () => true, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 5000, what = `event '${event}'` } = opts;
  return new Promise<T>((resolve, reject) => {
    const onEvent = (...args: any[]) => {
      if (!filter(...args)) return;
      clearTimeout(t);
      source.off(event, onEvent);
      resolve(args[0] as T);
    };
    const t = setTimeout(() => {
      source.off(event, onEvent);
      reject(new Error(`${what}: not within ${timeoutMs} ms`));
    }, timeoutMs);
    source.on(event, onEvent);
  });
}

/**
 * Whether `p` is still pending once everything already queued has run
 * (I/O callbacks included): for asserting that something has NOT happened
 * yet without sleeping for it.
 */
export async function isPending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const settled = p.then(() => 'settled', () => 'settled');
  await new Promise((r) => setImmediate(r));
  return (await Promise.race([settled, Promise.resolve(marker)])) === marker;
}

/**
 * Open WebSocket connections by endpoint (room, signaling, board, user,
 * operator), read from the gateway's /metrics: for waiting until the gateway
 * itself has seen a close, which the closing side learns earlier.
 */
export async function openConnections(gw: { http(path: string): Promise<Response> }): Promise<Record<string, number>> {
  const text = await (await gw.http('/metrics')).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^courtside_connections\{endpoint="([^"]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}
