/**
 * One mDNS socket per selected link, shared by the advertiser and the browser.
 *
 * bonjour-service (via multicast-dns) sends on one multicast interface per
 * instance and puts every address of the machine into its A records, so
 * per-interface advertising needs one instance per link, set to that link's
 * address. Binding that address itself would make Linux drop the multicast
 * packets (their destination is 224.0.0.251), so the socket binds 0.0.0.0 and
 * only its membership and outgoing interface are per link.
 *
 * All these sockets share port 5353, and Linux hands a multicast packet to
 * every socket on the port whatever interface it came in on; `accepts` sorts
 * packets back to the link whose subnet holds the sender.
 */
import type { RemoteInfo } from 'node:dgram';
import { Server } from 'bonjour-service/dist/lib/mdns-server.js';
import type { Logger } from '../log.js';
import { linkFor, linkKey, type Link, type LinkChange, type LinkWatcher } from './links.js';

export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
  class?: string;
  /** The cache-flush bit: this record replaces what caches hold for name+type. */
  flush?: boolean;
  data?: unknown;
}

export interface MdnsQuestion {
  name: string;
  type: string;
}

export interface MdnsPacket {
  /** Zero in multicast DNS; a legacy unicast querier expects its own back. */
  id?: number;
  type?: 'query' | 'response';
  questions?: MdnsQuestion[];
  answers?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

/** The part of a multicast-dns instance used here (it ships no types). */
export interface MulticastDns {
  on(event: 'response' | 'query', fn: (packet: MdnsPacket, rinfo: RemoteInfo) => void): unknown;
  on(event: 'error' | 'warning', fn: (err: Error) => void): unknown;
  on(event: 'ready', fn: () => void): unknown;
  once(event: 'ready', fn: () => void): unknown;
  once(event: 'error', fn: (err: Error) => void): unknown;
  removeListener(event: string, fn: (...args: never[]) => void): unknown;
  query(q: { questions: MdnsQuestion[] }, cb?: (err: Error | null) => void): void;
  respond(res: MdnsPacket, cb?: (err: Error | null) => void): void;
  respond(res: MdnsPacket, to: { address: string; port: number }, cb?: (err: Error | null) => void): void;
  destroy(cb?: () => void): void;
}

export interface MdnsEndpoint {
  readonly link: Link;
  /** The address multicast is sent from and joined on. */
  readonly address: string;
  /** bonjour-service's responder: answers queries for the records registered on it. */
  readonly server: Server;
  readonly mdns: MulticastDns;
}

export interface PoolHooks {
  up?(ep: MdnsEndpoint): void;
  down?(ep: MdnsEndpoint): void;
}

const READY_TIMEOUT_MS = 2000;

export class MdnsPool {
  private readonly eps = new Map<string, MdnsEndpoint>();
  private readonly hooks: PoolHooks[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onChange = (c: LinkChange) => {
    // Serialized so a burst of polls cannot open two sockets for one link.
    this.chain = this.chain.then(() => this.apply(c)).catch((err: unknown) => this.log.warn('mdns link change failed', { err: String(err) }));
  };

  constructor(
    private readonly watcher: LinkWatcher,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const link of this.watcher.current()) await this.open(link);
    this.watcher.on('change', this.onChange);
  }

  /** Registers hooks and replays `up` for the endpoints already open. */
  attach(h: PoolHooks): void {
    this.hooks.push(h);
    for (const ep of this.eps.values()) h.up?.(ep);
  }

  endpoints(): MdnsEndpoint[] {
    return [...this.eps.values()];
  }

  /** The endpoint whose link's subnet holds `ip`. */
  ownerOf(ip: string): MdnsEndpoint | undefined {
    const hit = linkFor(this.endpoints().map((e) => e.link), ip);
    return hit ? this.eps.get(linkKey(hit.link)) : undefined;
  }

  /**
   * Whether `ep` should handle a packet from `ip`: its owner does; a sender
   * on no selected subnet (link-local, a misconfigured board) is handled once
   * when all interfaces are in use, and ignored when the operator chose some.
   */
  accepts(ep: MdnsEndpoint, ip: string): boolean {
    const owner = this.ownerOf(ip);
    if (owner) return owner === ep;
    if (this.watcher.explicit) return false;
    return this.endpoints()[0] === ep;
  }

  /** Waits for pending link changes (tests, and close). */
  async settled(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher.removeListener('change', this.onChange);
    await this.chain;
    await Promise.all(this.endpoints().map((ep) => this.shut(ep)));
  }

  private async apply(c: LinkChange): Promise<void> {
    if (this.closed) return;
    for (const link of c.removed) {
      const ep = this.eps.get(linkKey(link));
      if (ep) {
        this.log.info('mdns: interface gone or changed', { interface: link.name, address: ep.address });
        await this.shut(ep);
      }
    }
    for (const link of c.added) {
      this.log.info('mdns: interface up', { interface: link.name, addresses: link.addresses.map((a) => a.address).join(',') });
      await this.open(link);
    }
  }

  private async open(link: Link): Promise<void> {
    const address = link.addresses[0]!.address;
    const server = new Server(
      // multicast-dns options pass through bonjour-service untyped.
      { interface: address, bind: '0.0.0.0', reuseAddr: true } as never,
      (err: unknown) => this.log.debug('mdns: send failed', { interface: link.name, err: String(err) }),
    );
    const mdns = server.mdns as MulticastDns;
    const ok = await new Promise<boolean>((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        mdns.removeListener('ready', onReady);
        mdns.removeListener('error', onError);
        resolve(v);
      };
      const onReady = () => done(true);
      const onError = (err: Error) => {
        this.log.warn('mdns: cannot open port 5353', { interface: link.name, err: err.message });
        done(false);
      };
      const t = setTimeout(() => done(false), READY_TIMEOUT_MS);
      mdns.once('ready', onReady);
      mdns.once('error', onError);
    });
    // Registered after `ready` so a bind error is reported once, above.
    mdns.on('error', (err) => this.log.warn('mdns socket error', { interface: link.name, err: err.message }));
    mdns.on('warning', (err) => this.log.debug('mdns warning', { interface: link.name, err: err.message }));
    if (!ok || this.closed) {
      mdns.destroy();
      return;
    }
    const ep: MdnsEndpoint = { link, address, server, mdns };
    this.eps.set(linkKey(link), ep);
    for (const h of this.hooks) h.up?.(ep);
  }

  private async shut(ep: MdnsEndpoint): Promise<void> {
    this.eps.delete(linkKey(ep.link));
    for (const h of this.hooks) h.down?.(ep);
    await new Promise<void>((resolve) => ep.mdns.destroy(() => resolve()));
  }
}
