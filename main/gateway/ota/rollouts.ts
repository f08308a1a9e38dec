/**
 * Staged rollouts: one firmware to a set of boards in waves (a canary wave
 * first, the rest once the canary wave is through), at most `max_concurrent`
 * boards updating at once, and a stop by itself when more than
 * `max_failures` boards failed or came back with the old version. A board
 * is a success only when it reconnects reporting the new version in its
 * status `firmware` field; offline boards wait and are updated when they
 * come back while the rollout runs. Timers come from the injected Clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../clock.js';
import type { OtaProgressFrame, OtaUpdateParams, Rollout, RolloutDevice } from '../../../firmware-protocol/index.js';
import { firmwareError } from '../firmware/errors.js';

export interface RolloutDeps {
  clock: Clock;
  /** A board's last status `firmware` and whether it is connected now. */
  board(deviceId: string): { online: boolean; firmware: string | null } | undefined;
  sendCommand(deviceId: string, command: string, params: OtaUpdateParams): Promise<{ commandId: string }>;
  grant(deviceId: string, firmwareId: string, ttlMs: number): { url: string; token: string };
  revoke(token: string): void;
  publish(payload: Record<string, unknown>): void;
}

/** A rollout as kept on disk between gateway runs. */
export interface RolloutSnapshot {
  id: string;
  req: RolloutRequest;
  view: Rollout;
}

export interface RolloutRequest {
  firmware_id: string;
  version: string;
  size: number;
  devices: string[];
  tag: string | null;
  explicit: boolean;
  canary_percent?: number;
  max_concurrent?: number;
  max_failures?: number;
  skip_up_to_date?: boolean;
  timeout_ms?: number;
}

interface Dev extends RolloutDevice {
  commandId: string | null;
  token: string | null;
  /** The board dropped its link since the command: its next status is the one after the reboot. */
  rebooted: boolean;
  /** Was updating when the gateway stopped: its download link died with the gateway. */
  interrupted?: boolean;
  deadline: TimerHandle | undefined;
}

const TERMINAL = new Set<RolloutDevice['state']>(['succeeded', 'skipped', 'failed', 'rolled_back', 'cancelled']);

export class Rollouts {
  private readonly all = new Map<string, RolloutRun>();

  constructor(private readonly deps: RolloutDeps) {}

  create(r: RolloutRequest): RolloutRun {
    if (r.devices.length === 0) throw firmwareError('ROLLOUT_NO_TARGETS', r.tag ? `no board carries the tag '${r.tag}'` : 'give devices or a tag');
    const run = new RolloutRun('ro_' + randomBytes(6).toString('hex'), r, this.deps);
    this.all.set(run.id, run);
    run.begin();
    return run;
  }

  get(id: string): RolloutRun {
    const r = this.all.get(id);
    if (!r) throw firmwareError('ROLLOUT_NOT_FOUND', id);
    return r;
  }

  list(): RolloutRun[] {
    return [...this.all.values()];
  }

  /** The running rollout that uses a firmware, if any. */
  using(firmwareId: string): RolloutRun | undefined {
    return this.list().find((r) => r.firmwareId === firmwareId && (r.state === 'running' || r.state === 'paused'));
  }

  connected(deviceId: string): void {
    for (const r of this.all.values()) r.onConnected(deviceId);
  }
  disconnected(deviceId: string): void {
    for (const r of this.all.values()) r.onDisconnected(deviceId);
  }
  status(deviceId: string, status: Record<string, unknown>): void {
    const fw = typeof status.firmware === 'string' ? status.firmware : null;
    for (const r of this.all.values()) r.onStatus(deviceId, fw);
  }
  progress(deviceId: string, f: OtaProgressFrame): void {
    for (const r of this.all.values()) r.onProgress(deviceId, f);
  }
  commandAck(deviceId: string, commandId: string, ok: boolean, result: unknown): void {
    for (const r of this.all.values()) r.onAck(deviceId, commandId, ok, result);
  }

  close(): void {
    for (const r of this.all.values()) r.clearTimers();
  }

  /** The newest rollouts, for the gateway's next run. */
  snapshot(keep = 50): RolloutSnapshot[] {
    return this.list().slice(-keep).map((r) => r.snapshot());
  }

