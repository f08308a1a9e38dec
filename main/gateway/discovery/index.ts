/**
 * LAN discovery: the gateway advertises itself over mDNS, answers UDP probes
 * from boards that cannot use mDNS, and browses for boards.
 *
 * Nothing here is fatal to the gateway: a port already taken (5353 by a
 * responder without SO_REUSEADDR, 8766 by a second gateway) is logged and
 * that part stays off; `status()` says what is running.
 */
import { EventEmitter } from 'node:events';
import { PROTOCOL_VERSION, Paths } from '../../../firmware-protocol/index.js';
import { BROWSED_SERVICE_TYPES, PROBE_PORT, gatewayTxt } from '../../../firmware-protocol/discovery.js';
import { systemClock, type Clock } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import type { DeviceAuthMode } from '../options.js';
import { Advertiser } from './advertise.js';
import { ServiceBrowser, type BrowseEvents, type DiscoveredService } from './browse.js';
import { LinkWatcher, unmatchedSpec, type InterfaceList, type Link } from './links.js';
import { MdnsPool } from './mdns-pool.js';
import { startProbeResponder, type ProbeResponder, type ProbeStats } from './probe.js';

export type { DiscoveredService, RemovedReason } from './browse.js';
export type { Link } from './links.js';
export type { ProbeStats } from './probe.js';

export interface DiscoveryOptions {
  /** The gateway's HTTP/WebSocket port: the SRV port and the port in probe answers. Required. */
  port: number;
  /** Stable gateway id: TXT `id` and `gateway_id` in probe answers. Required. */
  gatewayId: string;
  /** Whether boards need a token, advertised as TXT `auth` and in probe answers. Default `open`. */
  deviceAuth?: DeviceAuthMode;
  /** With TLS: the certificate's SHA-256 (hex), advertised as TXT `sha256` and `cert_sha256`, and URLs in probe answers say wss://. Default none. */
  certSha256?: string | null;
  /** Interface names (`wlan0`, `eth0`) or IPv4 addresses to run on. Default `[]`: every non-internal IPv4 address. */
  interfaces?: readonly string[];
  /** Advertise `_courtside._tcp` and browse for boards over mDNS. Default true. */
  mdns?: boolean;
  /** Browse for boards (only with `mdns`). Default true. */
  browse?: boolean;
  /** UDP port of the probe responder; 0 or false turns it off. Default 8766. */
  udpProbePort?: number | false;
  /** Address the probe socket binds; only 0.0.0.0 receives broadcasts. Default `0.0.0.0`. */
  udpProbeBind?: string;
  /** Probe answers per source address: burst, then this many per second. Default 5 and 1. */
  probeBurst?: number;
  probePerSecond?: number;
  /** Board endpoint path, advertised as TXT `path` and `board_path`. Default `/ws/esp32/`. */
  boardPath?: string;
  /** Service types browsed. Default `_courtside-dev._tcp`, `_esphomelib._tcp`, `_arduino._tcp`, `_wled._tcp`, `_http._tcp`. */
  browseTypes?: readonly string[];
  /** DNS-SD instance name. Default `Courtside <gatewayId>`. */
  instanceName?: string;
  /** SRV target host name; distinct from the machine's so it never clashes with avahi's. Default `courtside-<gatewayId>.local`. */
  hostName?: string;
  /** How often the interface list is re-read. Default 3000 ms. */
  interfacePollMs?: number;
  /** How often every browsed type is queried again. Default 30000 ms. */
  requeryIntervalMs?: number;
  /** How often expiry is checked. Default 1000 ms. */
  browseTickMs?: number;
  /** Announcements per link when it comes up, the first two this far apart (then doubling). Default 3 and 1000 ms. */
  announceCount?: number;
  announceIntervalMs?: number;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Default silent. */
  logger?: Logger;
  /** Interface list (tests). Default `os.networkInterfaces`. */
  listInterfaces?: InterfaceList;
}

export interface DiscoveryEvents extends BrowseEvents {
  /** The selected links changed (interface up/down, address change). */
  links: [Link[]];
}

export interface DiscoveryStatus {
  /** Interfaces with an open mDNS socket. */
  mdns: { interface: string; address: string }[];
  /** Port of the probe responder, or null when off. */
  probePort: number | null;
}

export interface Discovery extends EventEmitter<DiscoveryEvents> {
  /** Boards and other services seen on the LAN, not yet expired. */
  devices(): DiscoveredService[];
  /** Interfaces and addresses in use now. */
  links(): Link[];
  status(): DiscoveryStatus;
  probeStats(): ProbeStats;
  /** A renewed certificate: the TXT `sha256` and the probe answers' `cert_sha256` switch to it (the TXT is announced again). */
  setCertSha256(sha: string): void;
  /** The TXT record advertised now (null with mDNS off). */
  advertisedTxt(): Record<string, string> | null;
  /** Sends mDNS goodbyes, stops everything. Safe to call twice. */
  close(): Promise<void>;
}

