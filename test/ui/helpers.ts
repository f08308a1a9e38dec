/** Shared by the UI unit tests: the renderer's client wired to `ws` under Node, and a scriptable fake socket. */
import WebSocket from 'ws';
import { GatewayClient, type ClientOptions, type WebSocketLike } from '../../renderer/src/lib/client.js';
import type { ConnectionState } from '../../renderer/src/lib/client.js';
import { OPERATOR_TOKEN, type TestGateway } from '../support/gateway.js';

export function clientFor(gw: { port: number }, opts: Partial<ClientOptions> = {}): GatewayClient {
  return new GatewayClient({
    baseUrl: `http://127.0.0.1:${gw.port}`,
    token: OPERATOR_TOKEN,
    createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    backoffMinMs: 50,
    backoffMaxMs: 400,
    ...opts,
  });
}

/** Resolves when the client's state satisfies `pred`. */
export function stateWhere(c: GatewayClient, pred: (s: ConnectionState) => boolean, ms = 5000): Promise<ConnectionState> {
  return new Promise((resolve, reject) => {
    let off: (() => void) | undefined;
    const t = setTimeout(() => {
      off?.();
      reject(new Error(`state not reached within ${ms} ms; last ${JSON.stringify(c.connection)}`));
    }, ms);
    off = c.state.subscribe((s) => {
      if (!pred(s)) return;
      clearTimeout(t);
      queueMicrotask(() => off?.());
      resolve(s);
    });
  });
}

export async function connected(gw: TestGateway, opts: Partial<ClientOptions> = {}): Promise<GatewayClient> {
  const c = clientFor(gw, opts);
  c.connect();
  await stateWhere(c, (s) => s.status === 'open');
  return c;
}

/** A socket that opens at once and records what is sent; the test answers by calling `receive`. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];

  constructor(readonly url: string, open = true) {
    setTimeout(() => {
      if (open) {
        this.readyState = 1;
        this.onopen?.({});
      } else {
        this.readyState = 3;
        this.onclose?.({ code: 1006, reason: '' });
      }
    }, 0);
  }

  /** Called with each frame sent; a test answers requests from here. */
  onSend: ((frame: Record<string, unknown>) => void) | null = null;

  send(data: string): void {
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(frame);
    this.onSend?.(frame);
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 15 ms until it gives a truthy value, which it returns; throws after `ms`. */
export async function until<T>(fn: () => T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met within ' + ms + ' ms');
    await sleep(15);
  }
}
