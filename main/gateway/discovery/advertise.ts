/**
 * Advertising the gateway as `_courtside._tcp` on every selected link.
 *
 * bonjour-service builds the records and answers queries; the announcing and
 * the goodbyes are driven from here because its publish() takes every address
 * of the machine into the A records (a board on Wi-Fi would be told about the
 * Docker bridge too) and schedules its re-announcements on real timers.
 */
import type { RemoteInfo } from 'node:dgram';
import Bonjour from 'bonjour-service';
import { GATEWAY_SERVICE_TYPE } from '../../../firmware-protocol/discovery.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { Link } from './links.js';
import type { MdnsEndpoint, MdnsPacket, MdnsPool, MdnsQuestion, MdnsRecord } from './mdns-pool.js';

export interface AdvertiseConfig {
  /** DNS-SD instance name, e.g. `Courtside gw-1`. */
  instanceName: string;
  /** SRV target, e.g. `courtside-gw-1.local`. */
  host: string;
  port: number;
  txt: Record<string, string>;
  /** Unsolicited announcements per link after it comes up (RFC 6762 §8.3 asks for at least 2). */
  announceCount: number;
  /** Gap before the second announcement; doubles after each. */
  announceIntervalMs: number;
}

const GOODBYE_WAIT_MS = 1000;
const MDNS_PORT = 5353;
const noop = () => {};

/** `_courtside._tcp` -> `courtside`, the form bonjour-service takes. */
function bareType(serviceType: string): { name: string; protocol: 'tcp' | 'udp' } {
  const m = /^_([^.]+)\._(tcp|udp)$/.exec(serviceType);
  if (!m) throw new Error(`not a DNS-SD service type: ${serviceType}`);
  return { name: m[1]!, protocol: m[2] as 'tcp' | 'udp' };
}

/**
 * The records for one link: PTR, SRV, TXT, the service-enumeration PTR, and
 * A records for that link's addresses only. SRV, TXT and A carry the
 * cache-flush bit so a changed address replaces the old one in caches at once.
 */
export function advertisementRecords(cfg: Pick<AdvertiseConfig, 'instanceName' | 'host' | 'port' | 'txt'>, link: Link, serviceType = GATEWAY_SERVICE_TYPE): MdnsRecord[] {
  const t = bareType(serviceType);
  const svc = new Bonjour.Service(
    { name: cfg.instanceName, type: t.name, protocol: t.protocol, port: cfg.port, host: cfg.host, txt: cfg.txt, disableIPv6: true, probe: false },
    noop,
    noop,
  );
  const records: MdnsRecord[] = svc.records().filter((r) => r.type !== 'A' && r.type !== 'AAAA');
  for (const a of link.addresses) records.push({ name: cfg.host, type: 'A', ttl: 120, data: a.address });
  for (const r of records) if (r.type === 'SRV' || r.type === 'TXT' || r.type === 'A') r.flush = true;
  return records;
}

interface Published {
  records: MdnsRecord[];
  timer: TimerHandle | undefined;
  onQuery: (q: MdnsPacket, from: RemoteInfo) => void;
}

/** RFC 6762 §6.7: answers to legacy unicast queries carry TTLs of at most 10 s. */
const LEGACY_TTL = 10;

/** The records answering `questions`, plus SRV/TXT/A additionals for PTR answers, as a unicast DNS server would. */
export function legacyAnswer(records: readonly MdnsRecord[], questions: readonly MdnsQuestion[]): { answers: MdnsRecord[]; additionals: MdnsRecord[] } {
  const eq = (a: string, b: string) => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');
  const plain = (r: MdnsRecord): MdnsRecord => ({ ...r, ttl: Math.min(r.ttl ?? LEGACY_TTL, LEGACY_TTL), flush: false });
  const answers = records.filter((r) => questions.some((q) => eq(q.name, r.name) && (q.type === r.type || q.type === 'ANY')));
  const additionals = answers.some((r) => r.type === 'PTR') ? records.filter((r) => (r.type === 'SRV' || r.type === 'TXT' || r.type === 'A') && !answers.includes(r)) : [];
  return { answers: answers.map(plain), additionals: additionals.map(plain) };
}

