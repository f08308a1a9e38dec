/**
 * Browsing for boards: Courtside boards (`_courtside-dev._tcp`) and common
 * ESP32 firmware (ESPHome, Arduino OTA, WLED, plain HTTP).
 *
 * bonjour-service's Browser is not used: it never refreshes lastSeen on a
 * repeated answer, expires on Date.now(), and only resolves a service whose
 * PTR and SRV arrive in the same packet. The cache below keeps each record's
 * own TTL, asks for what is missing or about to expire, and runs on an
 * injected clock, so expiry is tested without waiting.
 */
import { EventEmitter } from 'node:events';
import { discoveredDeviceId } from '../../../firmware-protocol/discovery.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { MdnsEndpoint, MdnsPacket, MdnsPool, MdnsQuestion, MdnsRecord } from './mdns-pool.js';

export interface DiscoveredService {
  /** DNS-SD instance name, e.g. `racket-1`. */
  name: string;
  /** Full service name, e.g. `racket-1._courtside-dev._tcp.local`. */
  fqdn: string;
  /** SRV target, e.g. `racket-1.local`. */
  host: string;
  /** IPv4 addresses of the host (A records), or the responder's address if it sent none. */
  addresses: string[];
  port: number;
  /** e.g. `_courtside-dev._tcp`. */
  serviceType: string;
  txt: Record<string, string>;
  /** Clock ms. */
  firstSeen: number;
  lastSeen: number;
  /** TXT `id`, else the instance name. */
  deviceId: string;
  /** Interface the last answer came in on. */
  interface: string;
}

export type RemovedReason = 'goodbye' | 'expired';

export interface BrowseEvents {
  added: [DiscoveredService];
  removed: [DiscoveredService, RemovedReason];
  updated: [DiscoveredService, DiscoveredService];
}

interface Entry {
  fqdn: string;
  name: string;
  serviceType: string;
  ptrExpires: number;
  srv?: { host: string; port: number; expires: number; ttlMs: number };
  txt?: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  link: string;
  source: string;
  shown?: DiscoveredService;
  askedAt?: number;
}

const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
/** Entries that never resolve (PTR but no SRV) are dropped after this long. */
const UNRESOLVED_MAX_MS = 60_000;
/** Refresh SRV once less than this share of its TTL is left (RFC 6762 §5.2 asks at 80%). */
const REFRESH_AT = 0.2;
const ASK_GAP_MS = 5_000;

export function decodeTxt(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = Array.isArray(data) ? data : data === undefined ? [] : [data];
  for (const p of parts) {
    const s = Buffer.isBuffer(p) ? p.toString('utf8') : typeof p === 'string' ? p : '';
    if (!s) continue;
    const eq = s.indexOf('=');
    const k = (eq < 0 ? s : s.slice(0, eq)).toLowerCase();
    // RFC 6763 §6.4: the first occurrence of a key wins.
    if (k && !(k in out)) out[k] = eq < 0 ? '' : s.slice(eq + 1);
  }
  return out;
}

function sameView(a: DiscoveredService, b: DiscoveredService): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.addresses.join() === b.addresses.join() &&
    JSON.stringify(Object.entries(a.txt).sort()) === JSON.stringify(Object.entries(b.txt).sort())
  );
}