  /** Rollouts of an earlier run: running ones go on (boards that were updating are judged by the version they reconnect with). */
  restore(snaps: readonly RolloutSnapshot[]): void {
    for (const s of snaps) {
      const run = new RolloutRun(s.id, s.req, this.deps);
      run.restore(s.view);
      this.all.set(run.id, run);
    }
  }
}

export class RolloutRun {
  state: Rollout['state'] = 'running';
  stopReason: string | null = null;
  wave = 0;
  readonly firmwareId: string;
  private readonly devs = new Map<string, Dev>();
  private readonly waves: { wave: number; devices: string[]; started_at: string | null }[] = [];
  private readonly createdAt: number;
  private createdAtOverride: number | null = null;
  private finishedAt: number | null = null;
  private readonly o: Required<Pick<RolloutRequest, 'canary_percent' | 'max_concurrent' | 'max_failures' | 'skip_up_to_date' | 'timeout_ms'>>;

  constructor(readonly id: string, private readonly req: RolloutRequest, private readonly deps: RolloutDeps) {
    this.firmwareId = req.firmware_id;
    this.createdAt = deps.clock.now();
    this.o = {
      canary_percent: req.canary_percent ?? 10,
      max_concurrent: req.max_concurrent ?? 5,
      max_failures: req.max_failures ?? 0,
      skip_up_to_date: req.skip_up_to_date ?? true,
      timeout_ms: req.timeout_ms ?? 600_000,
    };
  }

  private iso(t: number | null): string | null {
    return t === null ? null : new Date(t).toISOString();
  }

  /** Boards already on the version are skipped; the canary wave takes online boards first, so an offline one does not hold it. */
  begin(): void {
    const todo: Dev[] = [];
    for (const id of this.req.devices) {
      const b = this.deps.board(id);
      const d: Dev = { device_id: id, wave: 0, state: 'pending', phase: null, version: b?.firmware ?? null, from_version: b?.firmware ?? null, bytes: null, total: null, error: null, attempts: 0, started_at: null, finished_at: null, commandId: null, token: null, rebooted: false, deadline: undefined };
      this.devs.set(id, d);
      if (this.o.skip_up_to_date && b?.firmware === this.req.version) {
        d.state = 'skipped';
        d.finished_at = this.iso(this.deps.clock.now());
      } else todo.push(d);
    }
    todo.sort((a, b) => Number(this.deps.board(b.device_id)?.online ?? false) - Number(this.deps.board(a.device_id)?.online ?? false));
    const canary = this.o.canary_percent > 0 && todo.length > 1 ? Math.min(todo.length, Math.max(1, Math.ceil((todo.length * this.o.canary_percent) / 100))) : 0;
    todo.forEach((d, i) => (d.wave = canary > 0 && i >= canary ? 1 : 0));
    const waveCount = canary > 0 && canary < todo.length ? 2 : 1;
    for (let w = 0; w < waveCount; w++) this.waves.push({ wave: w, devices: todo.filter((d) => d.wave === w).map((d) => d.device_id), started_at: null });
    this.publishRollout();
    this.startWave(0);
  }

  private startWave(w: number): void {
    this.wave = w;
    const wave = this.waves[w];
    if (wave) wave.started_at = this.iso(this.deps.clock.now());
    this.publishRollout();
    this.pump();
  }

  get failures(): number {
    return [...this.devs.values()].filter((d) => d.state === 'failed' || d.state === 'rolled_back').length;
  }

  private updating(): number {
    return [...this.devs.values()].filter((d) => d.state === 'updating').length;
  }

  /** Starts what may start; moves to the next wave or completes. */
  private pump(): void {
    if (this.state !== 'running') return;
    for (const d of this.devs.values()) {
      if (d.wave > this.wave || (d.state !== 'pending' && d.state !== 'waiting_online')) continue;
      const online = this.deps.board(d.device_id)?.online ?? false;
      if (!online) {
        if (d.state !== 'waiting_online') this.setDev(d, { state: 'waiting_online' });
        continue;
      }
      if (this.updating() >= this.o.max_concurrent) break;
      this.startDevice(d);
    }
    const inWave = [...this.devs.values()].filter((d) => d.wave <= this.wave && d.state !== 'skipped');
    const settled = inWave.every((d) => TERMINAL.has(d.state) || d.state === 'waiting_online');
    if (settled && this.wave + 1 < this.waves.length) return this.startWave(this.wave + 1);
    if ([...this.devs.values()].every((d) => TERMINAL.has(d.state))) this.finish('complete', null);
  }

