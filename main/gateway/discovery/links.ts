/**
 * Which network interfaces discovery runs on, and noticing when they change.
 *
 * A "link" is one interface with the IPv4 addresses chosen on it. Node gives
 * no interface-change events, so the list is polled; a laptop moving between
 * Wi-Fi networks or a DHCP renewal shows up within one poll.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Clock, TimerHandle } from '../clock.js';

export interface LinkAddress {
  address: string;
  netmask: string;
}

export interface Link {
  /** Interface name, e.g. `wlan0`. */
  name: string;
  /** IPv4 addresses selected on it, in the order the OS lists them; never empty. */
  addresses: LinkAddress[];
}

export type InterfaceList = () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

export function ipv4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const b = Number(p);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIpv4(s: string): boolean {
  return ipv4ToInt(s) !== null;
}

export function inSubnet(ip: string, a: LinkAddress): boolean {
  const x = ipv4ToInt(ip);
  const y = ipv4ToInt(a.address);
  const m = ipv4ToInt(a.netmask);
  if (x === null || y === null || m === null) return false;
  return ((x & m) >>> 0) === ((y & m) >>> 0);
}

/** Directed broadcast of the subnet; a /32 or /31 has none, so the limited broadcast stands in. */
export function broadcastAddress(a: LinkAddress): string {
  const y = ipv4ToInt(a.address);
  const m = ipv4ToInt(a.netmask);
  if (y === null || m === null || m >>> 0 >= 0xfffffffe) return '255.255.255.255';
  return intToIpv4(((y & m) | (~m >>> 0)) >>> 0);
}

/** The selected link and address whose subnet contains `ip`. */
export function linkFor(links: readonly Link[], ip: string): { link: Link; address: LinkAddress } | undefined {
  for (const link of links) for (const a of link.addresses) if (inSubnet(ip, a)) return { link, address: a };
  return undefined;
}

/** Identity of a link for change detection: same name and addresses means nothing to re-announce. */
export function linkKey(l: Link): string {
  return `${l.name}|${l.addresses.map((a) => `${a.address}/${a.netmask}`).join(',')}`;
}

/**
 * Entries of `spec` are interface names or IPv4 addresses; empty selects
 * every non-internal IPv4 address. Entries that match nothing now may match
 * later (an interface that is down), so they are not errors here.
 */
export function selectLinks(spec: readonly string[], list: InterfaceList = os.networkInterfaces): Link[] {
  const ifaces = list();
  const links: Link[] = [];
  for (const [name, infos] of Object.entries(ifaces)) {
    if (!infos) continue;
    const byName = spec.includes(name);
    const addresses: LinkAddress[] = [];
    for (const info of infos) {
      if (info.family !== 'IPv4') continue;
      const chosen = spec.length === 0 ? !info.internal : byName || spec.includes(info.address);
      if (chosen && !addresses.some((a) => a.address === info.address)) addresses.push({ address: info.address, netmask: info.netmask });
    }
    if (addresses.length > 0) links.push({ name, addresses });
  }
  return links;
}

/** Spec entries that currently select nothing, for a startup warning. */
export function unmatchedSpec(spec: readonly string[], list: InterfaceList = os.networkInterfaces): string[] {
  const ifaces = list();
  return spec.filter((s) => {
    if (ifaces[s]) return false;
    return !Object.values(ifaces).some((infos) => infos?.some((i) => i.address === s));
  });
}

export interface LinkChange {
  added: Link[];
  removed: Link[];
}

export interface LinkWatcherOptions {
  spec: readonly string[];
  clock: Clock;
  pollMs: number;
  list?: InterfaceList;
}

/** Emits `change` (LinkChange) when the selected links differ from the last poll. */
export class LinkWatcher extends EventEmitter<{ change: [LinkChange] }> {
  private links: Link[];
  private timer: TimerHandle | undefined;
  private readonly list: InterfaceList;

  constructor(private readonly opts: LinkWatcherOptions) {
    super();
    this.list = opts.list ?? os.networkInterfaces;
    this.links = selectLinks(opts.spec, this.list);
  }

  /** True when the operator named interfaces; packets from outside them are then ignored. */
  get explicit(): boolean {
    return this.opts.spec.length > 0;
  }

  current(): readonly Link[] {
    return this.links;
  }

  start(): void {
    if (this.timer || this.opts.pollMs <= 0) return;
    this.timer = this.opts.clock.setInterval(() => this.poll(), this.opts.pollMs);
  }

  /** Re-reads the interface list now; also what the timer calls. */
  poll(): LinkChange {
    let next: Link[];
    try {
      next = selectLinks(this.opts.spec, this.list);
    } catch {
      // os.networkInterfaces() can throw transiently (e.g. EMFILE); keep the last view.
      return { added: [], removed: [] };
    }
    const before = new Map(this.links.map((l) => [linkKey(l), l]));
    const after = new Map(next.map((l) => [linkKey(l), l]));
    const change: LinkChange = {
      added: next.filter((l) => !before.has(linkKey(l))),
      removed: this.links.filter((l) => !after.has(linkKey(l))),
    };
    this.links = next;
    if (change.added.length || change.removed.length) this.emit('change', change);
    return change;
  }

  stop(): void {
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
  }
}