/** Service instances seen in mDNS responses, by full name. Pure apart from the clock. */
export class ServiceCache extends EventEmitter<BrowseEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly hosts = new Map<string, Map<string, number>>();
  /** `_wled._tcp.local` -> `_wled._tcp` */
  private readonly types: Map<string, string>;

  constructor(
    types: readonly string[],
    private readonly clock: Clock,
  ) {
    super();
    this.types = new Map(types.map((t) => [key(`${t}.local`), t]));
  }

  typeQuestions(): MdnsQuestion[] {
    return [...this.types.keys()].map((name) => ({ name, type: 'PTR' }));
  }

  devices(): DiscoveredService[] {
    const out: DiscoveredService[] = [];
    for (const e of this.entries.values()) if (e.shown) out.push(this.view(e));
    return out.sort((a, b) => a.serviceType.localeCompare(b.serviceType) || a.name.localeCompare(b.name));
  }

  ingest(packet: MdnsPacket, from: { address: string; link: string }): void {
    const now = this.clock.now();
    const records: MdnsRecord[] = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
    const touched = new Set<Entry>();
    const hostsTouched = new Set<string>();
    const flushed = new Set<string>();

    for (const r of records) {
      if (r.type !== 'A' || typeof r.data !== 'string') continue;
      const h = key(r.name);
      let addrs = this.hosts.get(h);
      if (!addrs) this.hosts.set(h, (addrs = new Map()));
      // Cache-flush: this packet's set replaces what was known for the host.
      if (r.flush && (r.ttl ?? 0) > 0 && !flushed.has(h)) {
        flushed.add(h);
        addrs.clear();
      }
      if ((r.ttl ?? 0) === 0) addrs.delete(r.data);
      else addrs.set(r.data, now + r.ttl! * 1000);
      hostsTouched.add(h);
    }

    for (const r of records) {
      if (r.type !== 'PTR' || typeof r.data !== 'string') continue;
      const type = this.types.get(key(r.name));
      if (!type) continue;
      if ((r.ttl ?? 0) === 0) {
        this.remove(key(r.data), 'goodbye');
        continue;
      }
      const e = this.upsert(r.data, type, now, from);
      e.ptrExpires = now + r.ttl! * 1000;
      touched.add(e);
    }

    for (const r of records) {
      if (r.type !== 'SRV' && r.type !== 'TXT') continue;
      let e = this.entries.get(key(r.name));
      if (!e && r.type === 'SRV' && (r.ttl ?? 0) > 0) {
        // An SRV seen without its PTR (an answer to someone else's query) still names a browsed type.
        const type = this.typeOfInstance(r.name);
        if (type) {
          e = this.upsert(r.name, type, now, from);
          e.ptrExpires = now + r.ttl! * 1000;
        }
      }
      if (!e) continue;
      if (r.type === 'SRV') {
        const d = r.data as { target?: unknown; port?: unknown } | undefined;
        if ((r.ttl ?? 0) === 0) {
          this.remove(key(e.fqdn), 'goodbye');
          continue;
        }
        if (typeof d?.target !== 'string' || typeof d.port !== 'number') continue;
        e.srv = { host: d.target, port: d.port, expires: now + r.ttl! * 1000, ttlMs: r.ttl! * 1000 };
      } else if ((r.ttl ?? 0) > 0) {
        e.txt = decodeTxt(r.data);
      }
      touched.add(e);
    }

    for (const e of this.entries.values()) if (e.srv && hostsTouched.has(key(e.srv.host))) touched.add(e);
    for (const e of touched) {
      if (!this.entries.has(key(e.fqdn))) continue;
      e.lastSeen = now;
      e.link = from.link;
      e.source = from.address;
      this.show(e);
    }
  }

  /**
   * Drops what has expired and returns the questions that would refresh or
   * complete the rest, per interface (the caller sends them there).
   */
  tick(): Map<string, MdnsQuestion[]> {
    const now = this.clock.now();
    for (const [h, addrs] of this.hosts) {
      let changed = false;
      for (const [a, exp] of addrs) {
        if (exp > now) continue;
        addrs.delete(a);
        changed = true;
      }
      if (addrs.size === 0) this.hosts.delete(h);
      if (changed) for (const e of this.entries.values()) if (e.srv && key(e.srv.host) === h) this.show(e);
    }
    const ask = new Map<string, MdnsQuestion[]>();
    for (const [k, e] of this.entries) {
      const expires = e.srv ? Math.min(e.ptrExpires, e.srv.expires) : Math.min(e.ptrExpires, e.firstSeen + UNRESOLVED_MAX_MS);
      if (now >= expires) {
        this.remove(k, 'expired');
        continue;
      }
      const q: MdnsQuestion[] = [];
      if (!e.srv || e.srv.expires - now < e.srv.ttlMs * REFRESH_AT) q.push({ name: e.fqdn, type: 'SRV' });
      if (!e.txt) q.push({ name: e.fqdn, type: 'TXT' });
      if (e.srv && !this.hosts.has(key(e.srv.host))) q.push({ name: e.srv.host, type: 'A' });
      if (q.length && (e.askedAt === undefined || now - e.askedAt >= ASK_GAP_MS)) {
        e.askedAt = now;
        ask.set(e.link, [...(ask.get(e.link) ?? []), ...q]);
      }
    }
    return ask;
  }

  private typeOfInstance(fqdn: string): string | undefined {
    const k = key(fqdn);
    for (const [suffix, type] of this.types) if (k.endsWith(`.${suffix}`)) return type;
    return undefined;
  }

  private upsert(fqdn: string, serviceType: string, now: number, from: { address: string; link: string }): Entry {
    const k = key(fqdn);
    let e = this.entries.get(k);
    if (!e) {
      const suffix = `.${serviceType}.local`;
      const bare = fqdn.replace(/\.$/, '');
      const name = bare.toLowerCase().endsWith(suffix.toLowerCase()) ? bare.slice(0, -suffix.length) : bare;
      e = { fqdn: bare, name, serviceType, ptrExpires: now, firstSeen: now, lastSeen: now, link: from.link, source: from.address };
      this.entries.set(k, e);
    }
    return e;
  }

  private view(e: Entry): DiscoveredService {
    const srv = e.srv!;
    const known = this.hosts.get(key(srv.host));
    const addresses = known && known.size > 0 ? [...known.keys()].sort() : [e.source];
    const txt = e.txt ?? {};
    return {
      name: e.name,
      fqdn: e.fqdn,
      host: srv.host,
      addresses,
      port: srv.port,
      serviceType: e.serviceType,
      txt,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
      deviceId: discoveredDeviceId(txt, e.name),
      interface: e.link,
    };
  }

  private show(e: Entry): void {
    if (!e.srv) return;
    const v = this.view(e);
    const prev = e.shown;
    e.shown = v;
    if (!prev) this.emit('added', v);
    else if (!sameView(prev, v)) this.emit('updated', v, prev);
  }

  private remove(k: string, reason: RemovedReason): void {
    const e = this.entries.get(k);
    if (!e) return;
    this.entries.delete(k);
    if (e.shown) this.emit('removed', this.view(e), reason);
  }
}