  private startDevice(d: Dev): void {
    const b = this.deps.board(d.device_id);
    const { url, token } = this.deps.grant(d.device_id, this.firmwareId, this.o.timeout_ms);
    d.token = token;
    d.rebooted = false;
    this.setDev(d, { state: 'updating', phase: 'sent', from_version: b?.firmware ?? d.from_version, bytes: null, total: this.req.size, error: null, attempts: d.attempts + 1, started_at: this.iso(this.deps.clock.now()), finished_at: null });
    d.deadline = this.deps.clock.setTimeout(() => this.end(d, 'failed', `no new version within ${this.o.timeout_ms} ms`), this.o.timeout_ms);
    const params: OtaUpdateParams = { url, size: this.req.size, sha256: this.firmwareId, version: this.req.version, rollout_id: this.id };
    this.deps.sendCommand(d.device_id, 'ota_update', params).then(
      (c) => (d.commandId = c.commandId),
      (err: unknown) => this.end(d, 'failed', `command not queued: ${String(err)}`),
    );
  }

  private end(d: Dev, state: 'succeeded' | 'failed' | 'rolled_back', error: string | null): void {
    if (d.state !== 'updating') return;
    this.deps.clock.clear(d.deadline);
    if (d.token) this.deps.revoke(d.token);
    d.token = null;
    this.setDev(d, { state, error, phase: state === 'failed' ? d.phase : null, finished_at: this.iso(this.deps.clock.now()) });
    if (this.state === 'running' && this.failures > this.o.max_failures) {
      this.finish('stopped', `max_failures: ${this.failures} board(s) failed or rolled back, more than the ${this.o.max_failures} allowed`);
      return;
    }
    this.pump();
    if (this.state === 'stopped' || this.state === 'paused') this.maybeSettle();
  }

  /** A stopped rollout whose last updating board ended has its finish time. */
  private maybeSettle(): void {
    if (this.state === 'stopped' && this.updating() === 0 && this.finishedAt === null) this.finishedAt = this.deps.clock.now();
  }

  private finish(state: 'complete' | 'stopped', reason: string | null): void {
    this.state = state;
    this.stopReason = reason;
    if (state === 'stopped') {
      for (const d of this.devs.values()) if (d.state === 'pending' || d.state === 'waiting_online') this.setDev(d, { state: 'cancelled' });
    }
    if (state === 'complete' || this.updating() === 0) this.finishedAt = this.deps.clock.now();
    this.publishRollout();
  }

  onConnected(deviceId: string): void {
    const d = this.devs.get(deviceId);
    if (!d) return;
    if (d.state === 'updating') d.rebooted = true;
    if (d.state === 'waiting_online' || d.state === 'pending') this.pump();
  }

  onDisconnected(deviceId: string): void {
    const d = this.devs.get(deviceId);
    if (d?.state === 'updating') d.rebooted = true;
  }

  onStatus(deviceId: string, firmware: string | null): void {
    const d = this.devs.get(deviceId);
    if (!d) return;
    if (d.state !== 'updating') {
      if (!TERMINAL.has(d.state) && d.version !== firmware) this.setDev(d, { version: firmware });
      return;
    }
    // Only the status after a reconnect tells how the update went; one sent before the reboot says nothing.
    if (!d.rebooted) return;
    d.version = firmware;
    if (firmware === this.req.version) this.end(d, 'succeeded', null);
    else if (d.interrupted) this.end(d, 'failed', `the gateway restarted during the update; the board runs ${firmware ?? 'no version'}`);
    else if (firmware === d.from_version) this.end(d, 'rolled_back', `the board came back with ${firmware ?? 'no version'}: the new image did not boot and the bootloader rolled back`);
    else this.end(d, 'failed', `the board came back with ${firmware ?? 'no version'}, not ${this.req.version}`);
  }

  onProgress(deviceId: string, f: OtaProgressFrame): void {
    const d = this.devs.get(deviceId);
    if (!d || d.state !== 'updating') return;
    if (f.command_id !== undefined && d.commandId !== null && f.command_id !== d.commandId) return;
    if (f.state === 'failed') return this.end(d, 'failed', f.error ?? 'the board reported a failure');
    this.setDev(d, { phase: f.state, bytes: f.bytes ?? d.bytes, total: f.total ?? d.total });
  }

