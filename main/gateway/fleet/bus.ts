/**
 * The fleet bus: one Redis Stream every gateway appends to (XADD, MAXLEN ~ a bounded history)
 * and reads from its last id (XREAD BLOCK). A gateway that lost Redis for a while resumes from
 * that id, so what others published meanwhile still arrives. What cannot arrive is said once
 * as a gap: the history was trimmed past the last id, Redis came back empty (a new epoch), or
 * a gateway had to drop events it could not hand to Redis (its sequence numbers jump).
 *
 * Liveness: a PING every heartbeat with a deadline; the gateway's own key and the keys of
 * what it holds are refreshed then with a TTL, so a gateway that dies leaves no ghosts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export const STREAM = 'courtside:fleet';
export const EPOCH_KEY = 'courtside:epoch';
export const GATEWAY_PREFIX = 'courtside:gw:';
export const OWN_PREFIX = 'courtside:own:';

export interface BusEvent {
  /** Stream id. */
  id: string;
  gw: string;
  seq: number;
  kind: string;
  data: Record<string, unknown>;
}

export type GapReason = 'trimmed' | 'epoch' | 'dropped';

export interface BusOptions {
  url: string;
  gatewayId: string;
  log: Logger;
  /** Entries the stream keeps (approximately). */
  history?: number;
  /** Events waiting for Redis at most while it does not answer; past it they are dropped (and told as a gap). */
  maxPending?: number;
  /** PING and key refresh period. */
  heartbeatMs?: number;
  onEvent(e: BusEvent): void;
  onGap(reason: GapReason, detail: { gatewayId?: string; lost?: number }): void;
  /** Redis answered again after it did not (`up`), or stopped answering. */
  onState(up: boolean, reason: string | null): void;
  /** Each heartbeat while up: refresh keys (the pipeline is sent with the PING's answer). */
  onHeartbeat(p: ReturnType<Redis['pipeline']>): void;
  /** After Redis answers again (`recovered`), and once at start: rebuild what others hold. */
  onResync(recovered: boolean): Promise<void>;
}

function idParts(id: string): [number, number] {
  const [a, b] = id.split('-');
  return [Number(a), Number(b ?? 0)];
}

/** Stream id order (ms-seq). */
export function compareIds(a: string, b: string): number {
  const [a1, a2] = idParts(a);
  const [b1, b2] = idParts(b);
  return a1 - b1 || a2 - b2;
}

function field(f: string[], k: string): string | undefined {
  for (let i = 0; i < f.length; i += 2) if (f[i] === k) return f[i + 1];
  return undefined;
}

export class FleetBus {
  readonly cmd: Redis;
  private readonly reader: Redis;
  private lastId = '0-0';
  /** The stream's last deleted id when trimming was last told: the same loss is told once. */
  private trimTold = '0-0';
  private epoch: string | null = null;
  private seq = 0;
  /** Sequence numbers restart with the process: the instance tells a restart from a duplicate. */
  private readonly instance = randomBytes(4).toString('hex');
  private readonly seen = new Map<string, number>();
  private pending = 0;
  private dropped = 0;
  private running = false;
  private up = false;
  private downs = 0;
  private downSince: number | null = null;
  private reason: string | null = 'not connected yet';
  private timer: NodeJS.Timeout | undefined;
  private readLoop: Promise<void> | null = null;
  private readonly history: number;
  private readonly maxPending: number;
  readonly heartbeatMs: number;
  /** Events received, published, and lost (told as gaps), for health and the bench. */
  readonly counts = { received: 0, published: 0, dropped: 0, gaps: 0 };

  constructor(private readonly o: BusOptions) {
    this.history = o.history ?? 10_000;
    this.maxPending = o.maxPending ?? 20_000;
    this.heartbeatMs = o.heartbeatMs ?? 1000;
    // No per-command timeout and an offline queue: publishes made while Redis is away wait in
    // order (bounded by maxPending here) instead of failing and being sent twice later.
    const common = { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: (n: number) => Math.min(200 * n, 1000) };
    this.cmd = new Redis(o.url, { ...common, connectionName: `courtside-${o.gatewayId}` });
    this.reader = new Redis(o.url, { ...common, connectionName: `courtside-${o.gatewayId}-reader` });
    for (const c of [this.cmd, this.reader]) c.on('error', () => undefined);
  }

