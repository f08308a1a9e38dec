/**
 * Operators on /ws/admin/: topic subscriptions and live events. Sensor
 * batches are coalesced: every batch that arrives in one turn of the event
 * window (`sensorFlushMs`) goes out in one `sensor_samples` frame, serialized
 * once for all operators who take every board (charts want batches, not a
 * frame per sample).
 */
import type { SensorBatch } from '../../firmware-protocol/index.js';
import type { Base } from './base.js';

export type { SensorBatch };
import type { Peer } from './peer.js';


interface OperatorConn {
  peer: Peer;
  topics: Set<string>;
}

export class OperatorHub {
  private readonly conns = new Set<OperatorConn>();
  private readonly byPeer = new Map<Peer, OperatorConn>();
  private pending: SensorBatch[] = [];
  private flushScheduled = false;
  /** Operators subscribed to any sensor topic; kept so boards pay nothing when nobody watches. */
  private sensorWatchers = 0;

  constructor(private readonly ctx: Pick<Base, 'clock' | 'options'>) {}

  add(peer: Peer): void {
    const c = { peer, topics: new Set<string>() };
    this.conns.add(c);
    this.byPeer.set(peer, c);
  }

  remove(peer: Peer): void {
    const c = this.byPeer.get(peer);
    if (!c) return;
    this.byPeer.delete(peer);
    this.conns.delete(c);
    this.recount();
  }

  count(): number {
    return this.conns.size;
  }

  subscribe(peer: Peer, topics: string[]): string[] {
    const c = this.byPeer.get(peer);
    if (!c) return [];
    for (const t of topics) c.topics.add(t);
    this.recount();
    return [...c.topics];
  }

  unsubscribe(peer: Peer, topics: string[]): string[] {
    const c = this.byPeer.get(peer);
    if (!c) return [];
    for (const t of topics) c.topics.delete(t);
    this.recount();
    return [...c.topics];
  }

  private recount(): void {
    let n = 0;
    for (const c of this.conns) for (const t of c.topics) if (t === 'sensor' || t.startsWith('sensor:')) n++;
    this.sensorWatchers = n;
  }

  /** Sends `{type:'event', topic, ...payload}` to operators subscribed to the topic. */
  publish(topic: string, payload: Record<string, unknown>): void {
    if (this.conns.size === 0) return;
    let text: string | undefined;
    for (const c of this.conns) {
      if (!c.topics.has(topic)) continue;
      text ??= JSON.stringify({ type: 'event', topic, at: new Date(this.ctx.clock.now()).toISOString(), ...payload });
      c.peer.sendText(text);
    }
  }

  /** To every operator, subscribed or not (the badminton protocol's system_notification). */
  notifyAll(frame: Record<string, unknown>): number {
    const text = JSON.stringify(frame);
    for (const c of this.conns) c.peer.sendText(text);
    return this.conns.size;
  }

  /** Whether any operator listens to `topic` (parts skip work nobody would hear about). */
  hasSubscribers(topic: string): boolean {
    for (const c of this.conns) if (c.topics.has(topic)) return true;
    return false;
  }

  wantsSensor(): boolean {
    return this.sensorWatchers > 0;
  }

  pushSensor(batch: SensorBatch): void {
    if (this.sensorWatchers === 0) return;
    this.pending.push(batch);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A short window, not every turn of the loop: at 50 boards x 100 Hz that is ~250 frames a
      // second to each operator instead of thousands, for a few ms of latency charts never see.
      // A real timer on purpose: this is batching, not behaviour a test drives with its clock.
      const ms = this.ctx.options.sensorFlushMs;
      if (ms > 0) setTimeout(() => this.flushSensor(), ms).unref();
      else setImmediate(() => this.flushSensor());
    }
  }

  private flushSensor(): void {
    this.flushScheduled = false;
    const batches = this.pending;
    this.pending = [];
    if (batches.length === 0) return;
    let all: string | undefined;
    for (const c of this.conns) {
      if (c.topics.has('sensor')) {
        all ??= JSON.stringify({ type: 'sensor_samples', batches });
        c.peer.sendText(all);
        continue;
      }
      let mine: SensorBatch[] | undefined;
      for (const b of batches) if (c.topics.has('sensor:' + b.device_id)) (mine ??= []).push(b);
      if (mine) c.peer.send({ type: 'sensor_samples', batches: mine });
    }
  }
}