  onAck(deviceId: string, commandId: string, ok: boolean, result: unknown): void {
    const d = this.devs.get(deviceId);
    if (!d || d.state !== 'updating' || d.commandId !== commandId || ok) return;
    const why = result && typeof result === 'object' && 'error' in result ? String((result as { error: unknown }).error) : 'refused';
    this.end(d, 'failed', `the board refused ota_update: ${why}`);
  }

  pause(): void {
    if (this.state !== 'running') throw firmwareError('ROLLOUT_STATE', this.id, this.state, 'pause');
    this.state = 'paused';
    this.publishRollout();
  }

  resume(): void {
    if (this.state !== 'paused') throw firmwareError('ROLLOUT_STATE', this.id, this.state, 'resume');
    this.state = 'running';
    this.publishRollout();
    this.pump();
  }

  stop(): void {
    if (this.state !== 'running' && this.state !== 'paused') throw firmwareError('ROLLOUT_STATE', this.id, this.state, 'stop');
    this.finish('stopped', 'stopped by an operator');
  }

  /** Failed, rolled-back and cancelled boards go again; a stopped or complete rollout runs again. */
  retryFailed(): void {
    const again = [...this.devs.values()].filter((d) => d.state === 'failed' || d.state === 'rolled_back' || d.state === 'cancelled');
    if (again.length === 0) throw firmwareError('ROLLOUT_STATE', this.id, this.state, 'retry: no board failed');
    for (const d of again) this.setDev(d, { state: 'pending', error: null, finished_at: null });
    if (this.state !== 'paused') this.state = 'running';
    this.stopReason = null;
    this.finishedAt = null;
    this.publishRollout();
    this.pump();
  }

  snapshot(): RolloutSnapshot {
    return { id: this.id, req: this.req, view: this.view() };
  }

  restore(v: Rollout): void {
    this.state = v.state;
    this.stopReason = v.stop_reason;
    this.wave = v.wave;
    this.createdAtOverride = Date.parse(v.created_at);
    this.finishedAt = v.finished_at === null ? null : Date.parse(v.finished_at);
    this.waves.push(...v.waves);
    for (const d of v.devices) {
      const dev: Dev = { ...d, commandId: null, token: null, rebooted: d.state === 'updating', interrupted: d.state === 'updating', deadline: undefined };
      this.devs.set(d.device_id, dev);
      if (d.state === 'updating') dev.deadline = this.deps.clock.setTimeout(() => this.end(dev, 'failed', 'the gateway restarted during the update and the board did not come back'), this.o.timeout_ms);
    }
  }

  clearTimers(): void {
    for (const d of this.devs.values()) this.deps.clock.clear(d.deadline);
  }

  private setDev(d: Dev, patch: Partial<RolloutDevice>): void {
    Object.assign(d, patch);
    this.deps.publish({ event: 'device', rollout_id: this.id, device: devView(d) });
  }

  private counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const d of this.devs.values()) c[d.state] = (c[d.state] ?? 0) + 1;
    return c;
  }

  private publishRollout(): void {
    this.deps.publish({ event: 'rollout', rollout: { rollout_id: this.id, firmware_id: this.firmwareId, version: this.req.version, state: this.state, stop_reason: this.stopReason, wave: this.wave, counts: this.counts(), failures: this.failures } });
  }

  view(): Rollout {
    return {
      rollout_id: this.id,
      firmware_id: this.firmwareId,
      version: this.req.version,
      state: this.state,
      stop_reason: this.stopReason,
      target: { devices: this.req.explicit ? [...this.req.devices] : null, tag: this.req.tag },
      canary_percent: this.o.canary_percent,
      max_concurrent: this.o.max_concurrent,
      max_failures: this.o.max_failures,
      skip_up_to_date: this.o.skip_up_to_date,
      created_at: new Date(this.createdAtOverride ?? this.createdAt).toISOString(),
      finished_at: this.iso(this.finishedAt),
      wave: this.wave,
      waves: this.waves.map((w) => ({ ...w, devices: [...w.devices] })),
      counts: this.counts(),
      failures: this.failures,
      devices: [...this.devs.values()].map(devView),
    };
  }
}

function devView(d: Dev): RolloutDevice {
  const { device_id, wave, state, phase, version, from_version, bytes, total, error, attempts, started_at, finished_at } = d;
  return { device_id, wave, state, phase, version, from_version, bytes, total, error, attempts, started_at, finished_at };
}
