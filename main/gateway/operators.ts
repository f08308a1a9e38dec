/**
 * Operators on /ws/admin/: topic subscriptions and live events. Sensor
 * batches are coalesced into `sensor_samples` frames, gathered only while the
 * loop is busy and with no timer: what arrives in one turn of the event loop
 * shares a frame, and when frames trickle in one per turn (boards sending
 * while the last one is handled) the next turns' join it, up to the first
 * turn that brings none (look()). An idle loop sends a batch after one
 * empty turn. A write to an operator costs about as much as everything else
 * a batch costs; gathered, the write is shared. `sensorFlushMs`, when set, is
 * a fixed window instead. Each batch is serialized once per flush, whatever
 * the number of operators and topics that take it.
 */
import type { SensorBatch } from '../../firmware-protocol/index.js';
import type { SamplesDroppedFrame } from '../../firmware-protocol/flow.js';
import type { Base } from './base.js';
import type { OperatorFleet } from './fleet/hooks.js';

export type { SensorBatch };
import type { Peer } from './peer.js';


/**
 * A batch on its way to the operators, as a class instance, not an object literal: V8 can
 * decide to make a literal's objects straight in the old generation after a collection that
 * finds most of them alive, and one that runs while a turn's batches wait for their fan-out
 * finds all of them alive. Made there, each batch kept its young samples alive through the
 * scavenges that followed (about 3 MB a second promoted at 50 boards). A constructor has no
 * such allocation site. The fields in the order of the operator frame's keys.
 */
export class LiveBatch implements SensorBatch {
  constructor(
    readonly device_id: string,
    readonly seq: number | null,
    readonly session_id: string | null,
    readonly start_ms: number,
    readonly rate_hz: number,
    readonly samples: number[][],
  ) {}
}

/** A busy loop still sends what it gathered once the oldest batch waited this long, or this many wait. */
const GATHER_MAX_MS = 0.3;
const GATHER_MAX_BATCHES = 512;

interface OperatorConn {
  peer: Peer;
  topics: Set<string>;
  /** Sensor batches left out while this operator read too slowly, told once it catches up. */
  dropped: { batches: number; samples: number; since: number } | null;
}

export class OperatorHub {
  private readonly conns = new Set<OperatorConn>();
  private readonly byPeer = new Map<Peer, OperatorConn>();
  private pending: SensorBatch[] = [];
  /** Per pending batch: its text from start_ms on as the board wrote it (sample-text.ts), when known. */
  private pendingTails: (string | undefined)[] = [];
  private flushScheduled = false;
  /** Batches pushed since the last turn looked: none means the loop went idle, so the gathered ones go. */
  private arrived = 0;
  /** When the oldest pending batch came (performance.now()): a busy loop still flushes past GATHER_MAX_MS. */
  private gatherFrom = 0;
  private readonly lookNow = (): void => this.look();
  /** Operators subscribed to any sensor topic; kept so boards pay nothing when nobody watches. */
  private sensorWatchers = 0;
  private readonly flushNow = (): void => this.flushSensor();

  constructor(private readonly ctx: Pick<Base, 'clock' | 'options'> & { readonly fleet?: OperatorFleet }) {}

  add(peer: Peer): void {
    const c: OperatorConn = { peer, topics: new Set<string>(), dropped: null };
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
    if (this.sensorWatchers !== n) this.ctx.fleet?.watchers(n);
    this.sensorWatchers = n;
  }

  /** Sends `{type:'event', topic, ...payload}` to operators subscribed to the topic (of every gateway of a fleet). */
  publish(topic: string, payload: Record<string, unknown>): void {
    if (this.ctx.fleet) this.ctx.fleet.event(topic, payload, new Date(this.ctx.clock.now()).toISOString());
    this.publishLocal(topic, payload);
  }

  /** To this gateway's operators only (an event another gateway published comes in here). */
  publishLocal(topic: string, payload: Record<string, unknown>, at?: string): void {
    if (this.conns.size === 0) return;
    let text: string | undefined;
    for (const c of this.conns) {
      if (!c.topics.has(topic)) continue;
      text ??= JSON.stringify({ type: 'event', topic, at: at ?? new Date(this.ctx.clock.now()).toISOString(), ...payload });
      c.peer.sendText(text);
    }
  }

  /** To every operator, subscribed or not (the badminton protocol's system_notification). */
  notifyAll(frame: Record<string, unknown>): number {
    return this.notifyAllLocal(frame) + (this.ctx.fleet?.notifyAll(frame) ?? 0);
  }

