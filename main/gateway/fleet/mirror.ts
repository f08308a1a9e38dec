/**
 * What the other gateways of the fleet hold, as this gateway last heard it: their own keys
 * (with a TTL their heartbeats refresh) read at start and after an outage, kept current by
 * the bus's `own`/`disown` events, and pruned of gateways whose key expired.
 */

export type OwnKind = 'room' | 'sig' | 'board' | 'user';

export interface Owned {
  gw: string;
  at: number;
  /** room: room_id, identity, presence; board: ip, status; others nothing. */
  info: Record<string, unknown>;
}

export interface GatewayInfo {
  gateway_id: string;
  address: string | null;
  urls: string[];
  started_at: string;
  boards: number;
  clients: number;
  operators: number;
  sensor_watchers: number;
  health: 'ok' | 'degraded';
  reason: string | null;
  version: string;
}

export class FleetMirror {
  readonly owned = new Map<string, Owned>();
  gateways = new Map<string, GatewayInfo>();

  constructor(readonly self: string) {}

  static key(kind: OwnKind, id: string): string {
    return `${kind}:${id}`;
  }

  get(kind: OwnKind, id: string): Owned | undefined {
    const o = this.owned.get(FleetMirror.key(kind, id));
    return o && o.gw !== this.self ? o : undefined;
  }

  set(kind: OwnKind, id: string, o: Owned): Owned | undefined {
    const k = FleetMirror.key(kind, id);
    const before = this.owned.get(k);
    this.owned.set(k, o);
    return before;
  }

  /** Removes the entry if that gateway still holds it; returns it. */
  drop(kind: OwnKind, id: string, gw: string): Owned | undefined {
    const k = FleetMirror.key(kind, id);
    const o = this.owned.get(k);
    if (!o || o.gw !== gw) return undefined;
    this.owned.delete(k);
    return o;
  }

  *of(kind: OwnKind): Generator<[string, Owned]> {
    const prefix = kind + ':';
    for (const [k, o] of this.owned) if (k.startsWith(prefix) && o.gw !== this.self) yield [k.slice(prefix.length), o];
  }

  /** Entries of gateways that are gone (their heartbeat key expired). */
  prune(live: ReadonlySet<string>): [OwnKind, string, Owned][] {
    const out: [OwnKind, string, Owned][] = [];
    for (const [k, o] of this.owned) {
      if (live.has(o.gw)) continue;
      this.owned.delete(k);
      const at = k.indexOf(':');
      out.push([k.slice(0, at) as OwnKind, k.slice(at + 1), o]);
    }
    return out;
  }

  roomMembers(roomId: string): { deviceId: string; identity: string; presence: boolean; gw: string }[] {
    const out = [];
    for (const [id, o] of this.of('room')) if (o.info.room_id === roomId) out.push({ deviceId: id, identity: String(o.info.identity ?? ''), presence: o.info.presence === true, gw: o.gw });
    return out;
  }

  sensorWanted(): boolean {
    for (const g of this.gateways.values()) if (g.gateway_id !== this.self && g.sensor_watchers > 0) return true;
    return false;
  }
}