export class Advertiser {
  private readonly published = new Map<MdnsEndpoint, Published>();
  private closed = false;
  private cfg: AdvertiseConfig;

  constructor(
    private readonly pool: MdnsPool,
    cfg: AdvertiseConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.cfg = { ...cfg, txt: { ...cfg.txt } };
  }

  /** The TXT record advertised now. */
  txt(): Record<string, string> {
    return { ...this.cfg.txt };
  }

  /** The records answering on one link now (empty when that link is not advertised). */
  recordsOn(linkName: string): MdnsRecord[] {
    for (const [ep, p] of this.published) if (ep.link.name === linkName) return p.records.map((r) => ({ ...r }));
    return [];
  }

  /**
   * A new TXT record (a renewed certificate's fingerprint): the records are replaced on every
   * link and announced again. The TXT record carries the cache-flush bit, so the announcement
   * replaces the old one in every listener's cache rather than adding to it.
   */
  setTxt(txt: Record<string, string>): void {
    if (this.closed) return;
    this.cfg = { ...this.cfg, txt: { ...txt } };
    for (const ep of [...this.published.keys()]) {
      const old = this.published.get(ep)!;
      this.forget(ep);
      ep.server.unregister(old.records as never);
      this.publish(ep);
    }
  }

  start(): void {
    this.pool.attach({ up: (ep) => this.publish(ep), down: (ep) => this.forget(ep) });
  }

  private publish(ep: MdnsEndpoint): void {
    if (this.closed) return;
    const records = advertisementRecords(this.cfg, ep.link);
    ep.server.register(records as never);
    // bonjour-service answers only by multicast; a querier not on port 5353 (simple
    // firmware resolvers, `dig -p 5353`) listens for a unicast reply to its own port.
    const onQuery = (q: MdnsPacket, from: RemoteInfo) => {
      if (from.port === MDNS_PORT || !q.questions?.length || !this.pool.accepts(ep, from.address)) return;
      const res = legacyAnswer(records, q.questions);
      if (res.answers.length === 0) return;
      ep.mdns.respond({ id: q.id ?? 0, questions: q.questions, ...res }, { address: from.address, port: from.port });
    };
    ep.mdns.on('query', onQuery);
    const p: Published = { records, timer: undefined, onQuery };
    this.published.set(ep, p);
    this.log.info('mdns: advertising', { interface: ep.link.name, address: ep.address, name: this.cfg.instanceName, port: this.cfg.port });
    let left = Math.max(1, this.cfg.announceCount);
    let gap = this.cfg.announceIntervalMs;
    const announce = () => {
      p.timer = undefined;
      if (this.published.get(ep) !== p) return;
      ep.mdns.respond({ answers: records });
      if (--left > 0) {
        p.timer = this.clock.setTimeout(announce, gap);
        gap *= 2;
      }
    };
    announce();
  }

  private forget(ep: MdnsEndpoint): void {
    const p = this.published.get(ep);
    if (!p) return;
    this.clock.clear(p.timer);
    ep.mdns.removeListener('query', p.onQuery);
    this.published.delete(ep);
  }

  /**
   * Goodbyes (TTL 0) for the service records on every link. A records are
   * left out: the host name may be shared and a goodbye for it would make
   * clients forget the address of anything else published under it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      [...this.published].map(([ep, p]) => {
        this.forget(ep);
        ep.server.unregister(p.records as never);
        const bye = p.records.filter((r) => r.type !== 'A').map((r) => ({ ...r, ttl: 0 }));
        return new Promise<void>((resolve) => {
          const t = setTimeout(resolve, GOODBYE_WAIT_MS);
          ep.mdns.respond({ answers: bye }, () => (clearTimeout(t), resolve()));
        });
      }),
    );
  }
}