  /** How many times Redis stopped answering: an answer read across an outage is stale. */
  get outages(): number {
    return this.downs;
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Why the bus is not up (null when it is). */
  get downReason(): string | null {
    return this.up ? null : this.reason;
  }

  async start(): Promise<void> {
    this.running = true;
    await Promise.all([this.cmd.connect(), this.reader.connect()]);
    // Start at the stream's end: what was published before this gateway started is not its to deliver.
    const last = (await this.cmd.xrevrange(STREAM, '+', '-', 'COUNT', 1))[0];
    this.lastId = last?.[0] ?? '0-0';
    this.epoch = await this.ensureEpoch();
    this.setUp(true, null);
    await this.o.onResync(false);
    this.readLoop = this.read();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  private async ensureEpoch(): Promise<string> {
    await this.cmd.set(EPOCH_KEY, randomBytes(6).toString('hex'), 'NX');
    return (await this.cmd.get(EPOCH_KEY)) ?? '';
  }

  /** Appends an event; while Redis is away it waits (up to maxPending), past that it is dropped and counted. */
  publish(kind: string, data: Record<string, unknown>): void {
    const seq = ++this.seq;
    if (this.pending >= this.maxPending) {
      this.dropped++;
      this.counts.dropped++;
      return;
    }
    this.pending++;
    this.counts.published++;
    this.cmd
      .xadd(STREAM, 'MAXLEN', '~', String(this.history), '*', 'g', this.o.gatewayId, 'i', this.instance, 's', String(seq), 'k', kind, 'd', JSON.stringify(data))
      .catch(() => undefined)
      .finally(() => this.pending--);
  }

  private async beat(): Promise<void> {
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.heartbeatMs * 1.5)));
    const p = this.cmd.pipeline();
    this.o.onHeartbeat(p);
    // The epoch rides in the beat: a Redis restarted empty between two beats may never have
    // looked down from here, and only its epoch says so.
    p.set(EPOCH_KEY, randomBytes(6).toString('hex'), 'NX');
    p.get(EPOCH_KEY);
    const answered = p.exec().then(
      (res) => ({ r: 'ok' as const, epoch: res?.[res.length - 1]?.[1] }),
      () => ({ r: 'failed' as const, epoch: undefined }),
    );
    const got = await Promise.race([answered, deadline.then(() => ({ r: 'late' as const, epoch: undefined }))]);
    clearTimeout(timer);
    if (got.r === 'ok') {
      if (!this.up) await this.recover();
      else if (typeof got.epoch === 'string' && this.observeEpoch(got.epoch)) await this.o.onResync(true).catch(() => undefined);
    } else if (this.up || this.downSince === null) {
      this.downSince ??= Date.now();
      this.setUp(false, got.r === 'late' ? `redis did not answer within ${Math.round(this.heartbeatMs * 1.5)} ms` : 'redis connection failed');
    }
  }

  /** True if `epoch` is another than the one this gateway knew (Redis came back empty); told as a gap. */
  private observeEpoch(epoch: string): boolean {
    const changed = this.epoch !== null && epoch !== this.epoch;
    if (changed) {
      this.gap('epoch', {});
      // A new stream: the others' sequences say nothing more of what the old one lost.
      this.seen.clear();
    }
    this.epoch = epoch;
    return changed;
  }

  private async recover(): Promise<void> {
    try {
      this.observeEpoch(await this.ensureEpoch());
      // Trimming past our last id shows in the read loop (the others' sequences jump).
      if (this.dropped > 0) {
        // Others see our sequence jump; tell our own clients too.
        this.gap('dropped', { gatewayId: this.o.gatewayId, lost: this.dropped });
        this.dropped = 0;
      }
      this.downSince = null;
      this.setUp(true, null);
      await this.o.onResync(true);
    } catch (err) {
      this.o.log.warn('fleet: resynchronising after a Redis outage failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private gap(reason: GapReason, detail: { gatewayId?: string; lost?: number }): void {
    this.counts.gaps++;
    this.o.log.warn('fleet: events were lost', { reason, ...detail });
    this.o.onGap(reason, detail);
  }

  private setUp(up: boolean, reason: string | null): void {
    const changed = up !== this.up;
    if (changed && !up) this.downs++;
    this.up = up;
    this.reason = reason;
    if (changed) {
      this.o.log[up ? 'info' : 'warn'](up ? 'fleet: redis answers' : 'fleet: redis unavailable', reason ? { reason } : {});
      this.o.onState(up, reason);
    }
  }

  private async read(): Promise<void> {
    while (this.running) {
      let res: [string, [string, string[]][]][] | null;
      try {
        res = (await this.reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', STREAM, this.lastId)) as typeof res;
      } catch {
        if (!this.running) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const [, entries] of res ?? []) {
        const trimmed = await this.trimmedBefore(entries).catch(() => false);
        for (const [id, fields] of entries) {
          this.lastId = id;
          this.deliver(id, fields, trimmed);
        }
      }
    }
  }

  /**
   * A batch in which another gateway's sequence jumps: either that gateway dropped events, or
   * this one fell so far behind (Redis away, the process frozen, the loop stalled) that the
   * history was trimmed past its last id. The stream's last deleted id tells which; trimming
   * is told once as such (with how many of the others' events it took), not as drops.
   */
  private async trimmedBefore(entries: [string, string[]][]): Promise<boolean> {
    let lost = 0;
    const next = new Map<string, number>();
    for (const [, f] of entries) {
      const gw = field(f, 'g') ?? '';
      if (gw === this.o.gatewayId) continue;
      const who = `${gw}/${field(f, 'i') ?? ''}`;
      const seq = Number(field(f, 's'));
      const prev = next.get(who) ?? this.seen.get(who);
      if (prev !== undefined && seq > prev + 1) lost += seq - prev - 1;
      if (prev === undefined || seq > prev) next.set(who, seq);
    }
    if (lost === 0) return false;
    // The stream's oldest entry newer than our last id: what came between was trimmed away.
    // (Redis 7.0 leaves max-deleted-entry-id alone on MAXLEN trimming, so it cannot tell.)
    const first = (await this.cmd.xrange(STREAM, '-', '+', 'COUNT', 1))[0]?.[0];
    if (first === undefined || compareIds(first, this.lastId) <= 0) return false;
    if (compareIds(first, this.trimTold) > 0) {
      this.trimTold = first;
      this.gap('trimmed', { lost });
    }
    return true;
  }

  private deliver(id: string, f: string[], trimmed = false): void {
    const get = (k: string) => field(f, k);
    const gw = get('g') ?? '';
    if (gw === this.o.gatewayId) return;
    const seq = Number(get('s'));
    const who = `${gw}/${get('i') ?? ''}`;
    const prev = this.seen.get(who);
    // A publish resent after a reconnect may land twice: the sequence drops the copy.
    if (prev !== undefined && seq <= prev) return;
    this.seen.set(who, seq);
    if (prev !== undefined && seq > prev + 1 && !trimmed) this.gap('dropped', { gatewayId: gw, lost: seq - prev - 1 });
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(get('d') ?? '{}') as Record<string, unknown>;
    } catch {
      return;
    }
    this.counts.received++;
    try {
      this.o.onEvent({ id, gw, seq, kind: get('k') ?? '', data });
    } catch (err) {
      this.o.log.warn('fleet: event handler failed', { kind: get('k'), error: err instanceof Error ? err.message : String(err) });
    }
  }

  async close(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    this.reader.disconnect();
    await this.readLoop?.catch(() => undefined);
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }
}
