/**
 * Commands to boards (the badminton protocol's start/stop and any other): stored first,
 * pushed if the board is connected, resent after reconnect and every
 * `commandResendMs` while unacked, answered from the queue on poll_commands.
 * The store is the truth; `outstanding` only remembers when each was last
 * pushed, so resends need no database polling.
 */
import { randomBytes } from 'node:crypto';
import type { Base, EventPublisher } from './base.js';
import type { BoardHub } from './boards.js';

/** What the command queue uses: the boards only to find a board's socket. */
export type CommandQueueDeps = Pick<Base, 'store' | 'clock' | 'metrics' | 'persist' | 'options'> & {
  readonly operators: EventPublisher;
  readonly boards: Pick<BoardHub, 'get' | 'isConnected'>;
  readonly fleet?: CommandFleet;
};
import type { CommandFleet } from './fleet/hooks.js';
import type { CommandRow } from './store/types.js';
import type { TimerHandle } from './clock.js';

interface Outstanding {
  commandId: string;
  deviceId: string;
  command: string;
  params: unknown;
  lastPushedAt: number;
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
  private timer: TimerHandle | undefined;

  constructor(private readonly ctx: CommandQueueDeps) {}

  start(): void {
    const every = this.ctx.options.commandResendMs;
    if (every > 0) this.timer = this.ctx.clock.setInterval(() => this.resendDue(), Math.max(250, Math.floor(every / 2)));
  }

  stop(): void {
    this.ctx.clock.clear(this.timer);
  }

  /** Queues a command; resolves once it is stored, telling whether it went out right away. */
  async send(deviceId: string, command: string, params: unknown = {}): Promise<{ commandId: string; pushed: boolean }> {
    const commandId = 'c_' + randomBytes(8).toString('hex');
    const now = this.ctx.clock.now();
    await this.ctx.store.enqueueCommand({ commandId, deviceId, command, params, createdAt: new Date(now) });
    this.ctx.operators.publish('commands', { event: 'queued', command_id: commandId, device_id: deviceId, command, params });
    const o = { commandId, deviceId, command, params, lastPushedAt: 0 };
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
    this.outstanding.set(o.commandId, o);
    const conn = this.ctx.boards.get(o.deviceId);
    if (!conn) return false;
    const now = this.ctx.clock.now();
    o.lastPushedAt = now;
    conn.peer.send({ type: 'command', ...payload(o) });
    this.ctx.metrics.commandsSent++;
    this.ctx.persist(this.ctx.store.markCommandSent(o.commandId, new Date(now)), 'command sent');
    return true;
  }

  /** On (re)connect: everything unacked for the board goes out again, oldest first. */
  async onBoardConnected(deviceId: string): Promise<number> {
    const rows = await this.ctx.store.pendingCommands(deviceId);
    for (const r of rows) this.push(this.fromRow(r));
    return rows.length;
  }

  /** poll_commands: the unacked commands, marked sent (the board acks each). */
  async poll(deviceId: string): Promise<CommandPayload[]> {
    const rows = await this.ctx.store.pendingCommands(deviceId);
    const now = this.ctx.clock.now();
    for (const r of rows) {
      const o = this.fromRow(r);
      o.lastPushedAt = now;
      this.outstanding.set(o.commandId, o);
      this.ctx.persist(this.ctx.store.markCommandSent(o.commandId, new Date(now)), 'command sent');
    }
    return rows.map(payload);
  }

  async ack(deviceId: string, commandId: string, ok: boolean, result: unknown): Promise<boolean> {
    // A board may ack only its own commands (after a restart `outstanding` is empty: ask the store).
    const owner = this.outstanding.get(commandId)?.deviceId ?? (await this.ctx.store.getCommand(commandId))?.deviceId;
    if (owner !== deviceId) return false;
    this.outstanding.delete(commandId);
    const stored = await this.ctx.store.ackCommand(commandId, new Date(this.ctx.clock.now()), { ok, result: result ?? null });
    if (stored) {
      this.ctx.metrics.commandsAcked++;
      this.ctx.operators.publish('commands', { event: 'acked', command_id: commandId, device_id: deviceId, ok, result: result ?? null });
    }
    return stored;
  }

  private fromRow(r: CommandRow): Outstanding {
    return { commandId: r.commandId, deviceId: r.deviceId, command: r.command, params: r.params, lastPushedAt: r.lastSentAt?.getTime() ?? 0 };
  }

  private resendDue(): void {
    const now = this.ctx.clock.now();
    const due = this.ctx.options.commandResendMs;
    for (const o of this.outstanding.values()) {
      if (now - o.lastPushedAt < due) continue;
      if (!this.ctx.boards.isConnected(o.deviceId)) continue;
      this.push(o);
    }
  }

  pendingCount(): number {
    return this.outstanding.size;
  }
}