export function defaultHostName(gatewayId: string): string {
  const label = `courtside-${gatewayId}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+$/, '').slice(0, 63);
  return `${label}.local`;
}

class DiscoveryImpl extends EventEmitter<DiscoveryEvents> implements Discovery {
  watcher!: LinkWatcher;
  pool: MdnsPool | undefined;
  advertiser: Advertiser | undefined;
  browser: ServiceBrowser | undefined;
  probe: ProbeResponder | undefined;
  private closing: Promise<void> | undefined;

  devices(): DiscoveredService[] {
    return this.browser?.devices() ?? [];
  }

  links(): Link[] {
    return [...this.watcher.current()];
  }

  status(): DiscoveryStatus {
    return {
      mdns: (this.pool?.endpoints() ?? []).map((e) => ({ interface: e.link.name, address: e.address })),
      probePort: this.probe?.port ?? null,
    };
  }

  probeStats(): ProbeStats {
    return this.probe?.stats() ?? { received: 0, answered: 0, malformed: 0, rateLimited: 0, ignored: 0 };
  }

  /** Builds the TXT record for a fingerprint (set by startDiscovery). */
  txtFor: (sha: string | null) => Record<string, string> = () => ({});

  setCertSha256(sha: string): void {
    this.probe?.setCertSha256(sha);
    this.advertiser?.setTxt(this.txtFor(sha));
  }

  advertisedTxt(): Record<string, string> | null {
    return this.advertiser?.txt() ?? null;
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.watcher.stop();
      this.browser?.close();
      await this.advertiser?.close();
      await this.pool?.close();
      await this.probe?.close();
    })());
  }
}

export async function startDiscovery(opts: DiscoveryOptions): Promise<Discovery> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  const spec = [...(opts.interfaces ?? [])];
  const auth = opts.deviceAuth ?? 'open';
  const boardPath = opts.boardPath ?? Paths.board;
  const d = new DiscoveryImpl();
  d.txtFor = (certSha256) => gatewayTxt({ protocolVersion: PROTOCOL_VERSION, path: boardPath, auth, gatewayId: opts.gatewayId, certSha256 });

  d.watcher = new LinkWatcher({ spec, clock, pollMs: opts.interfacePollMs ?? 3000, ...(opts.listInterfaces ? { list: opts.listInterfaces } : {}) });
  for (const s of unmatchedSpec(spec, opts.listInterfaces)) log.warn('discovery: no such interface or address (yet)', { interface: s });
  d.watcher.on('change', () => d.emit('links', d.links()));
  d.watcher.start();

  try {
    if (opts.mdns ?? true) {
      d.pool = new MdnsPool(d.watcher, log);
      await d.pool.start();
      d.advertiser = new Advertiser(
        d.pool,
        {
          instanceName: opts.instanceName ?? `Courtside ${opts.gatewayId}`,
          host: opts.hostName ?? defaultHostName(opts.gatewayId),
          port: opts.port,
          txt: d.txtFor(opts.certSha256 ?? null),
          announceCount: opts.announceCount ?? 3,
          announceIntervalMs: opts.announceIntervalMs ?? 1000,
        },
        clock,
        log,
      );
      d.advertiser.start();
      if (opts.browse ?? true) {
        d.browser = new ServiceBrowser(
          d.pool,
          { types: opts.browseTypes ?? BROWSED_SERVICE_TYPES, requeryIntervalMs: opts.requeryIntervalMs ?? 30_000, tickMs: opts.browseTickMs ?? 1000 },
          clock,
          log,
        );
        d.browser.on('added', (s) => d.emit('added', s));
        d.browser.on('removed', (s, why) => d.emit('removed', s, why));
        d.browser.on('updated', (s, prev) => d.emit('updated', s, prev));
        d.browser.start();
      }
    }

    const probePort = opts.udpProbePort ?? PROBE_PORT;
    if (probePort !== false && probePort > 0) {
      try {
        d.probe = await startProbeResponder({
          probePort,
          bind: opts.udpProbeBind ?? '0.0.0.0',
          gatewayId: opts.gatewayId,
          port: opts.port,
          boardPath,
          auth,
          certSha256: opts.certSha256 ?? null,
          links: () => d.watcher.current(),
          explicit: spec.length > 0,
          clock,
          burst: opts.probeBurst ?? 5,
          perSecond: opts.probePerSecond ?? 1,
          log,
        });
      } catch (err) {
        log.warn('discovery: UDP probe responder off', { port: probePort, err: (err as Error).message });
      }
    }
  } catch (err) {
    await d.close();
    throw err;
  }
  return d;
}