export interface BrowseConfig {
  /** Service types such as `_wled._tcp`. */
  types: readonly string[];
  /** Gap between PTR queries on every link. */
  requeryIntervalMs: number;
  /** How often expiry and refreshes are checked. */
  tickMs: number;
}

/** Feeds a ServiceCache from the pool's sockets and sends its queries. */
export class ServiceBrowser extends EventEmitter<BrowseEvents> {
  readonly cache: ServiceCache;
  private readonly subs = new Map<MdnsEndpoint, (p: MdnsPacket, r: { address: string }) => void>();
  private readonly timers: TimerHandle[] = [];
  private closed = false;

  constructor(
    private readonly pool: MdnsPool,
    private readonly cfg: BrowseConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    super();
    this.cache = new ServiceCache(cfg.types, clock);
    this.cache.on('added', (s) => this.emit('added', s));
    this.cache.on('removed', (s, why) => this.emit('removed', s, why));
    this.cache.on('updated', (s, prev) => this.emit('updated', s, prev));
  }

  start(): void {
    this.pool.attach({ up: (ep) => this.listen(ep), down: (ep) => this.unlisten(ep) });
    this.timers.push(this.clock.setInterval(() => this.requery(), this.cfg.requeryIntervalMs));
    this.timers.push(this.clock.setInterval(() => this.tick(), this.cfg.tickMs));
  }

  devices(): DiscoveredService[] {
    return this.cache.devices();
  }

  /** Asks every link for every browsed type now. */
  requery(): void {
    for (const ep of this.subs.keys()) this.send(ep, this.cache.typeQuestions());
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) this.clock.clear(t);
    for (const ep of [...this.subs.keys()]) this.unlisten(ep);
  }

  private listen(ep: MdnsEndpoint): void {
    if (this.closed) return;
    const fn = (packet: MdnsPacket, rinfo: { address: string }) => {
      if (this.pool.accepts(ep, rinfo.address)) this.cache.ingest(packet, { address: rinfo.address, link: ep.link.name });
    };
    ep.mdns.on('response', fn);
    this.subs.set(ep, fn);
    this.send(ep, this.cache.typeQuestions());
    // A second query soon after covers a lost first one without waiting a full interval.
    this.timers.push(this.clock.setTimeout(() => this.subs.has(ep) && this.send(ep, this.cache.typeQuestions()), 1000));
  }

  private unlisten(ep: MdnsEndpoint): void {
    const fn = this.subs.get(ep);
    if (fn) ep.mdns.removeListener('response', fn);
    this.subs.delete(ep);
  }

  private tick(): void {
    const ask = this.cache.tick();
    for (const [link, questions] of ask) {
      const ep = [...this.subs.keys()].find((e) => e.link.name === link);
      if (ep) this.send(ep, questions);
    }
  }

  private send(ep: MdnsEndpoint, questions: MdnsQuestion[]): void {
    if (questions.length === 0) return;
    ep.mdns.query({ questions }, (err) => {
      if (err) this.log.debug('mdns: query failed', { interface: ep.link.name, err: err.message });
    });
  }
}
