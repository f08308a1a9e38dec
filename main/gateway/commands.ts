/**
 * Commands to boards (the badminton protocol's start/stop and any other): stored first,
 * pushed if the board is connected, resent after reconnect and `timeout_ms` after each push
 * while unacked, answered from the queue on poll_commands. After `max_retries` resends with no
 * ack a command is `failed`: a board that never answers is not sent the same thing forever.
 * The store is the truth; `outstanding` only remembers what was pushed and its timer, so
 * resends need no database polling.
 */
import { randomBytes } from 'node:crypto';
import type { Base, EventPublisher } from './base.js';
import type { BoardHub } from './boards.js';
import type { CommandRow } from './store/types.js';
import type { TimerHandle } from './clock.js';
import { PRIORITY_RANK, type Priority } from './priority.js';

/** What the command queue uses: the boards only to find a board's socket. */
export type CommandQueueDeps = Pick<Base, 'store' | 'clock' | 'metrics' | 'persist' | 'options'> & {
  readonly operators: EventPublisher;
  readonly boards: Pick<BoardHub, 'get' | 'isConnected'>;
  readonly fleet?: CommandFleet;
};
import type { CommandFleet } from './fleet/hooks.js';

/** Resends after the first push when a command names none (PROTOCOL.md, commands). */
export const DEFAULT_MAX_RETRIES = 5;

export interface CommandOptions {
  timeoutMs?: number;
  maxRetries?: number;
  priority?: Priority;
}

interface Outstanding {
  commandId: string;
  deviceId: string;
  command: string;
  params: unknown;
  lastPushedAt: number;
  /** Pushes so far (polls count too). */
  attempts: number;
  timeoutMs: number | null;
  maxRetries: number | null;
  /** Stored rank (0 high): the order a backed-up board's socket gets it in. */
  priority: number;
  timer?: TimerHandle;
}

export interface CommandPayload {
  command_id: string;
  command: string;
  params: unknown;
}

const payload = (c: { commandId: string; command: string; params: unknown }): CommandPayload => ({
  command_id: c.commandId,
  command: c.command,
  params: c.params ?? {},
});

export class CommandQueue {
  private readonly outstanding = new Map<string, Outstanding>();

  constructor(private readonly ctx: CommandQueueDeps) {}

  /** Timers are per command, armed at each push; nothing runs until then. */
  start(): void {}

  stop(): void {
    for (const o of this.outstanding.values()) this.ctx.clock.clear(o.timer);
  }

  /** The wait for an ack after a push; 0: never resent, never failed. */
  timeoutOf(c: { timeoutMs: number | null }): number {
    return c.timeoutMs ?? this.ctx.options.commandResendMs;
  }

  maxRetriesOf(c: { maxRetries: number | null }): number {
    return c.maxRetries ?? DEFAULT_MAX_RETRIES;
  }

  /** Queues a command; resolves once it is stored, telling whether it went out right away. */
  async send(deviceId: string, command: string, params: unknown = {}, opts: CommandOptions = {}): Promise<{ commandId: string; pushed: boolean }> {
    const commandId = 'c_' + randomBytes(8).toString('hex');
    const now = this.ctx.clock.now();
    const timeoutMs = opts.timeoutMs ?? null;
    const maxRetries = opts.maxRetries ?? null;
    await this.ctx.store.enqueueCommand({ commandId, deviceId, command, params, createdAt: new Date(now), timeoutMs, maxRetries, priority: PRIORITY_RANK[opts.priority ?? 'normal'] });
    this.ctx.operators.publish('commands', { event: 'queued', command_id: commandId, device_id: deviceId, command, params });
    const o: Outstanding = { commandId, deviceId, command, params, lastPushedAt: 0, attempts: 0, timeoutMs, maxRetries, priority: PRIORITY_RANK[opts.priority ?? 'normal'] };
    let pushed = this.push(o);
    // Held by another gateway: that one pushes it (and resends it); the ack comes back as an event.
    if (!pushed && this.ctx.fleet?.push(deviceId, commandId)) {
      this.outstanding.delete(commandId);
      pushed = true;
    }
    return { commandId, pushed };
  }

  /** Pushes a stored command to its board if this gateway holds it (another gateway queued it). */
  async pushStored(commandId: string): Promise<boolean> {
    const r = await this.ctx.store.getCommand(commandId);
    if (!r || (r.state !== 'queued' && r.state !== 'sent') || !this.ctx.boards.isConnected(r.deviceId)) return false;
    return this.push(this.fromRow(r));
  }

  /** Pushes to the connected board; false if it is not connected. */
  private push(o: Outstanding): boolean {
    this.track(o);
    const conn = this.ctx.boards.get(o.deviceId);
    if (!conn) return false;
    conn.peer.send({ type: 'command', ...payload(o) }, o.priority);
    this.ctx.metrics.commandsSent++;
    this.sent(o);
    return true;
  }