  notifyAllLocal(frame: Record<string, unknown>): number {
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

  /** `tailJson`: the batch's text from start_ms on (batchTail: the board's own), so it is not printed again. */
  pushSensor(batch: SensorBatch, tailJson?: string): void {
    this.ctx.fleet?.sensor(batch);
    this.pushSensorLocal(batch, tailJson);
  }

  pushSensorLocal(batch: SensorBatch, tailJson?: string): void {
    if (this.sensorWatchers === 0) return;
    this.pending.push(batch);
    this.pendingTails.push(tailJson);
    this.arrived++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Turns of the loop by default (look()); a real timer when a window is set: this is
      // batching, not behaviour a test drives with its clock.
      const ms = this.ctx.options.sensorFlushMs;
      if (ms > 0) setTimeout(this.flushNow, ms).unref();
      else {
        this.gatherFrom = performance.now();
        setImmediate(this.lookNow);
      }
    }
  }

  /**
   * After each turn of the loop that has batches waiting. A turn that brought one batch is a
   * trickle (frames of other boards come in one per turn while these are handled): another
   * turn, which costs a poll that does not block, gathers what came meanwhile. A turn that
   * brought none (the loop is idle) or several at once (what was waiting came in together)
   * sends at once, as does a gather past GATHER_MAX_MS.
   */
  private look(): void {
    const more = this.arrived;
    this.arrived = 0;
    if (more === 1 && this.pending.length < GATHER_MAX_BATCHES && performance.now() - this.gatherFrom < GATHER_MAX_MS) {
      setImmediate(this.lookNow);
      return;
    }
    this.flushSensor();
  }

  private flushSensor(): void {
    this.flushScheduled = false;
    this.arrived = 0;
    const batches = this.pending;
    const texts = this.pendingTails;
    this.pending = [];
    this.pendingTails = [];
    if (batches.length === 0) return;
    let all: string | undefined;
    // Each batch serialized once, whatever the operators and topics that take it; no closures per
    // flush. `texts` holds a batch's text from start_ms on until its whole text replaces it (frameOf).
    // Live samples are the first thing a slow operator loses: past a quarter of the send-buffer
    // cap they are left out (and counted), so events and replies still fit before the cap closes it.
    const dropAt = this.ctx.options.maxSendBufferBytes / 4;
    let done: Uint8Array | undefined;
    for (const c of this.conns) {
      let idx: number[] | null = null;
      if (!c.topics.has('sensor')) {
        idx = [];
        for (let i = 0; i < batches.length; i++) if (c.topics.has('sensor:' + batches[i]!.device_id)) idx.push(i);
        if (idx.length === 0) continue;
      }
      if (dropAt > 0 && c.peer.buffered > dropAt) {
        const mine = idx === null ? batches : idx.map((i) => batches[i]!);
        c.dropped ??= { batches: 0, samples: 0, since: this.ctx.clock.now() };
        c.dropped.batches += mine.length;
        for (const b of mine) c.dropped.samples += b.samples.length;
        continue;
      }
      if (c.dropped) {
        const d = c.dropped;
        c.dropped = null;
        const frame: SamplesDroppedFrame = { type: 'samples_dropped', batches: d.batches, samples: d.samples, since: new Date(d.since).toISOString(), reason: 'the operator read too slowly: live sample batches were left out' };
        c.peer.send(frame);
      }
      if (idx === null) c.peer.sendLive((all ??= frameOf(batches, texts, null, (done ??= new Uint8Array(batches.length)))));
      else c.peer.sendLive(frameOf(batches, texts, idx, (done ??= new Uint8Array(batches.length))));
    }
  }
}

/**
 * One `sensor_samples` frame of the batches `idx` names (null: all of them), each serialized
 * at most once: `texts[i]` comes in as batch i's text from start_ms on (or undefined) and is replaced by
 * the batch's whole text, marked done in `done`.
 */
function frameOf(batches: SensorBatch[], texts: (string | undefined)[], idx: number[] | null, done: Uint8Array): string {
  let out = '{"type":"sensor_samples","batches":[';
  const n = idx === null ? batches.length : idx.length;
  for (let k = 0; k < n; k++) {
    const i = idx === null ? k : idx[k]!;
    if (k > 0) out += ',';
    if (done[i] === 0) {
      done[i] = 1;
      texts[i] = batchText(batches[i]!, texts[i]);
    }
    out += texts[i]!;
  }
  return out + ']}';
}

const num = (n: number | null): string => (n !== null && Number.isFinite(n) ? `${n}` : 'null');

/** JSON.stringify(b), with the text from start_ms on taken as given when it is (the same keys, in the same order). */
function batchText(b: SensorBatch, tail: string | undefined): string {
  if (tail === undefined) return JSON.stringify(b);
  return `{"device_id":${JSON.stringify(b.device_id)},"seq":${num(b.seq)},"session_id":${b.session_id === null ? 'null' : JSON.stringify(b.session_id)},${tail}}`;
}
