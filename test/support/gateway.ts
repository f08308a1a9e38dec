/**
 * A real gateway on 127.0.0.1, port 0, for tests: SQLite in a temp folder by
 * default or a fresh MariaDB database, and a small WebSocket client that
 * waits for frames with a timeout instead of sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startGateway, type Gateway, type GatewayOptions } from '../../main/gateway/index.js';
import { silentLogger } from '../../main/gateway/log.js';
import { freshMysqlUrl } from './mysql.js';

export type Backend = 'sqlite' | 'mysql';

export interface TestGateway extends Gateway {
  dataDir: string;
  /** Stops the gateway and removes its data (and MySQL database). */
  stop(): Promise<void>;
  http(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
}

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';

export async function startTestGateway(opts: GatewayOptions & { backend?: Backend } = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-gw-'));
  const { backend = 'sqlite', ...rest } = opts;
  let drop: (() => Promise<void>) | undefined;
  let db = rest.db ?? join(dataDir, 'courtside.sqlite');
  if (backend === 'mysql' && rest.db === undefined) {
    const m = await freshMysqlUrl();
    db = m.url;
    drop = m.drop;
  }
  const gw = await startGateway({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    operatorToken: OPERATOR_TOKEN,
    logger: silentLogger,
    statusLogIntervalMs: 0,
    ...rest,
    db,
  });
  const base = `http://127.0.0.1:${gw.port}`;
  // The gateway's own properties as they are (getters stay getters: a renewal changes the fingerprint).
  const t = Object.assign(Object.defineProperties(Object.create(gw), Object.getOwnPropertyDescriptors(gw)) as Gateway, {
    dataDir,
    async stop() {
      await gw.close();
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
    http(path: string, init: RequestInit & { token?: string | null } = {}) {
      const { token = OPERATOR_TOKEN, headers, ...rest2 } = init;
      const h = new Headers(headers);
      if (token !== null) h.set('authorization', `Bearer ${token}`);
      return fetch(base + path, { ...rest2, headers: h });
    },
  });
  return t;
}

export type Frame = Record<string, unknown> & { type?: string };

/** A WebSocket client that queues every frame and lets a test await the next one (or one that matches). */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const f = isBinary ? ({ type: '<binary>', data } as Frame) : (JSON.parse(data.toString()) as Frame);
      const i = this.waiters.findIndex((w) => w.match(f));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(f);
      } else this.frames.push(f);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (of `type`, or matching), waiting up to `ms`. */
  next(match?: string | ((f: Frame) => boolean), ms = 3000): Promise<Frame> {
    const pred = match === undefined ? () => true : typeof match === 'string' ? (f: Frame) => f.type === match : match;
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { match: pred, resolve: (f: Frame) => (clearTimeout(t), resolve(f)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no frame ${typeof match === 'string' ? `'${match}' ` : ''}within ${ms} ms; queued: ${JSON.stringify(this.frames).slice(0, 400)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Sends and returns the next frame. */
  async ask(frame: unknown, match?: string | ((f: Frame) => boolean)): Promise<Frame> {
    this.send(frame);
    return this.next(match);
  }

  /** Asserts nothing (matching) arrives within `ms`. */
  async nothing(match?: string | ((f: Frame) => boolean), ms = 150): Promise<void> {
    try {
      const f = await this.next(match, ms);
      throw new Error(`unexpected frame ${JSON.stringify(f)}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('unexpected frame')) throw err;
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/** A room client (the room protocol) that has sent its identity and read `connection` + `room`. */
export async function roomClient(gw: { url: string }, identity: Record<string, unknown>, ms = 3000): Promise<{ c: TestClient; room: Frame }> {
  const c = await TestClient.connect(gw.url + '/');
  c.send(identity);
  await c.next('connection', ms);
  const room = await c.next('room', ms);
  return { c, room };
}

/** Polls until `fn` returns a truthy value (for store rows written after a reply). */
export async function eventually<T>(fn: () => Promise<T> | T, ms = 3000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error('condition not met within ' + ms + ' ms');
    await new Promise((r) => setTimeout(r, 15));
  }
}