  /** Counts a push (or a poll that handed it over) and waits timeout_ms for the ack. */
  private sent(o: Outstanding): void {
    const now = this.ctx.clock.now();
    o.lastPushedAt = now;
    o.attempts++;
    this.ctx.persist(this.ctx.store.markCommandSent(o.commandId, new Date(now)), 'command sent');
    this.arm(o, this.timeoutOf(o));
  }

  private track(o: Outstanding): void {
    const old = this.outstanding.get(o.commandId);
    if (old && old !== o) {
      this.ctx.clock.clear(old.timer);
      o.attempts = Math.max(o.attempts, old.attempts);
    }
    this.outstanding.set(o.commandId, o);
  }

  private arm(o: Outstanding, ms: number): void {
    this.ctx.clock.clear(o.timer);
    o.timer = undefined;
    if (this.timeoutOf(o) <= 0) return;
    o.timer = this.ctx.clock.setTimeout(() => this.expired(o), Math.max(0, ms));
  }

  /** No ack within timeout_ms of the last push: resend, or fail once the retries are spent. */
  private expired(o: Outstanding): void {
    if (this.outstanding.get(o.commandId) !== o) return;
    o.timer = undefined;
    if (o.attempts > this.maxRetriesOf(o)) return this.fail(o);
    // Offline: nothing to do until it reconnects, when everything pending goes out again.
    if (this.ctx.boards.isConnected(o.deviceId)) this.push(o);
  }

  private fail(o: Outstanding): void {
    this.outstanding.delete(o.commandId);
    this.ctx.clock.clear(o.timer);
    this.ctx.metrics.countError('COMMAND_FAILED');
    const write = this.ctx.store.failCommand(o.commandId, new Date(this.ctx.clock.now())).then((changed) => {
      if (changed) this.ctx.operators.publish('commands', { event: 'failed', command_id: o.commandId, device_id: o.deviceId, command: o.command, attempts: o.attempts });
    });
    this.ctx.persist(write, 'command failed');
  }

  /**
   * On (re)connect: everything unacked for the board goes out again, high priority first, then
   * oldest first. One whose retries were spent fails instead (at once if its last wait is over).
   */
  async onBoardConnected(deviceId: string): Promise<number> {
    const rows = await this.ctx.store.pendingCommands(deviceId);
    let n = 0;
    for (const r of rows) {
      const o = this.fromRow(r);
      if (this.spent(o)) continue;
      this.push(o);
      n++;
    }
    return n;
  }

  /** True (and handled) when the command has had all its pushes: it waits out its last timeout, then fails. */
  private spent(o: Outstanding): boolean {
    if (o.attempts <= this.maxRetriesOf(o) || this.timeoutOf(o) <= 0) return false;
    this.track(o);
    const left = o.lastPushedAt + this.timeoutOf(o) - this.ctx.clock.now();
    if (left <= 0) this.fail(o);
    else this.arm(o, left);
    return true;
  }

  /** poll_commands: the unacked commands in delivery order, each counted as a push (the board acks each). */
  async poll(deviceId: string): Promise<CommandPayload[]> {
    const rows = await this.ctx.store.pendingCommands(deviceId);
    const out: CommandPayload[] = [];
    for (const r of rows) {
      const o = this.fromRow(r);
      if (this.spent(o)) continue;
      this.track(o);
      this.sent(o);
      out.push(payload(o));
    }
    return out;
  }

  async ack(deviceId: string, commandId: string, ok: boolean, result: unknown): Promise<boolean> {
    // A board may ack only its own commands (after a restart `outstanding` is empty: ask the store).
    const known = this.outstanding.get(commandId);
    const owner = known?.deviceId ?? (await this.ctx.store.getCommand(commandId))?.deviceId;
    if (owner !== deviceId) return false;
    if (known) this.ctx.clock.clear(known.timer);
    this.outstanding.delete(commandId);
    const stored = await this.ctx.store.ackCommand(commandId, new Date(this.ctx.clock.now()), { ok, result: result ?? null });
    if (stored) {
      this.ctx.metrics.commandsAcked++;
      this.ctx.operators.publish('commands', { event: 'acked', command_id: commandId, device_id: deviceId, ok, result: result ?? null });
    }
    return stored;
  }

  private fromRow(r: CommandRow): Outstanding {
    return {
      commandId: r.commandId, deviceId: r.deviceId, command: r.command, params: r.params,
      lastPushedAt: r.lastSentAt?.getTime() ?? 0, attempts: r.attempts, timeoutMs: r.timeoutMs, maxRetries: r.maxRetries, priority: r.priority,
    };
  }

  pendingCount(): number {
    return this.outstanding.size;
  }
}
