/**
 * A minimal gateway for the board's unit tests: speaks the board protocol,
 * checks every board frame against firmware-protocol's schemas, and lets a
 * test withhold acks or cut sockets from the server side, which the real
 * gateway offers no handle for.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { BoardFrames, compile } from '../../firmware-protocol/index.js';

const checks = Object.fromEntries(Object.entries(BoardFrames).map(([k, s]) => [k, compile(s)]));

export interface Received { device: string; msg: Record<string, unknown> }

export class FakeGateway {
  readonly received: Received[] = [];
  /** Frames that failed the schema (should stay empty). */
  readonly invalid: Received[] = [];
  /** false: data frames are recorded but never acked. */
  acking = true;
  /** false: data frames are dropped unseen, as if lost on the way. */
  receiving = true;
  private readonly queued = new Map<string, Record<string, unknown>[]>();
  private readonly sockets = new Map<string, WebSocket>();
  private readonly listeners = new Set<() => void>();
  private nextId = 1;

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (ws, req) => {
      const m = /^\/ws\/esp32\/([^/?]+)\//.exec(req.url ?? '');
      if (!m) return ws.close(4404, 'unknown path');
      const device = decodeURIComponent(m[1]!);
      this.sockets.set(device, ws);
      ws.on('close', () => { if (this.sockets.get(device) === ws) this.sockets.delete(device); });
      ws.send(JSON.stringify({ type: 'connection_established', device_code: device, server_time: Date.now() }));
      ws.on('message', (data) => this.onMessage(device, ws, JSON.parse(data.toString()) as Record<string, unknown>));
    });
  }

  static async start(): Promise<FakeGateway> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    return new FakeGateway(wss);
  }

  get url(): string { return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`; }

  private onMessage(device: string, ws: WebSocket, msg: Record<string, unknown>): void {
    const type = String(msg.type);
    const isData = type === 'sensor_data' || type === 'batch_sensor_data';
    if (isData && !this.receiving) return;
    const check = checks[type];
    if (!check || !check.Check(msg)) this.invalid.push({ device, msg });
    this.received.push({ device, msg });
    const reply = (o: Record<string, unknown>): void => ws.send(JSON.stringify(o));
    if (type === 'heartbeat') reply({ type: 'heartbeat_ack', server_time: Date.now() });
    else if (type === 'status_update') reply({ type: 'status_ack' });
    else if (type === 'poll_commands') {
      const list = this.queued.get(device) ?? [];
      this.queued.delete(device);
      reply({ type: 'commands', commands: list });
    } else if (isData && this.acking) reply({ type: 'data_ack', seq: msg.seq, session_id: msg.session_id ?? null, stored: msg.session_id !== undefined });
    else if (type === 'upload_complete') reply({ type: 'upload_ack', last_seq: msg.last_seq });
    for (const l of [...this.listeners]) l();
  }

  /** Queues a command for the board's next poll_commands; returns its id. */
  queue(device: string, command: string, params: Record<string, unknown> = {}): string {
    const c = { command_id: `c_${this.nextId++}`, command, params };
    this.queued.set(device, [...(this.queued.get(device) ?? []), c]);
    return c.command_id;
  }

  /** Pushes a command now; a given id lets a test resend the same command. */
  push(device: string, command: string, params: Record<string, unknown> = {}, commandId = `c_${this.nextId++}`): string {
    this.sockets.get(device)?.send(JSON.stringify({ type: 'command', command_id: commandId, command, params }));
    return commandId;
  }

  /** Cuts every board socket from the server side, without a close handshake. */
  killSockets(): void { for (const ws of this.sockets.values()) ws.terminate(); }

  isConnected(device: string): boolean { return this.sockets.has(device); }

  of(type: string, device?: string): Record<string, unknown>[] {
    return this.received.filter((r) => r.msg.type === type && (device === undefined || r.device === device)).map((r) => r.msg);
  }

  /** Resolves when `pred` holds after some frame arrives (or already holds). */
  until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const l = (): void => { if (pred()) { done(); resolve(); } };
      const t = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, timeoutMs);
      const done = (): void => { clearTimeout(t); this.listeners.delete(l); };
      this.listeners.add(l);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
